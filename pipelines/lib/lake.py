"""The lake: where every landed and modelled table lives on disk (paths, atomic Parquet writes).

Layout under `<lake>`:
    parquet/<table>.parquet                          landed snapshot and reference tables
    parquet/raw_cloudtrail_events/day=YYYY-MM-DD/part-N.parquet  parts of one UTC day
    parquet/cloudtrail_manifest/day=YYYY-MM-DD/manifest.parquet  objects landed per day
    parquet/usage_daily/day=YYYY-MM-DD/data.parquet  usage per principal and action
    parquet/event_counts_daily/day=YYYY-MM-DD/data.parquet  events per name and mapping
    parquet/quarantine/<source>-<partition>.parquet  what landing refused, with reasons
    history/detections/as_of=YYYY-MM-DD.parquet      open detections of each run (timeline)
    marts/<table>.parquet                            result tables, exported after each model
    warehouse/ciem.duckdb                            DuckDB warehouse (rebuildable from the above)
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


@dataclass(frozen=True)
class Lake:
    root: Path

    @classmethod
    def at(cls, root: str | os.PathLike[str]) -> Lake:
        return cls(Path(root).expanduser().resolve())

    @property
    def warehouse_path(self) -> Path:
        return self.root / "warehouse" / "ciem.duckdb"

    def table_path(self, name: str) -> Path:
        return self.root / "parquet" / f"{name}.parquet"

    def cloudtrail_day_dir(self, day: date) -> Path:
        return self.root / "parquet" / "raw_cloudtrail_events" / f"day={day.isoformat()}"

    def daily_path(self, table: str, day: date) -> Path:
        """A per-day aggregate of CloudTrail (usage_daily, event_counts_daily)."""
        return self.root / "parquet" / table / f"day={day.isoformat()}" / "data.parquet"

    def quarantine_path(self, source: str, partition: str) -> Path:
        return self.root / "parquet" / "quarantine" / f"{source}-{partition}.parquet"

    def history_path(self, as_of: date) -> Path:
        return self.root / "history" / "detections" / f"as_of={as_of.isoformat()}.parquet"

    def mart_path(self, name: str) -> Path:
        return self.root / "marts" / f"{name}.parquet"

    def empty_path(self, name: str) -> Path:
        return self.root / "parquet" / "_empty" / f"{name}.parquet"


def temp_path_for(path: Path) -> Path:
    """A unique temporary name beside `path`, renamed onto it once written (atomic replace)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write atomically: a rerun replaces the file whole, a crash never leaves half a file."""
    tmp = temp_path_for(path)
    pq.write_table(table, tmp, compression="zstd")
    tmp.replace(path)
