"""Model tests for the rule public-resource-policy: which grants to anyone are public, which
conditions and perimeter Denies shut strangers out, and the evidence it gives."""

from __future__ import annotations

from typing import Any

from tests.sql.harness import bucket_policy, build, rows
from tests.sql.resource_policy_inputs import (
    ACCT,
    BUCKET_ARN,
    CATALOG,
    KEY_OPEN_ARN,
    MEMBER,
    ORG,
    OUTSIDER,
    QUEUE_OPEN_ARN,
    REGION,
    build_scenario,
    detections,
    regional_arn,
    resource_policy,
)


def test_public_resource_policy_fires_on_unrestricted_allows_to_anyone():
    con = build_scenario(["det_public_resource_policy"])
    assert detections(con, "public-resource-policy") == {
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
        resource_policy(
            "sqs",
            "sqs_queue",
            name,
            regional_arn("sqs", name),
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
        regional_arn("sqs", name) for name, (_, keys) in CALLER_CONDITIONS.items() if not keys
    }


# The data-perimeter pattern: an Allow to anyone, restricted by a Deny to anyone whose condition
# admits only named callers. name -> (Deny condition, Deny action, Deny resources, expected
# restricted_by_deny condition keys or None when the Deny does not restrict the Allow).
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
    return bucket_policy(name, statements)


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
    statements = [
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
    ]
    con = build(
        {
            "raw_s3_bucket_policies": [bucket_policy("half", statements)],
            "ref_iam_actions": CATALOG,
        },
        ["det_public_resource_policy"],
    )
    assert detections(con, "public-resource-policy") == {
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
