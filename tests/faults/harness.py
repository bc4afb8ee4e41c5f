"""Fault-injection helpers: copies of the demo's inputs to damage, and `ciem run` on them.

A case damages one thing in a copy of the demo organization (or a real fixture) and checks two
things: what it damaged is quarantined or evaluated right (named by file, record and field), and
everything beside it is exactly what a clean run gives. Keep cases fast: check at the layer that
decides (landing, one model) and run the whole pipeline only where the outcome is end to end.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pipelines.cli import main
from pipelines.lib.lake import Lake
from pipelines.lib.warehouse.connection import connect

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "demo"
DEMO_SNAPSHOTS = DEMO / "snapshots"
DEMO_CLOUDTRAIL = DEMO / "cloudtrail"
DEMO_AS_OF = "2026-11-20"


def copy_tree(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def run_ciem(
    lake: Path | str,
    snapshot: Path = DEMO_SNAPSHOTS / DEMO_AS_OF,
    cloudtrail: Path = DEMO_CLOUDTRAIL,
    as_of: str = DEMO_AS_OF,
    window_days: int = 15,
) -> int:
    """`ciem run` in process, as a user runs it; its exit code."""
    return main(
        [
            "run",
            "--snapshot",
            str(snapshot),
            "--cloudtrail",
            str(cloudtrail),
            "--as-of",
            as_of,
            "--window-days",
            str(window_days),
            "--lake",
            str(lake),
        ]
    )


def rows(lake: Path, sql: str) -> set[tuple]:
    """The rows of a query on a lake's warehouse, as a set (compare whole sets)."""
    with connect(Lake.at(lake), read_only=True) as con:
        return set(con.execute(sql).fetchall())


def open_detections(lake: Path) -> set[tuple]:
    return rows(
        lake,
        "select detection_id, rule_id, severity, status from detections where status = 'open'",
    )
