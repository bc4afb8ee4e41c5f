"""A backfill of CloudTrail days through Dagster's own CLI runs as one run over the range."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq

from pipelines.lib.land import cloudtrail
from pipelines.lib.land.quarantine import Quarantine

ROOT = Path(__file__).resolve().parents[2]
TRAIL = ROOT / "data" / "demo" / "cloudtrail"


def test_partition_range_backfill_lands_each_day(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    env = {**os.environ, "CIEM_LAKE": str(lake), "DAGSTER_HOME": str(tmp_path / "home")}
    (tmp_path / "home").mkdir()
    proc = subprocess.run(
        [
            str(Path(sys.executable).with_name("dagster")),
            "asset",
            "materialize",
            "-m",
            "pipelines.definitions",
            "--select",
            "raw_cloudtrail_events",
            "--partition-range",
            "2026-11-18...2026-11-20",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr.count("RUN_SUCCESS") == 1  # one run for the whole range
    landed = sorted(
        p.parent.name for p in (lake / "parquet" / "raw_cloudtrail_events").glob("*/*.parquet")
    )
    assert landed == ["day=2026-11-18", "day=2026-11-19", "day=2026-11-20"]
    for name in landed:
        day = date.fromisoformat(name.removeprefix("day="))
        files = cloudtrail.list_files_for_day(TRAIL, day)
        expected = cloudtrail.read_events(files, day, Quarantine("cloudtrail"), root=TRAIL)
        table = pq.read_table(lake / "parquet" / "raw_cloudtrail_events" / name)
        assert sorted(table.column("event_id").to_pylist()) == sorted(
            expected.column("event_id").to_pylist()
        )
