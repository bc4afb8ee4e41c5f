"""Incremental, idempotent landing of CloudTrail days (manifest, late files, reruns, exports)."""

from __future__ import annotations

import gzip
import json
import os
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines.lib.lake import Lake
from pipelines.lib.land.cloudtrail import CloudTrailSource
from pipelines.lib.land.cloudtrail_landing import WorkerPool, land_day, manifest_path

DAY = date(2026, 11, 10)
ACCOUNT = "111111111111"


def _event(event_id: str, when: str = "2026-11-10T10:00:00Z", **extra) -> dict:
    return {
        "eventVersion": "1.08",
        "eventID": event_id,
        "eventTime": when,
        "eventSource": "s3.amazonaws.com",
        "eventName": "ListBuckets",
        "recipientAccountId": ACCOUNT,
        "userIdentity": {"type": "IAMUser", "arn": f"arn:aws:iam::{ACCOUNT}:user/u"},
        **extra,
    }


def _delivery(root: Path, stamp: str, events: list[dict], region: str = "us-east-1") -> Path:
    day = f"{stamp[:4]}/{stamp[4:6]}/{stamp[6:8]}"
    path = (
        root
        / "AWSLogs"
        / "o-abc"
        / ACCOUNT
        / "CloudTrail"
        / region
        / day
        / f"{ACCOUNT}_CloudTrail_{region}_{stamp}_x{len(events)}{stamp[-5:-1]}.json.gz"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(json.dumps({"Records": events}).encode()))
    return path


def _landed(lake: Lake) -> list[str]:
    parts = sorted(lake.cloudtrail_day_dir(DAY).glob("*.parquet"))
    return sorted(e for p in parts for e in pq.read_table(p).column("event_id").to_pylist())


def _manifest(lake: Lake) -> list[tuple]:
    table = pq.read_table(manifest_path(lake, DAY))
    return sorted(
        zip(
            *(table.column(c).to_pylist() for c in ("object_key", "records", "status", "part")),
            strict=True,
        )
    )


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Lake]:
    root = tmp_path / "trail"
    _delivery(root, "20261110T1000Z", [_event("a1"), _event("a2")])
    _delivery(root, "20261110T1100Z", [_event("b1")], region="eu-west-1")
    _delivery(root, "20261111T0000Z", [_event("other-day")])
    return root, Lake.at(tmp_path / "lake")


def test_first_run_lands_the_day_and_records_every_object(setup: tuple[Path, Lake]) -> None:
    root, lake = setup
    result = land_day(CloudTrailSource(root), lake, DAY)
    assert (result.mode, result.objects_read, result.objects_total, result.records) == (
        "rebuilt",
        2,
        2,
        3,
    )
    assert _landed(lake) == ["a1", "a2", "b1"]
    assert _manifest(lake) == [
        (
            f"AWSLogs/o-abc/{ACCOUNT}/CloudTrail/eu-west-1/2026/11/10/"
            f"{ACCOUNT}_CloudTrail_eu-west-1_20261110T1100Z_x11100.json.gz",
            1,
            "ingested",
            "part-00000",
        ),
        (
            f"AWSLogs/o-abc/{ACCOUNT}/CloudTrail/us-east-1/2026/11/10/"
            f"{ACCOUNT}_CloudTrail_us-east-1_20261110T1000Z_x21000.json.gz",
            2,
            "ingested",
            "part-00000",
        ),
    ]


def test_second_run_reads_nothing_and_changes_no_row(setup: tuple[Path, Lake]) -> None:
    root, lake = setup
    land_day(CloudTrailSource(root), lake, DAY)
    before = {p: p.read_bytes() for p in lake.root.rglob("*.parquet")}
    result = land_day(CloudTrailSource(root), lake, DAY)
    assert (result.mode, result.objects_read, result.records) == ("unchanged", 0, 0)
    assert {p: p.read_bytes() for p in lake.root.rglob("*.parquet")} == before


def test_a_late_file_is_appended_alone(setup: tuple[Path, Lake]) -> None:
    root, lake = setup
    land_day(CloudTrailSource(root), lake, DAY)
    _delivery(root, "20261110T2355Z", [_event("late1"), _event("late2")])
    result = land_day(CloudTrailSource(root), lake, DAY)
    assert (result.mode, result.objects_read, result.objects_total, result.records) == (
        "appended",
        1,
        3,
        2,
    )
    assert _landed(lake) == ["a1", "a2", "b1", "late1", "late2"]
    assert sorted(p.name for p in lake.cloudtrail_day_dir(DAY).iterdir()) == [
        "part-00000-w0.parquet",
        "part-00001-w0.parquet",
    ]
    assert sorted(p for _, _, _, p in _manifest(lake)) == ["part-00000", "part-00000", "part-00001"]


def test_a_changed_file_rebuilds_the_day_without_duplicates(setup: tuple[Path, Lake]) -> None:
    root, lake = setup
    land_day(CloudTrailSource(root), lake, DAY)
    [changed] = root.rglob("*_20261110T1000Z_*.json.gz")
    changed.write_bytes(
        gzip.compress(json.dumps({"Records": [_event("a1"), _event("a3")]}).encode())
    )
    os.utime(changed, ns=(1, 1))
    result = land_day(CloudTrailSource(root), lake, DAY)
    assert (result.mode, result.objects_read) == ("rebuilt", 2)
    assert _landed(lake) == ["a1", "a3", "b1"]


def test_full_refresh_replaces_the_day_exactly(setup: tuple[Path, Lake]) -> None:
    root, lake = setup
    land_day(CloudTrailSource(root), lake, DAY)
    _delivery(root, "20261110T2355Z", [_event("late1")])
    land_day(CloudTrailSource(root), lake, DAY)
    result = land_day(CloudTrailSource(root), lake, DAY, full_refresh=True)
    assert (result.mode, result.objects_read, result.records) == ("rebuilt", 3, 4)
    assert _landed(lake) == ["a1", "a2", "b1", "late1"]
    assert [p.name for p in lake.cloudtrail_day_dir(DAY).iterdir()] == ["part-00000-w0.parquet"]


def test_a_part_left_by_a_crashed_run_is_dropped(setup: tuple[Path, Lake]) -> None:
    root, lake = setup
    land_day(CloudTrailSource(root), lake, DAY)
    orphan = lake.cloudtrail_day_dir(DAY) / "part-00001-w0.parquet"
    orphan.write_bytes((lake.cloudtrail_day_dir(DAY) / "part-00000-w0.parquet").read_bytes())
    result = land_day(CloudTrailSource(root), lake, DAY)
    assert result.mode == "unchanged"
    assert not orphan.exists()
    assert _landed(lake) == ["a1", "a2", "b1"]


def test_exports_land_by_event_day_and_are_recognised_by_content(tmp_path: Path) -> None:
    root = tmp_path / "exports"
    root.mkdir()
    # A JSON array with events of two days, and JSON lines (Logstash: @timestamp, no eventTime).
    (root / "array.json").write_text(
        json.dumps([_event("x1"), _event("x2", "2026-11-11T01:00:00Z")])
    )
    line = _event("y1")
    line["@timestamp"] = line.pop("eventTime")
    (root / "lines.jsonl").write_text(json.dumps(line) + "\n" + json.dumps(_event("y2")) + "\n")
    # An export wrapper ({"event": {...}}), gzip without a .gz name.
    (root / "wrapped.json").write_bytes(gzip.compress(json.dumps({"event": _event("z1")}).encode()))
    lake = Lake.at(tmp_path / "lake")
    result = land_day(CloudTrailSource(root), lake, DAY)
    assert (result.records, result.quarantined) == (4, 0)
    assert _landed(lake) == ["x1", "y1", "y2", "z1"]
    assert land_day(CloudTrailSource(root), lake, date(2026, 11, 11)).records == 1


def test_s3_source_lands_the_same_rows_as_the_folder(
    setup: tuple[Path, Lake], aws_env: str, tmp_path: Path
) -> None:
    import boto3

    root, local_lake = setup
    land_day(CloudTrailSource(root), local_lake, DAY)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="ciem-trail-test")
    for path in root.rglob("*.json.gz"):
        s3.upload_file(str(path), "ciem-trail-test", f"logs/{path.relative_to(root).as_posix()}")
    s3_lake = Lake.at(tmp_path / "s3lake")
    source = CloudTrailSource("s3://ciem-trail-test/logs")
    assert source.is_remote
    result = land_day(source, s3_lake, DAY)
    assert (result.mode, result.objects_read, result.records) == ("rebuilt", 2, 3)
    columns = ["event_id", "event_time", "principal_arn", "source_file"]
    local = pq.read_table(
        local_lake.cloudtrail_day_dir(DAY) / "part-00000-w0.parquet", columns=columns
    )
    remote = pq.read_table(
        s3_lake.cloudtrail_day_dir(DAY) / "part-00000-w0.parquet", columns=columns
    )
    assert sorted(remote.to_pylist(), key=str) == sorted(local.to_pylist(), key=str)
    assert land_day(CloudTrailSource("s3://ciem-trail-test/logs"), s3_lake, DAY).mode == "unchanged"


def test_worker_processes_land_the_same_rows_and_bad_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.lib.land import cloudtrail_landing

    monkeypatch.setattr(cloudtrail_landing, "PARALLEL_MIN_BYTES", 0)
    root = tmp_path / "trail"
    for hour in range(12):
        _delivery(
            root,
            f"202611100{hour % 10}{hour:02d}Z"[:14],
            [_event(f"e{hour}-{i}") for i in range(3)],
        )
    bad = root / "AWSLogs" / "o-abc" / ACCOUNT / "CloudTrail" / "us-east-1" / "2026" / "11" / "10"
    (bad / f"{ACCOUNT}_CloudTrail_us-east-1_20261110T2300Z_bad.json.gz").write_bytes(b"not gzip")
    serial = land_day(
        CloudTrailSource(root), Lake.at(tmp_path / "one"), DAY, pool=WorkerPool(workers=1)
    )
    parallel_lake = Lake.at(tmp_path / "two")
    with WorkerPool(workers=2) as pool:
        parallel = land_day(CloudTrailSource(root), parallel_lake, DAY, pool=pool)
    assert (
        (parallel.records, parallel.quarantined) == (serial.records, serial.quarantined) == (36, 1)
    )
    assert sorted(p.name for p in parallel_lake.cloudtrail_day_dir(DAY).iterdir()) == [
        "part-00000-w0.parquet",
        "part-00000-w1.parquet",
    ]
    assert _landed(parallel_lake) == _landed(Lake.at(tmp_path / "one"))
    statuses = {k.rsplit("_", 1)[-1]: s for k, _, s, _ in _manifest(parallel_lake)}
    assert statuses["bad.json.gz"] == "quarantined"
    assert set(statuses.values()) == {"ingested", "quarantined"}


def test_an_event_delivered_again_later_in_the_day_lands_once(setup: tuple[Path, Lake]) -> None:
    """A later file repeating an eventID (and one event twice in that file): appended, the
    repeats are dropped and quarantined by file and record; the manifest counts what landed."""
    root, lake = setup
    land_day(CloudTrailSource(root), lake, DAY)
    late = _delivery(root, "20261110T2300Z", [_event("a2"), _event("c1"), _event("c1"), _event("")])
    result = land_day(CloudTrailSource(root), lake, DAY)
    assert (result.mode, result.records, result.duplicates) == ("appended", 2, 2)
    parts = sorted(lake.cloudtrail_day_dir(DAY).glob("*.parquet"))
    ids = [e for p in parts for e in pq.read_table(p).column("event_id").to_pylist()]
    assert sorted(map(str, ids)) == sorted(
        ["a1", "a2", "b1", "c1", "None"]
    )  # an event without eventID is kept
    key = late.relative_to(root).as_posix()
    assert (key, 2, "ingested", "part-00001") in _manifest(lake)
    quarantine = [
        (r["file"], r["record"], r["field"], r["reason"])
        for path in (lake.root / "parquet" / "quarantine").glob("*.parquet")
        for r in pq.read_table(path).to_pylist()
    ]
    reason = "duplicate eventID {!r}: already landed for this day, counted once"
    assert sorted(quarantine) == [
        (key, "Records[0]", "eventID", reason.format("a2")),
        (key, "Records[2]", "eventID", reason.format("c1")),
    ]
