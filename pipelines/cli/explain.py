"""`ciem explain`: one access decision (or a batch of them) and the chain of policies behind it.

Read from the warehouse of the last `ciem run` (see pipelines/lib/serve/explain.py for the
semantics)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from pipelines.cli.options import UsageError, add_lake_args, open_lake
from pipelines.lib.serve.explain import PolicyStore, format_decision
from pipelines.lib.warehouse.connection import connect


def add_explain_parser(subparsers: Any) -> None:
    """Register `ciem explain PRINCIPAL_ARN ACTION [RESOURCE_ARN] [--context KEY=VALUE]… [--json]
    [--lake DIR]` and `ciem explain --batch FILE --json`."""
    p = subparsers.add_parser(
        "explain",
        help="can a principal perform an action (on a resource)? the decision and why",
        description=(
            "Evaluates identity policies, permission boundary, SCPs and resource policies "
            "(explicit Deny wins) and prints the decision and the statements behind it."
        ),
    )
    p.add_argument("principal", nargs="?", metavar="PRINCIPAL_ARN", help="IAM user or role ARN")
    p.add_argument("action", nargs="?", metavar="ACTION", help="IAM action, e.g. s3:GetObject")
    p.add_argument(
        "resource",
        nargs="?",
        metavar="RESOURCE_ARN",
        help="resource ARN; resource policies and RCPs are evaluated only with it "
        "(default: any resource, as in effective_permissions)",
    )
    add_context_arg(p)
    p.add_argument("--json", action="store_true", help="print the decision as JSON")
    p.add_argument(
        "--batch",
        metavar="FILE",
        help="one JSON object per line ({principal, action, resource, context}); '-' reads stdin",
    )
    add_lake_args(p)
    p.set_defaults(func=cmd_explain)


def add_context_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--context",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a request context key (repeatable; a list as KEY=v1,v2), like simulate-principal-"
        "policy --context-entries: aws:SourceIp=10.1.2.3, aws:RequestedRegion=eu-west-1, "
        "aws:MultiFactorAuthPresent=true",
    )


def parse_context(entries: list[str]) -> dict[str, str | list[str]]:
    """`KEY=VALUE` / `KEY=v1,v2` entries -> {key: value or values}; a key given twice gathers
    its values."""
    context: dict[str, list[str]] = {}
    for entry in entries:
        key, sep, value = entry.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--context takes KEY=VALUE, got {entry!r}")
        context.setdefault(key.strip(), []).extend(value.split(",") if value else [])
    return {k: v[0] if len(v) == 1 else v for k, v in context.items()}


def batch_context(value: Any) -> dict[str, str | list[str]] | None:
    """A batch line's `context`: an object of strings or lists of strings."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise RuntimeError("field 'context' must be an object")
    for key, v in value.items():
        ok = isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v))
        if not ok:
            raise RuntimeError(f"context '{key}' must be a string or a list of strings")
    return value


def load_store(lake_dir: str | Path) -> PolicyStore:
    try:
        with connect(open_lake(str(lake_dir)), read_only=True) as con:
            return PolicyStore.from_connection(con)
    except FileNotFoundError as exc:
        raise RuntimeError(str(exc)) from None


def run_batch(store: PolicyStore, lines: TextIO, out: TextIO) -> int:
    """Answers every line of `lines`; one JSON object per input line, in the same order."""
    count = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            try:
                question = json.loads(line)
            except json.JSONDecodeError as exc:
                raise RuntimeError(f"not valid JSON: {exc}") from None
            if not isinstance(question, dict):
                raise RuntimeError("expected a JSON object")
            for name in ("principal", "action"):
                if not isinstance(question[name], str):
                    raise RuntimeError(f"field '{name}' must be a string")
            resource = question.get("resource")
            if resource is not None and not isinstance(resource, str):
                raise RuntimeError("field 'resource' must be a string")
            context = batch_context(question.get("context"))
            answer = store.explain(question["principal"], question["action"], resource, context)
        except (RuntimeError, KeyError) as exc:
            reason = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            answer = {"line": number, "error": reason}
        out.write(json.dumps(answer, separators=(",", ":")) + "\n")
        count += 1
    return count


def cmd_explain(args: argparse.Namespace) -> None:
    if args.batch:
        if not args.json:
            raise UsageError("--batch writes JSON lines: add --json")
        if args.principal or args.action:
            raise UsageError("--batch takes no PRINCIPAL_ARN/ACTION arguments")
        if args.context:
            raise UsageError('--batch reads each line\'s "context": drop --context')
        store = load_store(args.lake)
        if args.batch == "-":
            run_batch(store, sys.stdin, sys.stdout)
            return
        path = Path(args.batch)
        if not path.is_file():
            raise RuntimeError(f"no batch file {path}")
        with path.open() as lines:
            run_batch(store, lines, sys.stdout)
        return
    if not args.principal or not args.action:
        raise UsageError("explain needs PRINCIPAL_ARN and ACTION (or --batch FILE --json)")
    store = load_store(args.lake)
    result = store.explain(
        args.principal, args.action, args.resource, parse_context(args.context) or None
    )
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(format_decision(result))
