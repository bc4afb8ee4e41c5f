"""The lake on S3 (issue 11, item 3): `ciem run --lake s3://bucket/prefix` against a moto server
on loopback gives the same tables, row for row, as a local lake; a rerun adds nothing; `ciem
query`, `explain` and `export` read the S3 lake through a local cache, from another machine's
(empty) cache too; the lake's lease lock makes two writers take turns; and a lake URL the tool
cannot use is refused in one line."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

import pipelines.lib.lake as lake_module
from pipelines.cli import main
from pipelines.defs.resources import CiemSettings
from pipelines.lib.lake import SYNCED_FILES, SYNCED_FOLDERS, Lake
from tests.fixtures.moto_org import point_boto3_at
from tests.lakes import compare_lakes

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "demo"
BUCKET = "ciem-s3-lake-test"
URL = f"s3://{BUCKET}/team/lake"
AS_OF = "2026-11-20"
RUN = [
    "run",
    "--snapshot-root",
    str(DEMO / "snapshots"),
    "--cloudtrail",
    str(DEMO / "cloudtrail"),
    "--as-of",
    AS_OF,
]


def _bucket_keys(prefix: str = "team/lake/") -> set[str]:
    pages = boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    return {
        o["Key"].removeprefix(prefix)
        for page in pages
        for o in page.get("Contents", [])
        if o["Key"].startswith(prefix)
    }


def _lake_files(root: Path) -> set[str]:
    """The files of a local lake that belong in the bucket (not the cache's own)."""
    found = {
        p.relative_to(root).as_posix()
        for folder in SYNCED_FOLDERS
        for p in (root / folder).rglob("*")
        if p.is_file() and not any(s.startswith(".") for s in p.relative_to(root).parts)
    }
    return found | {rel for rel in SYNCED_FILES if (root / rel).is_file()}


@pytest.fixture(scope="module")
def lakes(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The demo's as-of day run once on a local lake and once on the S3 lake."""
    base = tmp_path_factory.mktemp("s3lake")
    with pytest.MonkeyPatch.context() as env:
        point_boto3_at(env, moto_endpoint)
        env.setenv("CIEM_LAKE_CACHE", str(base / "cache"))
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        assert main([*RUN, "--lake", str(base / "local")]) == 0
        assert main([*RUN, "--lake", URL]) == 0
        yield {
            "local": base / "local",
            "cache": base / "cache" / BUCKET / "team" / "lake",
            "base": base,
            "env": env,
        }


def test_the_s3_lake_gives_the_local_lakes_tables_row_for_row(lakes: dict) -> None:
    assert Lake.at(URL).root == lakes["cache"]
    lines = compare_lakes(lakes["local"], lakes["cache"])
    assert [line for line in lines if not line.startswith("same")] == []
    assert len(lines) > 100  # every table of the warehouse was compared


def test_the_bucket_holds_the_lake_and_the_cache_only_what_it_rebuilds(lakes: dict) -> None:
    """Landing zone, Parquet tables, history, marts, explorer report and the published
    warehouse are in the bucket, file for file as in a local lake; the as-of day's warehouse,
    spill files and locks are not; the lease lock is released."""
    keys = _bucket_keys()
    assert keys == _lake_files(lakes["local"])
    assert {
        "reports/explorer.html",
        "warehouse/ciem.duckdb",
        f"history/detections/as_of={AS_OF}.parquet",
        "marts/detections.parquet",
        "parquet/raw_cloudtrail_events/day=2026-11-20/part-00000-w0.parquet",
    } <= keys
    assert [k for k in keys if k.startswith("warehouse/") and k != "warehouse/ciem.duckdb"] == []
    assert "ciem.lock" not in _bucket_keys("team/lake/")
    assert (lakes["cache"] / f"warehouse/as_of={AS_OF}/ciem.duckdb").is_file()


# The tables a rerun could add rows to: the landed CloudTrail days, their aggregates, the
# quarantine, the history and what is computed from it.
APPENDED = {
    "raw_cloudtrail_events",
    "cloudtrail_manifest",
    "usage_daily",
    "event_counts_daily",
    "raw_quarantine",
    "quarantine",
    "detection_history",
    "resource_config_history",
    "detections",
    "detection_timeline",
    "account_completeness",
    "unmapped_events",
}


def test_a_rerun_adds_nothing(lakes: dict) -> None:
    """No object is added to the bucket, and no row to the tables a run appends to."""
    keys = _bucket_keys()
    assert main([*RUN, "--lake", URL]) == 0
    assert _bucket_keys() == keys
    lines = compare_lakes(lakes["local"], lakes["cache"], APPENDED)
    assert [line for line in lines if not line.startswith("same")] == []
    assert len(lines) == len(APPENDED)


def _outputs(lake: str, capsys: pytest.CaptureFixture[str]) -> list[str]:
    out = []
    for command in (
        ["query", "select rule_id, resource_arn, status from detections order by 1, 2"],
        ["explain", "arn:aws:iam::111111111111:user/alice.admin", "s3:GetObject", "--json"],
        ["export", "--status", "open"],
    ):
        assert main([*command, "--lake", lake]) == 0
        out.append(capsys.readouterr().out)
    return out


def test_query_explain_and_export_read_the_s3_lake_from_an_empty_cache(
    lakes: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another machine (another, empty cache) reads the same answers from the bucket."""
    capsys.readouterr()
    local = _outputs(str(lakes["local"]), capsys)
    lakes["env"].setenv("CIEM_LAKE_CACHE", str(lakes["base"] / "other-machine"))
    try:
        remote = _outputs(URL, capsys)
        other = lakes["base"] / "other-machine" / BUCKET / "team" / "lake"
        assert _lake_files(other) == _bucket_keys()
    finally:
        lakes["env"].setenv("CIEM_LAKE_CACHE", str(lakes["base"] / "cache"))
    assert remote == local
    assert "s3:GetObject" in remote[1]


def test_a_file_deleted_in_the_bucket_leaves_the_cache_and_one_changed_is_downloaded(
    lakes: dict,
) -> None:
    s3 = boto3.client("s3")
    lake = Lake.at(URL)
    before = (lake.root / "marts/suppressions.parquet").read_bytes()
    s3.put_object(Bucket=BUCKET, Key="team/lake/reports/extra.txt", Body=b"x")
    result = lake.pull()
    assert (result.copied, result.deleted) == (["reports/extra.txt"], [])
    s3.delete_object(Bucket=BUCKET, Key="team/lake/reports/extra.txt")
    result = lake.pull()
    assert (result.copied, result.deleted) == ([], ["reports/extra.txt"])
    assert not (lake.root / "reports/extra.txt").exists()
    assert (lake.root / "marts/suppressions.parquet").read_bytes() == before


def test_two_writers_of_one_s3_lake_take_turns(
    lakes: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second `synced()` block enters only after the first left (the lease lock), and a
    lock whose lease ran out (a killed run) is taken over."""
    monkeypatch.setattr(lake_module, "LOCK_LEASE_S", 4.0)
    order: list[str] = []
    entered = threading.Event()

    def first() -> None:
        with Lake.at(URL).synced():
            order.append("enter 1")
            entered.set()
            time.sleep(1.0)
            order.append("leave 1")

    thread = threading.Thread(target=first)
    thread.start()
    assert entered.wait(60)
    with Lake.at(URL).synced():
        order.append("enter 2")
    thread.join()
    assert order == ["enter 1", "leave 1", "enter 2"]

    dead = {"owner": "a killed run", "expires_at": time.time() - 1}
    boto3.client("s3").put_object(
        Bucket=BUCKET, Key="team/lake/ciem.lock", Body=json.dumps(dead).encode()
    )
    with Lake.at(URL).synced():
        order.append("took over")
    assert order[-1] == "took over"
    assert "ciem.lock" not in _bucket_keys("team/lake/")


BAD_URLS = {
    "s3://": "'s3://': no bucket in the lake URL; give s3://bucket/prefix",
    "s3:///x": "'s3:///x': no bucket in the lake URL; give s3://bucket/prefix",
    "s3://Bad_Bucket/x": "'s3://Bad_Bucket/x': 'Bad_Bucket' is not an S3 bucket name",
    "s3://bucket/../x": "'s3://bucket/../x': the prefix may not hold '.' or '..' folders",
    "gs://bucket/lake": (
        "'gs://bucket/lake': a lake is a local folder or s3://bucket/prefix, not a gs:// URL"
    ),
    "http://example.com/lake": (
        "'http://example.com/lake': a lake is a local folder or s3://bucket/prefix, "
        "not a http:// URL"
    ),
}


@pytest.mark.parametrize("url", sorted(BAD_URLS))
@pytest.mark.parametrize("command", ["run", "query"])
def test_a_lake_url_the_tool_cannot_use_is_refused_in_one_line(
    url: str,
    command: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CIEM_LAKE_CACHE", str(tmp_path / "cache"))
    args = RUN[1:] if command == "run" else ["select 1"]
    with pytest.raises(SystemExit) as exited:
        main([command, *args, "--lake", url])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"ciem {command}: error: argument --lake: {BAD_URLS[url]}"
    )
    assert list(tmp_path.iterdir()) == []
    settings = CiemSettings(snapshot_dir="s", cloudtrail_dir="c", lake_dir=url)
    with pytest.raises(ValueError) as refused:
        _ = settings.lake
    assert str(refused.value) == f"CIEM_LAKE={BAD_URLS[url]}"


@pytest.mark.parametrize("command", ["run", "query"])
def test_a_bucket_that_does_not_exist_stops_the_command_in_one_line(
    command: str,
    aws_env: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CIEM_LAKE_CACHE", str(tmp_path / "cache"))
    args = RUN[1:] if command == "run" else ["select 1"]
    assert main([command, *args, "--lake", "s3://ciem-no-such-bucket/lake"]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        "ciem: error: lake s3://ciem-no-such-bucket/lake: cannot read the bucket: "
        "The specified bucket does not exist"
    )


def test_a_dagster_run_whose_s3_lake_cannot_be_locked_names_the_lake(
    aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lake is the `ciem` resource's: its failure is no step's, and used to be reported as
    "the Dagster run failed"."""
    import dagster as dg

    from pipelines.cli.options import CiemError
    from pipelines.cli.pipeline import _materialize

    monkeypatch.setenv("CIEM_LAKE_CACHE", str(tmp_path / "cache"))

    @dg.asset
    def reads_the_lake(ciem: CiemSettings) -> None:
        pass

    settings = CiemSettings(cloudtrail_dir="c", lake_dir="s3://ciem-no-such-bucket/lake")
    with pytest.raises(CiemError) as failed:
        _materialize([reads_the_lake], resources={"ciem": settings})
    assert str(failed.value) == (
        "lake s3://ciem-no-such-bucket/lake: cannot take its lock: "
        "The specified bucket does not exist"
    )
