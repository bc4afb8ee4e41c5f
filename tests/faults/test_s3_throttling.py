"""A CloudTrail bucket that throttles and fails a share of requests (issue 14, item 5).

The demo's CloudTrail is uploaded to the moto server; landing reads it through a proxy on
loopback that answers every third request with S3's `503 SlowDown` or `500 InternalError`
instead of passing it on. Every day lands exactly the events of a local landing (whole rows):
the retries of botocore/s3fs absorb the failures, and nothing is quarantined or counted twice
because a request failed.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

import boto3
import duckdb
import pytest

from pipelines.lib.lake import Lake
from pipelines.lib.land.cloudtrail import CloudTrailSource, file_day
from pipelines.lib.land.cloudtrail_landing import land_day
from tests.faults.harness import DEMO_CLOUDTRAIL

BUCKET = "ciem-throttled-trail"
DAYS = {date(2026, 11, 10), date(2026, 11, 11), date(2026, 11, 12)}


def _events(lake: Lake) -> Counter:
    with duckdb.connect() as con:
        rows = con.execute(
            "select * from read_parquet($g)",
            {"g": str(lake.root / "parquet" / "raw_cloudtrail_events" / "day=*" / "*.parquet")},
        )
        columns = [c[0] for c in rows.description]
        return Counter(
            json.dumps(dict(zip(columns, r, strict=True)), default=str, sort_keys=True)
            for r in rows.fetchall()
        )


def _quarantined(lake: Lake) -> list[dict]:
    folder = lake.root / "parquet" / "quarantine"
    return [r for p in folder.glob("*.parquet") for r in duckdb.read_parquet(str(p)).fetchall()]


def test_a_throttling_bucket_lands_every_event_once(
    aws_env: str, flaky_endpoint: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    files = [p for p in sorted(DEMO_CLOUDTRAIL.rglob("*.json.gz")) if file_day(p) in DAYS]
    for path in files:
        s3.upload_file(str(path), BUCKET, f"trail/{path.relative_to(DEMO_CLOUDTRAIL).as_posix()}")
    days = sorted(DAYS)
    local = Lake.at(tmp_path / "local")
    for day in days:
        land_day(CloudTrailSource(DEMO_CLOUDTRAIL), local, day)

    monkeypatch.setenv("AWS_ENDPOINT_URL", flaky_endpoint["url"])
    remote = Lake.at(tmp_path / "remote")
    source = CloudTrailSource(f"s3://{BUCKET}/trail")
    for day in days:
        land_day(source, remote, day)
    counts = flaky_endpoint["counts"]
    assert counts["failed"] >= len(files) // 3  # the source really failed a share of the requests
    assert _events(remote) == _events(local)
    assert _quarantined(remote) == []
