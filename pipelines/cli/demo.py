"""`ciem demo`: the pipeline run twice on the embedded demo organization of data/demo."""

from __future__ import annotations

import argparse
import resource
import time
from datetime import date
from pathlib import Path
from typing import Any

from pipelines.cli.options import add_lake_args, add_workers_arg
from pipelines.cli.pipeline import print_summary, run_pipeline
from pipelines.lib.lake import Lake

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_DIR = REPO_ROOT / "data" / "demo"
# The demo organization is collected twice; running both shows the detection timeline.
# The two as-of days of the demo; each uses the newest snapshot under data/demo/snapshots/ taken
# on or before it (the folders 2026-11-19 and 2026-11-20).
DEMO_RUNS = ("2026-11-19", "2026-11-20")


def add_demo_parser(subparsers: Any) -> None:
    """Register `ciem demo [--lake DIR] [--workers N]`."""
    demo = subparsers.add_parser(
        "demo",
        help="run the whole pipeline on the embedded demo organization",
        description=(
            "Runs the pipeline twice on the demo organization of data/demo (as of "
            f"{DEMO_RUNS[0]} and {DEMO_RUNS[1]}, so the timeline has history) and "
            "prints the detections per rule, the time and the peak memory."
        ),
    )
    add_workers_arg(demo)
    add_lake_args(demo)
    demo.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> None:
    started = time.monotonic()
    lake_dir = args.lake  # a folder or s3://bucket/prefix
    for as_of in DEMO_RUNS:
        run_pipeline(
            None,
            DEMO_DIR / "cloudtrail",
            date.fromisoformat(as_of),
            15,
            lake_dir,
            debug=args.debug,
            snapshot_root=DEMO_DIR / "snapshots",
            workers=args.workers,
        )
    print_summary(Lake.at(lake_dir), date.fromisoformat(DEMO_RUNS[-1]))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # With --workers N, each share of the CloudTrail days ran in a step process of its own.
    child_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    workers = f", largest worker process {child_mib:.0f} MiB" if (args.workers or 1) > 1 else ""
    print(
        f"\nciem demo: {time.monotonic() - started:.1f} s, peak memory {peak_mib:.0f} MiB{workers}"
    )
