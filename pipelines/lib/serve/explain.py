"""Explain layer: answers "can PRINCIPAL perform ACTION on RESOURCE?" from the warehouse's
normalized statement tables (the ones the SQL models evaluate), with the chain behind the answer.

It follows AWS's policy evaluation logic
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
an explicit Deny anywhere (identity policies, permission boundary, any SCP level, a resource
policy) wins; otherwise the request is allowed only if the identity policies allow it (or, in
the same account, a resource policy naming the principal does), AND the permission boundary
allows it (if any), AND every SCP level root -> OUs -> account allows it (not in the management
account, not for service-linked roles); across accounts the resource policy must allow too.
Resource policies are those of the snapshot: S3 bucket, KMS key, Lambda function, SQS queue, SNS
topic and Secrets Manager secret policies, and role trust policies. A KMS key policy (like a trust
policy) is always needed: naming the account root delegates to the identity policies.
Resource control policies (RCPs), where the snapshot has them attached, restrict a request on a
named resource of a member account (not the management account) for the services RCPs support,
whoever the caller is (another account included), except calls by service-linked roles: every RCP
level root -> OUs -> resource account must allow, and an RCP Deny wins like any other
(https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html).
Without a resource (action-level answers) RCPs do not apply.
Conditions are decided by pipelines/lib/warehouse/conditions.py from the snapshot's facts about
the principal and the resource (pipelines/lib/serve/facts.py) and the request context given
(`--context`, like `aws iam simulate-principal-policy --context-entries`): a statement whose
condition is false does not apply, one whose condition needs request keys that are not given
makes the answer `conditionally_allowed`, with exactly those keys. A context value that
contradicts a snapshot fact (another `aws:PrincipalArn`, another tag value) is ignored, and the
answer lists it under `context_ignored`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import duckdb

from pipelines.lib.serve.facts import OrgFacts, parse_tags, request_facts
from pipelines.lib.serve.screen import format_decision
from pipelines.lib.serve.special import aws_refusal, is_aws_managed_policy
from pipelines.lib.serve.statements import (
    RCP_EXEMPT_ACTIONS,
    RCP_SERVICES,
    SECRET_SUFFIX,
    TRUST_ACTIONS,
    Identity,
    Statement,
    cut_grants,
    pattern_covers,
)
from pipelines.lib.warehouse.conditions import (
    TRUE,
    Outcome,
    OutcomeCache,
    contradictions,
    normalize_context,
)

__all__ = ["PolicyStore", "format_decision", "pattern_covers"]


@dataclass
class _PrincipalContext:
    identity: Identity
    identity_statements: list[tuple[Statement, str, str]]  # statement, attachment, via
    boundary: list[Statement] | None
    scp_levels: list[tuple[str, list[Statement]]]  # (node_id, statements) root first
    values: dict[str, str]


def _condition(raw: str | None) -> dict | None:
    if not raw or raw in ("null", "{}"):
        return None
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError:
        return None
    return doc if isinstance(doc, dict) else None


def _tuple(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


def _not_principal_aws(raw: str | None) -> tuple[str, ...] | None:
    if not raw or raw == "null":
        return None
    doc = json.loads(raw)
    if isinstance(doc, str):
        return (doc,)
    aws = doc.get("AWS") if isinstance(doc, dict) else None
    if aws is None:
        return ()
    return (aws,) if isinstance(aws, str) else tuple(aws)


@dataclass
class PolicyStore:
    """The statement tables in memory, indexed for one-question-at-a-time evaluation."""

    statements: dict[str, list[Statement]]
    identities: dict[str, Identity]
    principal_policies: dict[
        str, list[tuple[str, str, str]]
    ]  # arn -> (policy_key, attachment, via)
    scp_levels: dict[str, list[tuple[str, list[str]]]]  # account -> [(node_id, [policy_key])]
    resource_policies: list[tuple[str, str | None, str, str]]  # resource_arn, account, key, kind
    # member account -> [(node_id, [policy_key])] root first; empty when no RCP is attached
    rcp_levels: dict[str, list[tuple[str, list[str]]]] = field(default_factory=dict)
    # The IAM action catalog (lower case); empty when the warehouse has none (then not judged).
    known_actions: frozenset[str] = frozenset()
    org: OrgFacts = field(default_factory=OrgFacts)
    # Tags of the resources whose tags the snapshot collects (IAM users and roles, EC2 instances).
    resource_tags: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    # bucket name -> owning account (s3/list-buckets.json, else the bucket policy's account)
    bucket_owners: dict[str, str] = field(default_factory=dict)
    _policy_index: tuple[dict[str, list[int]], list[int]] | None = None
    _contexts: dict[str, _PrincipalContext] = field(default_factory=dict)
    _rcp_statements: dict[str, list[tuple[str, list[Statement]]]] = field(default_factory=dict)
    # Principals that look alike to a Condition share one evaluation (`who-can` asks them all).
    _outcomes: OutcomeCache = field(default_factory=OutcomeCache)

    @classmethod
    def from_connection(cls, con: duckdb.DuckDBPyConnection) -> PolicyStore:
        statements: dict[str, list[Statement]] = {}
        for row in con.execute(
            """
            select s.policy_key, s.policy_kind, d.policy_name, d.policy_arn, s.statement_index,
                s.sid, s.effect, s.actions, s.not_actions, s.resources, s.not_resources,
                s.has_condition, s.condition_keys, s.principal_aws, s.principal_services,
                s.not_principal_json, s.condition_json
            from stg_policy_statements as s
            inner join stg_policy_documents as d on d.policy_key = s.policy_key
            order by s.policy_key, s.statement_index
            """
        ).fetchall():
            statements.setdefault(row[0], []).append(
                Statement(
                    policy_key=row[0],
                    policy_kind=row[1],
                    policy_name=row[2],
                    policy_arn=row[3],
                    statement_index=row[4],
                    sid=row[5],
                    effect=row[6],
                    actions=_tuple(row[7]),
                    not_actions=_tuple(row[8]),
                    resources=_tuple(row[9]),
                    not_resources=_tuple(row[10]),
                    has_condition=bool(row[11]),
                    condition_keys=tuple(row[12] or ()),
                    principal_aws=_tuple(row[13]),
                    principal_services=_tuple(row[14]),
                    not_principal_aws=_not_principal_aws(row[15]),
                    condition=_condition(row[16]) if row[11] else None,
                )
            )
        identities = {
            row[0]: Identity(
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                bool(row[5]),
                bool(row[6]),
                unique_id=row[7],
                tags=parse_tags(row[8]),
                is_sso_reserved=bool(row[9]),
            )
            for row in con.execute(
                """select i.principal_arn, i.principal_type, i.account_id, i.name,
                          i.boundary_policy_key, i.scp_applies, i.is_service_linked,
                          coalesce(u.user_id, r.role_id), i.tags_json, i.is_sso_reserved
                   from int_identities as i
                   left join raw_iam_users as u on u.arn = i.principal_arn
                   left join raw_iam_roles as r on r.arn = i.principal_arn"""
            ).fetchall()
        }
        resource_tags = {
            arn: identity.tags
            for arn, identity in identities.items()
            if identity.principal_type in ("user", "role")
        }
        for arn, tags_json in con.execute(
            "select arn, tags_json from raw_ec2_instances"
        ).fetchall():
            resource_tags[arn] = parse_tags(tags_json)
        principal_policies: dict[str, list[tuple[str, str, str]]] = {}
        for arn, key, attachment, via in con.execute(
            """select principal_arn, policy_key, attachment, via from int_principal_policies
               order by principal_arn, via, policy_key"""
        ).fetchall():
            principal_policies.setdefault(arn, []).append((key, attachment, via))
        levels: dict[str, dict[str, tuple[int, list[str]]]] = {}
        for account, node, depth, key in con.execute(
            "select account_id, node_id, depth, policy_key from int_account_scp_levels"
        ).fetchall():
            entry = levels.setdefault(account, {}).setdefault(node, (depth, []))
            if key is not None:
                entry[1].append(key)
        scp_levels = _levels_root_first(levels)
        # RCP levels: the same path root -> OUs -> member account (int_account_scp_levels has
        # it, without the management account), with the RCPs attached at each level. Only when
        # the snapshot has RCPs attached somewhere (RCPs enabled in the organization).
        rcp_levels: dict[str, dict[str, tuple[int, list[str]]]] = {}
        for account, node, depth, key in con.execute(
            """
            with chain as (
                select distinct account_id, node_id, depth from int_account_scp_levels
            ),
            rcp_targets as (
                select t.target_id, 'org|' || t.policy_id as policy_key
                from raw_org_policy_targets as t
                where t.policy_id in (
                    select policy_id from raw_org_policies
                    where type = 'RESOURCE_CONTROL_POLICY'
                )
            )
            select c.account_id, c.node_id, c.depth, r.policy_key
            from chain as c
            left join rcp_targets as r on r.target_id = c.node_id
            where exists (select 1 from rcp_targets)
            """
        ).fetchall():
            entry = rcp_levels.setdefault(account, {}).setdefault(node, (depth, []))
            if key is not None and key not in entry[1]:
                entry[1].append(key)
        resource_policies = [
            (row[0], row[1], row[2], row[3])
            for row in con.execute(
                """select resource_arn, account_id, policy_key, policy_kind
                   from stg_policy_documents where resource_arn is not null"""
            ).fetchall()
        ]
        has_catalog = con.execute(
            "select count(*) from information_schema.tables where table_name = 'ref_iam_actions'"
        ).fetchall()[0][0]
        known_actions = (
            frozenset(r[0] for r in con.execute("select action from ref_iam_actions").fetchall())
            if has_catalog
            else frozenset()
        )
        bucket_owners = dict(
            con.execute("select bucket, account_id from raw_s3_bucket_policies").fetchall()
        )
        if _has_table(con, "raw_s3_buckets"):
            bucket_owners.update(
                con.execute("select bucket, account_id from raw_s3_buckets").fetchall()
            )
        return cls(
            statements,
            identities,
            principal_policies,
            scp_levels,
            resource_policies,
            _levels_root_first(rcp_levels),
            known_actions,
            OrgFacts.from_connection(con),
            resource_tags,
            bucket_owners,
        )

    def _rcp_levels_for(
        self, action: str, resource: str | None, account: str | None, identity: Identity
    ) -> list[tuple[str, list[Statement]]]:
        """The RCP levels that apply to a request on `resource` owned by `account`: none without
        a resource, for a resource whose owner is unknown, not a member account or the
        management account, for a service RCPs do not support, for an exempt permission, or for
        a call by a service-linked role."""
        if resource is None or not account or identity.is_service_linked:
            return []
        if action.split(":", 1)[0] not in RCP_SERVICES or action in RCP_EXEMPT_ACTIONS:
            return []
        levels = self._rcp_statements.get(account)
        if levels is None:
            levels = self._rcp_statements[account] = [
                (node, [s for key in keys for s in self.statements.get(key, [])])
                for node, keys in self.rcp_levels.get(account, [])
            ]
        return levels

    def _context(self, principal_arn: str) -> _PrincipalContext:
        ctx = self._contexts.get(principal_arn)
        if ctx is not None:
            return ctx
        identity = self.identities.get(principal_arn)
        if identity is None:
            raise RuntimeError(f"unknown principal {principal_arn} (not in the warehouse)")
        identity_statements = [
            (s, attachment, via)
            for key, attachment, via in self.principal_policies.get(principal_arn, [])
            for s in self.statements.get(key, [])
        ]
        boundary = (
            self.statements.get(identity.boundary_policy_key, [])
            if identity.boundary_policy_key
            else None
        )
        scp_levels = (
            [
                (node, [s for key in keys for s in self.statements.get(key, [])])
                for node, keys in self.scp_levels.get(identity.account_id, [])
            ]
            if identity.scp_applies
            else []
        )
        values = {
            "aws:username": identity.name,
            "aws:principalaccount": identity.account_id,
            "aws:principalarn": identity.principal_arn,
        }
        ctx = _PrincipalContext(identity, identity_statements, boundary, scp_levels, values)
        self._contexts[principal_arn] = ctx
        return ctx

    def _policies_for(self, resource: str) -> list[tuple[str, str | None, str, str]]:
        """The resource policies that may apply to `resource` (same order as
        `resource_policies`), from an index by ARN: one question never scans every policy."""
        if self._policy_index is None:
            index: dict[str, list[int]] = {}
            secrets: list[int] = []
            for n, (arn, _, _, _) in enumerate(self.resource_policies):
                index.setdefault(arn, []).append(n)
                if ":secretsmanager:" in arn:
                    secrets.append(n)
            self._policy_index = (index, secrets)
        index, secrets = self._policy_index
        found = set(index.get(resource, ()))
        if resource.startswith("arn:aws:s3:::"):
            found.update(index.get(resource.split("/", 1)[0], ()))
        if ":secretsmanager:" in resource:
            found.update(secrets)
        return [self.resource_policies[n] for n in sorted(found)]

    def resource_policy_statements(
        self, action: str, resource: str
    ) -> Iterator[tuple[Statement, str, str | None]]:
        for resource_arn, account, key, kind in self._policies_for(resource):
            if kind == "trust":
                applies = resource == resource_arn and action in TRUST_ACTIONS
            elif resource_arn.startswith("arn:aws:s3:::"):
                applies = resource == resource_arn or resource.startswith(resource_arn + "/")
            elif _is_secret_without_suffix(resource_arn, resource):
                applies = True
            else:
                applies = resource == resource_arn
            if applies:
                for s in self.statements.get(key, []):
                    yield s, resource_arn, account

    def resource_account(self, resource: str) -> str | None:
        """The account that owns `resource`: its ARN's, else (an S3 bucket or object) the
        bucket's owner from `s3/list-buckets.json` or the account of its bucket policy; None when
        the snapshot does not know it."""
        if is_aws_managed_policy(resource):
            return None  # AWS's, not another account's: the identity policy decides
        account = _arn_account(resource)
        if account:
            return account
        if resource.startswith("arn:aws:s3:::"):
            bucket = resource[len("arn:aws:s3:::") :].split("/", 1)[0]
            if bucket in self.bucket_owners:
                return self.bucket_owners[bucket]
        for resource_arn, owner, _, kind in self._policies_for(resource):
            if (
                owner
                and kind != "trust"
                and (resource == resource_arn or resource.startswith(resource_arn + "/"))
            ):
                return owner
        return None

    def explain(
        self,
        principal_arn: str,
        action: str,
        resource: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> dict:
        """The decision and the chain behind it, as a JSON-ready dict. `context`: request
        context keys (case-insensitive) -> a string or a list of strings."""
        if ":" not in action:
            raise RuntimeError(f"not an IAM action (service:Action): {action!r}")
        ctx = self._context(principal_arn)
        identity = ctx.identity
        action_lc = action.lower()
        values = ctx.values
        request = normalize_context(context)
        owner = self.resource_account(resource) if resource else None
        facts = request_facts(
            identity,
            self.org,
            resource,
            owner,
            self.resource_tags.get(resource) if resource else None,
        )
        ignored = contradictions(facts, request)
        outcomes: dict[tuple[str, int], Outcome] = {}

        def cond(s: Statement) -> Outcome:
            key = (s.policy_key, s.statement_index)
            found = outcomes.get(key)
            if found is None:
                if s.condition is not None:
                    found = self._outcomes.decide(key, s.condition, facts, request)
                elif s.has_condition:  # a Condition that is not a JSON object: keep it open
                    found = Outcome(None, frozenset(s.condition_keys))
                else:
                    found = TRUE
                outcomes[key] = found
            return found

        def _entry(source: str, s: Statement, extra: dict | None = None) -> dict:
            return _statement_entry(source, s, cond(s), extra)

        def matching(stmts: Iterable[Statement]) -> list[Statement]:
            return [
                s
                for s in stmts
                if s.matches_action(action_lc)
                and s.matches_resource(resource, values)
                and cond(s).value is not False
            ]

        if action_lc == "sts:getcalleridentity":
            # No permission is needed, and an explicit Deny cannot stop it
            # (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html).
            return {
                "principal": principal_arn,
                "action": action,
                "resource": resource,
                "known_action": True,
                "decision": "allowed",
                "allowed_by": [],
                "denied_by": [],
                "missing_allow_from": [],
                "condition_keys": [],
                "partial_denies": [],
                "context": {k: list(v) for k, v in request.items()},
                "context_ignored": ignored,
                "note": "sts:GetCallerIdentity needs no permission; no policy can deny it",
            }
        refusal = aws_refusal(action_lc, resource, self.identities.get(resource or ""))
        if refusal is not None:
            return {
                "principal": principal_arn,
                "action": action,
                "resource": resource,
                "known_action": action_lc in self.known_actions if self.known_actions else None,
                "decision": "explicitly_denied",
                "allowed_by": [],
                "denied_by": [{"source": "aws", "reason": refusal}],
                "missing_allow_from": [],
                "condition_keys": [],
                "partial_denies": [],
            }

        denies: list[dict] = []
        partial_denies: list[dict] = []
        scoped_denies: list[tuple[dict, Statement]] = []

        def consider_denies(source: str, stmts: list[Statement], extra: dict | None = None) -> None:
            for s in stmts:
                if s.effect != "Deny":
                    continue
                entry = _entry(source, s, extra)
                # Without a resource, a Deny on named resources leaves the others allowed
                # (unless it covers every resource a grant names, see below).
                if resource is None and not s.applies_to_all_resources:
                    partial_denies.append(entry)
                    scoped_denies.append((entry, s))
                else:
                    denies.append(entry)

        identity_matches = [
            (s, a, v)
            for s, a, v in ctx.identity_statements
            if s.matches_action(action_lc)
            and s.matches_resource(resource, values)
            and cond(s).value is not False
        ]
        consider_denies(
            "identity",
            [s for s, _, _ in identity_matches],
        )
        # Deny entries from identity policies also name the attachment (kind, via).
        via_by_statement = {
            (s.policy_key, s.statement_index): (a, v) for s, a, v in identity_matches
        }
        for entry in denies + partial_denies:
            if entry["source"] == "identity":
                a, v = via_by_statement[(entry["policy_key"], entry["statement"])]
                entry["kind"], entry["via"] = a, v
        boundary_matches = matching(ctx.boundary) if ctx.boundary is not None else []
        consider_denies("boundary", boundary_matches)
        scp_matches = [(node, matching(stmts)) for node, stmts in ctx.scp_levels]
        for node, stmts in scp_matches:
            consider_denies(f"scp:{node}", stmts)

        identity_allow_matches = [(s, a, v) for s, a, v in identity_matches if s.effect == "Allow"]
        # Grants every resource of which a Deny on named resources covers (some conditionally):
        # such a grant is allowed only when those Denies' Conditions do not hold.
        covered_grants: set[tuple[str, int, str]] = set()
        if resource is None and scoped_denies and identity_allow_matches:
            # Action level (no resource): an unconditional Deny whose Resource patterns cover
            # every pattern a grant names cuts that grant, as in effective_permissions; a grant
            # whose every pattern some Deny covers, one at least conditionally, is conditional.
            kept, cutters, covered_grants = cut_grants(
                identity_allow_matches, scoped_denies, values
            )
            if not kept:
                denies.extend(cutters)
                partial_denies[:] = [e for e in partial_denies if e not in cutters]
            identity_allow_matches = kept

        rp_principal: list[dict] = []
        rp_account: list[dict] = []
        resource_account = owner
        # Assuming a role always needs its trust policy (the role's resource policy); using a
        # KMS key always needs its key policy: IAM policies count only where the key policy
        # names the account (https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html).
        trust_required = False
        # A key without a key policy in the snapshot grants nothing: KMS needs one.
        key_policy_required = resource is not None and _is_kms_key(resource)
        rp_bypass: list[dict] = []  # grants not limited by the principal's permissions boundary
        if resource is not None:
            for s, resource_arn, _ in self.resource_policy_statements(action_lc, resource):
                trust_required |= s.policy_kind == "trust"
                key_policy_required |= _is_kms_key(resource_arn)
                if not (
                    s.matches_action(action_lc)
                    and s.matches_resource(resource, values)
                    and cond(s).value is not False
                ):
                    continue
                match = _principal_match(s, identity)
                if match is None:
                    continue
                kind = "trust_policy" if s.policy_kind == "trust" else "resource_policy"
                entry = _entry(kind, s, {"resource_arn": resource_arn})
                if s.effect == "Deny":
                    denies.append(entry)
                elif match == "account":
                    rp_account.append(entry)
                else:
                    rp_principal.append(entry)
                    # Same account: naming a user's ARN, or a role's session (`*` covers it),
                    # is not limited by the boundary; naming the role's ARN is
                    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html).
                    if match == ("named" if identity.principal_type == "user" else "session"):
                        rp_bypass.append(entry)
        # RCPs of the resource's account (they restrict every caller, other accounts too).
        rcp_matches = [
            (node, matching(stmts))
            for node, stmts in self._rcp_levels_for(action_lc, resource, resource_account, identity)
        ]
        for node, stmts in rcp_matches:
            consider_denies(f"rcp:{node}", stmts)

        result: dict[str, Any] = {
            "principal": principal_arn,
            "action": action,
            "resource": resource,
            # False for an action the catalog does not know (a typo answers implicitly_denied).
            "known_action": action_lc in self.known_actions if self.known_actions else None,
        }
        # Only with a request context: answers without one keep their shape.
        extra_fields = (
            {"context": {k: list(v) for k, v in request.items()}, "context_ignored": ignored}
            if request
            else {}
        )
        unconditional_denies = [d for d in denies if not d["conditional"]]
        if unconditional_denies:
            return {
                **result,
                "decision": "explicitly_denied",
                "allowed_by": [],
                "denied_by": unconditional_denies,
                "missing_allow_from": [],
                "condition_keys": [],
                "partial_denies": partial_denies,
                **extra_fields,
            }

        allowed_by: list[dict] = []
        missing: list[str] = []
        conditional = False
        identity_allows = [
            {**_entry("identity", s), "kind": a, "via": v} for s, a, v in identity_allow_matches
        ]
        # whether each identity grant holds only under a Condition (its own, or a covering Deny's)
        identity_conditional = [
            e["conditional"] or (s.policy_key, s.statement_index, v) in covered_grants
            for e, (s, _, v) in zip(identity_allows, identity_allow_matches, strict=True)
        ]
        # A bucket whose owner the snapshot does not know is outside the organization, never
        # the caller's own: both sides must allow.
        unknown_bucket = resource_account is None and _is_s3(resource)
        cross_account = unknown_bucket or (
            resource_account is not None and resource_account != identity.account_id
        )
        rp_source = "trust_policy" if trust_required else "resource_policy"
        if cross_account or ((trust_required or key_policy_required) and not rp_principal):
            # Both sides must allow: the identity policies and the resource (or trust) policy.
            # A trust or key policy naming the account root delegates to the identity policies.
            if identity_allows:
                allowed_by += identity_allows
                conditional |= all(identity_conditional)
            else:
                missing.append("identity")
            rp = rp_principal + rp_account
            if rp:
                allowed_by += rp
                conditional |= all(e["conditional"] for e in rp)
            else:
                missing.append(rp_source)
            bypass_boundary = False
        else:
            # Same account: identity policies, or a resource policy naming the principal itself.
            # (Naming the account root delegates to the identity policies.)
            granting = identity_allows + rp_principal
            if granting:
                allowed_by += granting
                conditional |= all(identity_conditional) and all(
                    e["conditional"] for e in rp_principal
                )
            else:
                missing.append("identity")
            bypass_boundary = not identity_allows and bool(rp_bypass)
        if ctx.boundary is not None and not bypass_boundary:
            allows = [_entry("boundary", s) for s in boundary_matches if s.effect == "Allow"]
            if allows:
                allowed_by += allows
                conditional |= all(e["conditional"] for e in allows)
            else:
                missing.append("boundary")
        for node, stmts in scp_matches:
            allows = [_entry(f"scp:{node}", s) for s in stmts if s.effect == "Allow"]
            if allows:
                allowed_by += allows
                conditional |= all(e["conditional"] for e in allows)
            else:
                missing.append(f"scp:{node}")
        for node, stmts in rcp_matches:
            allows = [_entry(f"rcp:{node}", s) for s in stmts if s.effect == "Allow"]
            if allows:
                allowed_by += allows
                conditional |= all(e["conditional"] for e in allows)
            else:
                missing.append(f"rcp:{node}")

        if missing:
            decision = "implicitly_denied"
        elif conditional or denies:
            decision = "conditionally_allowed"
        else:
            decision = "allowed"
        # At action level the conditional Denies on named resources keep their keys too (as
        # effective_permissions.condition_keys): the answer errs towards more keys, never fewer.
        keys = sorted(
            {k for e in allowed_by if e["conditional"] for k in e["condition_keys"]}
            | {k for d in denies for k in d["condition_keys"]}
            | {k for d in partial_denies if d["conditional"] for k in d["condition_keys"]}
        )
        return {
            **result,
            "decision": decision,
            "allowed_by": allowed_by,
            "denied_by": denies,  # here: only conditional Denies (they apply under a condition)
            "missing_allow_from": missing,
            "condition_keys": keys if decision == "conditionally_allowed" else [],
            "partial_denies": partial_denies,
            **extra_fields,
        }


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_name = ?", [name]
        ).fetchall()[0][0]
    )


def _levels_root_first(
    levels: dict[str, dict[str, tuple[int, list[str]]]],
) -> dict[str, list[tuple[str, list[str]]]]:
    """account -> [(node_id, sorted policy keys)], the root (greatest depth) first."""
    return {
        account: [
            (node, sorted(keys))
            for node, (_, keys) in sorted(nodes.items(), key=lambda kv: -kv[1][0])
        ]
        for account, nodes in levels.items()
    }


def _statement_entry(source: str, s: Statement, outcome: Outcome, extra: dict | None) -> dict:
    """One statement of the chain; `conditional` when its condition needs request keys, which
    `condition_keys` names (a condition the snapshot decides true is not conditional)."""
    entry = {
        "source": source,
        "policy": s.policy_name,
        "policy_arn": s.policy_arn,
        "policy_key": s.policy_key,
        "statement": s.statement_index,
        "sid": s.sid,
        "effect": s.effect,
        "conditional": outcome.value is None,
        "condition_keys": sorted(outcome.needed),
    }
    if extra:
        entry.update(extra)
    return entry


def _is_s3(arn: str | None) -> bool:
    return arn is not None and arn.startswith("arn:aws:s3:::") and len(arn) > len("arn:aws:s3:::")


def _is_kms_key(arn: str) -> bool:
    parts = arn.split(":", 5)
    return len(parts) == 6 and parts[2] == "kms" and parts[5].startswith("key/")


def _is_secret_without_suffix(policy_arn: str, resource: str) -> bool:
    """The request names the full secret ARN, the policy's ARN (from the name) lacks its suffix."""
    if ":secretsmanager:" not in policy_arn or ":secret:" not in policy_arn:
        return False
    if not resource.startswith(policy_arn):
        return False
    return SECRET_SUFFIX.fullmatch(resource[len(policy_arn) :]) is not None


def _arn_account(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) >= 6 and parts[0] == "arn" else None


def _principal_match(s: Statement, identity: Identity) -> str | None:
    """How the statement's Principal covers this principal: 'named' (its ARN), 'session' (a
    session of this role, or `*` for a role), 'wildcard' (`*` for a user), 'account' (its
    account's root ARN or id), or None. NotPrincipal inverts."""
    root = f"arn:aws:iam::{identity.account_id}:root"
    if s.not_principal_aws is not None:
        if s.effect == "Deny" and identity.boundary_policy_key:
            # "The NotPrincipal element with a Deny effect will always deny any IAM principal
            # that has a permissions boundary policy attached, regardless of the values
            # specified in the NotPrincipal element."
            # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html)
            return "named"
        listed = set(s.not_principal_aws)
        if identity.principal_arn in listed or root in listed or identity.account_id in listed:
            return None
        return "named"
    names = s.principal_aws or ()
    if identity.principal_arn in names:
        return "named"
    if identity.principal_type == "role":
        session = f"arn:aws:sts::{identity.account_id}:assumed-role/{identity.name}/"
        if "*" in names or any(n.startswith(session) for n in names):
            return "session"
    elif "*" in names:
        return "wildcard"
    if root in names or identity.account_id in names:
        return "account"
    return None
