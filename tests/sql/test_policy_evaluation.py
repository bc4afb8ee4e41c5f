"""Model tests for the evaluation logic over a member account of an organization: identity
policies, groups, permissions boundaries, SCPs, service-linked roles, conditions and partial
Denies -> effective_permissions, int_admin_identities and int_principal_actions_evaluated."""

from __future__ import annotations

import json
from typing import Any

from tests.sql.harness import (
    ACCT,
    SMALL_CATALOG_ACTIONS,
    attachment,
    build,
    iam_group,
    iam_role,
    iam_user,
    inline_policy,
    managed_policy,
    org_accounts,
    organization,
    policy_json,
    rows,
)

MEMBER = "222222222222"


def _scp(policy_id: str, name: str, statements: list[dict], aws_managed: bool = False) -> dict:
    """A `raw_org_policies` row of a service control policy."""
    return {
        "policy_id": policy_id,
        "arn": f"arn:aws:organizations::{ACCT}:policy/o-1/service_control_policy/{policy_id}",
        "name": name,
        "type": "SERVICE_CONTROL_POLICY",
        "aws_managed": aws_managed,
        "document": policy_json(statements),
    }


def _evaluation_inputs() -> dict[str, list[dict[str, Any]]]:
    """A member account under SCPs; a user in a group, with a boundary, denies and conditions."""
    alice = f"arn:aws:iam::{MEMBER}:user/alice"
    bob = f"arn:aws:iam::{MEMBER}:user/bob"
    group = f"arn:aws:iam::{MEMBER}:group/devs"
    boundary = f"arn:aws:iam::{MEMBER}:policy/boundary"
    s3_all = f"arn:aws:iam::{MEMBER}:policy/s3-all"
    everything = "arn:aws:iam::aws:policy/Everything"
    slr = iam_role(
        "AWSServiceRoleForOps", account=MEMBER, path="/aws-service-role/ops.amazonaws.com/"
    )
    return {
        "raw_iam_users": [
            iam_user("alice", MEMBER, permissions_boundary_arn=boundary),
            iam_user("bob", MEMBER),
        ],
        "raw_iam_roles": [slr],
        "raw_iam_groups": [iam_group("devs", MEMBER)],
        "raw_iam_group_memberships": [
            {"account_id": MEMBER, "user_arn": alice, "group_arn": group}
        ],
        "raw_iam_policies": [
            managed_policy(
                s3_all, [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}], MEMBER
            ),
            managed_policy(
                boundary,
                [
                    {
                        "Effect": "Allow",
                        "Action": ["s3:*", "lambda:*", "iam:CreateUser"],
                        "Resource": "*",
                    }
                ],
                MEMBER,
            ),
            managed_policy(
                everything, [{"Effect": "Allow", "Action": "*", "Resource": "*"}], MEMBER
            ),
        ],
        "raw_iam_policy_attachments": [
            attachment(group, s3_all),
            attachment(bob, everything),
            attachment(slr["arn"], everything),
        ],
        "raw_iam_inline_policies": [
            inline_policy(
                alice,
                [
                    {
                        "Effect": "Allow",
                        "Action": ["iam:PassRole", "iam:CreateUser", "lambda:CreateFunction"],
                        "Resource": "*",
                    },
                    {
                        "Effect": "Allow",
                        "Action": "ec2:RunInstances",
                        "Resource": "*",
                        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
                    },
                    {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"},
                    {
                        "Effect": "Deny",
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::secret/*",
                    },
                ],
                name="extra",
            ),
        ],
        "raw_org_organization": organization("o-1", ACCT),
        "raw_org_accounts": org_accounts(ACCT, MEMBER),
        "raw_org_parents": [
            {"child_id": MEMBER, "parent_id": "ou-1", "parent_type": "ORGANIZATIONAL_UNIT"},
            {"child_id": "ou-1", "parent_id": "r-1", "parent_type": "ROOT"},
            {"child_id": ACCT, "parent_id": "r-1", "parent_type": "ROOT"},
        ],
        "raw_org_policies": [
            _scp(
                "p-FullAWSAccess",
                "FullAWSAccess",
                [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
                aws_managed=True,
            ),
            _scp(
                "p-nolambda",
                "NoLambda",
                [{"Effect": "Deny", "Action": "lambda:*", "Resource": "*"}],
            ),
        ],
        "raw_org_policy_targets": [
            {"policy_id": "p-FullAWSAccess", "target_id": t, "target_type": "X"}
            for t in ("r-1", "ou-1", MEMBER, ACCT)
        ]
        + [{"policy_id": "p-nolambda", "target_id": "ou-1", "target_type": "ORGANIZATIONAL_UNIT"}],
    }


def test_effective_permissions_follow_aws_evaluation_logic() -> None:
    con = build(_evaluation_inputs(), ["effective_permissions"])
    got = set(
        rows(
            con,
            """
        select split_part(principal_arn, '/', -1), action, is_conditional, has_partial_deny
        from effective_permissions""",
        )
    )
    assert got == {
        # alice: group grants s3:*; her Deny on s3:PutObject (every resource) removes it; the Deny
        # on one bucket keeps s3:GetObject (partial); the boundary removes iam:PassRole and the
        # conditional ec2:RunInstances; the OU's SCP removes lambda:*.
        ("alice", "s3:getobject", False, True),
        ("alice", "s3:listbucket", False, False),
        ("alice", "s3:listallmybuckets", False, False),
        ("alice", "iam:createuser", False, False),
        # bob: no boundary; everything except what the SCP denies.
        *{("bob", a, False, False) for a in SMALL_CATALOG_ACTIONS - {"lambda:createfunction"}},
        # the service-linked role is not restricted by SCPs.
        *{("AWSServiceRoleForOps", a, False, False) for a in SMALL_CATALOG_ACTIONS},
    }


def test_conditional_allow_is_kept_as_conditional() -> None:
    inputs = _evaluation_inputs()
    inputs["raw_iam_users"] = [iam_user("alice", MEMBER)]  # no boundary now
    con = build(inputs, ["effective_permissions"])
    assert rows(
        con,
        """select is_conditional, granted_by from effective_permissions
                        where action = 'ec2:runinstances' and principal_arn like '%/alice'""",
    ) == [
        (
            True,
            json.dumps(
                [
                    {
                        "policy": "extra",
                        "policy_arn": None,
                        "kind": "inline",
                        "statement": 1,
                        "sid": None,
                        "via": "direct",
                        "conditional": True,
                    }
                ],
                separators=(",", ":"),
            ),
        )
    ]


def test_admin_identities_ignore_scps_but_respect_boundaries() -> None:
    con = build(_evaluation_inputs(), ["int_admin_identities"])
    # bob holds Allow * on * (the SCP's lambda Deny does not change admin status); alice's
    # boundary keeps her from being admin; the service-linked role holds Allow * too.
    got = rows(
        con,
        "select split_part(principal_arn, '/', -1), granting_policies, "
        "scp_denied_actions from int_admin_identities",
    )
    assert {(name, tuple(policies), denied) for name, policies, denied in got} == {
        ("bob", ("Everything",), 1),
        ("AWSServiceRoleForOps", ("Everything",), 0),
    }


def test_allow_everything_but_named_resources_is_admin() -> None:
    """`Allow *` with a NotResource of particular resources outside IAM still holds every IAM
    action on every IAM resource (it can drop its own exception): admin. A NotResource with a
    wildcard, an IAM resource, or a conditional grant is not."""
    inputs = _evaluation_inputs()
    cases = {
        "one-bucket": ({"NotResource": "arn:aws:s3:::bench-nothing"}, True),
        "two-named": (
            {"NotResource": ["arn:aws:s3:::a", f"arn:aws:kms:eu-west-1:{MEMBER}:key/1"]},
            True,
        ),
        "bucket-wildcard": ({"NotResource": "arn:aws:s3:::*"}, False),
        "iam-user": ({"NotResource": f"arn:aws:iam::{MEMBER}:user/x"}, False),
        "not-an-arn": ({"NotResource": "*"}, False),
        "conditional": (
            {
                "NotResource": "arn:aws:s3:::a",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
            },
            False,
        ),
        "denied-iam": ({"NotResource": "arn:aws:s3:::a"}, False),
    }
    for name, (scope, _) in cases.items():
        inputs["raw_iam_users"].append(iam_user(name, MEMBER))
        statements = [{"Effect": "Allow", "Action": "*", **scope}]
        if name == "denied-iam":
            statements.append({"Effect": "Deny", "Action": "iam:*", "Resource": "*"})
        arn = f"arn:aws:iam::{MEMBER}:user/{name}"
        inputs["raw_iam_inline_policies"].append(inline_policy(arn, statements, name="all"))
    con = build(inputs, ["int_admin_identities"])
    got = {
        name
        for (name,) in rows(
            con, "select split_part(principal_arn, '/', -1) from int_admin_identities"
        )
    }
    admins = {name for name, (_, admin) in cases.items() if admin}
    assert got == admins | {"bob", "AWSServiceRoleForOps"}


def test_not_resource_grant_and_scp_deny_on_named_resources() -> None:
    inputs = _evaluation_inputs()
    bob = f"arn:aws:iam::{MEMBER}:user/bob"
    inputs["raw_iam_inline_policies"].append(
        inline_policy(
            bob,
            [{"Effect": "Allow", "Action": "lambda:CreateFunction", "NotResource": "arn:x"}],
            name="scoped",
        )
    )
    # An SCP Deny on the bucket "audit" (objects and bucket) at the OU.
    inputs["raw_org_policies"].append(
        _scp(
            "p-audit",
            "ProtectAudit",
            [
                {
                    "Effect": "Deny",
                    "Action": "s3:PutObject",
                    "Resource": ["arn:aws:s3:::audit", "arn:aws:s3:::audit/*"],
                }
            ],
        )
    )
    inputs["raw_org_policy_targets"].append(
        {"policy_id": "p-audit", "target_id": "ou-1", "target_type": "ORGANIZATIONAL_UNIT"}
    )
    con = build(inputs, ["int_principal_actions_evaluated"])
    got = rows(
        con,
        """select action, is_effective, granted_resources, denied_resources, has_partial_deny
           from int_principal_actions_evaluated
           where principal_arn like '%/bob' and action in ('s3:putobject', 'lambda:createfunction')
           order by action""",
    )
    assert got == [
        # bob's Allow * and NotResource grant give lambda:CreateFunction; the OU's SCP denies
        # lambda:* on every resource, which cuts both grants: nothing is left granted
        ("lambda:createfunction", False, [], ["*"], False),
        # the SCP's Deny on one bucket leaves s3:PutObject on every other resource
        (
            "s3:putobject",
            True,
            ["*"],
            ["arn:aws:s3:::audit", "arn:aws:s3:::audit/*"],
            True,
        ),
    ]


def test_an_scp_statement_on_not_resource_star_applies_to_nothing() -> None:
    # An SCP Deny whose NotResource is "*" denies nothing, not even conditionally.
    inputs = _evaluation_inputs()
    inputs["raw_org_policies"].append(
        _scp(
            "p-nothing",
            "Nothing",
            [
                {"Effect": "Deny", "Action": "s3:*", "NotResource": "*"},
                {
                    "Effect": "Deny",
                    "Action": "iam:*",
                    "NotResource": ["*"],
                    "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}},
                },
            ],
        )
    )
    inputs["raw_org_policy_targets"].append(
        {"policy_id": "p-nothing", "target_id": "ou-1", "target_type": "ORGANIZATIONAL_UNIT"}
    )
    con = build(inputs, ["effective_permissions"])
    got = rows(
        con,
        """select action, is_conditional, condition_keys, has_partial_deny, denied_resources
           from effective_permissions
           where principal_arn like '%/bob' and action in ('s3:getobject', 'iam:passrole')
           order by action""",
    )
    assert got == [
        ("iam:passrole", False, [], False, []),
        ("s3:getobject", False, [], False, []),
    ]


def test_principals_with_the_same_policy_set_share_one_computation() -> None:
    policy = managed_policy(
        f"arn:aws:iam::{ACCT}:policy/ro",
        [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}],
    )
    roles = [iam_role(name) for name in ("a", "b", "c")]
    inputs = {
        "raw_iam_roles": roles,
        "raw_iam_policies": [policy],
        "raw_iam_policy_attachments": [attachment(r["arn"], policy["policy_arn"]) for r in roles],
        # role c also has an inline policy: a set of its own
        "raw_iam_inline_policies": [
            inline_policy(
                roles[2]["arn"],
                [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}],
                name="extra",
            )
        ],
    }
    con = build(inputs, ["int_principal_actions_evaluated"])
    assert rows(
        con,
        "select count(distinct policy_set_key), count(*) from int_policy_set_actions_evaluated",
    ) == [(2, 3)]
    assert set(
        rows(
            con,
            "select split_part(principal_arn, '/', -1), action "
            "from int_principal_actions_evaluated",
        )
    ) == {
        ("a", "s3:getobject"),
        ("b", "s3:getobject"),
        ("c", "s3:getobject"),
        ("c", "s3:putobject"),
    }
