"""Model tests for the rule can-assume-admin-role: a principal is reported where a trust policy
lets it assume an administrator role and, where required, its identity policies allow it too."""

from __future__ import annotations

import json
from typing import Any

from tests.sql.harness import (
    ACCT,
    SMALL_CATALOG,
    build,
    catalog_rows,
    iam_role,
    iam_user,
    inline_policy,
    reference_rows,
    role_arn,
    rows,
    user_arn,
)
from tests.sql.trust_inputs import MEMBER, trust_allow

ADMIN_CATALOG = [*SMALL_CATALOG, ("sts:AssumeRole", "Write")]


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
        iam_role(
            "admin",
            [
                trust_allow({"AWS": [f"arn:aws:iam::{ACCT}:root", user_arn("bob")]}),
                {"Effect": "Deny", "Principal": {"AWS": user_arn("frank")}, "Action": "sts:*"},
            ],
        ),
        iam_role(
            "admin-ops",
            [
                trust_allow(
                    {"AWS": f"arn:aws:iam::{ACCT}:root"},
                    condition={"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCT}:user/ops-*"}},
                )
            ],
        ),
        iam_role(
            "admin-session", [trust_allow({"AWS": f"arn:aws:sts::{ACCT}:assumed-role/ci/run-1"})]
        ),
        # trusts MEMBER's root and names remote-no-perm: across accounts both sides must allow
        iam_role(
            "admin-x",
            [
                trust_allow(
                    {"AWS": [f"arn:aws:iam::{MEMBER}:root", user_arn("remote-no-perm", MEMBER)]}
                )
            ],
        ),
        iam_role("readonly", [trust_allow({"AWS": f"arn:aws:iam::{ACCT}:root"})]),
        iam_role("ci", [trust_allow({"Service": "codebuild.amazonaws.com"})]),
    ]
    users = ["alice", "bob", "carol", "ops-dan", "erin", "frank", "gina", "boss"]
    inline = [
        inline_policy(role_arn("admin"), everything),
        inline_policy(role_arn("admin-ops"), everything),
        inline_policy(role_arn("admin-session"), everything),
        inline_policy(role_arn("admin-x"), everything),
        inline_policy(
            role_arn("readonly"),
            [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
        ),
        inline_policy(user_arn("alice"), [_assume(role_arn("admin"))]),
        inline_policy(user_arn("carol"), [_assume(role_arn("readonly"))]),
        inline_policy(user_arn("ops-dan"), [_assume("arn:aws:iam::*:role/admin*")]),
        inline_policy(user_arn("erin"), [_assume(not_resource=role_arn("admin*"))]),
        inline_policy(user_arn("frank"), [_assume("*")]),
        inline_policy(
            user_arn("gina"),
            [_assume("*"), {"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "*"}],
        ),
        inline_policy(user_arn("boss"), everything),
    ]
    return {
        "raw_iam_roles": roles,
        "raw_iam_users": [
            *[iam_user(u) for u in users],
            iam_user("remote", MEMBER),
            iam_user("remote-no-perm", MEMBER),
        ],
        "raw_iam_inline_policies": [
            *inline,
            inline_policy(user_arn("remote", MEMBER), [_assume("*")]),
        ],
        "ref_iam_actions": catalog_rows(ADMIN_CATALOG),
        "ref_oidc_providers": reference_rows("ref_oidc_providers"),
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
        (user_arn("alice"), "iam_user", (role_arn("admin"),)),
        # no identity permission: the trust names bob's ARN in his own account
        (user_arn("bob"), "iam_user", (role_arn("admin"),)),
        # root trust + identity allow on admin*; admin-ops's PrincipalArn condition matches
        (user_arn("ops-dan"), "iam_user", (role_arn("admin"), role_arn("admin-ops"))),
        # the trust names a session of role ci, in ci's account
        (role_arn("ci"), "iam_role", (role_arn("admin-session"),)),
        # another account: its root is trusted and its own policy allows sts:AssumeRole on "*"
        (user_arn("remote", MEMBER), "iam_user", (role_arn("admin-x"),)),
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
        f"where resource_arn = '{user_arn('bob')}'",
    )
    assert title == "IAM user bob can assume administrator role admin"
    assert json.loads(evidence) == {
        "admin_role_count": 1,
        "admin_roles": [
            {
                "role_arn": role_arn("admin"),
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
