"""The resource-policy scenario shared by the model tests of int_resource_policy_grants and the
rules public-resource-policy and cross-account-resource-policy: one account's resources of every
type, with grants to anyone, to a member of its organization and to an outsider."""

from __future__ import annotations

import json
from typing import Any

import duckdb

from tests.sql.harness import (
    ACCT,
    bucket_policy,
    build,
    catalog_rows,
    iam_role,
    org_accounts,
    policy_json,
    rows,
)

MEMBER = "222222222222"  # another account of the organization
OUTSIDER = "999999999999"  # not in the organization
REGION = "us-east-1"
ORG = "o-abc123"  # the organization a data perimeter admits

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

ORG_ACCOUNTS = org_accounts(ACCT, MEMBER)


def policy_doc(*statements: dict[str, Any]) -> str:
    return policy_json(list(statements))


def resource_policy(
    service: str, resource_type: str, name: str, arn: str, *statements: dict
) -> dict:
    """A `raw_resource_policies` row of the account ACCT."""
    return {
        "account_id": ACCT,
        "region": REGION,
        "service": service,
        "resource_type": resource_type,
        "resource_name": name,
        "resource_arn": arn,
        "document": policy_doc(*statements),
        "source_file": f"{ACCT}/{REGION}/{service}/x/{name}.json",
    }


def regional_arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCT}:{resource}"


KEY_ARN = regional_arn("kms", "key/k-restricted")
KEY_OPEN_ARN = regional_arn("kms", "key/k-open")
QUEUE_SOURCE_ARN = regional_arn("sqs", "q-source")
QUEUE_OPEN_ARN = regional_arn("sqs", "q-open")
TOPIC_ARN = regional_arn("sns", "t-member")
FUNCTION_ARN = regional_arn("lambda", "function:fn-partner")
SECRET_DENIED_ARN = regional_arn("secretsmanager", "secret:prod/db")
SECRET_SHARED_ARN = regional_arn("secretsmanager", "secret:shared")
BUCKET_ARN = "arn:aws:s3:::public-read"

RESOURCE_POLICIES = [
    # The usual AWS-managed key pattern: anyone, but only callers of this account.
    resource_policy(
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
    resource_policy(
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
    resource_policy(
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
    resource_policy(
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
    resource_policy(
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
    resource_policy(
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
    resource_policy(
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
    resource_policy(
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

BUCKET_STATEMENTS = [
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
]

# A role anyone may assume is the trust rules' business, not the resource rules'.
ROLE = iam_role(
    "anyone", [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]
)

INPUTS = {
    "raw_resource_policies": RESOURCE_POLICIES,
    "raw_s3_bucket_policies": [bucket_policy("public-read", BUCKET_STATEMENTS)],
    "raw_iam_roles": [ROLE],
    "raw_org_accounts": ORG_ACCOUNTS,
    "ref_iam_actions": CATALOG,
}


def build_scenario(targets: list[str]) -> duckdb.DuckDBPyConnection:
    return build(INPUTS, targets)


def detections(con: duckdb.DuckDBPyConnection, rule_id: str) -> dict[str, tuple]:
    """A rule's detections by resource ARN: (type, account, principal, title, evidence)."""
    got = rows(
        con,
        f"""select resource_arn, resource_type, account_id, principal_arn, title, evidence
            from det_{rule_id.replace("-", "_")}""",
    )
    assert len({r[0] for r in got}) == len(got)  # one row per resource
    return {r[0]: (*r[1:5], json.loads(r[5])) for r in got}
