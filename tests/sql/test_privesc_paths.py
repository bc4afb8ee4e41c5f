"""Model tests for the principal graph (int_principal_graph_edges) and the multi-hop search
(privilege_escalation_paths): each path paired with a near miss that must not be one."""

from __future__ import annotations

import json
from typing import Any

from pipelines.lib.reference.csvs import load_reference
from tests.sql.harness import (
    ACCT,
    build,
    catalog_rows,
    iam_group,
    iam_role,
    iam_user,
    inline_policy,
    org_accounts,
    organization,
    policy_json,
    role_arn,
    rows,
    user_arn,
)

CATALOG = [
    ("iam:PutUserPolicy", "Permissions management"),
    ("iam:AttachUserPolicy", "Permissions management"),
    ("iam:AttachRolePolicy", "Permissions management"),
    ("iam:UpdateAssumeRolePolicy", "Permissions management"),
    ("iam:CreateRole", "Write"),
    ("iam:CreateAccessKey", "Write"),
    ("iam:PassRole", "Write"),
    ("lambda:UpdateFunctionCode", "Write"),
    ("lambda:CreateFunction", "Write"),
    ("lambda:InvokeFunction", "Write"),
    ("ssm:SendCommand", "Write"),
    ("sts:AssumeRole", "Write"),
    ("s3:GetObject", "Read"),
]
EVERYTHING = [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
REGION = "eu-west-1"


def _allow(action: str, resource: str = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def _deny(action: str, resource: str) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource}


def _trust(principal: dict[str, str]) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}


def _function(name: str, role: str) -> dict[str, Any]:
    return {
        "account_id": ACCT,
        "region": REGION,
        "function_name": name,
        "function_arn": f"arn:aws:lambda:{REGION}:{ACCT}:function:{name}",
        "role_arn": role_arn(role),
    }


def _instance(instance_id: str, profile: str) -> dict[str, Any]:
    return {
        "account_id": ACCT,
        "region": REGION,
        "instance_id": instance_id,
        "arn": f"arn:aws:ec2:{REGION}:{ACCT}:instance/{instance_id}",
        "state": "running",
        "instance_profile_arn": f"arn:aws:iam::{ACCT}:instance-profile/{profile}",
    }


def _inputs() -> dict[str, list[dict[str, Any]]]:
    users = ["start", "start-denied", "self-escalator", "plain", "role-maker"]
    roles = [
        # assume-role chain: start -> mid -> top (admin); start-denied -> mid-denied, which an
        # explicit Deny keeps out of top
        iam_role(
            "top", [_trust({"AWS": role_arn("mid")}), _trust({"AWS": role_arn("mid-denied")})]
        ),
        iam_role("mid", [_trust({"AWS": user_arn("start")})]),
        iam_role("mid-denied", [_trust({"AWS": user_arn("start-denied")})]),
        # credentials of a user that makes itself admin; the near miss only reaches `plain`
        iam_role("keymaker", [_trust({"Service": "codebuild.amazonaws.com"})]),
        iam_role("keymaker-scoped", [_trust({"Service": "codebuild.amazonaws.com"})]),
        # Lambda: an admin role that a function runs as, and an app role
        iam_role("fn-admin-role", [_trust({"Service": "lambda.amazonaws.com"})]),
        iam_role("fn-app-role", [_trust({"Service": "lambda.amazonaws.com"})]),
        iam_role("coder", [_trust({"Service": "codebuild.amazonaws.com"})]),
        iam_role("coder-app", [_trust({"Service": "codebuild.amazonaws.com"})]),
        iam_role("passer-denied", [_trust({"Service": "codebuild.amazonaws.com"})]),
        # EC2: an admin instance and an app instance
        iam_role("ec2-admin-role", [_trust({"Service": "ec2.amazonaws.com"})]),
        iam_role("ec2-app-role", [_trust({"Service": "ec2.amazonaws.com"})]),
        iam_role("operator-app", [_trust({"Service": "codebuild.amazonaws.com"})]),
        # write an admin policy into `plain`, then take its credentials (the near miss cannot
        # take them); create a role of its own; re-trust `top` (the near miss: a Deny)
        iam_role("attacher", [_trust({"Service": "codebuild.amazonaws.com"})]),
        iam_role("attacher-nokey", [_trust({"Service": "codebuild.amazonaws.com"})]),
        iam_role("retruster", [_trust({"Service": "codebuild.amazonaws.com"})]),
        iam_role("retruster-denied", [_trust({"Service": "codebuild.amazonaws.com"})]),
    ]
    fn_admin = f"arn:aws:lambda:{REGION}:{ACCT}:function:admin-fn"
    fn_app = f"arn:aws:lambda:{REGION}:{ACCT}:function:app-fn"
    inline = [
        inline_policy(role_arn("top"), EVERYTHING),
        inline_policy(role_arn("fn-admin-role"), EVERYTHING),
        inline_policy(role_arn("ec2-admin-role"), EVERYTHING),
        inline_policy(role_arn("fn-app-role"), [_allow("s3:GetObject")]),
        inline_policy(role_arn("ec2-app-role"), [_allow("s3:GetObject")]),
        inline_policy(role_arn("mid"), [_allow("sts:AssumeRole", role_arn("top"))]),
        inline_policy(
            role_arn("mid-denied"),
            [_allow("sts:AssumeRole", "*"), _deny("sts:AssumeRole", role_arn("top"))],
        ),
        inline_policy(
            user_arn("self-escalator"), [_allow("iam:PutUserPolicy", user_arn("self-escalator"))]
        ),
        inline_policy(role_arn("keymaker"), [_allow("iam:CreateAccessKey", user_arn("*"))]),
        inline_policy(
            role_arn("keymaker-scoped"), [_allow("iam:CreateAccessKey", user_arn("plain"))]
        ),
        inline_policy(role_arn("coder"), [_allow("lambda:UpdateFunctionCode", fn_admin)]),
        inline_policy(role_arn("coder-app"), [_allow("lambda:UpdateFunctionCode", fn_app)]),
        inline_policy(
            role_arn("passer-denied"),
            [
                _allow("iam:PassRole"),
                _allow("lambda:CreateFunction"),
                _allow("lambda:InvokeFunction"),
                _allow("lambda:UpdateFunctionCode", fn_app),
                _deny("iam:PassRole", role_arn("fn-admin-role")),
            ],
        ),
        inline_policy(
            role_arn("operator-app"),
            [_allow("ssm:SendCommand", f"arn:aws:ec2:{REGION}:{ACCT}:instance/i-app")],
        ),
    ]
    inline += [
        inline_policy(
            role_arn("attacher"),
            [
                _allow("iam:AttachUserPolicy", user_arn("plain")),
                _allow("iam:CreateAccessKey", user_arn("plain")),
            ],
        ),
        inline_policy(
            role_arn("attacher-nokey"), [_allow("iam:AttachUserPolicy", user_arn("plain"))]
        ),
        inline_policy(
            user_arn("role-maker"), [_allow("iam:CreateRole"), _allow("iam:AttachRolePolicy")]
        ),
        inline_policy(
            role_arn("retruster"), [_allow("iam:UpdateAssumeRolePolicy", role_arn("top"))]
        ),
        inline_policy(
            role_arn("retruster-denied"),
            [
                _allow("iam:UpdateAssumeRolePolicy", role_arn("top")),
                _deny("sts:AssumeRole", role_arn("top")),
            ],
        ),
    ]
    return {
        "raw_iam_users": [iam_user(u) for u in users],
        "raw_iam_roles": roles,
        "raw_iam_inline_policies": inline,
        "raw_iam_instance_profiles": [
            {
                "account_id": ACCT,
                "instance_profile_name": name,
                "instance_profile_id": "AIPA" + name.upper().replace("-", ""),
                "arn": f"arn:aws:iam::{ACCT}:instance-profile/{name}",
                "role_arn": role_arn(name),
            }
            for name in ("ec2-admin-role", "ec2-app-role")
        ],
        "raw_lambda_functions": [
            _function("admin-fn", "fn-admin-role"),
            _function("app-fn", "fn-app-role"),
        ],
        "raw_ec2_instances": [
            _instance("i-admin", "ec2-admin-role"),
            _instance("i-app", "ec2-app-role"),
        ],
        "ref_iam_actions": catalog_rows(CATALOG),
        "ref_privesc_methods": load_reference("ref_privesc_methods").to_pylist(),
    }


def _name(arn: str) -> str:
    return arn.split(":", 5)[5]


def _paths(con: Any) -> set[tuple]:
    return {
        (
            _name(source),
            _name(target),
            hops,
            tuple((_name(s["from"]), s["method"], _name(s["to"])) for s in json.loads(path)),
            conditional,
        )
        for source, target, hops, path, conditional in rows(
            con,
            "select source_arn, target_arn, hops, path, is_conditional"
            " from privilege_escalation_paths",
        )
    }


def test_paths_are_the_shortest_and_near_misses_have_none() -> None:
    con = build(_inputs(), ["privilege_escalation_paths"])
    assert _paths(con) == {
        # assume-role chain (mid-denied: an explicit Deny names top; start-denied: nothing)
        (
            "user/start",
            "role/top",
            2,
            (("user/start", "assume-role", "role/mid"), ("role/mid", "assume-role", "role/top")),
            False,
        ),
        ("role/mid", "role/top", 1, (("role/mid", "assume-role", "role/top"),), False),
        # a user that writes its own policy
        (
            "user/self-escalator",
            "user/self-escalator",
            1,
            (("user/self-escalator", "put-user-policy", "user/self-escalator"),),
            False,
        ),
        # its credentials, then its policy (keymaker-scoped: only `plain`, who cannot escalate)
        (
            "role/keymaker",
            "user/self-escalator",
            2,
            (
                ("role/keymaker", "create-access-key", "user/self-escalator"),
                ("user/self-escalator", "put-user-policy", "user/self-escalator"),
            ),
            False,
        ),
        # UpdateFunctionCode on the function running as the admin role (coder-app: its function
        # runs as the app role; passer-denied: the Deny names the admin role for PassRole)
        (
            "role/coder",
            "role/fn-admin-role",
            1,
            (("role/coder", "lambda-update-function-code", "role/fn-admin-role"),),
            False,
        ),
        # an admin policy into `plain`, then its access key: one edge, `plain` becomes admin
        # (attacher-nokey can write the policy but cannot act as `plain`)
        (
            "role/attacher",
            "user/plain",
            1,
            (("role/attacher", "attach-user-policy+create-access-key", "user/plain"),),
            False,
        ),
        # a new role that trusts it, with a policy it attaches (PMapper's CreateRole check)
        (
            "user/role-maker",
            "user/role-maker",
            1,
            (("user/role-maker", "create-role-attach-policy", "user/role-maker"),),
            False,
        ),
        (
            "role/keymaker",
            "user/role-maker",
            2,
            (
                ("role/keymaker", "create-access-key", "user/role-maker"),
                ("user/role-maker", "create-role-attach-policy", "user/role-maker"),
            ),
            False,
        ),
        # the trust policy rewritten to name the source: no sts:AssumeRole grant needed
        # (retruster-denied: a Deny of sts:AssumeRole on top)
        (
            "role/retruster",
            "role/top",
            1,
            (("role/retruster", "update-assume-role-policy", "role/top"),),
            False,
        ),
    }


def test_a_hop_limit_cuts_longer_paths() -> None:
    con = build(_inputs(), ["privilege_escalation_paths"], max_hops=1)
    assert {(s, t, h) for s, t, h, _, _ in _paths(con)} == {
        ("role/mid", "role/top", 1),
        ("user/self-escalator", "user/self-escalator", 1),
        ("role/coder", "role/fn-admin-role", 1),
        ("role/attacher", "user/plain", 1),
        ("user/role-maker", "user/role-maker", 1),
        ("role/retruster", "role/top", 1),
    }


def test_edges_hold_only_for_the_resources_their_grants_name() -> None:
    con = build(_inputs(), ["int_principal_graph_edges"])
    got = {
        (_name(s), m, _name(t), v and v.rsplit(":", 1)[-1].rsplit("/", 1)[-1], presumed)
        for s, m, t, v, presumed in rows(
            con,
            """select source_arn, method, target_arn, via_arn, compute_presumed
               from int_principal_graph_edges
               where source_arn similar to '.*(coder|operator|passer|keymaker).*'""",
        )
    }
    assert got == {
        ("role/coder", "lambda-update-function-code", "role/fn-admin-role", "admin-fn", False),
        ("role/coder-app", "lambda-update-function-code", "role/fn-app-role", "app-fn", False),
        ("role/passer-denied", "lambda-update-function-code", "role/fn-app-role", "app-fn", False),
        # PassRole to every role Lambda may assume but the one a Deny names
        ("role/passer-denied", "pass-role-lambda-invoke", "role/fn-app-role", "fn-app-role", False),
        ("role/operator-app", "ssm-send-command", "role/ec2-app-role", "i-app", False),
        ("role/keymaker", "create-access-key", "user/start", "start", False),
        ("role/keymaker", "create-access-key", "user/start-denied", "start-denied", False),
        ("role/keymaker", "create-access-key", "user/self-escalator", "self-escalator", False),
        ("role/keymaker", "create-access-key", "user/plain", "plain", False),
        ("role/keymaker", "create-access-key", "user/role-maker", "role-maker", False),
        ("role/keymaker-scoped", "create-access-key", "user/plain", "plain", False),
    }


def test_detection_titles_say_the_steps() -> None:
    con = build(_inputs(), ["det_privilege_escalation"])
    got = dict(rows(con, "select resource_arn, title from det_privilege_escalation"))
    assert got[user_arn("start")] == (
        "IAM user start can become admin in 2 steps: assume role mid, then assume role top"
    )
    assert got[role_arn("keymaker")] == (
        "IAM role keymaker can become admin in 2 steps: create an access key for user "
        "role-maker, then create a role it can assume and attach a policy to it"
    )
    assert got[role_arn("attacher")] == (
        "IAM role attacher can become admin in 1 step: attach a policy to user plain and "
        "create an access key for user plain"
    )
    assert set(got) == {
        user_arn("start"),
        role_arn("mid"),
        user_arn("self-escalator"),
        role_arn("keymaker"),
        role_arn("coder"),
        role_arn("attacher"),
        user_arn("role-maker"),
        role_arn("retruster"),
    }


def test_relationships_carry_the_paths_edges() -> None:
    con = build(_inputs(), ["relationships"])
    got = {
        (_name(s), _name(t), tuple(m["method"] for m in json.loads(d)["methods"]), risky, reason)
        for s, t, d, risky, reason in rows(
            con,
            """select source_arn, target_arn, details, is_risky, risk_reason from relationships
               where relationship = 'can_escalate_to'""",
        )
    }
    escalation = ("privilege-escalation",)
    assert got == {
        (
            "role/attacher",
            "user/plain",
            ("attach-user-policy+create-access-key",),
            True,
            *escalation,
        ),
        ("role/retruster", "role/top", ("update-assume-role-policy",), True, *escalation),
        ("user/role-maker", "user/role-maker", ("create-role-attach-policy",), True, *escalation),
        ("role/keymaker", "user/role-maker", ("create-access-key",), True, *escalation),
        ("user/start", "role/mid", ("assume-role",), True, "privilege-escalation"),
        ("role/mid", "role/top", ("assume-role",), True, "privilege-escalation"),
        (
            "user/self-escalator",
            "user/self-escalator",
            ("put-user-policy",),
            True,
            "privilege-escalation",
        ),
        (
            "role/keymaker",
            "user/self-escalator",
            ("create-access-key",),
            True,
            "privilege-escalation",
        ),
        (
            "role/coder",
            "role/fn-admin-role",
            ("lambda-update-function-code",),
            True,
            "privilege-escalation",
        ),
    }


def test_the_paths_audit_passes_on_the_mart_and_flags_a_broken_path() -> None:
    from pipelines.lib.warehouse.sql_models import SQL_DIR

    audit = (
        SQL_DIR / "audits" / "privilege_escalation_paths__one_row_per_source_target.sql"
    ).read_text()
    con = build(_inputs(), ["privilege_escalation_paths"])
    assert rows(con, audit) == []
    # a path whose last step does not end at its target, and a duplicate row
    con.execute(
        """create or replace table privilege_escalation_paths as
           select source_arn, case when hops = 2 then 'x' else target_arn end as target_arn,
                  hops, path, is_conditional, condition_keys, needs_environment
           from privilege_escalation_paths
           union all
           select * from privilege_escalation_paths where source_arn like '%role/mid'"""
    )
    assert {(_name(s), t if t == "x" else _name(t), n) for s, t, n in rows(con, audit)} == {
        ("user/start", "x", 1),
        ("role/keymaker", "x", 2),  # its two 2-step paths, now both to `x`
        ("role/mid", "role/top", 2),
    }


def test_protected_roles_are_never_rewritten() -> None:
    # An IAM Identity Center admin role: retruster-like grants on it give no edge (AWS refuses
    # any change to its trust or policies); the same grants on `top` do.
    inputs = _inputs()
    sso = "AWSReservedSSO_Admin_0123456789abcdef"
    sso_arn = role_arn(sso, path="/aws-reserved/sso.amazonaws.com/")
    inputs["raw_iam_roles"].append(
        iam_role(sso, [_trust({"AWS": role_arn("top")})], path="/aws-reserved/sso.amazonaws.com/")
    )
    inputs["raw_iam_inline_policies"] += [
        inline_policy(sso_arn, EVERYTHING),
        inline_policy(role_arn("sso-retruster"), [_allow("iam:UpdateAssumeRolePolicy")]),
    ]
    inputs["raw_iam_roles"].append(
        iam_role("sso-retruster", [_trust({"Service": "codebuild.amazonaws.com"})])
    )
    con = build(inputs, ["int_principal_graph_edges"])
    got = {
        _name(t)
        for (t,) in rows(
            con,
            f"""select target_arn from int_principal_graph_edges
                where source_arn = '{role_arn("sso-retruster")}'""",
        )
    }
    assert sso_arn.split(":", 5)[5] not in got
    assert "role/top" in got


def _assumed_by_inputs() -> dict[str, list[dict[str, Any]]]:
    """Roles that write into (or add to a group) a principal that may assume them, each with a
    near miss: the role can write only into a principal that cannot assume it, or a Deny
    names the group."""
    group = f"arn:aws:iam::{ACCT}:group/admins"
    roles = [
        iam_role("writer", [_trust({"AWS": user_arn("holder")})]),
        iam_role("writer-miss", [_trust({"AWS": user_arn("other")})]),
        iam_role("role-writer", [_trust({"AWS": role_arn("hopper")})]),
        iam_role("hopper", [_trust({"Service": "codebuild.amazonaws.com"})]),
        iam_role("joiner", [_trust({"AWS": user_arn("member")})]),
        iam_role("joiner-denied", [_trust({"AWS": user_arn("member-denied")})]),
    ]
    inline = [
        inline_policy(group, EVERYTHING),
        inline_policy(role_arn("writer"), [_allow("iam:AttachUserPolicy", user_arn("*"))]),
        inline_policy(
            role_arn("writer-miss"), [_allow("iam:AttachUserPolicy", user_arn("holder"))]
        ),
        inline_policy(role_arn("role-writer"), [_allow("iam:PutRolePolicy", role_arn("hopper"))]),
        inline_policy(role_arn("hopper"), [_allow("sts:AssumeRole", role_arn("role-writer"))]),
        inline_policy(role_arn("joiner"), [_allow("iam:AddUserToGroup", group)]),
        inline_policy(
            role_arn("joiner-denied"),
            [_allow("iam:AddUserToGroup"), _deny("iam:AddUserToGroup", group)],
        ),
    ]
    catalog = [*CATALOG, ("iam:PutRolePolicy", "Permissions management")]
    catalog += [("iam:AddUserToGroup", "Permissions management")]
    return {
        "raw_iam_users": [iam_user(u) for u in ("holder", "other", "member", "member-denied")],
        "raw_iam_roles": roles,
        "raw_iam_groups": [iam_group("admins")],
        "raw_iam_inline_policies": inline,
        "ref_iam_actions": catalog_rows(catalog),
        "ref_privesc_methods": load_reference("ref_privesc_methods").to_pylist(),
    }


def test_a_role_escalates_through_the_principals_that_may_assume_it() -> None:
    # Whoever holds a session of a role came from a principal its trust admits: writing an
    # administrator policy into that principal (or adding that user to an admin group) makes
    # the holder admin. The evidence is the trust and the write.
    con = build(_assumed_by_inputs(), ["privilege_escalation_paths", "det_privilege_escalation"])
    assert _paths(con) == {
        (
            "role/writer",
            "user/holder",
            1,
            (("role/writer", "attach-user-policy+assumed-by", "user/holder"),),
            False,
        ),
        (
            "user/holder",
            "user/holder",
            2,
            (
                ("user/holder", "assume-role", "role/writer"),
                ("role/writer", "attach-user-policy+assumed-by", "user/holder"),
            ),
            False,
        ),
        (
            "role/role-writer",
            "role/hopper",
            1,
            (("role/role-writer", "put-role-policy+assumed-by", "role/hopper"),),
            False,
        ),
        (
            "role/hopper",
            "role/hopper",
            2,
            (
                ("role/hopper", "assume-role", "role/role-writer"),
                ("role/role-writer", "put-role-policy+assumed-by", "role/hopper"),
            ),
            False,
        ),
        (
            "role/joiner",
            "group/admins",
            1,
            (("role/joiner", "add-user-to-group+assumed-by", "group/admins"),),
            False,
        ),
        (
            "user/member",
            "group/admins",
            2,
            (
                ("user/member", "assume-role", "role/joiner"),
                ("role/joiner", "add-user-to-group+assumed-by", "group/admins"),
            ),
            False,
        ),
    }
    query = "select path from privilege_escalation_paths where source_arn = ?"
    step = json.loads(con.execute(query, [role_arn("writer")]).fetchone()[0])[0]
    assert (step["via"], step["actions"], step["trust_statements"]) == (
        user_arn("holder"),
        ["iam:attachuserpolicy"],
        [{"statement": 0, "sid": None, "trusted_as": "iam_user", "condition_keys": []}],
    )
    titles = dict(rows(con, "select resource_arn, title from det_privilege_escalation"))
    assert titles[role_arn("writer")] == (
        "IAM role writer can become admin in 1 step: attach a policy to user holder and act as "
        "holder, who can assume it"
    )
    assert titles[role_arn("joiner")] == (
        "IAM role joiner can become admin in 1 step: join group admins and act as user member, "
        "who can assume it"
    )


MEMBER = "222222222222"


def _scp(policy_id: str, statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "policy_id": policy_id,
        "arn": f"arn:aws:organizations::{ACCT}:policy/o-1/service_control_policy/{policy_id}",
        "name": policy_id,
        "type": "SERVICE_CONTROL_POLICY",
        "aws_managed": False,
        "document": policy_json(statements),
    }


def _scp_inputs() -> dict[str, list[dict[str, Any]]]:
    """An account under SCPs whose Denies on sts:AssumeRole carry Conditions: one the snapshot
    decides per principal (`aws:PrincipalArn`, `aws:PrincipalTag`), one the caller sets
    (`aws:RequestedRegion`), one it cannot (`aws:SourceIp`)."""

    def arn(kind: str, name: str) -> str:
        return f"arn:aws:iam::{MEMBER}:{kind}/{name}"

    def deny(resource: str, condition: dict[str, Any]) -> dict[str, Any]:
        return {**_deny("sts:AssumeRole", arn("role", resource)), "Condition": condition}

    scps = [
        _scp("p-full", [{"Effect": "Allow", "Action": "*", "Resource": "*"}]),
        _scp(
            "p-regions",
            [
                deny(
                    "admin",
                    {
                        "StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]},
                        "ArnNotLike": {"aws:PrincipalARN": arn("role", "break-glass")},
                    },
                ),
                deny("locked", {"StringEquals": {"aws:PrincipalTag/team": "red"}}),
                deny("guarded", {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
            ],
        ),
    ]
    users = [
        iam_user("red", MEMBER, tags_json=json.dumps([{"Key": "team", "Value": "red"}])),
        iam_user("blue", MEMBER, tags_json=json.dumps([{"Key": "team", "Value": "blue"}])),
        iam_user("remote", MEMBER),
    ]

    def target(name: str, *sources: str) -> dict[str, Any]:
        return iam_role(name, [_trust({"AWS": list(sources)})], account=MEMBER)

    roles = [
        iam_role("break-glass", account=MEMBER),
        iam_role("app", account=MEMBER),
        target("admin", arn("role", "break-glass"), arn("role", "app")),
        target("locked", arn("user", "red"), arn("user", "blue")),
        target("guarded", arn("user", "remote")),
    ]
    inline = [inline_policy(arn("role", r), EVERYTHING) for r in ("admin", "locked", "guarded")]
    inline += [
        inline_policy(arn("role", r), [_allow("sts:AssumeRole", arn("role", "admin"))])
        for r in ("break-glass", "app")
    ]
    inline += [
        inline_policy(arn("user", u), [_allow("sts:AssumeRole", arn("role", "locked"))])
        for u in ("red", "blue")
    ]
    inline.append(
        inline_policy(arn("user", "remote"), [_allow("sts:AssumeRole", arn("role", "guarded"))])
    )
    return {
        "raw_iam_users": users,
        "raw_iam_roles": roles,
        "raw_iam_inline_policies": inline,
        "raw_org_organization": organization("o-1", ACCT),
        "raw_org_accounts": org_accounts(ACCT, MEMBER),
        "raw_org_parents": [
            {"child_id": MEMBER, "parent_id": "ou-1", "parent_type": "ORGANIZATIONAL_UNIT"},
            {"child_id": "ou-1", "parent_id": "r-1", "parent_type": "ROOT"},
            {"child_id": ACCT, "parent_id": "r-1", "parent_type": "ROOT"},
        ],
        "raw_org_policies": scps,
        "raw_org_policy_targets": [
            {"policy_id": "p-full", "target_id": t, "target_type": "X"}
            for t in ("r-1", "ou-1", MEMBER, ACCT)
        ]
        + [{"policy_id": "p-regions", "target_id": "ou-1", "target_type": "ORGANIZATIONAL_UNIT"}],
        "ref_iam_actions": catalog_rows(CATALOG),
        "ref_privesc_methods": load_reference("ref_privesc_methods").to_pylist(),
    }


def test_scp_denies_come_with_the_conditions_the_snapshot_decides() -> None:
    # The graph reads each policy set's SCP Denies with their Conditions decided as the
    # evaluation decides them: a Deny exempting a principal by aws:PrincipalArn (or one whose
    # aws:PrincipalTag does not match) does not apply to it, one whose snapshot keys match
    # applies unconditionally and removes the edge, and only request keys leave it conditional,
    # with the keys said.
    con = build(
        _scp_inputs(),
        ["int_principal_graph_edges", "privilege_escalation_paths", "det_privilege_escalation"],
    )
    edges = rows(
        con,
        """select split_part(source_arn, ':', 6), split_part(target_arn, ':', 6), is_conditional,
                  condition_keys
           from int_principal_graph_edges where method = 'assume-role' order by all""",
    )
    assert edges == [
        ("role/app", "role/admin", True, ["aws:requestedregion"]),
        ("role/break-glass", "role/admin", False, []),
        ("user/blue", "role/locked", False, []),
        ("user/remote", "role/guarded", True, ["aws:sourceip"]),
    ]
    got = rows(
        con,
        """select split_part(source_arn, ':', 6), is_conditional, condition_keys,
                  needs_environment, path
           from privilege_escalation_paths order by all""",
    )
    steps = {name: json.loads(path)[0] for name, *_, path in got}
    assert [row[:4] for row in got] == [
        ("role/app", True, ["aws:requestedregion"], False),
        ("role/break-glass", False, [], False),
        ("user/blue", False, [], False),
        ("user/remote", True, ["aws:sourceip"], True),
    ]
    assert {
        n: (s["conditional"], s["condition_keys"], s["caller_can_satisfy"])
        for n, s in steps.items()
    } == {
        "role/app": (True, ["aws:requestedregion"], True),
        "role/break-glass": (False, [], None),
        "user/blue": (False, [], None),
        "user/remote": (True, ["aws:sourceip"], False),
    }


def test_severity_drops_only_for_conditions_the_caller_cannot_satisfy() -> None:
    # The caller chooses the region of its own request: a path conditional on
    # aws:RequestedRegion alone stays high (and says so); aws:SourceIp is the network's.
    con = build(_scp_inputs(), ["det_privilege_escalation"])
    got = {
        _name(arn): (severity, title, json.loads(evidence))
        for arn, severity, title, evidence in rows(
            con, "select resource_arn, severity, title, evidence from det_privilege_escalation"
        )
    }
    assert {n: (sev, title) for n, (sev, title, _) in got.items()} == {
        "role/app": (
            "high",
            "IAM role app can become admin in 1 step: assume role admin"
            " (conditional on its own request: aws:requestedregion)",
        ),
        "role/break-glass": (
            "high",
            "IAM role break-glass can become admin in 1 step: assume role admin",
        ),
        "user/blue": ("high", "IAM user blue can become admin in 1 step: assume role locked"),
        "user/remote": (
            "medium",
            "IAM user remote can become admin in 1 step: assume role guarded (conditional)",
        ),
    }
    assert {
        n: (e["conditional"], e["needs_environment"], e["condition_keys"])
        for n, (_, _, e) in got.items()
    } == {
        "role/app": (True, False, ["aws:requestedregion"]),
        "role/break-glass": (False, False, []),
        "user/blue": (False, False, []),
        "user/remote": (True, True, ["aws:sourceip"]),
    }
