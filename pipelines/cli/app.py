"""The `ciem` command: the parser built from the command modules, the dispatch, the exit codes."""

from __future__ import annotations

import argparse
import gc
import os
import sys
import warnings
from collections.abc import Sequence

from pipelines.cli.collect import add_collect_parser
from pipelines.cli.demo import add_demo_parser
from pipelines.cli.explain import add_explain_parser
from pipelines.cli.explorer import add_explorer_parser
from pipelines.cli.export import add_export_parser
from pipelines.cli.options import CiemError, UsageError, setup_logging
from pipelines.cli.paths import add_paths_parser
from pipelines.cli.query import add_query_parser
from pipelines.cli.run import add_run_parser
from pipelines.cli.who_can import add_who_can_parser
from pipelines.lib.lake import set_private_umask, use_system_allocator

DESCRIPTION = """\
ciem: what each AWS identity can do, what it did (CloudTrail), the gap, and the identity
risks that follow. `ciem demo` runs on the embedded demo organization; `ciem run` on your
snapshot and CloudTrail; then `ciem query`, `explain`, `who-can`, `paths`, `export` and `explorer`
read the warehouse of the last run (--lake DIR, default data/lake)."""

# In the order of the README's command table.
COMMANDS = (
    add_demo_parser,
    add_run_parser,
    add_query_parser,
    add_explain_parser,
    add_who_can_parser,
    add_paths_parser,
    add_export_parser,
    add_explorer_parser,
    add_collect_parser,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ciem", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", required=True)
    for add_parser in COMMANDS:
        add_parser(sub)
    return parser


def _error_text(exc: Exception) -> str:
    """One line for an error: the message of the errors meant for the user, `file: reason` for
    a file the system refused, else the Python class name and its message."""
    if isinstance(exc, OSError) and exc.filename and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    if isinstance(exc, CiemError | RuntimeError | OSError):  # CollectError is a RuntimeError
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


def console_main() -> int:
    """The `ciem` executable (and `python -m pipelines.cli`): `main`, then the process ends.
    Python's shutdown runs full cyclic collections over every object still alive (Dagster's
    modules and definitions: about a second of a small run, measured); frozen, they are skipped
    and freed with the process. `main` itself leaves the collector alone, for in-process callers."""
    code = main()
    gc.freeze()
    return code


def main(argv: Sequence[str] | None = None) -> int:
    # Private by default: whatever ciem, DuckDB and Dagster create (the lake, the warehouse, the
    # reports, a snapshot from `ciem collect`) is owner-only, whatever the caller's umask.
    previous_umask = set_private_umask()
    use_system_allocator()
    try:
        return _main(argv)
    finally:
        os.umask(previous_umask)


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if not args.debug:
        # Dagster flags beta parameters (backfill_policy) on every load; not the user's concern.
        warnings.filterwarnings("ignore", message=".*is currently in beta.*")
    setup_logging(args.debug)
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
