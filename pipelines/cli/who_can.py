"""`ciem who-can`: every user and role that could perform an action on a resource, each with the
chain `ciem explain` gives (the reverse question; see pipelines/lib/serve/who_can.py)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from pipelines.cli.explain import add_context_arg, load_store, parse_context
from pipelines.cli.options import add_lake_args
from pipelines.lib.serve.who_can import format_who_can, who_can


def add_who_can_parser(subparsers: Any) -> None:
    """Register `ciem who-can ACTION RESOURCE_ARN [--context KEY=VALUE]… [--json] [--lake DIR]`."""
    p = subparsers.add_parser(
        "who-can",
        help="which users and roles could perform an action on a resource, and why",
        description=(
            "Asks explain's question for every user and role of the snapshot (every account) "
            "and lists those allowed or conditionally allowed, with their chains, and the "
            "resource-policy grants to principals outside the snapshot."
        ),
    )
    p.add_argument("action", metavar="ACTION", help="IAM action, e.g. s3:GetObject")
    p.add_argument("resource", metavar="RESOURCE_ARN", help="the resource ARN")
    add_context_arg(p)
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    add_lake_args(p)
    p.set_defaults(func=cmd_who_can)


def cmd_who_can(args: argparse.Namespace) -> None:
    if ":" not in args.action:
        raise RuntimeError(f"not an IAM action (service:Action): {args.action!r}")
    store = load_store(args.lake)
    result = who_can(store, args.action, args.resource, parse_context(args.context) or None)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(format_who_can(result))
