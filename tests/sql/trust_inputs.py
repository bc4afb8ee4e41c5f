"""Trust-policy inputs shared by the model tests of int_role_trust_principals, the four trust
rules and can-assume-admin-role: the accounts, a trust statement builder, the rules' output."""

from __future__ import annotations

from typing import Any

import duckdb

from tests.sql.harness import ACCT, fired, org_accounts, reference_rows

MEMBER = "222222222222"  # in the organization, not in the snapshot
VENDOR = "999999999999"  # a third party
VENDOR2 = "888888888888"  # a third party that uses an ExternalId
GITHUB = f"arn:aws:iam::{ACCT}:oidc-provider/token.actions.githubusercontent.com"
TRUST_RULES = (
    "det_trust_wildcard_principal",
    "det_cross_account_trust_without_external_id",
    "det_trust_outside_organization",
    "det_oidc_trust_without_subject",
)


def trust_allow(
    principal: Any, action: Any = "sts:AssumeRole", condition: dict | None = None
) -> dict:
    """An Allow statement of a trust policy."""
    stmt = {"Effect": "Allow", "Principal": principal, "Action": action}
    if condition is not None:
        stmt["Condition"] = condition
    return stmt


def trust_inputs(roles: list[dict], *org_members: str) -> dict[str, list[dict]]:
    """The roles, the organization's accounts (none: no organization data) and the OIDC
    provider reference."""
    return {
        "raw_iam_roles": roles,
        "raw_org_accounts": org_accounts(*org_members, org_id="o-abc"),
        "ref_oidc_providers": reference_rows("ref_oidc_providers"),
    }


def fired_trust_rules(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    """(rule_id, resource_arn) of every detection of the four trust rules."""
    return fired(con, *TRUST_RULES)
