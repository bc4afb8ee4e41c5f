"""`ciem who-can` (serve layer): the reverse question of `ciem explain` — which users and roles of
the snapshot, in every account, would be `allowed` or `conditionally_allowed` to perform ACTION on
RESOURCE — each with the chain explain gives, plus the resource-policy grants to principals the
snapshot does not hold (other accounts, `*`, services), whose own side it cannot evaluate.

As PMapper's `who can` and iam-lens's `who-can`: every principal is asked the same question
explain answers, so both commands always agree."""

from __future__ import annotations

from typing import Any

from pipelines.lib.serve.explain import PolicyStore
from pipelines.lib.serve.screen import format_decision

PERMITTED = ("allowed", "conditionally_allowed")


def who_can(
    store: PolicyStore, action: str, resource: str, context: dict[str, Any] | None = None
) -> dict[str, Any]:
    """{action, resource, principals: [explain answers that permit], external: [grants]}."""
    principals = []
    for arn in candidates(store, action, resource):
        identity = store.identities[arn]
        answer = store.explain(arn, action, resource, context)
        if answer["decision"] in PERMITTED:
            principals.append(
                {"principal_type": identity.principal_type, "account_id": identity.account_id}
                | answer
            )
    return {
        "action": action,
        "resource": resource,
        "principals": principals,
        "external": external_grants(store, action, resource),
    }


def candidates(store: PolicyStore, action: str, resource: str) -> list[str]:
    """The users and roles worth asking, sorted: all of them when a policy of the resource has
    an Allow for the action (it may grant on its own) or for sts:GetCallerIdentity; otherwise
    only those with an identity policy holding an Allow for the action (without one, explain
    can only answer implicitly_denied)."""
    action_lc = action.lower()
    everyone = sorted(
        arn for arn, i in store.identities.items() if i.principal_type in ("user", "role")
    )
    if action_lc == "sts:getcalleridentity" or any(
        s.effect == "Allow" and s.matches_action(action_lc)
        for s, _, _ in store.resource_policy_statements(action_lc, resource)
    ):
        return everyone
    granting = {
        key
        for key, stmts in store.statements.items()
        if any(s.effect == "Allow" and s.matches_action(action_lc) for s in stmts)
    }
    return [
        arn
        for arn in everyone
        if any(key in granting for key, _, _ in store.principal_policies.get(arn, ()))
    ]


def external_grants(store: PolicyStore, action: str, resource: str) -> list[dict[str, Any]]:
    """Allow statements of the resource's policies (trust policies included) naming principals
    outside the snapshot's users and roles: another account (its root or one of its principals),
    everyone (`*`), or an AWS service. Their own identity policies are not in the snapshot, so the
    grant is all that can be said."""
    known_accounts = {i.account_id for i in store.identities.values()}
    action_lc = action.lower()
    found = []
    for s, resource_arn, _ in store.resource_policy_statements(action_lc, resource):
        if s.effect != "Allow" or not s.matches_action(action_lc):
            continue
        if not s.matches_resource(resource, {}):
            continue
        names = [("aws", n) for n in s.principal_aws or ()]
        names += [("service", n) for n in s.principal_services or ()]
        for kind, name in names:
            if kind == "aws" and name != "*":
                account = name if name.isdigit() else (name.split(":") + [""] * 5)[4]
                if account in known_accounts and name not in store.identities:
                    # The account's users and roles are in the snapshot: evaluated above.
                    continue
                if name in store.identities:
                    continue
            found.append(
                {
                    "principal": name,
                    "kind": "wildcard" if name == "*" else kind,
                    "source": "trust_policy" if s.policy_kind == "trust" else "resource_policy",
                    "resource_arn": resource_arn,
                    "policy_key": s.policy_key,
                    "statement": s.statement_index,
                    "sid": s.sid,
                    "conditional": s.has_condition,
                    "condition_keys": list(s.condition_keys),
                }
            )
    return found


def format_who_can(result: dict[str, Any]) -> str:
    """One line per principal (decision, ARN, the request keys it depends on), its chain under
    it, then the grants to principals outside the snapshot."""
    lines = [f"who can {result['action']} on {result['resource']}:"]
    if not result["principals"]:
        lines.append("  no user or role of the snapshot")
    for answer in result["principals"]:
        keys = answer["condition_keys"]
        head = f"  {answer['decision'].upper():<22} {answer['principal']}"
        lines.append(head + (f"  (if {', '.join(keys)})" if keys else ""))
        chain = format_decision(answer).splitlines()[3:]  # the chain, without the header
        lines += ["      " + line.strip() for line in chain]
    if result["external"]:
        lines.append("grants to principals outside the snapshot (their own policies unknown):")
        for g in result["external"]:
            cond = f", only if {', '.join(g['condition_keys'])} match" if g["conditional"] else ""
            lines.append(
                f"  {g['principal']} ({g['kind']}): {g['source']} on {g['resource_arn']}, "
                f"statement {g['statement']}{cond}"
            )
    return "\n".join(lines)
