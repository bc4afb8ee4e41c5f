"""The lake on S3 behind a bucket that throttles and fails a share of requests (issue 14,
item 5, "and the lake when it is on S3"): `ciem run --lake s3://…` through the flaky proxy of
`flaky_s3.py` gives the tables of a clean local run, row for row; its lease lock is released;
and a rerun through the same proxy adds nothing to the bucket."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from pipelines.lib.lake import Lake
from tests.faults.harness import run_ciem
from tests.fixtures.moto_org import point_boto3_at
from tests.lakes import compare_lakes

BUCKET = "ciem-throttled-lake"
URL = f"s3://{BUCKET}/lake"


def _keys() -> dict[str, str]:
    pages = boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    return {o["Key"]: o["ETag"] for page in pages for o in page.get("Contents", [])}


def test_a_throttling_bucket_holds_the_lake_of_a_clean_run(
    clean_demo_lake: Path,
    moto_endpoint: str,
    flaky_endpoint: dict,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    point_boto3_at(monkeypatch, moto_endpoint)
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    point_boto3_at(monkeypatch, flaky_endpoint["url"])
    monkeypatch.setenv("CIEM_LAKE_CACHE", str(tmp_path / "cache"))
    assert run_ciem(URL) == 0  # a lake URL, as a user types it
    failed = flaky_endpoint["counts"]["failed"]
    assert failed > 10  # the run met many failed requests, and retried through them
    lines = compare_lakes(clean_demo_lake, Lake.at(URL).root)
    assert [line for line in lines if not line.startswith("same")] == []
    assert len(lines) > 100
    point_boto3_at(monkeypatch, moto_endpoint)
    before = _keys()
    assert "lake/ciem.lock" not in before and "lake/warehouse/ciem.duckdb" in before
    # A second machine (an empty cache) reruns the same day through the flaky proxy: it
    # rewrites what a rerun rewrites, and adds no object.
    point_boto3_at(monkeypatch, flaky_endpoint["url"])
    monkeypatch.setenv("CIEM_LAKE_CACHE", str(tmp_path / "cache2"))
    assert run_ciem(URL) == 0
    assert flaky_endpoint["counts"]["failed"] > failed
    point_boto3_at(monkeypatch, moto_endpoint)
    assert set(_keys()) == set(before)
