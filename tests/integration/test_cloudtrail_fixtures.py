"""Every public CloudTrail set in tests/fixtures/real lands without a crash: each record is
either landed or quarantined with a reason, none is lost, none is landed twice."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines.lib.lake import Lake
from pipelines.lib.land.cloudtrail import CloudTrailSource, parse_records
from pipelines.lib.land.cloudtrail_events import event_time
from pipelines.lib.land.cloudtrail_landing import land_day
from pipelines.lib.land.cloudtrail_stream import unwrap
from pipelines.lib.land.quarantine import Quarantine

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"
SETS = [
    "invictus-aws-dataset",  # S3 delivery files, gzip
    "stratus-red-team-detonation-logs",  # JSON arrays, anonymised fake regions
    "otrf-security-datasets",  # JSON lines, Logstash @timestamp, no eventTime
    "panther-analysis-tests",  # JSON lines of {"event": ...} wrappers, hand-edited events
    "permiso-cloud-console-cartographer",  # gzip JSON arrays without userIdentity
]


def _inventory(root: Path) -> tuple[set[tuple[str, str]], set[date]]:
    """Every record of every file (file, label), and the UTC days their events fall on."""
    source = CloudTrailSource(root)
    source._scan()
    records: set[tuple[str, str]] = set()
    days: set[date] = set()
    for obj in source._other:
        parsed = parse_records(source.read_bytes(obj.key), obj.key, Quarantine("x", quiet=True))
        for label, record in parsed or [("<file>", None)]:
            records.add((obj.key, label))
            event = unwrap(record) if isinstance(record, dict) else None
            when = event and event_time(event.get("eventTime") or event.get("@timestamp"))
            if when is not None:
                days.add(obj.day or when.date())
    return records, days


@pytest.mark.parametrize("name", SETS)
def test_every_record_is_landed_or_quarantined(name: str, tmp_path: Path) -> None:
    root = REAL / name
    expected, days = _inventory(root)
    lake = Lake.at(tmp_path / "lake")
    for day in sorted(days):
        land_day(CloudTrailSource(root), lake, day)
    landed: list[tuple[str, str]] = []
    for part in (lake.root / "parquet" / "raw_cloudtrail_events").rglob("*.parquet"):
        table = pq.read_table(part, columns=["source_file", "record_index"])
        landed += list(zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True))
    quarantine = [
        row
        for path in (lake.root / "parquet" / "quarantine").glob("*.parquet")
        for row in pq.read_table(path).to_pylist()
    ]
    assert all(row["reason"] for row in quarantine)
    assert len(landed) == len(set(landed)), "a record was landed twice"
    labels = {key: _labels(root, key) for key in {f for f, _ in expected}}
    landed_labels = {(f, labels[f][i]) for f, i in landed}
    quarantined = {(q["file"], q["record"] or "<file>") for q in quarantine}
    assert landed_labels.isdisjoint(quarantined)
    assert landed_labels | quarantined == expected


def _labels(root: Path, key: str) -> list[str]:
    parsed = parse_records((root / key).read_bytes(), key, Quarantine("x", quiet=True)) or []
    return [label for label, _ in parsed]
