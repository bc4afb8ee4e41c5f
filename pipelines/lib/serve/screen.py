"""The readable screen of a `ciem explain` answer (serve layer): the decision, then the chain of
statements behind it, the request keys it depends on and the request context used."""

from __future__ import annotations


def format_decision(result: dict) -> str:
    """One readable screen: the decision, then the chain."""
    lines = [
        f"{result['principal']}",
        f"  {result['action']} on {result['resource'] or '(any resource)'}",
        f"decision: {result['decision'].upper()}",
    ]

    def describe(e: dict) -> str:
        if e["source"] == "aws":  # refused by AWS itself, not by a policy
            return f"    AWS: {e['reason']}"
        name = e.get("policy") or e.get("policy_key")
        where = f"{e['source']}: {name}"
        if e.get("policy_arn"):
            where += f" ({e['policy_arn']})"
        if e.get("resource_arn"):
            where += f" on {e['resource_arn']}"
        stmt = f"statement {e['statement']}" + (f" (Sid {e['sid']})" if e.get("sid") else "")
        via = f", via {e['via']}" if e.get("via") and e["via"] != "direct" else ""
        cond = f", only if {', '.join(e['condition_keys'])} match" if e.get("conditional") else ""
        return f"    {where}, {stmt}{via}{cond}"

    if result["denied_by"]:
        lines.append(
            "denied by:"
            if result["decision"] == "explicitly_denied"
            else "conditional Deny (applies when its condition holds):"
        )
        lines += [describe(e) for e in result["denied_by"]]
    if result.get("known_action") is False:
        lines.append(
            f"note: {result['action']} is not in the IAM action catalog: check its spelling"
        )
    # What is missing comes first: it is the reason for an implicit deny.
    if result["missing_allow_from"]:
        lines.append("no Allow from: " + ", ".join(result["missing_allow_from"]))
    if result["allowed_by"]:
        lines.append("allowed by:")
        lines += [describe(e) for e in result["allowed_by"]]
    if result.get("partial_denies"):
        lines.append("Denies on some resources only (name a resource to evaluate them):")
        lines += [describe(e) for e in result["partial_denies"]]
    if result.get("condition_keys"):
        lines.append(
            "depends on request keys: "
            + ", ".join(result["condition_keys"])
            + " (give them with --context KEY=VALUE)"
        )
    if result.get("context"):
        lines.append(
            "request context: "
            + ", ".join(f"{k}={','.join(v)}" for k, v in result["context"].items())
        )
    for c in result.get("context_ignored", []):
        lines.append(
            f"context ignored: {c['key']}={','.join(c['context'])} contradicts the snapshot "
            f"({','.join(c['snapshot']) or 'absent'}); the snapshot's value was used"
        )
    if result.get("note"):
        lines.append(f"note: {result['note']}")
    return "\n".join(lines)
