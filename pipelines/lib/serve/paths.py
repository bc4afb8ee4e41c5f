"""Serve layer: privilege-escalation paths of one principal, read from the warehouse's
`privilege_escalation_paths` mart and rendered for `ciem paths`."""

from __future__ import annotations

import json
from typing import Any

import duckdb

TABLE = "privilege_escalation_paths"


class PathsUnavailable(RuntimeError):
    """The warehouse has no privilege_escalation_paths table (a run older than the mart)."""


def escalation_paths(
    con: duckdb.DuckDBPyConnection, principal: str, to: str | None = None
) -> dict[str, Any]:
    """The paths from `principal` (to `to` only, when given), shortest first, and, without `to`,
    the paths that end at `principal` (who can become it)."""
    tables = {name for (name,) in con.execute("select table_name from duckdb_tables()").fetchall()}
    views = {name for (name,) in con.execute("select view_name from duckdb_views()").fetchall()}
    if TABLE not in tables | views:
        raise PathsUnavailable(
            f"this warehouse has no {TABLE} table: run `ciem run` (or `ciem demo`) again"
        )
    query = """
        select source_arn, target_arn, hops, path, is_conditional
        from privilege_escalation_paths
        where source_arn = $principal and ($to is null or target_arn = $to)
        order by hops, is_conditional, target_arn"""
    params = {"principal": principal, "to": to}
    paths = [_row(r) for r in con.execute(query, params).fetchall()]
    into: list[dict[str, Any]] = []
    if to is None:
        into = [
            _row(r)
            for r in con.execute(
                """select source_arn, target_arn, hops, path, is_conditional
                   from privilege_escalation_paths
                   where target_arn = $principal and source_arn <> $principal
                   order by hops, is_conditional, source_arn""",
                {"principal": principal},
            ).fetchall()
        ]
    return {"principal": principal, "to": to, "paths": paths, "paths_to": into}


def _row(row: tuple) -> dict[str, Any]:
    source, target, hops, path, conditional = row
    return {
        "source_arn": source,
        "target_arn": target,
        "hops": hops,
        "is_conditional": conditional,
        "path": json.loads(path),
    }


def _short(arn: str | None) -> str:
    """`arn:aws:iam::111111111111:role/a/b` -> `role/a/b (111111111111)`."""
    if not arn:
        return "-"
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return arn
    return f"{parts[5]} ({parts[4]})" if parts[4] else parts[5]


def _step_lines(number: int, step: dict[str, Any]) -> list[str]:
    flags = [f for f in ("conditional", "compute_presumed") if step.get(f)]
    head = (
        f"  {number}. {step['method']}: {_short(step['from'])} -> {_short(step['to'])}"
        + (f" via {_short(step['via'])}" if step.get("via") and step["via"] != step["to"] else "")
        + (f" [{', '.join(flags)}]" if flags else "")
    )
    lines = [head]
    if step.get("conditional"):
        keys = ", ".join(step.get("condition_keys") or []) or "keys not known"
        who = (
            "keys the caller sets in its own request"
            if step.get("caller_can_satisfy")
            else "not in the caller's hands"
        )
        lines.append(f"       conditional on {keys} ({who})")
    for grant in step.get("granted_by") or []:
        where = f" on {grant['resource']}" if grant.get("resource") else ""
        statements = ", ".join(
            f"{g['policy']} statement {g['statement']}"
            + (f" ({g['sid']})" if g.get("sid") else "")
            + (f" via {g['via']}" if g.get("via") not in (None, "direct") else "")
            for g in grant.get("granted_by") or []
        )
        lines.append(f"       {grant['action']}{where}: {statements or 'no statement listed'}")
    for trust in step.get("trust_statements") or []:
        lines.append(
            f"       trust policy statement {trust['statement']}"
            + (f" ({trust['sid']})" if trust.get("sid") else "")
            + f" names it as {trust['trusted_as']}"
            + (
                f", condition on {', '.join(trust['condition_keys'])}"
                if trust.get("condition_keys")
                else ""
            )
        )
    return lines


def _path_lines(path: dict[str, Any]) -> list[str]:
    hops = path["hops"]
    lines = [
        f"{_short(path['source_arn'])} -> {_short(path['target_arn'])}: "
        f"{hops} step{'s' if hops != 1 else ''}"
        + (" (conditional)" if path["is_conditional"] else "")
    ]
    for number, step in enumerate(path["path"], start=1):
        lines += _step_lines(number, step)
    return lines


def format_paths(result: dict[str, Any]) -> str:
    """Text for `ciem paths`: each path with its steps and each step's evidence."""
    principal, to = result["principal"], result["to"]
    lines: list[str] = []
    paths = result["paths"]
    if paths:
        hops = min(p["hops"] for p in paths)
        lines.append(
            f"{principal} can become admin in {hops} step{'s' if hops != 1 else ''} "
            f"({len(paths)} shortest path{'s' if len(paths) != 1 else ''}):"
        )
        for path in paths:
            lines += ["", *_path_lines(path)]
    else:
        target = f" to {to}" if to else ""
        lines.append(f"no privilege-escalation path from {principal}{target}")
    if result["paths_to"]:
        count = len(result["paths_to"])
        lines += ["", f"{count} principal{'s' if count != 1 else ''} can become {principal}:"]
        for path in result["paths_to"]:
            lines += ["", *_path_lines(path)]
    return "\n".join(lines)
