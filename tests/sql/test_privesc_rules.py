"""Model tests for privilege-escalation (int_privesc_paths) and large-blast-radius."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pipelines.lib.reference.csvs import load_reference
from tests.sql.harness import build, catalog_rows, rows

ACCT = "111111111111"
CREATED = datetime(2025, 1, 1, tzinfo=UTC)

PRIVESC_CATALOG = [
    ("iam:PutUserPolicy", "Permissions management"),
    ("iam:CreatePolicyVersion", "Permissions management"),
    ("iam:CreateAccessKey", "Write"),
    ("iam:CreateLoginProfile", "Write"),
    ("iam:UpdateLoginProfile", "Write"),
    ("iam:AddUserToGroup", "Write"),
    ("iam:PutRolePolicy", "Permissions management"),
    ("iam:AttachRolePolicy", "Permissions management"),
    ("iam:UpdateAssumeRolePolicy", "Permissions management"),
    ("iam:PassRole", "Write"),
    ("ec2:RunInstances", "Write"),
    ("sts:AssumeRole", "Write"),
    ("s3:GetObject", "Read"),
]


def _arn(kind: str, name: str) -> str:
    return f"arn:aws:iam::{ACCT}:{kind}/{name}"


def _doc(statements: list[dict]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _allow(actions: str | list[str], resources: str | list[str] = "*", **extra: Any) -> dict:
    return {"Effect": "Allow", "Action": actions, "Resource": resources, **extra}


def _user(name: str) -> dict:
    return {
        "account_id": ACCT,
        "user_name": name,
        "user_id": "AIDA" + name.upper(),
        "arn": _arn("user", name),
        "path": "/",
        "create_date": CREATED,
    }


def _role(name: str, trust: list[dict], *, service_linked: bool = False) -> dict:
    return {
        "account_id": ACCT,
        "role_name": name,
        "role_id": "AROA" + name.upper(),
        "arn": _arn("role", name),
        "path": "/aws-service-role/x.amazonaws.com/" if service_linked else "/",
        "create_date": CREATED,
        "assume_role_policy_document": _doc(trust),
        "is_service_linked": service_linked,
    }


def _inline(kind: str, name: str, statements: list[dict]) -> dict:
    return {
        "account_id": ACCT,
        "principal_arn": _arn(kind, name),
        "principal_type": kind,
        "policy_name": f"{name}-inline",
        "document": _doc(statements),
    }


def _trust_service(service: str) -> dict:
    return {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}


def _trust_aws(principal: str) -> dict:
    return {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}


def _privesc_inputs() -> dict[str, list[dict]]:
    everything = [_allow("*")]
    users = [
        "admin",  # Allow * on *: an administrator, never reported
        "self-put",  # iam:PutUserPolicy on itself
        "other-put",  # iam:PutUserPolicy on another user only
        "cpv",  # iam:CreatePolicyVersion, its own customer-managed policy in force
        "cpv-aws",  # iam:CreatePolicyVersion on AWS-managed policies only
        "cond",  # iam:PutUserPolicy on * under a Condition
        "named",  # an admin role's trust names it: can-assume-admin-role, not a method here
        "acct-grant",  # sts:AssumeRole on *, the account is trusted: the same
        "joiner",  # iam:AddUserToGroup on the admin group
        "rewriter",  # iam:UpdateAssumeRolePolicy on an admin service-linked role: refused
    ]
    roles = [
        _role("admin-ec2", [_trust_service("ec2.amazonaws.com")]),
        _role("admin-ec2-noprofile", [_trust_service("ec2.amazonaws.com")]),
        _role(
            "admin-trusting",
            [_trust_aws(_arn("user", "named")), _trust_aws(f"arn:aws:iam::{ACCT}:root")],
        ),
        _role("app", [_trust_service("ec2.amazonaws.com")]),
        _role("passer", [_trust_service("lambda.amazonaws.com")]),
        _role("passer-app", [_trust_service("lambda.amazonaws.com")]),
        _role("keymaker", [_trust_service("lambda.amazonaws.com")]),
        # Protected roles (issue 12): an SSO role may write its own policies, and a user may
        # rewrite an admin service-linked role's trust, but AWS refuses both: no path.
        _role("AWSReservedSSO_Ops_0123", [_trust_service("sso.amazonaws.com")]),
        _role("AWSServiceRoleForX", [_trust_service("x.amazonaws.com")], service_linked=True),
    ]
    inline = [
        _inline("user", "admin", everything),
        _inline("user", "self-put", [_allow("iam:PutUserPolicy", _arn("user", "self-put"))]),
        _inline("user", "other-put", [_allow("iam:PutUserPolicy", _arn("user", "someone"))]),
        _inline(
            "user", "cpv-aws", [_allow("iam:CreatePolicyVersion", "arn:aws:iam::aws:policy/*")]
        ),
        _inline(
            "user",
            "cond",
            [
                _allow(
                    "iam:PutUserPolicy", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}
                )
            ],
        ),
        _inline("user", "acct-grant", [_allow("sts:AssumeRole")]),
        _inline("user", "joiner", [_allow("iam:AddUserToGroup", _arn("group", "admins"))]),
        _inline("group", "admins", everything),
        _inline("role", "admin-ec2", everything),
        _inline("role", "admin-ec2-noprofile", everything),
        _inline("role", "admin-trusting", everything),
        _inline("role", "app", [_allow("s3:GetObject")]),
        _inline(
            "role",
            "passer",
            [_allow("iam:PassRole", _arn("role", "admin-ec2*")), _allow("ec2:RunInstances")],
        ),
        _inline(
            "role",
            "passer-app",
            [_allow("iam:PassRole", _arn("role", "app")), _allow("ec2:RunInstances")],
        ),
        _inline("role", "keymaker", [_allow("iam:CreateAccessKey")]),
        _inline(
            "role",
            "AWSReservedSSO_Ops_0123",
            [
                _allow(
                    ["iam:PutRolePolicy", "iam:AttachRolePolicy"],
                    _arn("role", "AWSReservedSSO_Ops_0123"),
                )
            ],
        ),
        _inline("role", "AWSServiceRoleForX", everything),
        _inline(
            "user",
            "rewriter",
            [
                _allow(
                    ["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"],
                    _arn("role", "AWSServiceRoleForX"),
                )
            ],
        ),
    ]
    cpv_policy = f"arn:aws:iam::{ACCT}:policy/cpv-policy"
    return {
        "raw_iam_users": [_user(u) for u in users],
        "raw_iam_roles": roles,
        "raw_iam_groups": [
            {
                "account_id": ACCT,
                "group_name": "admins",
                "group_id": "AGPAADMINS",
                "arn": _arn("group", "admins"),
                "path": "/",
                "create_date": CREATED,
            }
        ],
        "raw_iam_inline_policies": inline,
        "raw_iam_policies": [
            {
                "account_id": ACCT,
                "policy_arn": cpv_policy,
                "policy_name": "cpv-policy",
                "policy_id": "ANPACPV",
                "path": "/",
                "is_aws_managed": False,
                "document": _doc([_allow("iam:CreatePolicyVersion")]),
            }
        ],
        "raw_iam_policy_attachments": [
            {
                "account_id": ACCT,
                "principal_arn": _arn("user", "cpv"),
                "principal_type": "user",
                "policy_arn": cpv_policy,
            }
        ],
        "raw_iam_instance_profiles": [
            {
                "account_id": ACCT,
                "instance_profile_name": name,
                "instance_profile_id": "AIPA" + name.upper(),
                "arn": _arn("instance-profile", name),
                "role_arn": _arn("role", name),
            }
            for name in ("admin-ec2", "app")
        ],
        "ref_iam_actions": catalog_rows(PRIVESC_CATALOG),
        "ref_privesc_methods": load_reference("ref_privesc_methods").to_pylist(),
    }


def _short(arn: str) -> str:
    return arn.split(":", 5)[5]


def _one_step(con: Any) -> set[tuple]:
    """(principal, type, method, targets, target count) of int_privesc_paths, non-admins only."""
    return {
        (_short(arn), "iam_" + ptype, method, tuple(_short(t) for t in targets), len(targets))
        for arn, ptype, method, targets in rows(
            con,
            """select principal_arn, principal_type, method_id, target_arns from int_privesc_paths
               where principal_arn not in (select principal_arn from int_admin_identities)""",
        )
    }


def test_one_step_methods_reach_admin_only() -> None:
    con = build(_privesc_inputs(), ["det_privilege_escalation", "int_privesc_paths"])
    got = _one_step(con)
    assert got == {
        # itself, through the one resource it may write
        ("user/self-put", "iam_user", "put-user-policy", ("user/self-put",), 1),
        # its own customer-managed policy (cpv-aws: only AWS-managed ones, not in force)
        ("user/cpv", "iam_user", "create-policy-version", ("policy/cpv-policy",), 1),
        # PassRole on role/admin-ec2*: admin-ec2-noprofile has no instance profile
        ("role/passer", "iam_role", "pass-role-ec2", ("role/admin-ec2",), 1),
        # users that are admin or can make themselves admin
        # an admin user in one step (cpv and self-put are two steps: privilege_escalation_paths)
        ("role/keymaker", "iam_role", "create-access-key", ("user/admin",), 1),
        ("user/joiner", "iam_user", "add-user-to-group", ("group/admins",), 1),
        # under a Condition: kept, and marked conditional
        ("user/cond", "iam_user", "put-user-policy", ("user/cond",), 1),
    }
    conditional = {
        _short(arn)
        for (arn,) in rows(con, "select principal_arn from int_privesc_paths where is_conditional")
    }
    assert conditional == {"user/cond"}


def test_privilege_escalation_evidence_names_the_granting_statements() -> None:
    con = build(_privesc_inputs(), ["det_privilege_escalation"])
    [(title, evidence)] = rows(
        con,
        f"""select title, evidence from det_privilege_escalation
            where resource_arn = '{_arn("role", "passer")}'""",
    )
    assert (
        title
        == "IAM role passer can become admin in 1 step: pass role admin-ec2 to a new EC2 instance"
    )
    got = json.loads(evidence)
    assert (got["hops"], got["conditional"], got["path_count"]) == (1, False, 1)
    [path] = got["paths"]
    [step] = path["path"]
    assert (_short(step["from"]), _short(step["to"]), step["method"], step["actions"]) == (
        "role/passer",
        "role/admin-ec2",
        "pass-role-ec2",
        ["iam:passrole", "ec2:runinstances"],
    )
    assert [
        (a["action"], a["resource"], [(g["policy"], g["statement"]) for g in a["granted_by"]])
        for a in step["granted_by"]
    ] == [
        ("iam:passrole", _arn("role", "admin-ec2"), [("passer-inline", 0)]),
        ("ec2:runinstances", None, [("passer-inline", 1)]),
    ]


def _credential_row(
    name: str, *, password: bool | None, keys: tuple[bool | None, bool | None] = (None, None)
) -> dict:
    """A credential-report row; a key slot is None (no key), True (active) or False (inactive)."""
    row: dict[str, Any] = {
        "account_id": ACCT,
        "user": name,
        "arn": _arn("user", name),
        "user_creation_time": CREATED,
        "password_enabled": password,
    }
    for slot, key in enumerate(keys, start=1):
        row[f"access_key_{slot}_active"] = bool(key)
        row[f"access_key_{slot}_last_rotated"] = None if key is None else CREATED
    return row


def _target_state_inputs(*, with_report: bool = True) -> dict[str, list[dict]]:
    """Admin users in every credential state, and one role per state-dependent method."""
    admins = ["admin-pw", "admin-nopw", "admin-2keys", "admin-1key", "admin-unlisted"]
    attackers = {
        "pw-creator": "iam:CreateLoginProfile",
        "pw-updater": "iam:UpdateLoginProfile",
        "keymaker": "iam:CreateAccessKey",
    }
    report = [
        {"account_id": ACCT, "user": "<root_account>", "arn": f"arn:aws:iam::{ACCT}:root"},
        _credential_row("admin-pw", password=True),
        _credential_row("admin-nopw", password=False, keys=(True, None)),
        # the second key is inactive: it still takes a slot
        _credential_row("admin-2keys", password=False, keys=(True, False)),
        _credential_row("admin-1key", password=True, keys=(None, False)),
    ]
    return {
        "raw_iam_users": [_user(u) for u in admins],
        "raw_iam_roles": [_role(r, [_trust_service("lambda.amazonaws.com")]) for r in attackers],
        "raw_iam_inline_policies": [_inline("user", u, [_allow("*")]) for u in admins]
        + [_inline("role", r, [_allow(action)]) for r, action in attackers.items()],
        "raw_credential_report": report if with_report else [],
        "ref_iam_actions": catalog_rows(PRIVESC_CATALOG),
        "ref_privesc_methods": load_reference("ref_privesc_methods").to_pylist(),
    }


def _methods_by_role(inputs: dict[str, list[dict]]) -> dict[str, tuple]:
    """Each principal's one-step method: (method, targets, target_state_known)."""
    con = build(inputs, ["int_privesc_paths"])
    got = {}
    for arn, method, targets, known in rows(
        con,
        """select principal_arn, method_id, target_arns, target_state_known from int_privesc_paths
           where principal_arn not in (select principal_arn from int_admin_identities)""",
    ):
        assert arn not in got
        got[_short(arn)] = (method, tuple(_short(t) for t in targets), known)
    return got


def test_login_profile_and_access_key_targets_follow_the_credential_report() -> None:
    # CreateLoginProfile: users without a password; UpdateLoginProfile: users with one;
    # CreateAccessKey: users holding fewer than 2 keys, active or not. admin-unlisted is not in
    # the report: kept, and the evidence says a target's state was not known.
    assert _methods_by_role(_target_state_inputs()) == {
        "role/pw-creator": (
            "create-login-profile",
            ("user/admin-2keys", "user/admin-nopw", "user/admin-unlisted"),
            False,
        ),
        "role/pw-updater": (
            "update-login-profile",
            ("user/admin-1key", "user/admin-pw", "user/admin-unlisted"),
            False,
        ),
        "role/keymaker": (
            "create-access-key",
            ("user/admin-1key", "user/admin-nopw", "user/admin-pw", "user/admin-unlisted"),
            False,
        ),
    }


def test_targets_all_in_the_credential_report_mark_their_state_known() -> None:
    inputs = _target_state_inputs()
    inputs["raw_iam_users"] = [
        u for u in inputs["raw_iam_users"] if u["user_name"] != "admin-unlisted"
    ]
    got = _methods_by_role(inputs)
    assert {role: known for role, (_, _, known) in got.items()} == {
        "role/pw-creator": True,
        "role/pw-updater": True,
        "role/keymaker": True,
    }


def test_no_target_in_a_usable_state_means_no_path() -> None:
    # Only admin-pw (a password, no key): CreateLoginProfile cannot reach it.
    inputs = _target_state_inputs()
    inputs["raw_iam_users"] = [u for u in inputs["raw_iam_users"] if u["user_name"] == "admin-pw"]
    got = _methods_by_role(inputs)
    assert set(got) == {"role/pw-updater", "role/keymaker"}


def test_without_a_credential_report_every_privileged_user_stays_a_target() -> None:
    got = _methods_by_role(_target_state_inputs(with_report=False))
    everyone = tuple(f"user/admin-{u}" for u in ("1key", "2keys", "nopw", "pw", "unlisted"))
    assert got == {
        "role/pw-creator": ("create-login-profile", everyone, False),
        "role/pw-updater": ("update-login-profile", everyone, False),
        "role/keymaker": ("create-access-key", everyone, False),
    }


BLAST_CATALOG = [
    ("s3:PutObject", "Write"),
    ("s3:GetObject", "Read"),
    ("ec2:RunInstances", "Write"),
    ("lambda:CreateFunction", "Write"),
    ("cloudwatch:PutMetricData", "Write"),
    ("iam:PutUserPolicy", "Permissions management"),
    ("sqs:SendMessage", "Write"),
]
FIVE_SERVICES = [
    "s3:PutObject",
    "ec2:RunInstances",
    "lambda:CreateFunction",
    "cloudwatch:PutMetricData",
    "iam:PutUserPolicy",
]


def test_large_blast_radius_needs_unscoped_writes_in_five_services() -> None:
    inputs = {
        "raw_iam_users": [
            _user(u) for u in ("wide", "narrow", "scoped", "cond-wide", "reader", "admin")
        ],
        "raw_iam_roles": [_role("aws-linked", [], service_linked=True)],
        "raw_iam_inline_policies": [
            _inline("user", "wide", [_allow([*FIVE_SERVICES, "s3:GetObject"])]),
            _inline("user", "narrow", [_allow(FIVE_SERVICES[:4])]),  # 4 services
            _inline(
                "user", "scoped", [_allow([*FIVE_SERVICES, "sqs:SendMessage"], "arn:aws:s3:::b")]
            ),
            _inline(
                "user",
                "cond-wide",
                [_allow(FIVE_SERVICES, Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}})],
            ),
            _inline("user", "reader", [_allow("s3:GetObject")]),
            _inline("user", "admin", [_allow("*")]),
            _inline("role", "aws-linked", [_allow(FIVE_SERVICES)]),
        ],
        "ref_iam_actions": catalog_rows(BLAST_CATALOG),
    }
    con = build(inputs, ["det_large_blast_radius"])
    got = rows(
        con, "select resource_arn, resource_type, title, evidence from det_large_blast_radius"
    )
    assert [(arn, rtype, title, json.loads(ev)) for arn, rtype, title, ev in got] == [
        (
            _arn("user", "wide"),
            "iam_user",
            "IAM user wide can change every resource of 5 services "
            '(5 write or permissions-management actions on Resource "*")',
            {
                "service_count": 5,
                "action_count": 5,
                "write_actions": 4,
                "permissions_management_actions": 1,
                "conditional_actions": 0,
                "min_services": 5,
                "services": [
                    {"service": s, "actions": 1}
                    for s in ("cloudwatch", "ec2", "iam", "lambda", "s3")
                ],
                "granting_policies": ["wide-inline"],
            },
        )
    ]
