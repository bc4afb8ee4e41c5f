"""A hostile CloudTrail file never costs memory: a small gzip that expands to 400 MB is read as a
stream, whatever its compression ratio (issue 18, item 6).

Each case lands one day in a child process (`land_day`, as `ciem run` does) and compares the
child's peak RSS with landing a tiny file: the difference stays under 100 MB. Before the fix a
408 KB `.json.gz` expanding to 400 MB was decompressed whole and raised the peak by ~800 MB.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAY = "2026-11-10"
ACCOUNT = "111111111111"
MB = 1024 * 1024
PAD = "@@PAD@@"

# Lands one day of <source> into <lake> in this child, then prints its peak RSS and what landed.
CHILD = """
import json, resource, sys
from datetime import date
import pyarrow.parquet as pq
from pipelines.lib.lake import Lake
from pipelines.lib.land.cloudtrail import CloudTrailSource
from pipelines.lib.land.cloudtrail_landing import land_day

source, lake, day = sys.argv[1], Lake.at(sys.argv[2]), date.fromisoformat(sys.argv[3])
result = land_day(CloudTrailSource(source), lake, day)
quarantine = [
    {"file": r["file"], "record": r["record"], "reason": r["reason"]}
    for path in sorted((lake.root / "parquet" / "quarantine").glob("*.parquet"))
    for r in pq.read_table(path).to_pylist()
]
print(json.dumps({
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "records": result.records,
    "quarantine": quarantine,
}))
"""


def _event(event_id: str, blob: str = "") -> dict:
    return {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
            "accountId": ACCOUNT,
        },
        "eventTime": f"{DAY}T10:00:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "PutObject",
        "awsRegion": "eu-west-1",
        "requestParameters": {"bucketName": "b", "key": blob},
        "eventID": event_id,
        "eventType": "AwsApiCall",
        "recipientAccountId": ACCOUNT,
    }


def write_expanding_gzip(path: Path, pads: list[int]) -> Path:
    """A delivery file whose records carry `pads[i]` bytes of 'A' each (written a MB at a time:
    the test never holds the expanded text either)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    chunk = b"A" * MB
    with gzip.open(path, "wb", compresslevel=6) as gz:
        gz.write(b'{"Records":[')
        for i, pad in enumerate(pads):
            prefix, suffix = json.dumps(_event(f"ev-{i}", PAD)).encode().split(PAD.encode())
            gz.write((b"," if i else b"") + prefix)
            for _ in range(pad // MB):
                gz.write(chunk)
            gz.write(b"A" * (pad % MB) + suffix)
        gz.write(b"]}")
    return path


def delivery_path(source: Path, name: str) -> Path:
    y, m, d = DAY.split("-")
    folder = source / "AWSLogs" / ACCOUNT / "CloudTrail" / "eu-west-1" / y / m / d
    return folder / f"{ACCOUNT}_CloudTrail_eu-west-1_{y}{m}{d}T1000Z_{name}.json.gz"


def land_in_child(tmp_path: Path, name: str, pads: list[int], env: dict | None = None) -> dict:
    source = tmp_path / name / "trail"
    write_expanding_gzip(delivery_path(source, name), pads)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(source), str(tmp_path / name / "lake"), DAY],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return land_in_child(tmp_path_factory.mktemp("tiny"), "tiny", [10, 10])


def test_one_record_expanding_to_400_mb_is_skipped_in_bounded_memory(tmp_path, baseline):
    """One record with a 400 MB requestParameters string, between two good records: the record
    is quarantined (over the per-record limit) without being held; its neighbours land."""
    got = land_in_child(tmp_path, "bomb", [10, 400 * MB, 10])
    assert got["peak_mb"] - baseline["peak_mb"] < 100, (got["peak_mb"], baseline["peak_mb"])
    assert got["records"] == 2
    assert [(q["record"], q["reason"]) for q in got["quarantine"]] == [
        ("Records[1]", "record larger than 16 MB")
    ]
    assert got["quarantine"][0]["file"].endswith("_bomb.json.gz")


def test_many_records_expanding_to_400_mb_land_in_bounded_memory(tmp_path, baseline):
    """100 records of 2 MB each (200 MB decompressed, valid): all land, streamed in batches."""
    got = land_in_child(tmp_path, "many", [2 * MB] * 100)
    assert got["peak_mb"] - baseline["peak_mb"] < 100, (got["peak_mb"], baseline["peak_mb"])
    assert got["records"] == 100
    assert got["quarantine"] == []


def test_a_file_over_the_size_limit_is_quarantined_with_its_reason(tmp_path):
    """Past CIEM_CLOUDTRAIL_MAX_FILE_MB (decompressed) the rest of the file is not read: one
    line names the file; the records before that point are kept."""
    got = land_in_child(tmp_path, "big", [MB] * 60, env={"CIEM_CLOUDTRAIL_MAX_FILE_MB": "40"})
    assert len(got["quarantine"]) == 1
    entry = got["quarantine"][0]
    assert entry["file"].endswith("_big.json.gz") and entry["record"] is None
    assert entry["reason"].startswith("decompressed size over 40 MB (CIEM_CLOUDTRAIL_MAX_FILE_MB)")
    assert 0 < got["records"] < 40
