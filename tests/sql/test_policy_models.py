"""Model tests for policy normalization, wildcard expansion and the evaluation logic."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.sql.harness import SMALL_CATALOG, build, catalog_rows, rows

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


def _single_user_inputs(statements: list[dict], *, user: str = "u") -> dict[str, list[dict]]:
    """One user of a standalone account (no organization) with one inline policy."""
    return {
        "raw_iam_users": [_user(user)],
        "raw_iam_inline_policies": [
            _inline(f"arn:aws:iam::{ACCT}:user/{user}", "user", "p", statements)
        ],
    }


def _scope(con) -> set[tuple]:
    return {
        (action, tuple(granted), tuple(denied), scope, conditional, partial)
        for action, granted, denied, scope, conditional, partial in rows(
            con,
            """select action, granted_resources, denied_resources, resource_scope,
                      is_conditional, has_partial_deny
               from effective_permissions""",
        )
    }


def test_deny_is_evaluated_with_its_own_resource() -> None:
    statements = [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
        {
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": ["arn:aws:s3:::b/*", "arn:aws:s3:::c/*"],
        },
        {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b*"},
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::secret"},
    ]
    con = build(_single_user_inputs(statements), ["effective_permissions"])
    assert _scope(con) == {
        # the Deny covers the whole grant: the action is gone
        # the Deny covers one of the two granted patterns: the other stays
        ("s3:putobject", ("arn:aws:s3:::c/*",), ("arn:aws:s3:::b*",), "scoped", False, True),
        # a Deny on one bucket leaves "*" granted (all other resources)
        ("s3:listbucket", ("*",), ("arn:aws:s3:::secret",), "all", False, True),
    }


def test_resource_patterns_match_case_sensitively_with_only_star_and_question_mark() -> None:
    statements = [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::Bucket/*"},
        # differs in case: does not cover the grant
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"},
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/*"},
        # `?` is one character: it does not cover everything `*` grants
        {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/?"},
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b_1"},
        # `_` and `%` are not wildcards in IAM
        {"Effect": "Deny", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b%"},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::1:role/r1"},
        {"Effect": "Deny", "Action": "iam:PassRole", "Resource": "arn:aws:iam::1:role/r?"},
    ]
    con = build(_single_user_inputs(statements), ["effective_permissions"])
    assert _scope(con) == {
        (
            "s3:getobject",
            ("arn:aws:s3:::Bucket/*",),
            ("arn:aws:s3:::bucket/*",),
            "scoped",
            False,
            True,
        ),
        ("s3:putobject", ("arn:aws:s3:::b/*",), ("arn:aws:s3:::b/?",), "scoped", False, True),
        ("s3:listbucket", ("arn:aws:s3:::b_1",), ("arn:aws:s3:::b%",), "scoped", False, True),
    }


def test_conditional_deny_makes_the_grant_conditional_and_keeps_its_keys() -> None:
    statements = [
        {"Effect": "Allow", "Action": ["ec2:RunInstances", "s3:GetObject"], "Resource": "*"},
        {
            "Effect": "Deny",
            "Action": "ec2:RunInstances",
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}},
        },
        {
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": "*",
            "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
        },
    ]
    con = build(_single_user_inputs(statements), ["effective_permissions"])
    got = rows(
        con,
        "select action, is_conditional, has_partial_deny, condition_keys "
        "from effective_permissions",
    )
    assert {(a, c, p, tuple(k)) for a, c, p, k in got} == {
        ("ec2:runinstances", True, True, ("aws:requestedregion",)),
        ("s3:getobject", False, False, ()),
        ("iam:passrole", True, False, ("iam:passedtoservice",)),
    }


def test_not_resource_grant_and_scp_deny_on_named_resources() -> None:
    inputs = _evaluation_inputs()
    bob = f"arn:aws:iam::{MEMBER}:user/bob"
    inputs["raw_iam_inline_policies"].append(
        _inline(
            bob,
            "user",
            "scoped",
            [{"Effect": "Allow", "Action": "lambda:CreateFunction", "NotResource": "arn:x"}],
            MEMBER,
        )
    )
    # An SCP Deny on the bucket "audit" (objects and bucket) at the OU.
    inputs["raw_org_policies"].append(
        {
            "policy_id": "p-audit",
            "arn": "z",
            "name": "ProtectAudit",
            "type": "SERVICE_CONTROL_POLICY",
            "aws_managed": False,
            "document": json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Deny",
                            "Action": "s3:PutObject",
                            "Resource": ["arn:aws:s3:::audit", "arn:aws:s3:::audit/*"],
                        }
                    ],
                }
            ),
        }
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


def test_policy_variables_are_substituted_per_principal() -> None:
    policy = _managed(
        f"arn:aws:iam::{ACCT}:policy/home",
        "home",
        [
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::home/${aws:username}/*",
            },
            {
                "Effect": "Deny",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::home/${AWS:UserName}/private/*",
            },
        ],
    )
    inputs = {
        "raw_iam_users": [_user("ann_1"), _user("ben")],
        "raw_iam_policies": [policy],
        "raw_iam_policy_attachments": [
            {
                "account_id": ACCT,
                "principal_arn": f"arn:aws:iam::{ACCT}:user/{u}",
                "principal_type": "user",
                "policy_arn": policy["policy_arn"],
            }
            for u in ("ann_1", "ben")
        ],
    }
    con = build(inputs, ["effective_permissions"])
    assert {
        (p, tuple(g), tuple(d))
        for p, g, d in rows(
            con,
            """select split_part(principal_arn, '/', -1), granted_resources, denied_resources
               from effective_permissions""",
        )
    } == {
        ("ann_1", ("arn:aws:s3:::home/ann_1/*",), ("arn:aws:s3:::home/ann_1/private/*",)),
        ("ben", ("arn:aws:s3:::home/ben/*",), ("arn:aws:s3:::home/ben/private/*",)),
    }


def test_principals_with_the_same_policy_set_share_one_computation() -> None:
    policy = _managed(
        f"arn:aws:iam::{ACCT}:policy/ro",
        "ro",
        [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}],
    )
    roles = [
        {
            "account_id": ACCT,
            "role_name": name,
            "role_id": "AROA" + name.upper(),
            "arn": f"arn:aws:iam::{ACCT}:role/{name}",
            "path": "/",
            "create_date": datetime(2025, 1, 1, tzinfo=UTC),
            "is_service_linked": False,
        }
        for name in ("a", "b", "c")
    ]
    inputs = {
        "raw_iam_roles": roles,
        "raw_iam_policies": [policy],
        "raw_iam_policy_attachments": [
            {
                "account_id": ACCT,
                "principal_arn": r["arn"],
                "principal_type": "role",
                "policy_arn": policy["policy_arn"],
            }
            for r in roles
        ],
        # role c also has an inline policy: a set of its own
        "raw_iam_inline_policies": [
            _inline(
                roles[2]["arn"],
                "role",
                "extra",
                [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}],
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


def test_resource_policy_grants_name_principal_scope_and_actions() -> None:
    role_arn = f"arn:aws:iam::{ACCT}:role/deploy"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:aws:iam::{MEMBER}:root", "333333333333"]},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": "x"}},
            },
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            },
        ],
    }
    bucket = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCT}:user/u"},
                "Action": "s3:Get*",
                "Resource": "arn:aws:s3:::b/*",
            },
            {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "*"},
        ],
    }
    con = build(
        {
            "raw_iam_roles": [
                {
                    "account_id": ACCT,
                    "role_name": "deploy",
                    "role_id": "AROAD",
                    "arn": role_arn,
                    "path": "/",
                    "assume_role_policy_document": json.dumps(trust),
                    "is_service_linked": False,
                }
            ],
            "raw_s3_bucket_policies": [
                {"account_id": ACCT, "bucket": "b", "document": json.dumps(bucket)}
            ],
            "ref_iam_actions": catalog_rows([*SMALL_CATALOG, ("sts:AssumeRole", "Write")]),
        },
        ["int_resource_policy_grants"],
    )
    got = rows(
        con,
        """select resource_arn, policy_kind, effect, principal, principal_scope,
                  principal_account_id, action, is_conditional, condition_keys
           from int_resource_policy_grants""",
    )
    assert {(*r[:-1], tuple(r[-1])) for r in got} == {
        (
            role_arn,
            "trust",
            "Allow",
            f"arn:aws:iam::{MEMBER}:root",
            "account",
            MEMBER,
            "sts:assumerole",
            True,
            ("sts:externalid",),
        ),
        (
            role_arn,
            "trust",
            "Allow",
            "333333333333",
            "account",
            "333333333333",
            "sts:assumerole",
            True,
            ("sts:externalid",),
        ),
        (
            role_arn,
            "trust",
            "Allow",
            "ec2.amazonaws.com",
            "service",
            None,
            "sts:assumerole",
            False,
            (),
        ),
        (
            "arn:aws:s3:::b",
            "resource",
            "Allow",
            f"arn:aws:iam::{ACCT}:user/u",
            "principal",
            ACCT,
            "s3:getobject",
            False,
            (),
        ),
        ("arn:aws:s3:::b", "resource", "Deny", "*", "anyone", None, "s3:putobject", False, ()),
    }
