"""`ciem collect`: live, read-only collection from AWS into a snapshot folder."""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING

from pipelines.cli.options import add_debug_arg
from pipelines.lib.collect.defaults import DEFAULT_ROLE_NAME, DEFAULT_WORKERS

if TYPE_CHECKING:
    from pipelines.lib.collect.collector import CollectOptions

log = logging.getLogger("ciem")


def _regions(value: str) -> tuple[str, ...]:
    regions = tuple(r.strip() for r in value.split(",") if r.strip())
    if not regions:
        raise argparse.ArgumentTypeError(f"no region in {value!r} (e.g. us-east-1,eu-west-1)")
    return regions


def _workers(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"--workers must be a positive integer, not {value!r}")
    return int(value)


def options_from_args(args: argparse.Namespace) -> CollectOptions:
    from pipelines.lib.collect.collector import CollectOptions

    return CollectOptions(
        organization=args.organization,
        role_name=args.role_name,
        external_id=args.external_id,
        regions=args.regions,
        workers=args.workers,
    )


def cmd_collect(args: argparse.Namespace) -> None:
    """Collect and print the summary; CollectError if nothing (with --strict: not all) landed.
    (The collector, and boto3 with it, is loaded by this command only.)"""
    from pipelines.lib.collect.collector import CollectError, collect

    try:
        summary = collect(args.snapshot, options_from_args(args))
    except CollectError as err:
        if err.summary is not None:
            print(err.summary.render())
        raise
    print(summary.render())
    if summary.failed and args.strict:
        raise CollectError(
            f"{len(summary.failed)} of {len(summary.accounts)} account(s) could not be "
            f"collected (--strict); the others are in {summary.snapshot_dir}"
        )
    print(f"\nNext: ciem run --snapshot {summary.snapshot_dir} --cloudtrail DIR --as-of YYYY-MM-DD")


def add_collect_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `ciem collect` on the `ciem` command's subparsers."""
    parser = subparsers.add_parser(
        "collect",
        help="collect the IAM snapshot live from AWS (read-only) into a snapshot folder",
        description=(
            "Collect IAM, compute and resource-policy data from the account of the current AWS "
            "credentials (standard AWS configuration: profile, environment, AWS_ENDPOINT_URL), "
            "or with --organization from every account of the organization, into DIR in the "
            "snapshot layout `ciem run --snapshot` reads."
        ),
    )
    parser.add_argument(
        "--snapshot", required=True, metavar="DIR", help="folder to write (one per collection date)"
    )
    parser.add_argument(
        "--organization",
        action="store_true",
        help="run from the management (or delegated admin) account: collect the organization "
        "and every member account through --role-name",
    )
    parser.add_argument(
        "--role-name",
        default=DEFAULT_ROLE_NAME,
        metavar="NAME",
        help=f"read-only role assumed in each member account (default: {DEFAULT_ROLE_NAME})",
    )
    parser.add_argument(
        "--external-id", metavar="ID", help="ExternalId the member roles' trust policy requires"
    )
    parser.add_argument(
        "--regions",
        type=_regions,
        metavar="LIST",
        help="comma-separated regions (default: every region enabled in each account)",
    )
    parser.add_argument(
        "--workers",
        type=_workers,
        default=DEFAULT_WORKERS,
        metavar="N",
        help=f"accounts collected at the same time (default: {DEFAULT_WORKERS})",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit with an error when any account could not be collected (default: report it)",
    )
    add_debug_arg(parser)
    parser.set_defaults(func=cmd_collect)
