"""`ciem paths`: the privilege-escalation paths from a principal (or to it), step by step with
each step's evidence, read from the warehouse of the last `ciem run`."""

from __future__ import annotations

import argparse
import json
from typing import Any

from pipelines.cli.options import add_lake_args, open_lake
from pipelines.lib.serve.paths import escalation_paths, format_paths
from pipelines.lib.warehouse.connection import connect


def add_paths_parser(subparsers: Any) -> None:
    """Register `ciem paths PRINCIPAL_ARN [--to TARGET_ARN] [--json] [--lake DIR]`."""
    p = subparsers.add_parser(
        "paths",
        help="how a principal can become admin: its privilege-escalation paths, step by step",
        description=(
            "Prints the shortest privilege-escalation paths from PRINCIPAL_ARN to an "
            "administrator (the privilege_escalation_paths table), each step with its method, "
            "the actions and the statements granting them; without --to, also the principals "
            "that can become PRINCIPAL_ARN."
        ),
    )
    p.add_argument("principal", metavar="PRINCIPAL_ARN", help="IAM user, role or group ARN")
    p.add_argument("--to", metavar="TARGET_ARN", help="only the path to this principal")
    p.add_argument("--json", action="store_true", help="print the paths as JSON")
    add_lake_args(p)
    p.set_defaults(func=cmd_paths)


def cmd_paths(args: argparse.Namespace) -> None:
    try:
        with connect(open_lake(args.lake), read_only=True) as con:
            result = escalation_paths(con, args.principal, args.to)
    except FileNotFoundError as exc:
        raise RuntimeError(str(exc)) from None
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(format_paths(result))
