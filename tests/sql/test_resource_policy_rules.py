"""Model tests for resource-based policies beyond S3: int_resource_policy_grants and the rules
public-resource-policy and cross-account-resource-policy (hand-written policies -> expected rows).
"""

from __future__ import annotations

import json
from typing import Any

from tests.sql.harness import build, catalog_rows, rows

ACCT = "111111111111"  # owns every resource below
MEMBER = "222222222222"  # another account of the organization
OUTSIDER = "999999999999"  # not in the organization
REGION = "us-east-1"

CATALOG = catalog_rows(
    [
        ("s3:GetObject", "Read"),
        ("s3:PutObject", "Write"),
        ("kms:Decrypt", "Write"),
        ("kms:DescribeKey", "Read"),
        ("kms:PutKeyPolicy", "Permissions management"),
        ("sqs:SendMessage", "Write"),
        ("sqs:ReceiveMessage", "Read"),
        ("sns:Publish", "Write"),
        ("lambda:InvokeFunction", "Write"),
        ("secretsmanager:GetSecretValue", "Read"),
        ("sts:AssumeRole", "Write"),
    ]
)

ORG_ACCOUNTS = [
    {"account_id": a, "arn": f"arn:aws:organizations::{ACCT}:account/o-1/{a}", "name": a}
    for a in (ACCT, MEMBER)
]


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _policy(service: str, resource_type: str, name: str, arn: str, *statements: dict) -> dict:
    return {
        "account_id": ACCT,
        "region": REGION,
        "service": service,
        "resource_type": resource_type,
        "resource_name": name,
        "resource_arn": arn,
        "document": _doc(*statements),
        "source_file": f"{ACCT}/{REGION}/{service}/x/{name}.json",
    }


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCT}:{resource}"


KEY_ARN = _arn("kms", "key/k-restricted")
KEY_OPEN_ARN = _arn("kms", "key/k-open")
QUEUE_SOURCE_ARN = _arn("sqs", "q-source")
QUEUE_OPEN_ARN = _arn("sqs", "q-open")
TOPIC_ARN = _arn("sns", "t-member")
FUNCTION_ARN = _arn("lambda", "function:fn-partner")
SECRET_DENIED_ARN = _arn("secretsmanager", "secret:prod/db")
SECRET_SHARED_ARN = _arn("secretsmanager", "secret:shared")
BUCKET_ARN = "arn:aws:s3:::public-read"
ROLE_ARN = f"arn:aws:iam::{ACCT}:role/anyone"

RESOURCE_POLICIES = [
    # The usual AWS-managed key pattern: anyone, but only callers of this account.
    _policy(
        "kms",
        "kms_key",
        "k-restricted",
        KEY_ARN,
        {
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["kms:Decrypt", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:CallerAccount": ACCT, "kms:ViaService": "s3.x"}},
        },
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
    ),
    # Anyone may read the key and change its policy: permissions management -> critical.
    _policy(
        "kms",
        "kms_key",
        "k-open",
        KEY_OPEN_ARN,
        {
            "Sid": "Everyone",
            "Effect": "Allow",
            "Principal": "*",
            "Action": ["kms:DescribeKey", "kms:PutKeyPolicy"],
            "Resource": "*",
        },
    ),
    # Restricted by aws:SourceArn: not public.
    _policy(
        "sqs",
        "sqs_queue",
        "q-source",
        QUEUE_SOURCE_ARN,
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "sqs:SendMessage",
            "Resource": QUEUE_SOURCE_ARN,
            "Condition": {"ArnEquals": {"aws:SourceArn": TOPIC_ARN}},
        },
    ),
    # ...IfExists does not restrict (a caller without the key passes): public, with write.
    _policy(
        "sqs",
        "sqs_queue",
        "q-open",
        QUEUE_OPEN_ARN,
        {
            "Sid": "Open",
            "Effect": "Allow",
            "Principal": {"AWS": ["*"]},
            "Action": "sqs:*",
            "Resource": QUEUE_OPEN_ARN,
            "Condition": {"StringEqualsIfExists": {"aws:SourceAccount": ACCT}},
        },
    ),
    # Cross-account, inside the organization.
    _policy(
        "sns",
        "sns_topic",
        "t-member",
        TOPIC_ARN,
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{MEMBER}:root"},
            "Action": "sns:Publish",
            "Resource": TOPIC_ARN,
        },
    ),
    # Cross-account outside the organization (conditional), and a service principal.
    _policy(
        "lambda",
        "lambda_function",
        "fn-partner",
        FUNCTION_ARN,
        {
            "Sid": "partner",
            "Effect": "Allow",
            "Principal": {"AWS": OUTSIDER},
            "Action": "lambda:InvokeFunction",
            "Resource": FUNCTION_ARN,
            "Condition": {"StringEquals": {"aws:PrincipalTag/team": "x"}},
        },
        {
            "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "lambda:InvokeFunction",
            "Resource": FUNCTION_ARN,
            "Condition": {"StringEquals": {"AWS:SourceAccount": ACCT}},
        },
    ),
    # Public and cross-account grants both taken back by an unconditional Deny to everyone.
    _policy(
        "secretsmanager",
        "secretsmanager_secret",
        "prod/db",
        SECRET_DENIED_ARN,
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*",
        },
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{OUTSIDER}:role/reader"},
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*",
        },
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "secretsmanager:*",
            "Resource": "*",
        },
    ),
    # Cross-account to a role of an outsider and to a member's account; one Deny names a
    # different principal and cuts nothing.
    _policy(
        "secretsmanager",
        "secretsmanager_secret",
        "shared",
        SECRET_SHARED_ARN,
        {
            "Effect": "Allow",
            "Principal": {
                "AWS": [f"arn:aws:iam::{OUTSIDER}:role/reader", MEMBER, f"arn:aws:iam::{ACCT}:root"]
            },
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*",
        },
        {
            "Effect": "Deny",
            "Principal": {"AWS": f"arn:aws:iam::{OUTSIDER}:role/other"},
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*",
        },
    ),
]

BUCKET_POLICY = _doc(
    {
        "Sid": "PublicRead",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"{BUCKET_ARN}/*",
    },
    {
        "Sid": "TlsOnly",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [BUCKET_ARN, f"{BUCKET_ARN}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    },
)

# A role anyone may assume is the trust rules' business, not the resource rules'.
ROLE = {
    "account_id": ACCT,
    "role_name": "anyone",
    "role_id": "AROAANYONE",
    "arn": ROLE_ARN,
    "path": "/",
    "assume_role_policy_document": _doc(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
    ),
    "is_service_linked": False,
}

INPUTS = {
    "raw_resource_policies": RESOURCE_POLICIES,
    "raw_s3_bucket_policies": [
        {"account_id": ACCT, "bucket": "public-read", "document": BUCKET_POLICY}
    ],
    "raw_iam_roles": [ROLE],
    "raw_org_accounts": ORG_ACCOUNTS,
    "ref_iam_actions": CATALOG,
}


def _build(targets: list[str]):
    return build(INPUTS, targets)


def test_grants_cover_every_resource_type_with_scope_flags():
    con = _build(["int_resource_policy_grants"])
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


def _detections(con, rule_id: str) -> dict[str, tuple]:
    got = rows(
        con,
        f"""select resource_arn, resource_type, account_id, principal_arn, title, evidence
            from det_{rule_id.replace("-", "_")}""",
    )
    assert len({r[0] for r in got}) == len(got)  # one row per resource
    return {r[0]: (*r[1:5], json.loads(r[5])) for r in got}


def test_public_resource_policy_fires_on_unrestricted_allows_to_anyone():
    con = _build(["det_public_resource_policy"])
    assert _detections(con, "public-resource-policy") == {
        BUCKET_ARN: (
            "s3_bucket",
            ACCT,
            None,
            "S3 bucket public-read is public: its resource policy lets anyone call 1 action(s)",
            {
                "resource_name": "public-read",
                "region": None,
                "assessed_severity": "high",
                "access_levels": ["Read"],
                "public_actions": ["s3:getobject"],
                "public_action_count": 1,
                "statements": [
                    {
                        "statement": 0,
                        "sid": "PublicRead",
                        "action": ["s3:getobject"],
                        "not_action": None,
                        "resource": [f"{BUCKET_ARN}/*"],
                        "not_resource": None,
                        "condition_keys": [],
                    }
                ],
                "perimeter_denies": [],
            },
        ),
        KEY_OPEN_ARN: (
            "kms_key",
            ACCT,
            None,
            "KMS key k-open is public: its resource policy lets anyone call 2 action(s), "
            "including write actions",
            {
                "resource_name": "k-open",
                "region": REGION,
                "assessed_severity": "critical",
                "access_levels": ["Permissions management", "Read"],
                "public_actions": ["kms:describekey", "kms:putkeypolicy"],
                "public_action_count": 2,
                "statements": [
                    {
                        "statement": 0,
                        "sid": "Everyone",
                        "action": ["kms:describekey", "kms:putkeypolicy"],
                        "not_action": None,
                        "resource": ["*"],
                        "not_resource": None,
                        "condition_keys": [],
                    }
                ],
                "perimeter_denies": [],
            },
        ),
        QUEUE_OPEN_ARN: (
            "sqs_queue",
            ACCT,
            None,
            "SQS queue q-open is public: its resource policy lets anyone call 2 action(s), "
            "including write actions",
            {
                "resource_name": "q-open",
                "region": REGION,
                "assessed_severity": "critical",
                "access_levels": ["Read", "Write"],
                "public_actions": ["sqs:receivemessage", "sqs:sendmessage"],
                "public_action_count": 2,
                "statements": [
                    {
                        "statement": 0,
                        "sid": "Open",
                        "action": ["sqs:*"],
                        "not_action": None,
                        "resource": [QUEUE_OPEN_ARN],
                        "not_resource": None,
                        "condition_keys": ["aws:sourceaccount"],
                    }
                ],
                "perimeter_denies": [],
            },
        ),
    }


def test_cross_account_resource_policy_names_accounts_and_organization_membership():
    con = _build(["det_cross_account_resource_policy"])
    reader = f"arn:aws:iam::{OUTSIDER}:role/reader"
    read_value = "secretsmanager:getsecretvalue"
    assert _detections(con, "cross-account-resource-policy") == {
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


def test_rules_return_nothing_without_resource_policies():
    con = build(
        {"raw_iam_roles": [ROLE], "ref_iam_actions": CATALOG},
        ["det_public_resource_policy", "det_cross_account_resource_policy"],
    )
    assert rows(con, "select * from det_public_resource_policy") == []
    assert rows(con, "select * from det_cross_account_resource_policy") == []


def test_detections_take_each_resource_rules_own_severity_over_the_registry_default():
    con = build(
        {**INPUTS, "ref_detection_rules": _registry()},
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


def _registry() -> list[dict[str, Any]]:
    from pipelines.lib.reference.csvs import load_reference

    return load_reference("ref_detection_rules").to_pylist()


# Allow-to-anyone statements whose Condition names a caller key: only an entry a stranger (an
# anonymous caller, or a principal of another account) cannot satisfy makes them private.
CALLER_CONDITIONS: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "equals-account": ({"StringEquals": {"aws:SourceAccount": ACCT}}, ("aws:sourceaccount",)),
    "any-value-org": (
        {"ForAnyValue:StringEquals": {"aws:PrincipalOrgID": "o-1"}},
        ("aws:principalorgid",),
    ),
    "like-arn": (
        {"ArnLike": {"aws:SourceArn": f"arn:aws:sns:{REGION}:{ACCT}:*"}},
        ("aws:sourcearn",),
    ),
    "like-bucket": ({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::my-bucket"}}, ("aws:sourcearn",)),
    "caller-account": ({"StringEquals": {"kms:CallerAccount": ACCT}}, ("kms:calleraccount",)),
    # Public: everyone except one account, or an anonymous caller without the key passes.
    "not-equals": ({"StringNotEquals": {"aws:PrincipalAccount": OUTSIDER}}, ()),
    "arn-not-like": ({"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{OUTSIDER}:*"}}, ()),
    "all-values": ({"ForAllValues:StringEquals": {"aws:PrincipalOrgID": "o-1"}}, ()),
    "if-exists": ({"StringEqualsIfExists": {"aws:SourceAccount": ACCT}}, ()),
    "null": ({"Null": {"aws:PrincipalOrgID": "false"}}, ()),
    # Public: the values admit any account.
    "like-any-account": ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/deployer"}}, ()),
    "like-star": ({"StringLike": {"aws:PrincipalAccount": "*"}}, ()),
    "like-any-org": ({"StringLike": {"aws:PrincipalOrgID": "o-*"}}, ()),
    "like-any-bucket": ({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"}}, ()),
    "tls-only": ({"Bool": {"aws:SecureTransport": "true"}}, ()),
}


def test_only_conditions_that_shut_strangers_out_make_a_grant_to_anyone_private():
    policies = [
        _policy(
            "sqs",
            "sqs_queue",
            name,
            _arn("sqs", name),
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "sqs:SendMessage",
                "Resource": "*",
                "Condition": condition,
            },
        )
        for name, (condition, _) in CALLER_CONDITIONS.items()
    ]
    con = build(
        {"raw_resource_policies": policies, "ref_iam_actions": CATALOG},
        ["det_public_resource_policy"],
    )
    got = rows(
        con,
        "select resource_name, restricting_condition_keys, is_public "
        "from int_resource_policy_grants",
    )
    assert {(r[0], tuple(r[1]), r[2]) for r in got} == {
        (name, keys, not keys) for name, (_, keys) in CALLER_CONDITIONS.items()
    }
    public = rows(con, "select resource_arn from det_public_resource_policy")
    assert {r[0] for r in public} == {
        _arn("sqs", name) for name, (_, keys) in CALLER_CONDITIONS.items() if not keys
    }


# The data-perimeter pattern: an Allow to anyone, restricted by a Deny to anyone whose condition
# admits only named callers. name -> (Deny condition, Deny action, Deny resources, expected
# restricted_by_deny condition keys or None when the Deny does not restrict the Allow).
ORG = "o-abc123"
ORG_ONLY = {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG}}
PERIMETERS: dict[str, tuple[dict[str, Any], Any, Any, tuple[str, ...] | None]] = {
    # AWS's own example: the organization and two named accounts; AWS services exempted.
    "aws-example": (
        {
            "StringNotEqualsIfExists": {
                "aws:PrincipalOrgID": ORG,
                "aws:PrincipalAccount": [MEMBER, OUTSIDER],
            },
            "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
        },
        "s3:*",
        "both",
        ("aws:principalaccount", "aws:principalorgid"),
    ),
    # A plain negated operator is true for a caller without the key (anonymous) too.
    "not-equals": (
        {"StringNotEquals": {"aws:PrincipalOrgID": ORG}},
        "s3:GetObject",
        "*",
        ("aws:principalorgid",),
    ),
    "arn-not-like": (
        {"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCT}:role/*"}},
        "*",
        "both",
        ("aws:principalarn",),
    ),
    "accounts": (
        {"StringNotEquals": {"aws:PrincipalAccount": [ACCT, MEMBER]}},
        "s3:*",
        "objects",
        ("aws:principalaccount",),
    ),
    "vpce": (
        {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}},
        "s3:*",
        "both",
        ("aws:sourcevpce",),
    ),
    "org-paths": (
        {"ForAllValues:StringNotLike": {"aws:PrincipalOrgPaths": f"{ORG}/r-ab12/ou-ab12-1/*"}},
        "s3:*",
        "both",
        ("aws:principalorgpaths",),
    ),
    # The Deny covers the bucket's objects by a wider pattern.
    "wider-pattern": (ORG_ONLY, "s3:*", "arn:aws:s3:::*", ("aws:principalorgid",)),
    # Not restricting: ForAnyValue is false for a caller without the key, so the Deny skips
    # anonymous callers.
    "any-value": (
        {"ForAnyValue:StringNotEquals": {"aws:PrincipalOrgID": ORG}},
        "s3:*",
        "both",
        None,
    ),
    # the values admit any organization / any account's role
    "wild-org": ({"StringNotLike": {"aws:PrincipalOrgID": "o-*"}}, "s3:*", "both", None),
    "wild-arn": (
        {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/reader"}},
        "s3:*",
        "both",
        None,
    ),
    # a caller who tags itself escapes the Deny
    "tag-exception": (
        {
            "StringNotEqualsIfExists": {
                "aws:PrincipalOrgID": ORG,
                "aws:PrincipalTag/perimeter-exception": "true",
            }
        },
        "s3:*",
        "both",
        None,
    ),
    # plain Bool is false for an anonymous request (no aws:PrincipalIsAWSService): not denied
    "plain-bool": (
        {**ORG_ONLY, "Bool": {"aws:PrincipalIsAWSService": "false"}},
        "s3:*",
        "both",
        None,
    ),
    "source-ip": (
        {**ORG_ONLY, "NotIpAddressIfExists": {"aws:SourceIp": "10.0.0.0/8"}},
        "s3:*",
        "both",
        None,
    ),
    # a positive operator denies the organization, not everyone else
    "positive": ({"StringEquals": {"aws:PrincipalOrgID": ORG}}, "s3:*", "both", None),
    "other-action": (ORG_ONLY, "s3:PutObject", "both", None),
    "bucket-only": (ORG_ONLY, "s3:*", "bucket", None),
    "other-prefix": (ORG_ONLY, "s3:*", "arn:aws:s3:::{name}/private/*", None),
    # `?` patterns are not trusted to cover an Allow pattern
    "question-mark": (ORG_ONLY, "s3:*", "arn:aws:s3:::{name}/?*", None),
}


def _perimeter_bucket(name: str, condition: dict, action: Any, resources: Any, **deny) -> dict:
    bucket = f"arn:aws:s3:::{name}"
    resource = {"both": [bucket, f"{bucket}/*"], "objects": f"{bucket}/*", "bucket": bucket}.get(
        resources, resources.replace("{name}", name) if isinstance(resources, str) else resources
    )
    statements = [
        {
            "Sid": "PublicRead",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"{bucket}/*",
        },
        {
            "Sid": "Perimeter",
            "Effect": "Deny",
            "Principal": deny.get("principal", "*"),
            "Action": action,
            "Resource": resource,
            "Condition": condition,
        },
    ]
    return {"account_id": ACCT, "bucket": name, "document": _doc(*statements)}


def test_a_perimeter_deny_restricts_a_grant_to_anyone_to_the_callers_it_names():
    buckets = [
        _perimeter_bucket(name, condition, action, resources)
        for name, (condition, action, resources, _) in PERIMETERS.items()
    ]
    # The Deny names one account, not anyone: it restricts nothing else.
    buckets.append(
        _perimeter_bucket("named-deny", ORG_ONLY, "s3:*", "both", principal={"AWS": OUTSIDER})
    )
    con = build(
        {"raw_s3_bucket_policies": buckets, "ref_iam_actions": CATALOG},
        ["det_public_resource_policy"],
    )
    got = rows(
        con,
        "select resource_name, action, restricted_by_deny, is_public "
        "from int_resource_policy_grants where effect = 'Allow'",
    )
    expected = {
        (
            name,
            "s3:getobject",
            ()
            if keys is None
            else (
                (
                    1,
                    "Perimeter",
                    keys,
                    "BoolIfExists" in condition,
                ),
            ),
            keys is None,
        )
        for name, (condition, _, _, keys) in PERIMETERS.items()
    } | {("named-deny", "s3:getobject", (), True)}
    assert {
        (
            r[0],
            r[1],
            tuple(
                (d["statement"], d["sid"], tuple(d["condition_keys"]), d["exempts_aws_services"])
                for d in r[2]
            ),
            r[3],
        )
        for r in got
    } == expected
    assert {r[0] for r in rows(con, "select resource_arn from det_public_resource_policy")} == {
        f"arn:aws:s3:::{name}" for name, (_, _, _, keys) in PERIMETERS.items() if keys is None
    } | {"arn:aws:s3:::named-deny"}


def test_public_evidence_names_the_perimeter_that_restricts_some_actions():
    bucket = "arn:aws:s3:::half"
    document = _doc(
        {
            "Sid": "Open",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": f"{bucket}/*",
        },
        {
            "Sid": "ReadPerimeter",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "s3:GetObject",
            "Resource": [bucket, f"{bucket}/*"],
            "Condition": {
                "StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG},
                "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
            },
        },
    )
    con = build(
        {
            "raw_s3_bucket_policies": [
                {"account_id": ACCT, "bucket": "half", "document": document}
            ],
            "ref_iam_actions": CATALOG,
        },
        ["det_public_resource_policy"],
    )
    assert _detections(con, "public-resource-policy") == {
        bucket: (
            "s3_bucket",
            ACCT,
            None,
            "S3 bucket half is public: its resource policy lets anyone call 1 action(s), "
            "including write actions",
            {
                "resource_name": "half",
                "region": None,
                "assessed_severity": "critical",
                "access_levels": ["Write"],
                "public_actions": ["s3:putobject"],
                "public_action_count": 1,
                "statements": [
                    {
                        "statement": 0,
                        "sid": "Open",
                        "action": ["s3:getobject", "s3:putobject"],
                        "not_action": None,
                        "resource": [f"{bucket}/*"],
                        "not_resource": None,
                        "condition_keys": [],
                    }
                ],
                "perimeter_denies": [
                    {
                        "statement": 1,
                        "sid": "ReadPerimeter",
                        "condition_keys": ["aws:principalorgid"],
                        "exempts_aws_services": True,
                        "restricted_actions": ["s3:getobject"],
                    }
                ],
            },
        ),
    }


def test_cross_account_evidence_names_the_perimeter_over_an_accounts_grant():
    document = _doc(
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
    policy = {**_policy("secretsmanager", "secretsmanager_secret", "s", SECRET_SHARED_ARN)}
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
OWN_ORGANIZATION = [
    {
        "organization_id": "o-1",
        "arn": f"arn:aws:organizations::{ACCT}:organization/o-1",
        "management_account_id": ACCT,
        "feature_set": "ALL",
    }
]


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
        _policy("sqs", "sqs_queue", name, _arn("sqs", name), *statements)
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
    got = _detections(con, "cross-account-resource-policy")
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
    assert got[_arn("sqs", "source-account")][4]["external_accounts"] == [
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
    policy = _policy(
        "sqs",
        "sqs_queue",
        "both",
        _arn("sqs", "both"),
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
