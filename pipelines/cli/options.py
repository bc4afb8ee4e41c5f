"""Options and errors every `ciem` sub-command shares: --lake, --debug, day counts, ports."""

import argparse
import logging
import os
import sys

from pipelines.lib.lake import Lake, LakeSyncError, lake_location


class UsageError(Exception):
    """The command line is wrong (a combination argparse cannot check): one line, exit code 2."""


class CiemError(Exception):
    """An error the user can act on: printed as one line (a traceback only with --debug)."""


def setup_logging(verbose: bool) -> None:
    """The `ciem` progress lines on stderr (also in each step process of `--workers N`)."""
    log = logging.getLogger("ciem")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(logging.DEBUG if verbose else logging.INFO)
    log.propagate = False


def workers(value: str) -> int:
    """A number of worker processes, at least 1."""
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"not a whole number of workers, at least 1: {value!r}")
    return int(value)


def add_workers_arg(parser: argparse.ArgumentParser) -> None:
    cores = os.cpu_count() or 1
    parser.add_argument(
        "--workers",
        type=workers,
        default=None,
        metavar="N",
        help="CloudTrail days landed and aggregated at once: the window's days in N shares, "
        "each in its own process (Dagster's multiprocess executor); 1 runs everything in this "
        f"process (default: the machine's cores, {cores}, at most one per 64 MiB of the "
        "window's CloudTrail; 1 for a lake on S3)",
    )


def add_debug_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show tracebacks and debug logs",
    )


def lake_folder(value: str) -> str:
    """A local lake folder or `s3://bucket/prefix`. Any other URL (`gs://…`, `http://…`, `s3://`
    without a bucket) is refused in one line instead of becoming a local folder named `gs:`."""
    try:
        return lake_location(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def open_lake(value: str) -> Lake:
    """The lake of `--lake` for a command that reads it: a lake on S3 has its local cache
    brought up to date first (the warehouse and tables are read there)."""
    lake = Lake.at(value)
    try:
        lake.pull()
    except LakeSyncError as exc:
        raise CiemError(str(exc)) from exc
    return lake


def add_lake_args(parser: argparse.ArgumentParser) -> None:
    """--lake DIR and --debug, for the commands that read or write a lake."""
    parser.add_argument(
        "--lake",
        metavar="DIR|s3://BUCKET/PREFIX",
        type=lake_folder,
        default="data/lake",
        help="lake folder or S3 prefix (default: data/lake)",
    )
    add_debug_arg(parser)


def days(value: str) -> int:
    """A whole number of days, at least 1."""
    try:
        days = int(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a whole number of days: {value!r}") from exc
    if days < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 day: {value!r}")
    return days


def add_usage_args(parser: argparse.ArgumentParser) -> None:
    """Thresholds of the credential and usage rules (defaults: 90 days, as AWS recommends)."""
    parser.add_argument(
        "--unused-days",
        type=days,
        default=90,
        metavar="N",
        help="days without use after which a role, password or access key is unused (90)",
    )
    parser.add_argument(
        "--key-rotation-days",
        type=days,
        default=90,
        metavar="N",
        help="age in days above which an active access key is due for rotation (90)",
    )
    parser.add_argument(
        "--max-hops",
        type=days,
        default=5,
        metavar="N",
        help="longest privilege-escalation path searched, in steps (5)",
    )


def add_suppressions_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--suppressions",
        metavar="FILE",
        default=None,
        help="suppressions YAML (default: $CIEM_SUPPRESSIONS, else ./suppressions.yaml if present)",
    )


def port(value: str) -> int:
    """A TCP port, 0 (any free port) to 65535."""
    if not value.isdigit() or int(value) > 65535:
        raise argparse.ArgumentTypeError(f"not a port from 0 to 65535: {value!r}")
    return int(value)
