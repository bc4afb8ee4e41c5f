"""Model tests for int_role_trust_principals: each trusted principal classified with its actions
and conditions, and the perimeter Denies that keep a wildcard trust to the callers they name."""

from __future__ import annotations

import json
from typing import Any

from tests.sql.harness import ACCT, build, iam_role, role_arn, rows
from tests.sql.trust_inputs import (
    GITHUB,
    MEMBER,
    TRUST_RULES,
    VENDOR,
    fired_trust_rules,
    trust_allow,
    trust_inputs,
)


def test_trust_principals_are_classified_with_actions_and_conditions() -> None:
    role = iam_role(
        "multi",
        [
            trust_allow(
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
    con = build(trust_inputs([role], ACCT), ["int_role_trust_principals"])
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
        iam_role(
            "aws-example",
            [
                trust_allow({"AWS": "*"}),
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
        iam_role(
            "not-equals",
            [trust_allow("*"), deny({"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}})],
        ),
        iam_role(
            "arn-not-like",
            [
                trust_allow("*", "sts:*"),
                deny({"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCT}:role/*"}}, "sts:*"),
            ],
        ),
        iam_role(
            "accounts",
            [
                trust_allow("*"),
                deny({"StringNotEquals": {"aws:PrincipalAccount": [ACCT, MEMBER]}}, "*"),
            ],
        ),
        # Not restricted: the Deny covers AssumeRole only, the Allow grants web identity too;
        # values admitting any organization; a tag a stranger can set; plain Bool (unsigned
        # web-identity calls carry no aws:PrincipalIsAWSService); ForAnyValue; the Deny names
        # one account; a positive operator.
        iam_role(
            "partial",
            [
                trust_allow("*", ["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity"]),
                deny({**org_only, **services}),
            ],
        ),
        iam_role(
            "wild-org", [trust_allow("*"), deny({"StringNotLike": {"aws:PrincipalOrgID": "o-*"}})]
        ),
        iam_role(
            "tag-exception",
            [
                trust_allow("*"),
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
        iam_role(
            "plain-bool",
            [trust_allow("*"), deny({**org_only, "Bool": {"aws:PrincipalIsAWSService": "false"}})],
        ),
        iam_role(
            "any-value",
            [
                trust_allow("*"),
                deny({"ForAnyValue:StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}}),
            ],
        ),
        iam_role("named-deny", [trust_allow("*"), deny(org_only, principal={"AWS": VENDOR})]),
        iam_role(
            "positive", [trust_allow("*"), deny({"StringEquals": {"aws:PrincipalOrgID": "o-abc"}})]
        ),
    ]
    con = build(trust_inputs(roles, ACCT), TRUST_RULES)
    assert fired_trust_rules(con) == {
        ("trust-wildcard-principal", role_arn(name))
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
        f"where resource_arn = '{role_arn('partial')}'",
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


def _trust_rows(principal: Any, partition: str = "aws") -> set[tuple]:
    role = iam_role("cross", [trust_allow(principal)])
    if partition != "aws":
        role["arn"] = role["arn"].replace("arn:aws:", f"arn:{partition}:")
    con = build(
        trust_inputs([role], ACCT),
        ["int_role_trust_principals", "det_cross_account_trust_without_external_id"],
    )
    trust = rows(con, "select * exclude (policy_key) from int_role_trust_principals")
    fired = rows(
        con,
        "select resource_arn, title, evidence from det_cross_account_trust_without_external_id",
    )
    return {tuple(str(v) for v in r) for r in [*trust, *fired]}


def test_a_bare_account_id_is_its_root_as_aws_stores_it() -> None:
    # `"AWS": "<id>"` is `arn:aws:iam::<id>:root` (IAM stores the ARN): the same rows, evidence
    # included, whichever way the snapshot spells it.
    as_arn = _trust_rows({"AWS": f"arn:aws:iam::{VENDOR}:root"})
    assert any(f"arn:aws:iam::{VENDOR}:root" in "|".join(r) for r in as_arn)
    assert _trust_rows({"AWS": VENDOR}) == as_arn
    # Both spellings in one statement are one principal.
    assert _trust_rows({"AWS": [VENDOR, f"arn:aws:iam::{VENDOR}:root"]}) == as_arn
    # In another partition, the root of that partition.
    cn = _trust_rows({"AWS": VENDOR}, partition="aws-cn")
    assert cn == _trust_rows({"AWS": f"arn:aws-cn:iam::{VENDOR}:root"}, partition="aws-cn")
    assert any(f"arn:aws-cn:iam::{VENDOR}:root" in "|".join(r) for r in cn)
