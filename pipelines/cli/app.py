"""The `ciem` command: runs the same Dagster definitions as the UI (never a second code path)."""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import os
import resource
import sys
import time
import warnings
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

from pipelines.cli_args import (
    UsageError,
    add_debug_arg,
    add_lake_arg,
    add_suppressions_arg,
    add_usage_args,
    days,
)
from pipelines.cli_collect import add_collect_parser
from pipelines.cli_explain import add_explain_parser
from pipelines.cli_explorer import add_explorer_parser
from pipelines.cli_export import add_export_parser
from pipelines.lib.collect.collector import CollectError
from pipelines.lib.lake import Lake
from pipelines.lib.warehouse.connection import RunParams, connect

log = logging.getLogger("ciem")

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = REPO_ROOT / "data" / "demo"
# The demo organization is collected twice; running both shows the detection timeline.
DEMO_RUNS = (("2026-11-19", "snapshots/2026-11-19"), ("2026-11-20", "snapshots/2026-11-20"))
# Dagster's own console log is replaced by the `ciem` progress lines and one-line errors.
QUIET_DAGSTER = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}

DESCRIPTION = """\
ciem: what each AWS identity can do, what it did (CloudTrail), the gap, and the identity
risks that follow. `ciem demo` runs on the embedded demo organization; `ciem run` on your
snapshot and CloudTrail; then `ciem query`, `explain`, `export` and `explorer` read the
warehouse of the last run (--lake DIR, default data/lake)."""


class CiemError(Exception):
    """An error the user can act on: printed as one line (a traceback only with --debug)."""


def _user_message(message: str) -> str:
    """A step's error as the user should read it: the project's own exceptions carry a message
    meant for the user, so their dotted class path (`pipelines.lib.x.SomeError: `) is dropped;
    a Python error keeps its class name, which says what went wrong."""
    head, sep, rest = message.partition(": ")
    if sep and head.startswith("pipelines.") and " " not in head:
        return rest
    return message


def _lake_flag(lake: Lake) -> str:
    """` --lake DIR` for the hints printed after a run, when the lake is not the default one."""
    return f" --lake {lake.root}" if lake.root != Lake.at("data/lake").root else ""


def _setup_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(logging.DEBUG if verbose else logging.INFO)
    log.propagate = False


def _materialize(assets: list, debug: bool = False, **kwargs: object) -> None:
    """One in-process Dagster run; a failed step becomes a CiemError naming the asset."""
    import dagster as dg

    result = dg.materialize(assets, run_config=QUIET_DAGSTER, raise_on_error=False, **kwargs)
    for check in result.get_asset_check_evaluations():
        if not check.passed:
            rows = check.metadata.get("offending_rows")
            count = rows.value if rows is not None else "?"
            log.warning(
                f"✗ check {check.asset_key.to_user_string()}:{check.check_name} failed "
                f"({count} offending rows)"
            )
    if result.success:
        return
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        cause = (
            error.cause
            if error and error.cls_name == "DagsterExecutionStepExecutionError"
            else error
        )
        if debug and error is not None:
            log.error(error.to_string())
        message = (cause.message if cause else "failed").strip().splitlines()[0]
        raise CiemError(f"asset {event.step_key} failed: {_user_message(message)}")
    raise CiemError("the Dagster run failed (run with --debug for details)")


def run_pipeline(
    snapshot: Path,
    cloudtrail: str | Path,
    as_of: date,
    window_days: int,
    lake_dir: Path,
    gap_threshold: float = 0.4,
    debug: bool = False,
    full_refresh: bool = False,
    unused_days: int = 90,
    key_rotation_days: int = 90,
    suppressions: str | None = None,
) -> None:
    """Materialize every asset of the code location for one as-of date, in process: the
    snapshot and reference tables, then the window's CloudTrail days (one run over the
    partition range), then every model."""
    import dagster as dg

    from pipelines.definitions import defs
    from pipelines.defs.resources import CiemSettings
    from pipelines.lib.land.cloudtrail import CloudTrailSource

    if not snapshot.is_dir():
        raise CiemError(f"snapshot folder not found: {snapshot}")
    if not CloudTrailSource(cloudtrail).exists():
        raise CiemError(f"CloudTrail location not found: {cloudtrail}")
    suppressions = suppressions or os.environ.get("CIEM_SUPPRESSIONS", "")
    _check_suppressions(suppressions)
    settings = CiemSettings(
        snapshot_dir=str(snapshot),
        cloudtrail_dir=str(cloudtrail),
        lake_dir=str(lake_dir),
        as_of=as_of.isoformat(),
        window_days=window_days,
        gap_threshold=gap_threshold,
        unused_days=unused_days,
        key_rotation_days=key_rotation_days,
        cloudtrail_full_refresh=full_refresh,
        suppressions_file=suppressions,
    )
    params = RunParams(as_of=as_of, window_days=window_days, gap_threshold=gap_threshold)
    assets = [*defs.assets, *(defs.asset_checks or [])]
    graph = defs.resolve_asset_graph()
    partitioned = dg.AssetSelection.assets(
        *(k for k in graph.get_all_asset_keys() if graph.get(k).partitions_def is not None)
    )
    upstream = dg.AssetSelection.groups("landing", "reference") - partitioned
    days = params.window_dates()
    resources = {"ciem": settings}
    log.info(f"ciem run: as of {as_of} (window {days[0]} .. {days[-1]}), lake {lake_dir}")
    log.info(f"landing the snapshot {snapshot} and the reference tables")
    _materialize(assets, debug, selection=upstream, resources=resources)
    log.info(f"landing {len(days)} CloudTrail days from {cloudtrail}")
    _materialize(
        assets,
        debug,
        selection=partitioned,
        resources=resources,
        tags={
            "dagster/asset_partition_range_start": days[0].isoformat(),
            "dagster/asset_partition_range_end": days[-1].isoformat(),
        },
    )
    log.info("building the models")
    # Live collection (group `collect`) is `ciem collect`'s job, never a side effect of a run.
    models = dg.AssetSelection.all() - upstream - partitioned - dg.AssetSelection.groups("collect")
    _materialize(assets, debug, selection=models, resources=resources)


def _check_suppressions(setting: str) -> None:
    """Reads the suppressions file before anything lands: a mistake in it stops the run at
    once, with the file, entry and field (the `ref_suppressions` asset reads it again)."""
    from pipelines.lib.findings.suppressions import (
        SuppressionError,
        load_suppressions,
        resolve_path,
    )

    path = None
    try:
        path = resolve_path(setting)
        load_suppressions(path)
    except SuppressionError as exc:
        raise CiemError(str(exc)) from exc
    except ValueError as exc:  # e.g. YAML's own date parsing of `expires: 2026-02-30`
        raise CiemError(f"{path}: invalid value: {exc}") from exc


def print_summary(lake: Lake, as_of: date) -> None:
    with connect(lake, read_only=True) as con:
        rows = con.execute(
            """
            select rule_id, severity,
                   count(*) filter (where status = 'open') as open,
                   count(*) filter (where status = 'suppressed') as suppressed,
                   count(*) filter (where status = 'resolved') as resolved
            from detections group by 1, 2
            order by list_position(['critical', 'high', 'medium', 'low', 'info'], severity), 1
            """
        ).fetchall()
        quarantined = con.execute("select count(*) from quarantine").fetchall()[0][0]
        principals = con.execute("select count(*) from principals").fetchall()[0][0]
    width = max([len("rule_id"), *(len(r[0]) for r in rows)])
    out = [f"\nDetections as of {as_of} ({principals} identities analysed):"]
    out.append(
        f"  {'rule_id':<{width}} {'severity':<9} {'open':>5} {'suppressed':>10} {'resolved':>9}"
    )
    for rule_id, severity, open_, suppressed, resolved in rows:
        out.append(f"  {rule_id:<{width}} {severity:<9} {open_:>5} {suppressed:>10} {resolved:>9}")
    totals = [sum(r[i] for r in rows) for i in (2, 3, 4)]
    out.append(f"  {'total':<{width}} {'':<9} {totals[0]:>5} {totals[1]:>10} {totals[2]:>9}")
    if quarantined:
        out.append(
            f"\nQuarantined {quarantined} input item(s); see them with:\n"
            f'  ciem query "select source, file, record, field, reason from quarantine"'
            + _lake_flag(lake)
        )
    else:
        out.append("\nQuarantined: nothing (all input was well-formed).")
    out.append(
        f"\nTables: {lake.warehouse_path} (DuckDB) and {lake.root / 'marts'}/*.parquet\n"
        'Try:    ciem query "select rule_id, count(*) from detections group by 1"'
        + _lake_flag(lake)
    )
    print("\n".join(out))


def cmd_run(args: argparse.Namespace) -> None:
    lake_dir = Path(args.lake)
    run_pipeline(
        Path(args.snapshot),
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
    )
    print_summary(Lake.at(lake_dir), args.as_of)


def cmd_demo(args: argparse.Namespace) -> None:
    started = time.monotonic()
    lake_dir = Path(args.lake)
    for as_of, snapshot in DEMO_RUNS:
        run_pipeline(
            DEMO_DIR / snapshot,
            DEMO_DIR / "cloudtrail",
            date.fromisoformat(as_of),
            15,
            lake_dir,
            debug=args.debug,
        )
    print_summary(Lake.at(lake_dir), date.fromisoformat(DEMO_RUNS[-1][0]))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nciem demo: {time.monotonic() - started:.1f} s, peak memory {peak_mib:.0f} MiB")


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
    with connect(Lake.at(args.lake), read_only=True) as con:
        try:
            cursor = con.execute(args.sql)
        except duckdb.Error as exc:
            raise CiemError(str(exc).splitlines()[0]) from exc
        if cursor is None or cursor.description is None:  # e.g. only a comment
            raise CiemError("the SQL returned no result")
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    print(_format_rows(columns, rows, args.format))


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {value!r}") from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ciem", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", required=True)

    def lake_arg(p: argparse.ArgumentParser) -> None:
        add_lake_arg(p)
        add_debug_arg(p)

    demo = sub.add_parser(
        "demo",
        help="run the whole pipeline on the embedded demo organization",
        description=(
            "Runs the pipeline twice on the demo organization of data/demo (as of "
            f"{DEMO_RUNS[0][0]} and {DEMO_RUNS[1][0]}, so the timeline has history) and "
            "prints the detections per rule, the time and the peak memory."
        ),
    )
    lake_arg(demo)
    demo.set_defaults(func=cmd_demo)

    run = sub.add_parser(
        "run",
        help="run the pipeline on a snapshot folder and CloudTrail logs",
        description=(
            "Lands the snapshot and the window's CloudTrail days (only files not landed before, "
            "unless --full-refresh), builds every model for the as-of date and prints the open, "
            "suppressed and resolved detections per rule."
        ),
    )
    run.add_argument(
        "--snapshot", required=True, metavar="DIR", help="snapshot folder (<account_id>/iam/...)"
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
    lake_arg(run)
    run.set_defaults(func=cmd_run)

    query = sub.add_parser(
        "query",
        help="run read-only SQL against the warehouse",
        description="Runs SQL on a read-only connection to the warehouse of the last run.",
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
    lake_arg(query)
    query.set_defaults(func=cmd_query)

    # In the order of the README's command table.
    add_explain_parser(sub)
    add_export_parser(sub)
    add_explorer_parser(sub)
    add_collect_parser(sub)
    return parser


def _error_text(exc: Exception) -> str:
    """One line for an error: the message of the errors meant for the user, `file: reason` for
    a file the system refused, else the Python class name and its message."""
    if isinstance(exc, OSError) and exc.filename and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    if isinstance(exc, CiemError | CollectError | RuntimeError | OSError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _quiet_stdout() -> None:
    """The reader of our output went away (`ciem export | head`): no more writes, no noise at
    exit when Python flushes stdout."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (captured by a test)
        pass


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.debug:
        # Dagster flags beta parameters (backfill_policy) on every load; not the user's concern.
        warnings.filterwarnings("ignore", message=".*is currently in beta.*")
    _setup_logging(args.debug)
    if not 0 <= getattr(args, "gap_threshold", 0.4) < 1:
        print("ciem: error: --gap-threshold must be a share from 0 to below 1", file=sys.stderr)
        return 2
    try:
        args.func(args)
    except KeyboardInterrupt:
        print("ciem: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _quiet_stdout()
        return 141  # as a shell reports a command its reader closed the pipe on (128 + SIGPIPE)
    except UsageError as exc:
        print(f"ciem: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        if args.debug:
            raise
        print(f"ciem: error: {_error_text(exc)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
