"""Model tests for int_resource_policy_grants (every resource type of the shared resource-policy
scenario with its scope flags; trust and bucket policies with principal scope and actions), and
what the rules public-resource-policy and cross-account-resource-policy share: nothing without
policies, their own severities."""

from __future__ import annotations

from tests.sql.harness import (
    SMALL_CATALOG,
    bucket_policy,
    build,
    catalog_rows,
    iam_role,
    reference_rows,
    rows,
)
from tests.sql.resource_policy_inputs import (
    ACCT,
    BUCKET_ARN,
    CATALOG,
    INPUTS,
    MEMBER,
    OUTSIDER,
    REGION,
    ROLE,
    build_scenario,
)


def test_grants_cover_every_resource_type_with_scope_flags():
    con = build_scenario(["int_resource_policy_grants"])
    got = rows(
        con,
        """select resource_type, resource_name, region, statement_index, effect, principal,
                  principal_scope, principal_account_id, action, access_level,
                  restricting_condition_keys, is_public, is_cross_account,
                  principal_in_organization, denied_unconditionally
           from int_resource_policy_grants""",
    )
    fn_partner = ("lambda_function", "fn-partner", REGION)
    secret = ("secretsmanager_secret", "prod/db", REGION)
    shared = ("secretsmanager_secret", "shared", REGION)
    key = ("kms_key", "k-restricted", REGION)
    key_open = ("kms_key", "k-open", REGION)
    outsider_reader = f"arn:aws:iam::{OUTSIDER}:role/reader"
    root = f"arn:aws:iam::{ACCT}:root"
    read_value = "secretsmanager:getsecretvalue"
    restricted = ("kms:calleraccount",)
    expected = {
        (*key, 0, "Allow", "*", "anyone", None, "kms:decrypt", "Write", restricted,
         False, False, None, False),
        (*key, 0, "Allow", "*", "anyone", None, "kms:describekey", "Read", restricted,
         False, False, None, False),
        *{
            (*key, 1, "Allow", root, "account", ACCT, a, level, (), False, False, True, False)
            for a, level in (
                ("kms:decrypt", "Write"),
                ("kms:describekey", "Read"),
                ("kms:putkeypolicy", "Permissions management"),
            )
        },
        (*key_open, 0, "Allow", "*", "anyone", None, "kms:describekey", "Read", (),
         True, False, None, False),
        (*key_open, 0, "Allow", "*", "anyone", None, "kms:putkeypolicy",
         "Permissions management", (), True, False, None, False),
        ("sqs_queue", "q-source", REGION, 0, "Allow", "*", "anyone", None, "sqs:sendmessage",
         "Write", ("aws:sourcearn",), False, False, None, False),
        ("sqs_queue", "q-open", REGION, 0, "Allow", "*", "anyone", None, "sqs:receivemessage",
         "Read", (), True, False, None, False),
        ("sqs_queue", "q-open", REGION, 0, "Allow", "*", "anyone", None, "sqs:sendmessage",
         "Write", (), True, False, None, False),
        ("sns_topic", "t-member", REGION, 0, "Allow", f"arn:aws:iam::{MEMBER}:root", "account",
         MEMBER, "sns:publish", "Write", (), False, True, True, False),
        (*fn_partner, 0, "Allow", OUTSIDER, "account", OUTSIDER, "lambda:invokefunction",
         "Write", (), False, True, False, False),
        (*fn_partner, 1, "Allow", "s3.amazonaws.com", "service", None, "lambda:invokefunction",
         "Write", ("aws:sourceaccount",), False, False, None, False),
        (*secret, 0, "Allow", "*", "anyone", None, read_value, "Read", (), True, False, None,
         True),
        (*secret, 1, "Allow", outsider_reader, "principal", OUTSIDER, read_value, "Read", (),
         False, True, False, True),
        (*secret, 2, "Deny", "*", "anyone", None, read_value, "Read", (), False, False, None,
         False),
        (*shared, 0, "Allow", outsider_reader, "principal", OUTSIDER, read_value, "Read", (),
         False, True, False, False),
        (*shared, 0, "Allow", MEMBER, "account", MEMBER, read_value, "Read", (), False, True,
         True, False),
        (*shared, 0, "Allow", root, "account", ACCT, read_value, "Read", (), False, False, True,
         False),
        (*shared, 1, "Deny", f"arn:aws:iam::{OUTSIDER}:role/other", "principal", OUTSIDER,
         read_value, "Read", (), False, True, False, False),
        ("s3_bucket", "public-read", None, 0, "Allow", "*", "anyone", None, "s3:getobject",
         "Read", (), True, False, None, False),
        *{
            ("s3_bucket", "public-read", None, 1, "Deny", "*", "anyone", None, a, level, (),
             False, False, None, False)
            for a, level in (("s3:getobject", "Read"), ("s3:putobject", "Write"))
        },
        ("iam_role", "anyone", None, 0, "Allow", "*", "anyone", None, "sts:assumerole",
         "Write", (), True, False, None, False),
    }  # fmt: skip
    assert {(*r[:10], tuple(r[10]), *r[11:]) for r in got} == expected
    assert len(got) == len(expected)


def test_rules_return_nothing_without_resource_policies():
    con = build(
        {"raw_iam_roles": [ROLE], "ref_iam_actions": CATALOG},
        ["det_public_resource_policy", "det_cross_account_resource_policy"],
    )
    assert rows(con, "select * from det_public_resource_policy") == []
    assert rows(con, "select * from det_cross_account_resource_policy") == []


def test_detections_take_each_resource_rules_own_severity_over_the_registry_default():
    con = build(
        {**INPUTS, "ref_detection_rules": reference_rows("ref_detection_rules")},
        ["int_detections_current"],
    )
    got = rows(
        con,
        """select rule_id, resource_arn, severity from int_detections_current
           where rule_id in ('public-resource-policy', 'cross-account-resource-policy')""",
    )
    for rule_id in ("public-resource-policy", "cross-account-resource-policy"):
        assessed = rows(
            con,
            f"""select resource_arn, json_extract_string(evidence, '$.assessed_severity')
                from det_{rule_id.replace("-", "_")}""",
        )
        assert {(r[1], r[2]) for r in got if r[0] == rule_id} == set(assessed)
    # Both severities of each rule occur among the inputs, so the registry's one is overridden.
    assert {(r[0], r[2]) for r in got} == {
        ("public-resource-policy", "critical"),
        ("public-resource-policy", "high"),
        ("cross-account-resource-policy", "high"),
        ("cross-account-resource-policy", "medium"),
    }
    assert (BUCKET_ARN, "high") in {(r[1], r[2]) for r in got}


def test_resource_policy_grants_name_principal_scope_and_actions() -> None:
    role_arn = f"arn:aws:iam::{ACCT}:role/deploy"
    trust = [
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
    ]
    bucket = [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCT}:user/u"},
            "Action": "s3:Get*",
            "Resource": "arn:aws:s3:::b/*",
        },
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "*"},
    ]
    con = build(
        {
            "raw_iam_roles": [iam_role("deploy", trust)],
            "raw_s3_bucket_policies": [bucket_policy("b", bucket)],
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
