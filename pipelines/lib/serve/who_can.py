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
from pipelines.lib.warehouse.condition_verdicts import resource_facts
from pipelines.lib.warehouse.conditions import (
    PRINCIPAL_TAG_PREFIX,
    Facts,
    evaluate,
    normalize_context,
)

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
        "external": external_grants(store, action, resource, context),
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


def external_facts(
    store: PolicyStore, kind: str, name: str, resource: str, context: dict[str, Any] | None
) -> Facts:
    """What the snapshot knows of a request by a principal outside it: the resource's facts (as
    explain's), and for an AWS account or principal its account, organization membership (the
    organization's account list) and, for a user or role ARN, its ARN and type; an IAM
    principal's request carries no `aws:Source*` key. Its tags, and anything of `*` or of a
    service principal, stay unknown."""
    values: dict[str, tuple[str, ...]] = {}
    decided: set[str] = set()
    if kind == "aws" and name != "*":
        account = name if name.isdigit() else (name.split(":") + [""] * 5)[4]
        values["aws:principalaccount"] = (account,)
        values["aws:principalisawsservice"] = ("false",)
        decided |= {"aws:principalaccount", "aws:principalisawsservice", "aws:sourceaccount"}
        decided |= {"aws:sourcearn", "aws:sourceorgid", "aws:sourceorgpaths", "aws:sourceowner"}
        if store.org.org_id:
            decided |= {"aws:principalorgid", "aws:principalorgpaths"}
            if account in store.org.accounts:
                values["aws:principalorgid"] = (store.org.org_id,)
                if account in store.org.paths:
                    values["aws:principalorgpaths"] = (store.org.paths[account],)
        resource_part = name.split(":", 5)[5] if name.count(":") >= 5 else ""
        if name.startswith("arn:") and resource_part.startswith(("user/", "role/")):
            values["aws:principalarn"] = (name,)
            values["aws:principaltype"] = (
                "User" if resource_part.startswith("user/") else "AssumedRole",
            )
            decided |= {"aws:principalarn", "aws:principaltype"}
    owner = store.resource_account(resource)
    prefixes = resource_facts(
        values,
        decided,
        owner,
        store.resource_tags.get(resource),
        store.org.org_id,
        owner is not None and owner in store.org.accounts,
        store.org.paths.get(owner) if owner is not None else None,
    )
    return Facts(
        values=values,
        decided=frozenset(decided),
        decided_prefixes=tuple(p for p in prefixes if p != PRINCIPAL_TAG_PREFIX),
    )


def external_grants(
    store: PolicyStore, action: str, resource: str, context: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Allow statements of the resource's policies (trust policies included) naming principals
    outside the snapshot's users and roles: another account (its root or one of its principals),
    everyone (`*`), or an AWS service. Their own identity policies are not in the snapshot, so the
    grant is all that can be said. Its Condition is decided from what the snapshot knows of such
    a caller (`external_facts`) and the request context: a grant it rules out (an
    `aws:PrincipalOrgID` the other account is not in) is not listed, and `condition_keys` names
    the keys left open."""
    known_accounts = {i.account_id for i in store.identities.values()}
    action_lc = action.lower()
    request = normalize_context(context)
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
            open_keys: list[str] = []
            if s.condition is not None:
                outcome = evaluate(
                    s.condition, external_facts(store, kind, name, resource, context), request
                )
                if outcome.value is False:
                    continue
                open_keys = sorted(outcome.needed)
            elif s.has_condition:  # not a JSON object: left open, as explain leaves it
                open_keys = list(s.condition_keys)
            found.append(
                {
                    "principal": name,
                    "kind": "wildcard" if name == "*" else kind,
                    "source": "trust_policy" if s.policy_kind == "trust" else "resource_policy",
                    "resource_arn": resource_arn,
                    "policy_key": s.policy_key,
                    "statement": s.statement_index,
                    "sid": s.sid,
                    "conditional": bool(open_keys),
                    "condition_keys": open_keys,
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
