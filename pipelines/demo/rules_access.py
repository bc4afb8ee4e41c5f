"""Demo evaluation: the access rules (trust policies, reach and blast radius, bucket policies)."""

from __future__ import annotations

import re
from collections import defaultdict

from pipelines.demo.accounts import ACCOUNT_NAMES, alias_of, principal_key
from pipelines.demo.detections import BLAST_SERVICES, Detection, RunContext
from pipelines.demo.evaluator import (
    as_list,
    as_list_of_dicts,
    condition_keys,
    evaluate,
    identity_documents,
    permissions,
    statement_principals,
)
from pipelines.demo.principals import Role, User
from pipelines.demo.scenarios import TABLES

ACCOUNT_IN_PRINCIPAL = re.compile(r"^(?:arn:aws:(?:iam|sts)::)?(\d{12})(?::|$)")


def trust_detections(ctx: RunContext) -> list[Detection]:
    """The trust-policy rules over every role that is not service-linked."""
    found = []
    for role in TABLES.roles:
        if role.service_linked:
            continue
        key = principal_key(role.account, role.name)
        hits: dict[str, list[str]] = defaultdict(list)
        for statement in as_list_of_dicts(role.trust["Statement"]):
            if statement["Effect"] != "Allow":
                continue
            principals = statement_principals(statement)
            conditions = condition_keys(statement)
            for value in principals.get("AWS", []):
                if value == "*":
                    hits["trust-wildcard-principal"].append("Principal *")
                    continue
                match = ACCOUNT_IN_PRINCIPAL.match(value)
                account = match.group(1) if match else None
                # Inside the organization the trusted account is ours: external ids are for
                # third parties (the confused deputy), so only outside accounts count.
                if account and account not in ACCOUNT_NAMES and "sts:externalid" not in conditions:
                    hits["cross-account-trust-without-external-id"].append(value)
                if account and account not in ACCOUNT_NAMES:
                    hits["trust-outside-organization"].append(value)
            for value in principals.get("Federated", []):
                host = value.split(":oidc-provider/", 1)[1] if ":oidc-provider/" in value else None
                if host and f"{host.lower()}:sub" not in conditions:
                    hits["oidc-trust-without-subject"].append(f"{value} without {host}:sub")
        for rule, why in hits.items():
            found.append(ctx.detection(rule, role.arn, key, "trusts " + ", ".join(why)))
    return found


def _matches(pattern: str, value: str) -> bool:
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, value, flags=re.IGNORECASE) is not None


def _assumable_patterns(principal: User | Role, ctx: RunContext) -> list[str]:
    """Resource patterns of the Allow statements granting sts:AssumeRole (if it survives)."""
    if "sts:assumerole" not in permissions(principal, ctx.as_of, ctx.catalog).granted:
        return []
    patterns = []
    for document in identity_documents(principal, ctx.as_of):
        for statement in as_list_of_dicts(document["Statement"]):
            if statement["Effect"] != "Allow" or "Resource" not in statement:
                continue
            if "sts:assumerole" in ctx.catalog.statement_actions(statement):
                patterns += as_list(statement["Resource"])
    return patterns


def _trusted_aws(role: Role) -> set[str]:
    """The AWS principals the role's trust policy allows sts:AssumeRole to."""
    trusted: set[str] = set()
    for statement in as_list_of_dicts(role.trust["Statement"]):
        actions = {a.lower() for a in as_list(statement.get("Action", []))}
        if statement["Effect"] != "Allow" or not actions & {"sts:assumerole", "sts:*", "*"}:
            continue
        trusted |= set(statement_principals(statement).get("AWS", []))
    return trusted


def _trusts(role: Role, principal: User | Role) -> bool:
    accepted = {"*", principal.arn, f"arn:aws:iam::{principal.account}:root", principal.account}
    return bool(accepted & _trusted_aws(role))


def _names_directly(role: Role, principal: User | Role) -> bool:
    """The role's trust policy allows sts:AssumeRole to the principal's own ARN."""
    return principal.arn in _trusted_aws(role)


def reach_detections(ctx: RunContext) -> list[Detection]:
    """privilege-escalation (declared, or assuming an admin role), can-assume-admin-role,
    large-blast-radius."""
    found = []
    admin_roles = [r for r in TABLES.roles if (r.account, r.name) in ctx.admins]
    for principal in (*TABLES.users, *TABLES.roles):
        key = principal_key(principal.account, principal.name)
        if (principal.account, principal.name) in ctx.admins or (
            isinstance(principal, Role) and principal.service_linked
        ):
            continue
        patterns = _assumable_patterns(principal, ctx)
        reachable = [
            r.arn
            for r in admin_roles
            if r.arn != principal.arn
            and (
                (any(_matches(p, r.arn) for p in patterns) and _trusts(r, principal))
                # Within one account a trust policy naming the principal's own ARN grants on
                # its own: no identity policy needs to allow sts:AssumeRole.
                or (r.account == principal.account and _names_directly(r, principal))
            )
        ]
        # privilege-escalation: a declared path, or assuming an admin role (a path of one step).
        if "privilege-escalation" in principal.expect or reachable:
            found.append(
                ctx.detection(
                    "privilege-escalation",
                    principal.arn,
                    key,
                    "declared on the scenario: " + principal.scenario
                    if "privilege-escalation" in principal.expect
                    else "one step: assumes " + ", ".join(reachable),
                )
            )
        if reachable:
            found.append(
                ctx.detection(
                    "can-assume-admin-role",
                    principal.arn,
                    key,
                    "may assume and is trusted by " + ", ".join(reachable),
                )
            )
        services = _blast_services(principal, ctx)
        if len(services) >= BLAST_SERVICES:
            found.append(
                ctx.detection(
                    "large-blast-radius",
                    principal.arn,
                    key,
                    f"write / permissions management on * in {len(services)} "
                    f"services ({', '.join(sorted(services)[:6])}, ...)",
                )
            )
    return found  # fmt: skip


def _blast_services(principal: User | Role, ctx: RunContext) -> set[str]:
    """Services with a Write / Permissions management action granted on Resource "*".

    Counted without conditions (the rule) and, as a cross-check, with conditional grants and
    with any access level that mentions Write: a principal whose verdict differs is borderline.
    """
    perms = permissions(principal, ctx.as_of, ctx.catalog)
    documents = identity_documents(principal, ctx.as_of)
    unconditional = evaluate(documents, ctx.catalog).allowed_star & perms.granted
    any_condition = (
        evaluate([_without_conditions(d) for d in documents], ctx.catalog).allowed_star
        & perms.granted
    )
    variants = []
    for actions in (unconditional, any_condition):
        for levels in ({"Write", "Permissions management"}, None):
            variants.append({
                a.split(":")[0]
                for a in actions
                if (levels is None and "Write" in ctx.catalog.levels[a])
                or (levels and ctx.catalog.levels[a].split(",")[0].strip() in levels)
            })  # fmt: skip
    verdicts = {len(v) >= BLAST_SERVICES for v in variants}
    if len(verdicts) > 1:
        counts = [len(v) for v in variants]
        raise ValueError(f"{principal.arn}: borderline large-blast-radius service counts {counts}")
    return variants[0]


def _without_conditions(document: dict) -> dict:
    statements = [
        {k: v for k, v in s.items() if k != "Condition"}
        for s in as_list_of_dicts(document["Statement"])
    ]
    return {**document, "Statement": statements}


RESTRICTING_CONDITION_KEYS = frozenset(
    {
        "aws:principalorgid", "aws:principalorgpaths", "aws:principalaccount",
        "aws:principalarn", "aws:sourcearn", "aws:sourceaccount", "aws:sourceowner",
        "aws:sourcevpc", "aws:sourcevpce", "aws:sourceip",
    }
)  # fmt: skip


def resource_detections(ctx: RunContext) -> list[Detection]:
    """public-resource-policy, cross-account-resource-policy over the S3 bucket policies."""
    found = []
    for account, buckets in TABLES.bucket_policies.items():
        for bucket, policy in sorted(buckets.items()):
            arn, key = f"arn:aws:s3:::{bucket}", f"{alias_of(account)}/{bucket}"
            public, foreign = [], []
            for statement in as_list_of_dicts(policy["Statement"]):
                if statement["Effect"] != "Allow":
                    continue
                sid = statement.get("Sid", "?")
                for value in statement_principals(statement).get("AWS", []):
                    match = ACCOUNT_IN_PRINCIPAL.match(value)
                    if value == "*" and not condition_keys(statement) & RESTRICTING_CONDITION_KEYS:
                        public.append(f"{sid}: Principal * without a restricting condition")
                    elif match and match.group(1) != account:
                        foreign.append(f"{sid}: {value}")
            if public:
                found.append(ctx.detection("public-resource-policy", arn, key, "; ".join(public)))
            if foreign:
                found.append(ctx.detection("cross-account-resource-policy", arn, key,
                                           "grants " + "; ".join(foreign)))  # fmt: skip
    return found
