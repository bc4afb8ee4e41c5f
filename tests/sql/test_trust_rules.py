"""Model tests for role trust policies: int_role_trust_principals, the four trust rules and
can-assume-admin-role (hand-written trust policies -> the exact set of detections)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pipelines.lib.reference.csvs import load_reference
from tests.sql.harness import SMALL_CATALOG, build, catalog_rows, rows

ACCT = "111111111111"
MEMBER = "222222222222"  # in the organization, not in the snapshot
VENDOR = "999999999999"  # a third party
VENDOR2 = "888888888888"  # a third party that uses an ExternalId
GITHUB = f"arn:aws:iam::{ACCT}:oidc-provider/token.actions.githubusercontent.com"
MAIN_BRANCH = "repo:my-org/app:ref:refs/heads/main"
TRUST_RULES = (
    "det_trust_wildcard_principal",
    "det_cross_account_trust_without_external_id",
    "det_trust_outside_organization",
    "det_oidc_trust_without_subject",
)


def _role_arn(name: str, account: str = ACCT) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def _role(name: str, statements: list[dict] | dict, account: str = ACCT) -> dict[str, Any]:
    return {
        "account_id": account,
        "role_name": name,
        "role_id": "AROA" + name.upper().replace("-", ""),
        "arn": _role_arn(name, account),
        "path": "/",
        "create_date": datetime(2025, 1, 1, tzinfo=UTC),
        "is_service_linked": False,
        "assume_role_policy_document": json.dumps(
            {"Version": "2012-10-17", "Statement": statements}
        ),
    }


def _allow(principal: Any, action: Any = "sts:AssumeRole", condition: dict | None = None) -> dict:
    stmt = {"Effect": "Allow", "Principal": principal, "Action": action}
    if condition is not None:
        stmt["Condition"] = condition
    return stmt


def _gh(condition: dict | None) -> dict:
    return _allow({"Federated": GITHUB}, "sts:AssumeRoleWithWebIdentity", condition)


def _aud() -> dict:
    return {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}


def _org_accounts(*accounts: str) -> list[dict]:
    return [
        {"account_id": a, "arn": f"arn:aws:organizations::{ACCT}:account/o-abc/{a}", "name": a}
        for a in accounts
    ]


def _trust_roles() -> list[dict]:
    eks = f"arn:aws:iam::{ACCT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC123"
    eks_sub = "oidc.eks.us-east-1.amazonaws.com/id/ABC123:sub"
    return [
        # wildcards
        _role("wild-open", [_allow("*")]),
        _role(
            "wild-org",
            [_allow({"AWS": "*"}, condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc"}})],
        ),
        _role(
            "wild-mfa",
            [_allow({"AWS": "*"}, condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}})],
        ),
        _role("wild-like-star", [_allow("*", condition={"StringLike": {"aws:PrincipalArn": "*"}})]),
        _role(
            "wild-ifexists",
            [_allow("*", condition={"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abc"}})],
        ),
        _role("deny-only", [{"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole"}]),
        # other accounts
        _role("vendor-no-extid", [_allow({"AWS": f"arn:aws:iam::{VENDOR}:root"})]),
        _role(
            "vendor-extid",
            [_allow({"AWS": VENDOR2}, condition={"StringEquals": {"sts:ExternalId": "c0ffee"}})],
        ),
        _role(
            "vendor-extid-star",
            [
                _allow(
                    {"AWS": f"arn:aws:iam::{VENDOR}:role/scanner"},
                    condition={"StringLike": {"sts:ExternalId": "*"}},
                )
            ],
        ),
        _role("org-member", [_allow({"AWS": f"arn:aws:iam::{MEMBER}:root"})]),
        _role("same-account", [_allow({"AWS": f"arn:aws:iam::{ACCT}:root"})]),
        # OIDC
        _role("gh-no-sub", [_gh({"StringEquals": _aud()})]),
        _role(
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
        _role(
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
        _role(
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
        _role(
            "gh-not-like",
            [_gh({"StringNotLike": {"token.actions.githubusercontent.com:sub": "repo:evil/*"}})],
        ),
        _role(
            "eks-any-sa",
            [
                _allow(
                    {"Federated": eks},
                    "sts:AssumeRoleWithWebIdentity",
                    {"StringLike": {eks_sub: "system:serviceaccount:*"}},
                )
            ],
        ),
        _role(
            "eks-namespace",
            [
                _allow(
                    {"Federated": eks},
                    "sts:AssumeRoleWithWebIdentity",
                    {"StringLike": {eks_sub: "system:serviceaccount:ci:*"}},
                )
            ],
        ),
        _role(
            "cognito-amr-only",
            [
                _allow(
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
        _role(
            "cognito-pool",
            [
                _allow(
                    {"Federated": "cognito-identity.amazonaws.com"},
                    "sts:AssumeRoleWithWebIdentity",
                    {"StringEquals": {"cognito-identity.amazonaws.com:aud": "us-east-1:1234-abcd"}},
                )
            ],
        ),
        _role(
            "unknown-idp",
            [
                _allow(
                    {"Federated": f"arn:aws:iam::{ACCT}:oidc-provider/idp.example.com"},
                    "sts:AssumeRoleWithWebIdentity",
                )
            ],
        ),
        # neither
        _role(
            "saml",
            [
                _allow(
                    {"Federated": f"arn:aws:iam::{ACCT}:saml-provider/corp"},
                    ["sts:AssumeRoleWithSAML", "sts:TagSession"],
                    {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
                )
            ],
        ),
        _role("service", [_allow({"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]})]),
        _role("tag-only", [_allow("*", "sts:TagSession")]),
    ]


def _inputs(roles: list[dict], org: list[dict]) -> dict[str, list[dict]]:
    return {
        "raw_iam_roles": roles,
        "raw_org_accounts": org,
        "ref_oidc_providers": load_reference("ref_oidc_providers").to_pylist(),
    }


def _fired(con: Any) -> set[tuple[str, str]]:
    union = " union all ".join(f"select rule_id, resource_arn from {t}" for t in TRUST_RULES)
    return set(rows(con, union))


def test_trust_rules_fire_exactly_where_they_should() -> None:
    con = build(_inputs(_trust_roles(), _org_accounts(ACCT, MEMBER)), TRUST_RULES)
    assert _fired(con) == {
        ("trust-wildcard-principal", _role_arn("wild-open")),
        ("trust-wildcard-principal", _role_arn("wild-mfa")),
        ("trust-wildcard-principal", _role_arn("wild-like-star")),
        ("trust-wildcard-principal", _role_arn("wild-ifexists")),
        ("cross-account-trust-without-external-id", _role_arn("vendor-no-extid")),
        ("cross-account-trust-without-external-id", _role_arn("vendor-extid-star")),
        ("trust-outside-organization", _role_arn("vendor-no-extid")),
        ("trust-outside-organization", _role_arn("vendor-extid")),
        ("trust-outside-organization", _role_arn("vendor-extid-star")),
        ("oidc-trust-without-subject", _role_arn("gh-no-sub")),
        ("oidc-trust-without-subject", _role_arn("gh-any-repo")),
        ("oidc-trust-without-subject", _role_arn("gh-not-like")),
        ("oidc-trust-without-subject", _role_arn("eks-any-sa")),
        ("oidc-trust-without-subject", _role_arn("cognito-amr-only")),
    }


def test_without_organization_data_only_snapshot_accounts_are_internal() -> None:
    roles = [*_trust_roles(), _role("member-side", [_allow({"AWS": ACCT})], account=MEMBER)]
    con = build(_inputs(roles, []), TRUST_RULES)
    assert {f for f in _fired(con) if f[0] != "oidc-trust-without-subject"} == {
        ("trust-wildcard-principal", _role_arn("wild-open")),
        ("trust-wildcard-principal", _role_arn("wild-mfa")),
        ("trust-wildcard-principal", _role_arn("wild-like-star")),
        ("trust-wildcard-principal", _role_arn("wild-ifexists")),
        # MEMBER is in the snapshot now (member-side), so org-member is internal; nothing is
        # "outside the organization" when there is no organization.
        ("cross-account-trust-without-external-id", _role_arn("vendor-no-extid")),
        ("cross-account-trust-without-external-id", _role_arn("vendor-extid-star")),
    }


def test_trust_principals_are_classified_with_actions_and_conditions() -> None:
    role = _role(
        "multi",
        [
            _allow(
                {
                    "AWS": [VENDOR, f"arn:aws:sts::{ACCT}:assumed-role/ops/alice", "AROAGONE123"],
                    "Service": "ec2.amazonaws.com",
                    "Federated": GITHUB,
                },
                ["sts:AssumeRole*", "sts:TagSession"],
                {"StringEquals": {"sts:ExternalId": "x", "aws:PrincipalOrgID": "o-abc"}},
            ),
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCT}:user/bob"},
                "NotAction": "sts:AssumeRoleWith*",
            },
        ],
    )
    con = build(_inputs([role], _org_accounts(ACCT)), ["int_role_trust_principals"])
    got = rows(
        con,
        """
        select statement_index, principal_kind, trusted_arn, principal_account_id,
               assumed_role_name, oidc_provider, assume_actions, has_external_id,
               caller_restriction_keys, is_org_account
        from int_role_trust_principals
    """,
    )
    assume_all = [
        "sts:assumerole",
        "sts:assumerolewithsaml",
        "sts:assumerolewithwebidentity",
        "sts:tagsession",
    ]
    restrict = ["aws:principalorgid"]
    bob_actions = ["sts:assumerole", "sts:setcontext", "sts:setsourceidentity", "sts:tagsession"]
    assert {tuple(tuple(v) if isinstance(v, list) else v for v in r) for r in got} == {
        (
            0,
            "account_root",
            f"arn:aws:iam::{VENDOR}:root",
            VENDOR,
            None,
            None,
            tuple(assume_all),
            True,
            tuple(restrict),
            False,
        ),
        (
            0,
            "assumed_role",
            f"arn:aws:sts::{ACCT}:assumed-role/ops/alice",
            ACCT,
            "ops",
            None,
            tuple(assume_all),
            True,
            tuple(restrict),
            True,
        ),
        (
            0,
            "deleted_principal",
            "AROAGONE123",
            None,
            None,
            None,
            tuple(assume_all),
            True,
            tuple(restrict),
            None,
        ),
        (
            0,
            "service",
            "ec2.amazonaws.com",
            None,
            None,
            None,
            tuple(assume_all),
            True,
            tuple(restrict),
            None,
        ),
        (
            0,
            "oidc_provider",
            GITHUB,
            ACCT,
            None,
            "token.actions.githubusercontent.com",
            tuple(assume_all),
            True,
            tuple(restrict),
            True,
        ),
        (
            1,
            "iam_user",
            f"arn:aws:iam::{ACCT}:user/bob",
            ACCT,
            None,
            None,
            tuple(bob_actions),
            False,
            (),
            True,
        ),
    }


def test_trust_rule_evidence_names_statements_and_accounts() -> None:
    roles = [
        _role(
            "wild-mfa",
            [_allow({"AWS": "*"}, condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}})],
        ),
        _role(
            "vendors",
            [
                _allow({"AWS": [f"arn:aws:iam::{VENDOR}:root", VENDOR2]}),
                _allow({"AWS": f"arn:aws:iam::{MEMBER}:root"}),
            ],
        ),
        _role(
            "gh-any-repo",
            [_gh({"StringLike": {"token.actions.githubusercontent.com:sub": "repo:*"}})],
        ),
    ]
    con = build(_inputs(roles, _org_accounts(ACCT, MEMBER)), TRUST_RULES)
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
    assert [(s["statement"], s["principal"]) for s in evidence["statements"]] == [
        (0, VENDOR2),
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


# --- can-assume-admin-role ------------------------------------------------------------------

ADMIN_CATALOG = [*SMALL_CATALOG, ("sts:AssumeRole", "Write")]


def _user(name: str, account: str = ACCT) -> dict[str, Any]:
    return {
        "account_id": account,
        "user_name": name,
        "user_id": "AIDA" + name.upper().replace("-", ""),
        "arn": f"arn:aws:iam::{account}:user/{name}",
        "path": "/",
        "create_date": datetime(2025, 1, 1, tzinfo=UTC),
    }


def _inline(principal_arn: str, ptype: str, statements: list[dict]) -> dict[str, Any]:
    return {
        "account_id": principal_arn.split(":")[4],
        "principal_arn": principal_arn,
        "principal_type": ptype,
        "policy_name": "p",
        "document": json.dumps({"Version": "2012-10-17", "Statement": statements}),
    }


def _user_arn(name: str, account: str = ACCT) -> str:
    return f"arn:aws:iam::{account}:user/{name}"


def _assume(resource: str | None = None, not_resource: str | None = None) -> dict:
    stmt: dict[str, Any] = {"Effect": "Allow", "Action": "sts:AssumeRole"}
    if not_resource is not None:
        stmt["NotResource"] = not_resource
    else:
        stmt["Resource"] = resource
    return stmt


def _admin_inputs() -> dict[str, list[dict]]:
    everything = [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    roles = [
        _role(
            "admin",
            [
                _allow({"AWS": [f"arn:aws:iam::{ACCT}:root", _user_arn("bob")]}),
                {"Effect": "Deny", "Principal": {"AWS": _user_arn("frank")}, "Action": "sts:*"},
            ],
        ),
        _role(
            "admin-ops",
            [
                _allow(
                    {"AWS": f"arn:aws:iam::{ACCT}:root"},
                    condition={"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCT}:user/ops-*"}},
                )
            ],
        ),
        _role("admin-session", [_allow({"AWS": f"arn:aws:sts::{ACCT}:assumed-role/ci/run-1"})]),
        # trusts MEMBER's root and names remote-no-perm: across accounts both sides must allow
        _role(
            "admin-x",
            [_allow({"AWS": [f"arn:aws:iam::{MEMBER}:root", _user_arn("remote-no-perm", MEMBER)]})],
        ),
        _role("readonly", [_allow({"AWS": f"arn:aws:iam::{ACCT}:root"})]),
        _role("ci", [_allow({"Service": "codebuild.amazonaws.com"})]),
    ]
    users = ["alice", "bob", "carol", "ops-dan", "erin", "frank", "gina", "boss"]
    inline = [
        _inline(_role_arn("admin"), "role", everything),
        _inline(_role_arn("admin-ops"), "role", everything),
        _inline(_role_arn("admin-session"), "role", everything),
        _inline(_role_arn("admin-x"), "role", everything),
        _inline(
            _role_arn("readonly"),
            "role",
            [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
        ),
        _inline(_user_arn("alice"), "user", [_assume(_role_arn("admin"))]),
        _inline(_user_arn("carol"), "user", [_assume(_role_arn("readonly"))]),
        _inline(_user_arn("ops-dan"), "user", [_assume("arn:aws:iam::*:role/admin*")]),
        _inline(_user_arn("erin"), "user", [_assume(not_resource=_role_arn("admin*"))]),
        _inline(_user_arn("frank"), "user", [_assume("*")]),
        _inline(
            _user_arn("gina"),
            "user",
            [_assume("*"), {"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "*"}],
        ),
        _inline(_user_arn("boss"), "user", everything),
    ]
    return {
        "raw_iam_roles": roles,
        "raw_iam_users": [
            *[_user(u) for u in users],
            _user("remote", MEMBER),
            _user("remote-no-perm", MEMBER),
        ],
        "raw_iam_inline_policies": [
            *inline,
            _inline(_user_arn("remote", MEMBER), "user", [_assume("*")]),
        ],
        "ref_iam_actions": catalog_rows(ADMIN_CATALOG),
        "ref_oidc_providers": load_reference("ref_oidc_providers").to_pylist(),
    }


def test_can_assume_admin_role_needs_both_trust_and_where_required_identity_allow() -> None:
    con = build(_admin_inputs(), ["det_can_assume_admin_role"])
    got = {
        (arn, rtype, tuple(r["role_arn"] for r in json.loads(ev)["admin_roles"]))
        for arn, rtype, ev in rows(
            con, "select resource_arn, resource_type, evidence from det_can_assume_admin_role"
        )
    }
    assert got == {
        # identity allow on admin + trust of the account root
        (_user_arn("alice"), "iam_user", (_role_arn("admin"),)),
        # no identity permission: the trust names bob's ARN in his own account
        (_user_arn("bob"), "iam_user", (_role_arn("admin"),)),
        # root trust + identity allow on admin*; admin-ops's PrincipalArn condition matches
        (_user_arn("ops-dan"), "iam_user", (_role_arn("admin"), _role_arn("admin-ops"))),
        # the trust names a session of role ci, in ci's account
        (_role_arn("ci"), "iam_role", (_role_arn("admin-session"),)),
        # another account: its root is trusted and its own policy allows sts:AssumeRole on "*"
        (_user_arn("remote", MEMBER), "iam_user", (_role_arn("admin-x"),)),
    }
    # carol: identity allows only readonly; erin: NotResource admin* ; frank: trust Deny;
    # gina: identity Deny; boss: an admin already; remote-no-perm: named by admin-x's trust
    # but in another account, where its own policies must allow too (they do not).


def test_can_assume_admin_role_evidence() -> None:
    con = build(_admin_inputs(), ["det_can_assume_admin_role"])
    assert set(rows(con, "select title from det_can_assume_admin_role")) == {
        ("IAM user alice can assume administrator role admin",),
        ("IAM user bob can assume administrator role admin",),
        ("IAM user ops-dan can assume administrator roles admin, admin-ops",),
        ("IAM role ci can assume administrator role admin-session",),
        (f"IAM user remote can assume administrator role admin-x ({ACCT})",),
    }
    ((title, evidence),) = rows(
        con,
        "select title, evidence from det_can_assume_admin_role "
        f"where resource_arn = '{_user_arn('bob')}'",
    )
    assert title == "IAM user bob can assume administrator role admin"
    assert json.loads(evidence) == {
        "admin_role_count": 1,
        "admin_roles": [
            {
                "role_arn": _role_arn("admin"),
                "trust_statements": [
                    {
                        "statement": 0,
                        "sid": None,
                        "trusted_as": "principal",
                        "identity_policy_required": False,
                        "condition_keys": [],
                    }
                ],
                "trust_conditional": False,
                "identity_allows": False,
                "identity_conditional": None,
                "identity_granted_by": None,
                "identity_resources": None,
            }
        ],
    }


def test_wildcard_trust_is_pinned_only_by_values_naming_particular_callers() -> None:
    def wild(name: str, condition: dict) -> dict:
        return _role(name, [_allow({"AWS": "*"}, condition=condition)])

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
    con = build(_inputs(roles, _org_accounts(ACCT)), TRUST_RULES)
    assert _fired(con) == {
        ("trust-wildcard-principal", _role_arn(name))
        for name in ("any-account-role", "any-org", "any-account", "one-pinned-one-open")
    }


def test_a_perimeter_deny_keeps_a_wildcard_trust_to_the_callers_it_names() -> None:
    org_only = {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-abc"}}
    services = {"BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}

    def deny(condition: dict, action: Any = "sts:AssumeRole", principal: Any = "*") -> dict:
        return {
            "Sid": "Perimeter",
            "Effect": "Deny",
            "Principal": principal,
            "Action": action,
            "Condition": condition,
        }

    roles = [
        # Restricted: AWS's trust-policy example, a plain negated operator, an ARN pattern
        # naming one account, a list of accounts.
        _role(
            "aws-example",
            [
                _allow({"AWS": "*"}),
                deny(
                    {
                        "StringNotEqualsIfExists": {
                            "aws:PrincipalOrgID": "o-abc",
                            "aws:PrincipalAccount": [VENDOR],
                        },
                        **services,
                    },
                    ["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity"],
                    {"AWS": "*"},
                ),
            ],
        ),
        _role(
            "not-equals", [_allow("*"), deny({"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}})]
        ),
        _role(
            "arn-not-like",
            [
                _allow("*", "sts:*"),
                deny({"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCT}:role/*"}}, "sts:*"),
            ],
        ),
        _role(
            "accounts",
            [_allow("*"), deny({"StringNotEquals": {"aws:PrincipalAccount": [ACCT, MEMBER]}}, "*")],
        ),
        # Not restricted: the Deny covers AssumeRole only, the Allow grants web identity too;
        # values admitting any organization; a tag a stranger can set; plain Bool (unsigned
        # web-identity calls carry no aws:PrincipalIsAWSService); ForAnyValue; the Deny names
        # one account; a positive operator.
        _role(
            "partial",
            [
                _allow("*", ["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity"]),
                deny({**org_only, **services}),
            ],
        ),
        _role("wild-org", [_allow("*"), deny({"StringNotLike": {"aws:PrincipalOrgID": "o-*"}})]),
        _role(
            "tag-exception",
            [
                _allow("*"),
                deny(
                    {
                        "StringNotEqualsIfExists": {
                            "aws:PrincipalOrgID": "o-abc",
                            "aws:PrincipalTag/exception": "true",
                        }
                    }
                ),
            ],
        ),
        _role(
            "plain-bool",
            [_allow("*"), deny({**org_only, "Bool": {"aws:PrincipalIsAWSService": "false"}})],
        ),
        _role(
            "any-value",
            [_allow("*"), deny({"ForAnyValue:StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}})],
        ),
        _role("named-deny", [_allow("*"), deny(org_only, principal={"AWS": VENDOR})]),
        _role("positive", [_allow("*"), deny({"StringEquals": {"aws:PrincipalOrgID": "o-abc"}})]),
    ]
    con = build(_inputs(roles, _org_accounts(ACCT)), TRUST_RULES)
    assert _fired(con) == {
        ("trust-wildcard-principal", _role_arn(name))
        for name in (
            "partial", "wild-org", "tag-exception", "plain-bool", "any-value", "named-deny",
            "positive",
        )
    }  # fmt: skip
    got = rows(
        con,
        "select role_name, restricted_by_deny, is_wildcard_trust from int_role_trust_principals "
        "where effect = 'Allow'",
    )
    restricted = {
        r[0]: [
            (d["statement"], d["sid"], d["condition_keys"], d["exempts_aws_services"],
             d["assume_actions"])
            for d in r[1]
        ]
        for r in got
    }  # fmt: skip
    assert restricted == {
        "aws-example": [
            (1, "Perimeter", ["aws:principalaccount", "aws:principalorgid"], True,
             ["sts:assumerole"])
        ],
        "not-equals": [(1, "Perimeter", ["aws:principalorgid"], False, ["sts:assumerole"])],
        "arn-not-like": [
            (1, "Perimeter", ["aws:principalarn"], False,
             ["sts:assumerole", "sts:assumerolewithsaml", "sts:assumerolewithwebidentity",
              "sts:setcontext", "sts:setsourceidentity", "sts:tagsession"])
        ],
        "accounts": [(1, "Perimeter", ["aws:principalaccount"], False, ["sts:assumerole"])],
        "partial": [(1, "Perimeter", ["aws:principalorgid"], True, ["sts:assumerole"])],
        **{
            name: []
            for name in (
                "wild-org", "tag-exception", "plain-bool", "any-value", "named-deny", "positive"
            )
        },
    }  # fmt: skip
    # The rule's evidence shows the perimeter that covers only part of the statement.
    ((evidence,),) = rows(
        con,
        "select evidence from det_trust_wildcard_principal "
        f"where resource_arn = '{_role_arn('partial')}'",
    )
    assert json.loads(evidence)["statements"][0]["restricted_by_deny"] == [
        {
            "statement": 1,
            "sid": "Perimeter",
            "condition_keys": ["aws:principalorgid"],
            "exempts_aws_services": True,
            "assume_actions": ["sts:assumerole"],
        }
    ]
