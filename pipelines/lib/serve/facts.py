"""Snapshot facts for `ciem explain` (serve layer): the values of the condition keys that the
snapshot knows for a principal and a resource (its ARN, account, organization and path, tags),
read once from the warehouse and handed to the condition evaluator
(pipelines/lib/warehouse/conditions.py).

The keys and their values follow AWS's global condition keys page
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html): an IAM
user calls as `User` with `aws:username` and `aws:userid` (its unique id); a role calls through a
session (`AssumedRole`), without `aws:username`, with an `aws:userid` of `role-id:session-name`
(the session name belongs to the request); neither carries `aws:SourceAccount`/`aws:SourceArn`
(present only for a service principal acting for a resource: `service_request_facts`).
`aws:PrincipalOrgID`, `aws:PrincipalOrgPaths` and their `aws:Resource…` twins are known when the
snapshot has the organization: absent for an account outside it, unknown when there is no
organization data. `aws:TokenIssueTime` lies within 36 hours before the last run's as-of date
(`session_window`), as the models bound it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb

from pipelines.lib.serve.statements import Identity
from pipelines.lib.warehouse.condition_verdicts import (
    parse_tags,
    principal_facts,
    resource_facts,
    service_facts,
)
from pipelines.lib.warehouse.conditions import PRINCIPAL_TAG_PREFIX, Facts, session_window

__all__ = ["OrgFacts", "parse_tags", "request_facts", "service_request_facts"]


@dataclass
class OrgFacts:
    """The organization of the snapshot: its id, member accounts and each account's OU path."""

    org_id: str | None = None
    accounts: frozenset[str] = frozenset()
    paths: dict[str, str] = field(default_factory=dict)
    as_of: date | None = None  # the last run's as-of date (None: not known)

    @classmethod
    def from_connection(cls, con: duckdb.DuckDBPyConnection) -> OrgFacts:
        as_of = _last_as_of(con)
        org = con.execute(
            "select organization_id, management_account_id from raw_org_organization limit 1"
        ).fetchall()
        if not org:
            return cls(as_of=as_of)
        org_id, management = org[0]
        accounts = {r[0] for r in con.execute("select account_id from raw_org_accounts").fetchall()}
        if management:
            accounts.add(management)
        parent = dict(con.execute("select child_id, parent_id from raw_org_parents").fetchall())
        paths: dict[str, str] = {}
        for account in accounts:
            chain: list[str] = []
            node = parent.get(account)
            while node is not None and node not in chain:
                chain.append(node)
                node = parent.get(node)
            if chain:
                # o-id/r-root/ou-…/ou-…/ (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgpaths)
                paths[account] = "/".join([org_id, *reversed(chain)]) + "/"
        return cls(org_id, frozenset(accounts), paths, as_of)


def _last_as_of(con: duckdb.DuckDBPyConnection) -> date | None:
    """The as-of date of the run that built the warehouse (its `run_params`)."""
    try:
        rows = con.execute("select as_of from run_params").fetchall()
    except duckdb.Error:
        return None
    return rows[0][0] if rows else None


def request_facts(
    identity: Identity,
    org: OrgFacts,
    resource: str | None,
    resource_account: str | None,
    resource_tags: tuple[tuple[str, str], ...] | None,
) -> Facts:
    """The facts of one (principal, resource) pair; `resource_account` None = owner unknown,
    `resource_tags` None = the resource's tags were not collected."""
    # The principal's part is the SQL models' too (int_principal_condition_verdicts).
    account = identity.account_id
    values, decided = principal_facts(
        identity.principal_arn,
        identity.principal_type,
        account,
        identity.name,
        identity.unique_id,
        identity.tags,
        org.org_id,
        account in org.accounts,
        org.paths.get(account),
    )
    prefixes: tuple[str, ...] = (PRINCIPAL_TAG_PREFIX,)
    if resource is not None:
        # The resource's part is the SQL models' too (int_resource_condition_fact_verdicts).
        prefixes = resource_facts(
            values,
            decided,
            resource_account,
            resource_tags,
            org.org_id,
            resource_account is not None and resource_account in org.accounts,
            org.paths.get(resource_account) if resource_account is not None else None,
        )
    return Facts(
        values=values,
        decided=frozenset(decided),
        decided_prefixes=prefixes,
        session_window=session_window(org.as_of),
    )


def service_request_facts(
    service: str,
    source_account: str,
    source_arn: str,
    org: OrgFacts,
    resource: str,
    resource_account: str | None,
    resource_tags: tuple[tuple[str, str], ...] | None,
) -> Facts:
    """The facts of `service` (a service principal) calling on `resource` for the compute
    `source_arn` of `source_account`: a Lambda function's execution role assumed by
    `lambda.amazonaws.com`, an instance profile's role by `ec2.amazonaws.com`. As the SQL models
    decide them (int_resource_condition_facts, principal_match 'service'): the service's keys
    from `service_facts`, the resource's as for a user or role; the service's tags stay open."""
    values, decided = service_facts(service, source_account, source_arn)
    prefixes = resource_facts(
        values,
        decided,
        resource_account,
        resource_tags,
        org.org_id,
        resource_account is not None and resource_account in org.accounts,
        org.paths.get(resource_account) if resource_account is not None else None,
    )
    return Facts(
        values=values,
        decided=frozenset(decided),
        decided_prefixes=tuple(p for p in prefixes if p != PRINCIPAL_TAG_PREFIX),
    )
