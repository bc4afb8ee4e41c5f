"""`ciem run`: the pipeline on a snapshot folder and CloudTrail logs, and the detections found."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from pipelines.cli.options import (
    add_lake_args,
    add_suppressions_arg,
    add_usage_args,
    add_workers_arg,
    days,
)
from pipelines.cli.pipeline import print_summary, run_pipeline
from pipelines.lib.lake import Lake


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {value!r}") from exc


def add_run_parser(subparsers: Any) -> None:
    """Register `ciem run --snapshot DIR --cloudtrail DIR --as-of YYYY-MM-DD [options]`."""
    run = subparsers.add_parser(
        "run",
        help="run the pipeline on a snapshot folder and CloudTrail logs",
        description=(
            "Lands the snapshot and the window's CloudTrail days (only files not landed before, "
            "unless --full-refresh), builds every model for the as-of date and prints the open, "
            "suppressed and resolved detections per rule."
        ),
    )
    snapshot = run.add_mutually_exclusive_group(required=True)
    snapshot.add_argument(
        "--snapshot", metavar="DIR", help="one snapshot folder (<account_id>/iam/...)"
    )
    snapshot.add_argument(
        "--snapshot-root",
        metavar="DIR",
        help="a root of dated snapshot folders (DIR/YYYY-MM-DD/<account_id>/...): the run uses "
        "the newest taken on or before --as-of",
    )
    run.add_argument(
        "--cloudtrail",
        required=True,
        metavar="DIR|s3://BUCKET/PREFIX",
        help="CloudTrail logs: a folder or an S3 prefix (AWSLogs/... layout, or exports)",
    )
    run.add_argument(
        "--full-refresh",
        action="store_true",
        help="re-land every CloudTrail day of the window (default: read only new files)",
    )
    run.add_argument(
        "--as-of",
        required=True,
        type=_date,
        metavar="YYYY-MM-DD",
        help="last day of the window (UTC)",
    )
    run.add_argument(
        "--window-days", type=days, default=15, metavar="N", help="usage window in days (15)"
    )
    run.add_argument(
        "--gap-threshold",
        type=float,
        default=0.4,
        metavar="F",
        help="unused share above which large-permissions-gap fires (0.4)",
    )
    add_usage_args(run)
    add_suppressions_arg(run)
    add_workers_arg(run)
    add_lake_args(run)
    run.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> None:
    lake_dir = args.lake  # a folder or s3://bucket/prefix
    run_pipeline(
        Path(args.snapshot) if args.snapshot else None,
        args.cloudtrail,
        args.as_of,
        args.window_days,
        lake_dir,
        args.gap_threshold,
        args.debug,
        args.full_refresh,
        unused_days=args.unused_days,
        key_rotation_days=args.key_rotation_days,
        suppressions=args.suppressions,
        snapshot_root=Path(args.snapshot_root) if args.snapshot_root else None,
        max_hops=args.max_hops,
        workers=args.workers,
    )
    print_summary(Lake.at(lake_dir), args.as_of)
