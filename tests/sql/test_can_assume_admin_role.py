"""Model tests for the rule can-assume-admin-role: a principal is reported where a trust policy
lets it assume an administrator role and, where required, its identity policies allow it too."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
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


# --- an admin role in an account that could not be read (issue 18) ---------------------------

YESTERDAY, TODAY = date(2026, 11, 19), date(2026, 11, 20)
RECORDED = datetime(2026, 11, 20, tzinfo=UTC)
MEMBER_GAAD = f"{MEMBER}/iam/get-account-authorization-details.json"


def _cross_account_inputs(support_may_assume: bool = True) -> dict[str, list[dict]]:
    """support (ACCT) may assume the administrator roles admin (ACCT) and org-admin (MEMBER),
    both trusting ACCT's root; support's own policy allows sts:AssumeRole on role/*admin."""
    everything = [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    root_trust = [trust_allow({"AWS": f"arn:aws:iam::{ACCT}:root"})]
    grant = [_assume("arn:aws:iam::*:role/*admin")] if support_may_assume else []
    return {
        "raw_iam_roles": [iam_role("admin", root_trust), iam_role("org-admin", root_trust, MEMBER)],
        "raw_iam_users": [iam_user("support"), iam_user("someone", MEMBER)],
        "raw_iam_inline_policies": [
            inline_policy(role_arn("admin"), everything),
            inline_policy(role_arn("org-admin", MEMBER), everything),
            inline_policy(user_arn("support"), grant or [_assume("arn:aws:s3:::nothing")]),
        ],
        "ref_iam_actions": catalog_rows(ADMIN_CATALOG),
        "ref_oidc_providers": reference_rows("ref_oidc_providers"),
    }


def _yesterday() -> dict[str, list[dict]]:
    """Yesterday's run on the full inputs, as the lake keeps it: its detections, and MEMBER in
    the configuration history (so today's run knows the account)."""
    con = build(_cross_account_inputs(), ["det_can_assume_admin_role"], as_of=YESTERDAY)
    history = [
        {
            "as_of": YESTERDAY,
            "detection_id": f"d-{i}",
            "rule_id": "can-assume-admin-role",
            "severity": "high",
            "resource_arn": arn,
            "resource_type": rtype,
            "account_id": account,
            "principal_arn": arn,
            "title": title,
            "evidence": evidence,
            "recorded_at": RECORDED,
        }
        for i, (arn, rtype, account, title, evidence) in enumerate(
            rows(
                con,
                "select resource_arn, resource_type, account_id, title, evidence "
                "from det_can_assume_admin_role",
            )
        )
    ]
    member_role = {
        "as_of": YESTERDAY,
        "resource_arn": role_arn("org-admin", MEMBER),
        "resource_type": "iam_role",
        "account_id": MEMBER,
        "config_type": "exists",
        "config_key": "",
        "fingerprint": "x",
        "details": "{}",
        "recorded_at": RECORDED,
    }
    return {"detection_history": history, "resource_config_history": [member_role]}


def _today(unreadable_member: bool, **changes: Any) -> tuple[str, dict[str, Any]] | None:
    inputs = {**_cross_account_inputs(**changes), **_yesterday()}
    if unreadable_member:  # MEMBER's authorization details quarantined: nothing of it landed
        inputs["raw_iam_roles"] = [r for r in inputs["raw_iam_roles"] if r["account_id"] == ACCT]
        inputs["raw_iam_users"] = [u for u in inputs["raw_iam_users"] if u["account_id"] == ACCT]
        inputs["raw_quarantine"] = [
            {
                "source": "snapshot",
                "file": MEMBER_GAAD,
                "reason": "invalid JSON at line 1 col 1: Expecting value",
                "partition": "2026-11-20",
                "quarantined_at": RECORDED,
            }
        ]
    else:  # MEMBER read in full: org-admin is really gone
        inputs["raw_iam_roles"] = [r for r in inputs["raw_iam_roles"] if r["account_id"] == ACCT]
    con = build(inputs, ["det_can_assume_admin_role"], as_of=TODAY)
    found = rows(
        con,
        "select title, evidence from det_can_assume_admin_role "
        f"where resource_arn = '{user_arn('support')}'",
    )
    return (found[0][0], json.loads(found[0][1])) if found else None


def test_an_unreadable_account_does_not_change_another_accounts_detection() -> None:
    [(title_before, evidence_before)] = [
        (h["title"], json.loads(h["evidence"]))
        for h in _yesterday()["detection_history"]
        if h["resource_arn"] == user_arn("support")
    ]
    assert evidence_before["admin_role_count"] == 2
    today = _today(unreadable_member=True)
    assert today is not None
    title, evidence = today
    # MEMBER's role is held as yesterday's run found it, and says so; ACCT's is evaluated again.
    reason = f"unreadable input {MEMBER_GAAD} (whole file)"
    held = {"held_open": {"reason": reason, "last_found_at": "2026-11-19"}}
    expected = copy.deepcopy(evidence_before)
    expected["admin_roles"][1].update(held)
    assert [r["role_arn"] for r in expected["admin_roles"]] == [
        role_arn("admin"),
        role_arn("org-admin", MEMBER),
    ]
    assert (title, evidence) == (title_before, expected)


def test_a_held_admin_role_still_needs_the_principals_own_permission() -> None:
    # support's own policy no longer allows sts:AssumeRole: ACCT is complete, so that counts.
    assert _today(unreadable_member=True, support_may_assume=False) is None


def test_a_role_deleted_from_a_readable_account_leaves_the_detection() -> None:
    today = _today(unreadable_member=False)
    assert today is not None
    title, evidence = today
    assert title == "IAM user support can assume administrator role admin"
    assert [r["role_arn"] for r in evidence["admin_roles"]] == [role_arn("admin")]
    assert evidence["admin_role_count"] == 1


def test_a_trust_of_anyone_or_of_a_role_in_another_account_needs_the_identity_allow() -> None:
    # The trust kinds the cases above leave out: `"AWS": "*"` and a role of another account
    # named by its ARN. Both need the principal's own sts:AssumeRole, wherever it is.
    everything = [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    inputs = {
        "raw_iam_roles": [
            iam_role("admin-open", [trust_allow({"AWS": "*"})]),
            iam_role("admin-named", [trust_allow({"AWS": role_arn("deployer", MEMBER)})]),
            iam_role("deployer", [trust_allow({"Service": "codebuild.amazonaws.com"})], MEMBER),
            iam_role("builder", [trust_allow({"Service": "codebuild.amazonaws.com"})], MEMBER),
            iam_role("admin-mine", [trust_allow({"AWS": user_arn("xena")})]),
        ],
        "raw_iam_users": [
            iam_user("uma"),
            iam_user("vic"),
            iam_user("wes", MEMBER),
            iam_user("xena"),
        ],
        "raw_iam_inline_policies": [
            inline_policy(role_arn("admin-open"), everything),
            inline_policy(role_arn("admin-named"), everything),
            inline_policy(user_arn("uma"), [_assume(role_arn("admin-open"))]),
            inline_policy(user_arn("wes", MEMBER), [_assume("*")]),
            inline_policy(role_arn("deployer", MEMBER), [_assume(role_arn("admin-named"))]),
            inline_policy(role_arn("builder", MEMBER), [_assume("*")]),
            inline_policy(role_arn("admin-mine"), everything),
            inline_policy(user_arn("xena"), [_assume(role_arn("admin-mine"))]),
        ],
        "ref_iam_actions": catalog_rows(ADMIN_CATALOG),
        "ref_oidc_providers": reference_rows("ref_oidc_providers"),
    }
    con = build(inputs, ["det_can_assume_admin_role"])
    got = {
        (arn, tuple((r["role_arn"], r["identity_allows"]) for r in json.loads(ev)["admin_roles"]))
        for arn, ev in rows(con, "select resource_arn, evidence from det_can_assume_admin_role")
    }
    assert got == {
        (user_arn("uma"), ((role_arn("admin-open"), True),)),
        # wes may assume any role: the open one; the named one names deployer only
        (user_arn("wes", MEMBER), ((role_arn("admin-open"), True),)),
        (role_arn("deployer", MEMBER), ((role_arn("admin-named"), True),)),
        # builder may assume any role, and the open one trusts it
        (role_arn("builder", MEMBER), ((role_arn("admin-open"), True),)),
        # named in its own account: no identity allow is needed, and the one it has is reported
        (user_arn("xena"), ((role_arn("admin-mine"), True),)),
    }
    # vic: no sts:AssumeRole of its own
