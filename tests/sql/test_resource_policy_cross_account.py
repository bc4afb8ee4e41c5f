"""Model tests for the rule cross-account-resource-policy: the accounts and organizations a
resource policy lets in, by principal or by a restricting condition of a grant to anyone, their
organization membership, the perimeter Denies over them, and the title and severity."""

from __future__ import annotations

import json
from typing import Any

from tests.sql.harness import build, organization, rows
from tests.sql.resource_policy_inputs import (
    ACCT,
    CATALOG,
    FUNCTION_ARN,
    MEMBER,
    ORG,
    ORG_ACCOUNTS,
    OUTSIDER,
    REGION,
    SECRET_SHARED_ARN,
    TOPIC_ARN,
    build_scenario,
    detections,
    policy_doc,
    regional_arn,
    resource_policy,
)


def test_cross_account_resource_policy_names_accounts_and_organization_membership():
    con = build_scenario(["det_cross_account_resource_policy"])
    reader = f"arn:aws:iam::{OUTSIDER}:role/reader"
    read_value = "secretsmanager:getsecretvalue"
    assert detections(con, "cross-account-resource-policy") == {
        TOPIC_ARN: (
            "sns_topic",
            ACCT,
            None,
            "SNS topic t-member grants access to 1 other account(s)",
            {
                "resource_name": "t-member",
                "region": REGION,
                "assessed_severity": "medium",
                "outside_organization_accounts": [],
                "external_accounts": [
                    {
                        "account_id": MEMBER,
                        "in_organization": True,
                        "principals": [f"arn:aws:iam::{MEMBER}:root"],
                        "via": ["principal"],
                        "statements": [0],
                        "actions": ["sns:publish"],
                        "action_count": 1,
                        "conditional": False,
                        "condition_keys": [],
                        "perimeter_deny_statements": [],
                    }
                ],
                "external_organizations": [],
            },
        ),
        FUNCTION_ARN: (
            "lambda_function",
            ACCT,
            None,
            "Lambda function fn-partner grants access to 1 other account(s), "
            "1 outside the organization",
            {
                "resource_name": "fn-partner",
                "region": REGION,
                "assessed_severity": "high",
                "outside_organization_accounts": [OUTSIDER],
                "external_accounts": [
                    {
                        "account_id": OUTSIDER,
                        "in_organization": False,
                        "principals": [OUTSIDER],
                        "via": ["principal"],
                        "statements": [0],
                        "actions": ["lambda:invokefunction"],
                        "action_count": 1,
                        "conditional": True,
                        "condition_keys": ["aws:principaltag/team"],
                        "perimeter_deny_statements": [],
                    }
                ],
                "external_organizations": [],
            },
        ),
        SECRET_SHARED_ARN: (
            "secretsmanager_secret",
            ACCT,
            None,
            "Secrets Manager secret shared grants access to 2 other account(s), "
            "1 outside the organization",
            {
                "resource_name": "shared",
                "region": REGION,
                "assessed_severity": "high",
                "outside_organization_accounts": [OUTSIDER],
                "external_accounts": [
                    {
                        "account_id": MEMBER,
                        "in_organization": True,
                        "principals": [MEMBER],
                        "via": ["principal"],
                        "statements": [0],
                        "actions": [read_value],
                        "action_count": 1,
                        "conditional": False,
                        "condition_keys": [],
                        "perimeter_deny_statements": [],
                    },
                    {
                        "account_id": OUTSIDER,
                        "in_organization": False,
                        "principals": [reader],
                        "via": ["principal"],
                        "statements": [0],
                        "actions": [read_value],
                        "action_count": 1,
                        "conditional": False,
                        "condition_keys": [],
                        "perimeter_deny_statements": [],
                    },
                ],
                "external_organizations": [],
            },
        ),
    }


def test_cross_account_evidence_names_the_perimeter_over_an_accounts_grant():
    document = policy_doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": [OUTSIDER, MEMBER]},
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*",
        },
        {
            "Sid": "OrgOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "secretsmanager:*",
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": ORG}},
        },
    )
    policy = {**resource_policy("secretsmanager", "secretsmanager_secret", "s", SECRET_SHARED_ARN)}
    policy["document"] = document
    con = build(
        {
            "raw_resource_policies": [policy],
            "raw_org_accounts": ORG_ACCOUNTS,
            "ref_iam_actions": CATALOG,
        },
        ["det_cross_account_resource_policy"],
    )
    ((evidence,),) = rows(con, "select evidence from det_cross_account_resource_policy")
    assert [
        (a["account_id"], a["perimeter_deny_statements"])
        for a in json.loads(evidence)["external_accounts"]
    ] == [(MEMBER, [1]), (OUTSIDER, [1])]


# Allow-to-anyone statements restricted by a condition that names the callers' accounts or
# organization: not public, but another account (organization) gets in. name -> (statements,
# expected condition_accounts of the Allow statement 0 as (account, key, in organization),
# expected condition_organizations as (organization, key, is own organization)).
OTHER_ORG = "o-other"
OWN_ORGANIZATION = organization("o-1", ACCT)


def _to_anyone(condition: dict[str, Any], principal: Any = "*") -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": principal,
        "Action": "sqs:SendMessage",
        "Resource": "*",
        "Condition": condition,
    }


CONDITION_GRANTS: dict[str, tuple[list[dict[str, Any]], tuple, tuple]] = {
    "principal-account": (
        [_to_anyone({"StringEquals": {"aws:PrincipalAccount": [OUTSIDER, MEMBER]}})],
        ((MEMBER, "aws:principalaccount", True), (OUTSIDER, "aws:principalaccount", False)),
        (),
    ),
    "source-account": (
        [_to_anyone({"StringEquals": {"AWS:SourceAccount": OUTSIDER}})],
        ((OUTSIDER, "aws:sourceaccount", False),),
        (),
    ),
    "caller-account": (
        [_to_anyone({"StringEquals": {"kms:CallerAccount": OUTSIDER}})],
        ((OUTSIDER, "kms:calleraccount", False),),
        (),
    ),
    "principal-arn": (
        [_to_anyone({"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{OUTSIDER}:role/x*"}})],
        ((OUTSIDER, "aws:principalarn", False),),
        (),
    ),
    # Two entries, both restricting (a caller must satisfy both): each names an account.
    "source-arn-and-account": (
        [
            _to_anyone(
                {
                    "ArnEquals": {"aws:SourceArn": f"arn:aws:sns:{REGION}:{MEMBER}:t"},
                    "StringEquals": {"aws:SourceAccount": MEMBER},
                }
            )
        ],
        ((MEMBER, "aws:sourceaccount", True), (MEMBER, "aws:sourcearn", True)),
        (),
    ),
    # The account is also named as a principal by another statement.
    "named-too": (
        [
            _to_anyone({"StringEquals": {"aws:PrincipalAccount": OUTSIDER}}),
            _to_anyone({}, principal={"AWS": f"arn:aws:iam::{OUTSIDER}:root"}),
        ],
        ((OUTSIDER, "aws:principalaccount", False),),
        (),
    ),
    # The resource's own account: in the model, not cross-account.
    "own-account": (
        [_to_anyone({"StringEquals": {"aws:SourceAccount": ACCT}})],
        ((ACCT, "aws:sourceaccount", True),),
        (),
    ),
    "other-org": (
        [_to_anyone({"StringEquals": {"aws:PrincipalOrgID": OTHER_ORG}})],
        (),
        ((OTHER_ORG, "aws:principalorgid", False),),
    ),
    "other-org-path": (
        [_to_anyone({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-path/r-ab/ou-*"}})],
        (),
        (("o-path", "aws:principalorgpaths", False),),
    ),
    "own-org": (
        [_to_anyone({"StringEquals": {"aws:PrincipalOrgID": "o-1"}})],
        (),
        (("o-1", "aws:principalorgid", True),),
    ),
    # No account in the value: a literal `*` account, an S3 bucket ARN.
    "star-account-field": (
        [_to_anyone({"StringEquals": {"aws:PrincipalArn": "arn:aws:iam::*:role/x"}})],
        (),
        (),
    ),
    "bucket-arn": ([_to_anyone({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::b"}})], (), ()),
    # Not restricting (public, the public rule's): wildcard account, IfExists, negated, a
    # principal other than anyone, a Deny.
    "wild-arn": (
        [_to_anyone({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/x"}})],
        (),
        (),
    ),
    "if-exists": (
        [_to_anyone({"StringEqualsIfExists": {"aws:PrincipalAccount": OUTSIDER}})],
        (),
        (),
    ),
    "not-equals": ([_to_anyone({"StringNotEquals": {"aws:PrincipalAccount": OUTSIDER}})], (), ()),
    "member-principal": (
        [_to_anyone({"StringEquals": {"aws:SourceAccount": OUTSIDER}}, principal={"AWS": MEMBER})],
        (),
        (),
    ),
    # Taken back by an unconditional Deny: the model keeps the accounts, the rule skips them.
    "denied": (
        [
            _to_anyone({"StringEquals": {"aws:PrincipalAccount": OUTSIDER}}),
            {"Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": "*"},
        ],
        ((OUTSIDER, "aws:principalaccount", False),),
        (),
    ),
}


def _condition_build(targets: list[str]):
    policies = [
        resource_policy("sqs", "sqs_queue", name, regional_arn("sqs", name), *statements)
        for name, (statements, _, _) in CONDITION_GRANTS.items()
    ]
    return build(
        {
            "raw_resource_policies": policies,
            "raw_org_accounts": ORG_ACCOUNTS,
            "raw_org_organization": OWN_ORGANIZATION,
            "ref_iam_actions": CATALOG,
        },
        targets,
    )


def test_grants_to_anyone_list_the_accounts_and_organizations_their_conditions_name():
    con = _condition_build(["int_resource_policy_grants"])
    got = rows(
        con,
        """select resource_name, statement_index, condition_accounts, condition_organizations,
                  is_public
           from int_resource_policy_grants where action = 'sqs:sendmessage'""",
    )
    assert len(got) == len({(r[0], r[1]) for r in got})
    expected_public = {"wild-arn", "if-exists", "not-equals"}
    assert {
        (
            r[0],
            r[1],
            tuple((a["account_id"], a["condition_key"], a["in_organization"]) for a in r[2]),
            tuple(
                (o["organization_id"], o["condition_key"], o["is_own_organization"]) for o in r[3]
            ),
            r[4],
        )
        for r in got
    } == {
        (name, 0, accounts, organizations, name in expected_public)
        for name, (_, accounts, organizations) in CONDITION_GRANTS.items()
    } | {
        ("named-too", 1, (), (), False),
        ("denied", 1, (), (), False),
    }


def test_cross_account_rule_counts_accounts_and_organizations_named_by_conditions():
    con = _condition_build(["det_cross_account_resource_policy"])
    got = detections(con, "cross-account-resource-policy")
    summary = {
        arn.rsplit(":", 1)[1]: (
            title,
            evidence["assessed_severity"],
            evidence["outside_organization_accounts"],
            [
                (a["account_id"], a["in_organization"], a["principals"], a["via"], a["statements"])
                for a in evidence["external_accounts"]
            ],
            [
                (o["organization_id"], o["via"], o["statements"], o["actions"])
                for o in evidence["external_organizations"]
            ],
        )
        for arn, (_, _, _, title, evidence) in got.items()
    }
    principal_account = "condition:aws:principalaccount"
    assert summary == {
        "principal-account": (
            "SQS queue principal-account grants access to 2 other account(s), "
            "1 outside the organization",
            "high",
            [OUTSIDER],
            [
                (MEMBER, True, ["*"], [principal_account], [0]),
                (OUTSIDER, False, ["*"], [principal_account], [0]),
            ],
            [],
        ),
        "source-account": (
            "SQS queue source-account grants access to 1 other account(s), "
            "1 outside the organization",
            "high",
            [OUTSIDER],
            [(OUTSIDER, False, ["*"], ["condition:aws:sourceaccount"], [0])],
            [],
        ),
        "caller-account": (
            "SQS queue caller-account grants access to 1 other account(s), "
            "1 outside the organization",
            "high",
            [OUTSIDER],
            [(OUTSIDER, False, ["*"], ["condition:kms:calleraccount"], [0])],
            [],
        ),
        "principal-arn": (
            "SQS queue principal-arn grants access to 1 other account(s), "
            "1 outside the organization",
            "high",
            [OUTSIDER],
            [(OUTSIDER, False, ["*"], ["condition:aws:principalarn"], [0])],
            [],
        ),
        "source-arn-and-account": (
            "SQS queue source-arn-and-account grants access to 1 other account(s)",
            "medium",
            [],
            [
                (
                    MEMBER,
                    True,
                    ["*"],
                    ["condition:aws:sourceaccount", "condition:aws:sourcearn"],
                    [0],
                )
            ],
            [],
        ),
        "named-too": (
            "SQS queue named-too grants access to 1 other account(s), 1 outside the organization",
            "high",
            [OUTSIDER],
            [
                (
                    OUTSIDER,
                    False,
                    ["*", f"arn:aws:iam::{OUTSIDER}:root"],
                    [principal_account, "principal"],
                    [0, 1],
                )
            ],
            [],
        ),
        "other-org": (
            "SQS queue other-org grants access to 1 other organization(s)",
            "high",
            [],
            [],
            [(OTHER_ORG, ["condition:aws:principalorgid"], [0], ["sqs:sendmessage"])],
        ),
        "other-org-path": (
            "SQS queue other-org-path grants access to 1 other organization(s)",
            "high",
            [],
            [],
            [("o-path", ["condition:aws:principalorgpaths"], [0], ["sqs:sendmessage"])],
        ),
        "member-principal": (
            "SQS queue member-principal grants access to 1 other account(s)",
            "medium",
            [],
            [(MEMBER, True, [MEMBER], ["principal"], [0])],
            [],
        ),
    }
    # The whole evidence of a condition-named account.
    assert got[regional_arn("sqs", "source-account")][4]["external_accounts"] == [
        {
            "account_id": OUTSIDER,
            "in_organization": False,
            "principals": ["*"],
            "via": ["condition:aws:sourceaccount"],
            "statements": [0],
            "actions": ["sqs:sendmessage"],
            "action_count": 1,
            "conditional": True,
            "condition_keys": ["aws:sourceaccount"],
            "perimeter_deny_statements": [],
        }
    ]


def test_a_statement_naming_an_account_and_another_organization_reports_both():
    policy = resource_policy(
        "sqs",
        "sqs_queue",
        "both",
        regional_arn("sqs", "both"),
        _to_anyone(
            {"StringEquals": {"aws:PrincipalAccount": OUTSIDER, "aws:PrincipalOrgID": OTHER_ORG}}
        ),
    )
    con = build(
        {
            "raw_resource_policies": [policy],
            "raw_org_accounts": ORG_ACCOUNTS,
            "raw_org_organization": OWN_ORGANIZATION,
            "ref_iam_actions": CATALOG,
        },
        ["det_cross_account_resource_policy"],
    )
    assert rows(con, "select severity, title from det_cross_account_resource_policy") == [
        (
            "high",
            "SQS queue both grants access to 1 other account(s), 1 outside the organization "
            "and 1 other organization(s)",
        )
    ]
