"""`ciem export`: the detections of the last run as OCSF Detection Finding JSON lines.

To a file or stdout; the mapping is in pipelines/lib/findings/ocsf.py."""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import nullcontext
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TextIO

from pipelines.cli.options import add_lake_args, open_lake
from pipelines.lib.findings.ocsf import detection_findings
from pipelines.lib.warehouse.connection import connect

STATUSES = ("open", "suppressed", "resolved")


def add_export_parser(subparsers: Any) -> None:
    """Register `ciem export --format ocsf [--out FILE|-] [--status S] [--lake DIR]`."""
    p = subparsers.add_parser(
        "export",
        help="export detections as OCSF Detection Finding JSON lines",
        description="Writes one OCSF 1.3 Detection Finding (class_uid 2004) per detection.",
    )
    p.add_argument("--format", choices=("ocsf",), default="ocsf", help="output format (ocsf)")
    p.add_argument(
        "--out", default="-", metavar="FILE", help="output file ('-' = stdout, the default)"
    )
    p.add_argument(
        "--status",
        choices=STATUSES,
        action="append",
        help="only detections with this status (repeatable; default: all)",
    )
    add_lake_args(p)
    p.set_defaults(func=cmd_export)


def _product_version() -> str:
    try:
        return version("ciem")
    except PackageNotFoundError:
        return "0+unknown"


# A resolved detection's `resolved_at`: the as-of date of the run that resolved it, the latest
# `resolved` event of its timeline (a detection can be resolved, reopened and resolved again).
_WITH_RESOLVED_AT = """
    select d.*, r.resolved_at
    from detections as d
    left join (
        select detection_id, max(event_at) as resolved_at
        from detection_timeline
        where event_type = 'resolved'
        group by detection_id
    ) as r on r.detection_id = d.detection_id and d.status = 'resolved'
"""
# A warehouse built before `detection_timeline` existed: no resolution date (the finding then
# falls back to the last-seen date).
_WITHOUT_RESOLVED_AT = "select *, null::date as resolved_at from detections"


def read_detections(lake_dir: str | Path, statuses: list[str] | None) -> list[dict[str, Any]]:
    """The `detections` rows (all, or those with the given statuses), each with `resolved_at`."""
    try:
        with connect(open_lake(str(lake_dir)), read_only=True) as con:
            has_timeline = con.execute(
                "select count(*) from information_schema.tables "
                "where table_schema = 'main' and table_name = 'detection_timeline'"
            ).fetchone()
            source = _WITH_RESOLVED_AT if has_timeline and has_timeline[0] else _WITHOUT_RESOLVED_AT
            cursor = con.execute(
                f"select * from ({source}) where $all or list_contains($statuses, status) "  # noqa: S608 (source is one of two fixed queries; statuses are bound)
                "order by detection_id",
                {"all": not statuses, "statuses": statuses or []},
            )
            columns = [d[0] for d in cursor.description or []]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    except FileNotFoundError as exc:
        raise RuntimeError(str(exc)) from None


def write_findings(detections: list[dict[str, Any]], out: TextIO) -> int:
    count = 0
    for finding in detection_findings(detections, _product_version()):
        out.write(json.dumps(finding, sort_keys=True) + "\n")
        count += 1
    return count


def cmd_export(args: argparse.Namespace) -> None:
    detections = read_detections(args.lake, args.status)
    target = nullcontext(sys.stdout) if args.out == "-" else Path(args.out).open("w")  # noqa: SIM115
    with target as out:
        count = write_findings(detections, out)
    if args.out != "-":
        print(f"ciem export: {count} detection(s) written to {args.out}", file=sys.stderr)
