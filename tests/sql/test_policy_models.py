"""Model tests for policy normalization, wildcard expansion and the evaluation logic."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.sql.harness import build, rows

ACCT = "111111111111"
MEMBER = "222222222222"


def _inline(principal_arn: str, ptype: str, name: str, statements: list[dict], account=ACCT):
    return {
        "account_id": account,
        "principal_arn": principal_arn,
        "principal_type": ptype,
        "policy_name": name,
        "document": json.dumps({"Version": "2012-10-17", "Statement": statements}),
    }


def _managed(arn: str, name: str, statements: list[dict] | dict, account=ACCT):
    return {
        "account_id": account,
        "policy_arn": arn,
        "policy_name": name,
        "policy_id": "ANPA" + name.upper(),
        "path": "/",
        "is_aws_managed": ":aws:policy/" in arn,
        "document": json.dumps({"Version": "2012-10-17", "Statement": statements}),
    }


def _user(name: str, account=ACCT, boundary: str | None = None):
    return {
        "account_id": account,
        "user_name": name,
        "user_id": "AIDA" + name.upper(),
        "arn": f"arn:aws:iam::{account}:user/{name}",
        "path": "/",
        "create_date": datetime(2025, 1, 1, tzinfo=UTC),
        "permissions_boundary_arn": boundary,
    }


def test_statement_actions_expanded_matches_iam_wildcards_case_insensitively() -> None:
    statements = [
        {"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"},  # 0
        {"Effect": "Allow", "Action": ["S3:LISTBUCKET", "s3:NoSuchAction"], "Resource": "*"},  # 1
        {"Effect": "Allow", "NotAction": ["s3:*", "iam:*"], "Resource": "*"},  # 2
        {"Effect": "Allow", "Action": "*", "Resource": "*"},  # 3
        {"Effect": "Allow", "Action": "ec2:Run?nstances", "Resource": "*"},  # 4
        {"Effect": "Allow", "Action": "*:List*", "Resource": "*"},  # 5
    ]
    con = build(
        {
            "raw_iam_inline_policies": [
                _inline("arn:aws:iam::111111111111:user/a", "user", "p", statements)
            ]
        },
        ["int_statement_actions_expanded"],
    )
    got = set(rows(con, "select statement_index, action from int_statement_actions_expanded"))
    everything = {
        "s3:getobject",
        "s3:putobject",
        "s3:listbucket",
        "s3:listallmybuckets",
        "iam:passrole",
        "iam:createuser",
        "ec2:runinstances",
        "lambda:createfunction",
        "cloudwatch:putmetricdata",
    }
    expected = (
        {(0, "s3:getobject")}
        | {(1, "s3:listbucket")}
        | {
            (2, a)
            for a in ("ec2:runinstances", "lambda:createfunction", "cloudwatch:putmetricdata")
        }
        | {(3, a) for a in everything}
        | {(4, "ec2:runinstances")}
        | {(5, "s3:listbucket"), (5, "s3:listallmybuckets")}
    )
    assert got == expected


def test_statements_accept_single_statement_object_and_string_fields() -> None:
    doc = {
        "Version": "2012-10-17",
        "Statement": {
            "Sid": "One",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/*",
            "Condition": {"Bool": {"aws:SecureTransport": "true"}},
        },
    }
    con = build(
        {
            "raw_iam_inline_policies": [
                {
                    "account_id": ACCT,
                    "principal_arn": "arn:aws:iam::111111111111:role/r",
                    "principal_type": "role",
                    "policy_name": "p",
                    "document": json.dumps(doc),
                }
            ]
        },
        ["stg_policy_statements"],
    )
    assert rows(
        con,
        """select statement_index, sid, effect, actions, resources, has_condition,
                        applies_to_all_resources from stg_policy_statements""",
    ) == [(0, "One", "Allow", ["s3:getobject"], ["arn:aws:s3:::b/*"], True, False)]


def _evaluation_inputs() -> dict[str, list[dict]]:
    """A member account under SCPs; a user in a group, with a boundary, denies and conditions."""
    alice = f"arn:aws:iam::{MEMBER}:user/alice"
    bob = f"arn:aws:iam::{MEMBER}:user/bob"
    group = f"arn:aws:iam::{MEMBER}:group/devs"
    boundary = f"arn:aws:iam::{MEMBER}:policy/boundary"
    slr = f"arn:aws:iam::{MEMBER}:role/aws-service-role/ops.amazonaws.com/AWSServiceRoleForOps"
    scp_full = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    scp_deny = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "lambda:*", "Resource": "*"}],
    }
    return {
        "raw_iam_users": [_user("alice", MEMBER, boundary), _user("bob", MEMBER)],
        "raw_iam_roles": [
            {
                "account_id": MEMBER,
                "role_name": "AWSServiceRoleForOps",
                "role_id": "AROASLR",
                "arn": slr,
                "path": "/aws-service-role/ops.amazonaws.com/",
                "create_date": datetime(2025, 1, 1, tzinfo=UTC),
                "is_service_linked": True,
            }
        ],
        "raw_iam_groups": [
            {
                "account_id": MEMBER,
                "group_name": "devs",
                "group_id": "AGPA1",
                "arn": group,
                "path": "/",
            }
        ],
        "raw_iam_group_memberships": [
            {"account_id": MEMBER, "user_arn": alice, "group_arn": group}
        ],
        "raw_iam_policies": [
            _managed(
                f"arn:aws:iam::{MEMBER}:policy/s3-all",
                "s3-all",
                [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
                MEMBER,
            ),
            _managed(
                boundary,
                "boundary",
                [
                    {
                        "Effect": "Allow",
                        "Action": ["s3:*", "lambda:*", "iam:CreateUser"],
                        "Resource": "*",
                    }
                ],
                MEMBER,
            ),
            _managed(
                "arn:aws:iam::aws:policy/Everything",
                "Everything",
                [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
                MEMBER,
            ),
        ],
        "raw_iam_policy_attachments": [
            {
                "account_id": MEMBER,
                "principal_arn": group,
                "principal_type": "group",
                "policy_arn": f"arn:aws:iam::{MEMBER}:policy/s3-all",
            },
            {
                "account_id": MEMBER,
                "principal_arn": bob,
                "principal_type": "user",
                "policy_arn": "arn:aws:iam::aws:policy/Everything",
            },
            {
                "account_id": MEMBER,
                "principal_arn": slr,
                "principal_type": "role",
                "policy_arn": "arn:aws:iam::aws:policy/Everything",
            },
        ],
        "raw_iam_inline_policies": [
            _inline(
                alice,
                "user",
                "extra",
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
                MEMBER,
            ),
        ],
        "raw_org_organization": [
            {
                "organization_id": "o-1",
                "arn": "arn:aws:organizations::111111111111:organization/o-1",
                "management_account_id": ACCT,
                "feature_set": "ALL",
            }
        ],
        "raw_org_accounts": [
            {"account_id": ACCT, "arn": "a1", "name": "mgmt"},
            {"account_id": MEMBER, "arn": "a2", "name": "member"},
        ],
        "raw_org_parents": [
            {"child_id": MEMBER, "parent_id": "ou-1", "parent_type": "ORGANIZATIONAL_UNIT"},
            {"child_id": "ou-1", "parent_id": "r-1", "parent_type": "ROOT"},
            {"child_id": ACCT, "parent_id": "r-1", "parent_type": "ROOT"},
        ],
        "raw_org_policies": [
            {
                "policy_id": "p-FullAWSAccess",
                "arn": "x",
                "name": "FullAWSAccess",
                "type": "SERVICE_CONTROL_POLICY",
                "aws_managed": True,
                "document": json.dumps(scp_full),
            },
            {
                "policy_id": "p-nolambda",
                "arn": "y",
                "name": "NoLambda",
                "type": "SERVICE_CONTROL_POLICY",
                "aws_managed": False,
                "document": json.dumps(scp_deny),
            },
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
        *{
            ("bob", a, False, False)
            for a in (
                "s3:getobject",
                "s3:putobject",
                "s3:listbucket",
                "s3:listallmybuckets",
                "iam:passrole",
                "iam:createuser",
                "ec2:runinstances",
                "cloudwatch:putmetricdata",
            )
        },
        # the service-linked role is not restricted by SCPs.
        *{
            ("AWSServiceRoleForOps", a, False, False)
            for a in (
                "s3:getobject",
                "s3:putobject",
                "s3:listbucket",
                "s3:listallmybuckets",
                "iam:passrole",
                "iam:createuser",
                "ec2:runinstances",
                "lambda:createfunction",
                "cloudwatch:putmetricdata",
            )
        },
    }


def test_conditional_allow_is_kept_as_conditional() -> None:
    inputs = _evaluation_inputs()
    inputs["raw_iam_users"] = [_user("alice", MEMBER)]  # no boundary now
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
