"""Whole-table comparison of two lakes: what a faulted run must give exactly as a clean one.

Small tables are compared row by row (a Counter of whole rows: a duplicate shows as a count of
2), the two large evaluation marts by row count and an order-independent sum of row hashes.
Columns that record when something was written (`quarantined_at`, the manifest's part files and
ingestion time) are left out: they differ between any two runs."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

from pipelines.lib.lake import Lake
from pipelines.lib.warehouse.connection import connect

ROWS = {
    "detections": "select * from detections",
    "detection_timeline": "select * from detection_timeline",
    "principals": "select * from principals",
    "relationships": "select * from relationships",
    "quarantine": "select * exclude (quarantined_at) from quarantine",
    "raw_cloudtrail_events": "select * from raw_cloudtrail_events",
    "usage_daily": "select * from usage_daily",
    "event_counts_daily": "select * from event_counts_daily",
    "cloudtrail_manifest": (
        "select day, object_key, size, version, records, status from cloudtrail_manifest"
    ),
    "detection_history": "select * exclude (recorded_at) from detection_history",
}
DIGESTS = ("permission_insights", "effective_permissions")


def whole_tables(lake: Path) -> dict[str, object]:
    with connect(Lake.at(lake), read_only=True) as con:
        tables: dict[str, object] = {
            name: Counter(repr(r) for r in con.execute(sql).fetchall())
            for name, sql in ROWS.items()
        }
        for name in DIGESTS:
            tables[name] = con.execute(
                f"select count(*), sum(hash(t)::hugeint) from (select * from {name}) as t"
            ).fetchall()
    return tables


def assert_same_tables(lake: Path, clean: Path) -> None:
    got, expected = whole_tables(lake), whole_tables(clean)
    differ = sorted(name for name in expected if got[name] != expected[name])
    assert differ == [], {
        name: (
            (expected[name] - got[name], got[name] - expected[name])  # type: ignore[operator]
            if isinstance(expected[name], Counter)
            else (expected[name], got[name])
        )
        for name in differ
    }


WRITTEN_AT = ("recorded_at", "ingested_at", "quarantined_at")


def lake_contents(lake: Path) -> dict[str, Counter]:
    """Every Parquet file of the lake (the warehouse aside) by path, as whole rows without the
    columns that record when a row was written: what a failed run must leave as it found."""
    contents = {}
    for path in sorted(lake.rglob("*.parquet")):
        table = pq.read_table(path)
        table = table.drop_columns([c for c in WRITTEN_AT if c in table.column_names])
        contents[str(path.relative_to(lake))] = Counter(repr(r) for r in table.to_pylist())
    return contents


def copy_lake(clean: Path, target: Path) -> Path:
    shutil.copytree(clean, target)
    return target


def temporary_files(lake: Path) -> list[str]:
    """Files a write left half-done (`.name.<uuid>.tmp`, a warehouse build copy)."""
    return sorted(
        str(p.relative_to(lake))
        for p in lake.rglob(".*")
        if p.is_file() and (p.name.endswith(".tmp") or ".building" in p.name)
    )
