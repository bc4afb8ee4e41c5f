"""Model tests for the four trust rules (trust-wildcard-principal,
cross-account-trust-without-external-id, trust-outside-organization, oidc-trust-without-subject):
hand-written trust policies -> the exact set of detections, and their evidence."""

from __future__ import annotations

import json

from tests.sql.harness import ACCT, build, iam_role, role_arn, rows
from tests.sql.trust_inputs import (
    GITHUB,
    MEMBER,
    TRUST_RULES,
    VENDOR,
    VENDOR2,
    fired_trust_rules,
    trust_allow,
    trust_inputs,
)

MAIN_BRANCH = "repo:my-org/app:ref:refs/heads/main"


def _gh(condition: dict | None) -> dict:
    return trust_allow({"Federated": GITHUB}, "sts:AssumeRoleWithWebIdentity", condition)


def _aud() -> dict:
    return {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}


def _trust_roles() -> list[dict]:
    eks = f"arn:aws:iam::{ACCT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC123"
    eks_sub = "oidc.eks.us-east-1.amazonaws.com/id/ABC123:sub"
    return [
        # wildcards
        iam_role("wild-open", [trust_allow("*")]),
        iam_role(
            "wild-org",
            [
                trust_allow(
                    {"AWS": "*"}, condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}
                )
            ],
        ),
        iam_role(
            "wild-mfa",
            [trust_allow({"AWS": "*"}, condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}})],
        ),
        iam_role(
            "wild-like-star",
            [trust_allow("*", condition={"StringLike": {"aws:PrincipalArn": "*"}})],
        ),
        iam_role(
            "wild-ifexists",
            [trust_allow("*", condition={"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abc"}})],
        ),
        iam_role("deny-only", [{"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole"}]),
        # other accounts
        iam_role("vendor-no-extid", [trust_allow({"AWS": f"arn:aws:iam::{VENDOR}:root"})]),
        iam_role(
            "vendor-extid",
            [
                trust_allow(
                    {"AWS": VENDOR2}, condition={"StringEquals": {"sts:ExternalId": "c0ffee"}}
                )
            ],
        ),
        iam_role(
            "vendor-extid-star",
            [
                trust_allow(
                    {"AWS": f"arn:aws:iam::{VENDOR}:role/scanner"},
                    condition={"StringLike": {"sts:ExternalId": "*"}},
                )
            ],
        ),
        iam_role("org-member", [trust_allow({"AWS": f"arn:aws:iam::{MEMBER}:root"})]),
        iam_role("same-account", [trust_allow({"AWS": f"arn:aws:iam::{ACCT}:root"})]),
        # OIDC
        iam_role("gh-no-sub", [_gh({"StringEquals": _aud()})]),
        iam_role(
            "gh-any-repo",
            [
                _gh(
                    {
                        "StringEquals": _aud(),
                        "StringLike": {"token.actions.githubusercontent.com:sub": "repo:*"},
                    }
                )
            ],
        ),
        iam_role(
            "gh-org",
            [
                _gh(
                    {
                        "StringEquals": _aud(),
                        "StringLike": {
                            "token.actions.githubusercontent.com:sub": ["repo:my-org/*"]
                        },
                    }
                )
            ],
        ),
        iam_role(
            "gh-exact",
            [
                _gh(
                    {
                        "StringEquals": {
                            **_aud(),
                            "token.actions.githubusercontent.com:sub": MAIN_BRANCH,
                        }
                    }
                )
            ],
        ),
        iam_role(
            "gh-not-like",
            [_gh({"StringNotLike": {"token.actions.githubusercontent.com:sub": "repo:evil/*"}})],
        ),
        iam_role(
            "eks-any-sa",
            [
                trust_allow(
                    {"Federated": eks},
                    "sts:AssumeRoleWithWebIdentity",
                    {"StringLike": {eks_sub: "system:serviceaccount:*"}},
                )
            ],
        ),
        iam_role(
            "eks-namespace",
            [
                trust_allow(
                    {"Federated": eks},
                    "sts:AssumeRoleWithWebIdentity",
                    {"StringLike": {eks_sub: "system:serviceaccount:ci:*"}},
                )
            ],
        ),
        iam_role(
            "cognito-amr-only",
            [
                trust_allow(
                    {"Federated": "cognito-identity.amazonaws.com"},
                    "sts:AssumeRoleWithWebIdentity",
                    {
                        "ForAnyValue:StringLike": {
                            "cognito-identity.amazonaws.com:amr": "authenticated"
                        }
                    },
                )
            ],
        ),
        iam_role(
            "cognito-pool",
            [
                trust_allow(
                    {"Federated": "cognito-identity.amazonaws.com"},
                    "sts:AssumeRoleWithWebIdentity",
                    {"StringEquals": {"cognito-identity.amazonaws.com:aud": "us-east-1:1234-abcd"}},
                )
            ],
        ),
        iam_role(
            "unknown-idp",
            [
                trust_allow(
                    {"Federated": f"arn:aws:iam::{ACCT}:oidc-provider/idp.example.com"},
                    "sts:AssumeRoleWithWebIdentity",
                )
            ],
        ),
        # neither
        iam_role(
            "saml",
            [
                trust_allow(
                    {"Federated": f"arn:aws:iam::{ACCT}:saml-provider/corp"},
                    ["sts:AssumeRoleWithSAML", "sts:TagSession"],
                    {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
                )
            ],
        ),
        iam_role(
            "service", [trust_allow({"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]})]
        ),
        iam_role("tag-only", [trust_allow("*", "sts:TagSession")]),
    ]


# The wildcard and external-id detections of _trust_roles(), with or without organization data.
FIRED_WITHOUT_ORGANIZATION = {
    ("trust-wildcard-principal", role_arn("wild-open")),
    ("trust-wildcard-principal", role_arn("wild-mfa")),
    ("trust-wildcard-principal", role_arn("wild-like-star")),
    ("trust-wildcard-principal", role_arn("wild-ifexists")),
    ("cross-account-trust-without-external-id", role_arn("vendor-no-extid")),
    ("cross-account-trust-without-external-id", role_arn("vendor-extid-star")),
}


def test_trust_rules_fire_exactly_where_they_should() -> None:
    con = build(trust_inputs(_trust_roles(), ACCT, MEMBER), TRUST_RULES)
    assert fired_trust_rules(con) == {
        *FIRED_WITHOUT_ORGANIZATION,
        ("trust-outside-organization", role_arn("vendor-no-extid")),
        ("trust-outside-organization", role_arn("vendor-extid")),
        ("trust-outside-organization", role_arn("vendor-extid-star")),
        ("oidc-trust-without-subject", role_arn("gh-no-sub")),
        ("oidc-trust-without-subject", role_arn("gh-any-repo")),
        ("oidc-trust-without-subject", role_arn("gh-not-like")),
        ("oidc-trust-without-subject", role_arn("eks-any-sa")),
        ("oidc-trust-without-subject", role_arn("cognito-amr-only")),
    }


def test_without_organization_data_only_snapshot_accounts_are_internal() -> None:
    roles = [*_trust_roles(), iam_role("member-side", [trust_allow({"AWS": ACCT})], account=MEMBER)]
    con = build(trust_inputs(roles), TRUST_RULES)
    # MEMBER is in the snapshot now (member-side), so org-member is internal; nothing is
    # "outside the organization" when there is no organization.
    assert {
        f for f in fired_trust_rules(con) if f[0] != "oidc-trust-without-subject"
    } == FIRED_WITHOUT_ORGANIZATION


def test_trust_rule_evidence_names_statements_and_accounts() -> None:
    roles = [
        iam_role(
            "wild-mfa",
            [trust_allow({"AWS": "*"}, condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}})],
        ),
        iam_role(
            "vendors",
            [
                trust_allow({"AWS": [f"arn:aws:iam::{VENDOR}:root", VENDOR2]}),
                trust_allow({"AWS": f"arn:aws:iam::{MEMBER}:root"}),
            ],
        ),
        iam_role(
            "gh-any-repo",
            [_gh({"StringLike": {"token.actions.githubusercontent.com:sub": "repo:*"}})],
        ),
    ]
    con = build(trust_inputs(roles, ACCT, MEMBER), TRUST_RULES)
    got = {
        rule: (title, json.loads(evidence))
        for rule, title, evidence in rows(
            con,
            " union all ".join(f"select rule_id, title, evidence from {t}" for t in TRUST_RULES),
        )
    }
    assert got["trust-wildcard-principal"] == (
        'IAM role wild-mfa can be assumed by any AWS principal (trust policy Principal "*")',
        {
            "statements": [
                {
                    "statement": 0,
                    "sid": None,
                    "principal": "*",
                    "assume_actions": ["sts:assumerole"],
                    "condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
                    "condition_keys": ["aws:multifactorauthpresent"],
                    "has_external_id": False,
                    "restricted_by_deny": [],
                }
            ],
            "unconditional": False,
        },
    )
    title, evidence = got["cross-account-trust-without-external-id"]
    assert title == (
        f"IAM role vendors trusts external account {VENDOR2}, {VENDOR} "
        "without requiring an sts:ExternalId"
    )
    assert evidence["trusted_accounts"] == [VENDOR2, VENDOR]
    # VENDOR2 is written as a bare account id: AWS reads (and stores) it as its root's ARN.
    assert [(s["statement"], s["principal"]) for s in evidence["statements"]] == [
        (0, f"arn:aws:iam::{VENDOR2}:root"),
        (0, f"arn:aws:iam::{VENDOR}:root"),
    ]
    assert got["trust-outside-organization"][1]["trusted_accounts"] == [VENDOR2, VENDOR]
    title, evidence = got["oidc-trust-without-subject"]
    assert title == (
        "IAM role gh-any-repo can be assumed from any GitHub Actions workload "
        "(token.actions.githubusercontent.com:sub does not restrict it)"
    )
    # The shared statement_evidence of int_role_trust_principals, plus the rule's own fields.
    assert evidence == {
        "providers": ["token.actions.githubusercontent.com"],
        "statements": [
            {
                "statement": 0,
                "sid": None,
                "principal": GITHUB,
                "assume_actions": ["sts:assumerolewithwebidentity"],
                "condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:*"}},
                "condition_keys": ["token.actions.githubusercontent.com:sub"],
                "provider": "GitHub Actions",
                "required_condition_key": "token.actions.githubusercontent.com:sub",
            }
        ],
    }
    vendor_statement = {
        "statement": 0,
        "sid": None,
        "principal": f"arn:aws:iam::{VENDOR}:root",
        "assume_actions": ["sts:assumerole"],
        "condition": None,
        "condition_keys": [],
        "principal_kind": "account_root",
    }
    assert got["cross-account-trust-without-external-id"][1]["statements"][1] == vendor_statement
    assert got["trust-outside-organization"][1]["statements"][1] == {
        **vendor_statement,
        "has_external_id": False,
    }


def test_wildcard_trust_is_pinned_only_by_values_naming_particular_callers() -> None:
    def wild(name: str, condition: dict) -> dict:
        return iam_role(name, [trust_allow({"AWS": "*"}, condition=condition)])

    roles = [
        # Any account can create a role named deployer, or join an organization "o-…".
        wild("any-account-role", {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/deployer"}}),
        wild("any-org", {"StringLike": {"aws:PrincipalOrgID": "o-*"}}),
        wild("any-account", {"StringLike": {"aws:PrincipalAccount": "1111*"}}),
        wild("one-pinned-one-open", {"ArnLike": {"aws:PrincipalArn": [
            f"arn:aws:iam::{ACCT}:role/*", "arn:aws:iam::*:role/ci"]}}),
        # Pinned: a named account (any role of it), an organization path, a literal value.
        wild("account-roles", {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCT}:role/*"}}),
        wild("org-path", {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-abc/r-1/*"}}),
        wild("equals-literal", {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}),
    ]  # fmt: skip
    con = build(trust_inputs(roles, ACCT), TRUST_RULES)
    assert fired_trust_rules(con) == {
        ("trust-wildcard-principal", role_arn(name))
        for name in ("any-account-role", "any-org", "any-account", "one-pinned-one-open")
    }
