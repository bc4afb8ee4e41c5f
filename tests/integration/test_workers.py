"""`ciem run --workers N` (issue 11, item 4): the window's CloudTrail days in N shares, each in
its own process on Dagster's multiprocess executor (a temporary instance), give the same tables
as one process, on a local lake and on a lake on S3 (a moto server on loopback), whose steps
take the lake's lock in turn; a failing share is named in one line; the same definitions build
with the Kubernetes executor selected by configuration."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import dagster as dg
import pytest

from pipelines.cli import main
from pipelines.defs.cloudtrail import share
from pipelines.defs.executor import ExecutorSettingError, executor_from_env, workers_setting
from pipelines.defs.location import build_definitions
from pipelines.defs.resources import settings_from_env
from tests.fixtures.moto_org import point_boto3_at
from tests.lakes import compare_lakes

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "demo"
BUCKET = "ciem-workers-test"
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


def _differences(lake_a: Path, lake_b: Path) -> list[str]:
    lines = compare_lakes(lake_a, lake_b)
    assert len(lines) > 100  # every table of the warehouse was compared
    return [line for line in lines if not line.startswith("same")]


def test_the_shares_cover_the_days_once_in_order_and_balanced() -> None:
    keys = [f"2026-11-{d:02d}" for d in range(1, 16)]
    for workers in (1, 2, 4, 15, 20):
        shares = [share(keys, workers, i) for i in range(workers)]
        assert [k for s in shares for k in s] == keys
        assert max(map(len, shares)) - min(map(len, shares)) <= 1


def test_two_workers_give_the_same_tables_as_one_on_the_demo(tmp_path: Path) -> None:
    """`ciem demo` (two as-of days: the second lands the new files of days landed before)."""
    assert main(["demo", "--workers", "1", "--lake", str(tmp_path / "one")]) == 0
    assert main(["demo", "--workers", "2", "--lake", str(tmp_path / "two")]) == 0
    assert _differences(tmp_path / "one", tmp_path / "two") == []


@pytest.fixture
def s3_env(moto_endpoint: str, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as env:
        point_boto3_at(env, moto_endpoint)  # in os.environ: the step processes inherit it
        env.setenv("CIEM_LAKE_CACHE", str(tmp_path / "cache"))
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        yield env


def test_two_workers_on_a_lake_on_s3_give_the_same_tables_as_one(
    s3_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Two step processes on one S3 lake take its lease lock in turn (never both, never each
    waiting for the other), and the result is the one-process lake's, row for row."""
    assert main([*RUN, "--workers", "1", "--lake", f"s3://{BUCKET}/one"]) == 0
    assert main([*RUN, "--workers", "2", "--lake", f"s3://{BUCKET}/two"]) == 0
    cache = tmp_path / "cache" / BUCKET
    assert _differences(cache / "one", cache / "two") == []
    keys = {o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert f"two/history/detections/as_of={AS_OF}.parquet" in keys
    assert "two/ciem.lock" not in keys  # released by every step


def test_a_failing_share_is_named_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A day the lake cannot take (its folder is a file) fails its share's step process: the
    run stops with exit code 1 and one line naming the asset. (`ciem` picks its executors
    itself: the code location's CIEM_EXECUTOR, even one it does not know, is not read.)"""
    monkeypatch.setenv("CIEM_EXECUTOR", "celery")
    lake = tmp_path / "lake"
    blocked = lake / "parquet" / "raw_cloudtrail_events" / "day=2026-11-18"
    blocked.parent.mkdir(parents=True)
    blocked.write_text("not a folder")
    assert main([*RUN, "--workers", "2", "--lake", str(lake)]) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(errors) == 1
    assert errors[0].startswith("ciem: error: asset raw_cloudtrail_events failed: ")
    assert "day=2026-11-18" in errors[0]


def _cloudtrail_ops(defs: dg.Definitions) -> set[str]:
    job = defs.resolve_implicit_global_asset_job_def()
    return {
        node.name
        for graph_asset in ("raw_cloudtrail_events", "cloudtrail_daily_aggregates")
        for node in job.graph.node_named(graph_asset).definition.nodes  # type: ignore[attr-defined]
    }


def test_the_kubernetes_executor_runs_the_same_definitions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`CIEM_EXECUTOR=k8s` (deploy/helm/values.yaml) selects dagster-k8s's executor for every
    job of the code location; the assets, checks and partitions are those in process."""
    monkeypatch.setenv("CIEM_EXECUTOR", "k8s")
    monkeypatch.setenv("CIEM_WORKERS", "3")
    k8s = build_definitions(settings_from_env())
    monkeypatch.delenv("CIEM_EXECUTOR")
    monkeypatch.delenv("CIEM_WORKERS")
    local = build_definitions(settings_from_env())
    for job in ("ciem_nightly", "ciem_models", "__ASSET_JOB"):
        assert k8s.resolve_job_def(job).executor_def.name == "k8s"
        assert local.resolve_job_def(job).executor_def.name == "in_process"
    k8s_graph, local_graph = k8s.resolve_asset_graph(), local.resolve_asset_graph()
    assert k8s_graph.get_all_asset_keys() == local_graph.get_all_asset_keys()
    assert k8s_graph.asset_check_keys == local_graph.asset_check_keys
    for key in local_graph.get_all_asset_keys():
        assert k8s_graph.get(key).partitions_def == local_graph.get(key).partitions_def
        assert k8s_graph.get(key).parent_keys == local_graph.get(key).parent_keys
    assert _cloudtrail_ops(k8s) == {
        *(f"land_days_{i}" for i in range(3)),
        "raw_cloudtrail_events_landed",
        *(f"aggregate_days_{i}" for i in range(3)),
        "cloudtrail_daily_aggregates_built",
    }
    assert _cloudtrail_ops(local) == {
        "land_days_0",
        "raw_cloudtrail_events_landed",
        "aggregate_days_0",
        "cloudtrail_daily_aggregates_built",
    }


def test_executor_settings_are_checked() -> None:
    assert workers_setting({"CIEM_EXECUTOR": "multiprocess", "CIEM_WORKERS": "5"}) == 5
    assert workers_setting({"CIEM_EXECUTOR": "k8s"}) == 4
    assert workers_setting({}) == 1
    assert executor_from_env({"CIEM_EXECUTOR": "multiprocess"}).name == "multiprocess"
    for env in ({"CIEM_EXECUTOR": "celery"}, {"CIEM_WORKERS": "0"}, {"CIEM_WORKERS": "two"}):
        with pytest.raises(ExecutorSettingError):
            workers_setting(env)
