"""`ciem query`: read-only SQL on the warehouse of the last run, as a table, csv or JSON."""

from __future__ import annotations

import argparse
import csv
import io
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from pipelines.cli.options import CiemError, UsageError, add_lake_args, open_lake
from pipelines.lib.warehouse.connection import connect


def add_query_parser(subparsers: Any) -> None:
    """Register `ciem query SQL [--format table|csv|json] [--lake DIR]`."""
    query = subparsers.add_parser(
        "query",
        help="run read-only SQL against the warehouse",
        description="Runs SQL on a read-only connection to the warehouse of the last run. "
        "Only queries run (SELECT, including SHOW/DESCRIBE/SUMMARIZE, and EXPLAIN), and they "
        "read only the lake's files: no file is written, no other file read, no extension "
        "installed, unless --allow-files.",
    )
    query.add_argument(
        "sql", metavar="SQL", help='e.g. "select rule_id, count(*) from detections group by 1"'
    )
    query.add_argument(
        "--format",
        choices=("table", "csv", "json"),
        default="table",
        help="output format (default: table)",
    )
    query.add_argument(
        "--allow-files",
        action="store_true",
        help="also allow statements other than queries (COPY … TO a file, ATTACH) and files "
        "outside the lake (read_csv('…'))",
    )
    add_lake_args(query)
    query.set_defaults(func=cmd_query)


# The statements a read-only query may hold (SHOW, DESCRIBE, SUMMARIZE and FROM-first queries
# are SELECTs to DuckDB); COPY, EXPORT, ATTACH, INSTALL, LOAD, SET, PRAGMA, CALL… are refused.
QUERY_STATEMENTS = frozenset({"SELECT", "EXPLAIN"})


def refused_statements(con: Any, sql: str) -> list[str]:
    """The kinds of statement in `sql` that a read-only query may not run (empty: all fine)."""
    kinds = [str(s.type).rpartition(".")[2] for s in con.extract_statements(sql)]
    return [k for k in kinds if k not in QUERY_STATEMENTS]


def _json_value(value: object) -> object:
    """JSON for what DuckDB returns beside str/int/float/bool/list/dict: DECIMAL as a number
    (`sum()`, `avg()`, `1.5`), dates, timestamps, UUIDs and the rest as text."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return str(value)


def _cell(value: object) -> object:
    """A value as csv and table show it: booleans and NULL as SQL writes them (`true`, ``),
    lists and structs as JSON (not Python's repr)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, default=_json_value)
    return value


def _format_rows(columns: Sequence[str], rows: Sequence[Sequence[object]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(
            [dict(zip(columns, r, strict=True)) for r in rows], default=_json_value, indent=2
        )
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_cell(v) for v in r] for r in rows)
        return buf.getvalue().rstrip("\n")
    cells = [[str(_cell(v)) for v in r] for r in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()
    sep = "  ".join("-" * w for w in widths)
    body = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join([line, sep, *body, f"({len(rows)} row{'s' if len(rows) != 1 else ''})"])


def cmd_query(args: argparse.Namespace) -> None:
    import duckdb

    if not args.sql.strip():
        raise UsageError('no SQL given: ciem query "select ..."')
    with connect(open_lake(args.lake), read_only=True, allow_files=args.allow_files) as con:
        try:
            refused = [] if args.allow_files else refused_statements(con, args.sql)
            if refused:
                raise CiemError(
                    f"ciem query runs queries only, not {', '.join(sorted(set(refused)))} "
                    "(--allow-files allows them)"
                )
            cursor = con.execute(args.sql)
        except duckdb.Error as exc:
            raise CiemError(str(exc).splitlines()[0]) from exc
        if cursor is None or cursor.description is None:  # e.g. only a comment
            raise CiemError("the SQL returned no result")
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    print(_format_rows(columns, rows, args.format))
