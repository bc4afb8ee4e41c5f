"""`ciem explain` with the regional resource policies of the snapshot (KMS key, Secrets Manager
secret, SQS queue, SNS topic, Lambda function): within one account a resource policy naming the
principal grants on its own; across accounts both sides must allow; a KMS key policy is always
needed (IAM policies count only where it names the account)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from pipelines.lib.serve.explain import PolicyStore
from tests.sql.harness import build, catalog_rows

ACCT = "111111111111"  # owns the resources; no organization, so no SCP applies
OTHER = "333333333333"
REGION = "eu-west-1"
CAROL = f"arn:aws:iam::{ACCT}:user/carol"  # identity Allow on kms/sqs/sns/secrets
DAVE = f"arn:aws:iam::{ACCT}:user/dave"  # no identity policy
FRANK = f"arn:aws:iam::{OTHER}:user/frank"  # another account, identity Allow on sqs/sns/lambda


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCT}:{resource}"


KEY_ROOT = _arn("kms", "key/k-root")
KEY_DAVE = _arn("kms", "key/k-dave")
KEY_UNKNOWN = _arn("kms", "key/k-not-collected")
SECRET = _arn("secretsmanager", "secret:prod/db")
QUEUE_SHARED = _arn("sqs", "shared")
QUEUE_PRIVATE = _arn("sqs", "private")
TOPIC_PUBLIC = _arn("sns", "public")
FUNCTION = _arn("lambda", "function:hook")


def _doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _user(arn: str) -> dict:
    account, name = arn.split(":")[4], arn.rsplit("/", 1)[1]
    return {
        "account_id": account,
        "user_name": name,
        "user_id": "AIDA" + name.upper(),
        "arn": arn,
        "path": "/",
        "create_date": datetime(2025, 1, 1, tzinfo=UTC),
    }


def _allow(arn: str, *actions: str) -> dict:
    return {
        "account_id": arn.split(":")[4],
        "principal_arn": arn,
        "principal_type": "user",
        "policy_name": "p",
        "document": _doc({"Effect": "Allow", "Action": list(actions), "Resource": "*"}),
    }


def _policy(arn: str, *statements: dict) -> dict:
    service, name = arn.split(":")[2], arn.split(":", 5)[5]
    return {
        "account_id": ACCT,
        "region": REGION,
        "service": service,
        "resource_type": service,
        "resource_name": name,
        "resource_arn": arn,
        "document": _doc(*statements),
        "source_file": f"{ACCT}/{REGION}/{service}/x/{name}.json",
    }


def _grant(principal: str | dict, *actions: str) -> dict:
    return {"Effect": "Allow", "Principal": principal, "Action": list(actions), "Resource": "*"}


@pytest.fixture(scope="module")
def store() -> PolicyStore:
    inputs = {
        "raw_iam_users": [_user(CAROL), _user(DAVE), _user(FRANK)],
        "raw_iam_inline_policies": [
            _allow(CAROL, "kms:Decrypt", "sqs:SendMessage", "secretsmanager:GetSecretValue"),
            _allow(FRANK, "sqs:SendMessage", "sns:Publish", "lambda:InvokeFunction"),
        ],
        "raw_resource_policies": [
            _policy(KEY_ROOT, _grant({"AWS": f"arn:aws:iam::{ACCT}:root"}, "kms:*")),
            _policy(KEY_DAVE, _grant({"AWS": DAVE}, "kms:*")),
            _policy(SECRET, _grant({"AWS": DAVE}, "secretsmanager:GetSecretValue")),
            _policy(QUEUE_SHARED, _grant({"AWS": OTHER}, "sqs:SendMessage")),
            _policy(QUEUE_PRIVATE, _grant({"AWS": f"arn:aws:iam::{ACCT}:root"}, "sqs:*")),
            _policy(TOPIC_PUBLIC, _grant("*", "sns:Publish")),
            _policy(
                FUNCTION,
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": FRANK},
                    "Action": "lambda:InvokeFunction",
                    "Resource": FUNCTION,
                    "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}},
                },
            ),
        ],
        "ref_iam_actions": catalog_rows(
            [
                ("kms:Decrypt", "Write"),
                ("sqs:SendMessage", "Write"),
                ("sns:Publish", "Write"),
                ("lambda:InvokeFunction", "Write"),
                ("secretsmanager:GetSecretValue", "Read"),
            ]
        ),
    }
    tables = ["stg_policy_documents", "stg_policy_statements", "int_account_scp_levels"]
    con = build(inputs, [*tables, "int_identities", "int_principal_policies"])
    return PolicyStore.from_connection(con)


def _decide(store: PolicyStore, principal: str, action: str, resource: str) -> tuple:
    r = store.explain(principal, action, resource)
    return (
        r["decision"],
        r["missing_allow_from"],
        sorted((e["source"], e.get("resource_arn")) for e in r["allowed_by"]),
    )


IDENTITY = ("identity", None)


@pytest.mark.parametrize(
    ("principal", "action", "resource", "expected"),
    [
        # key policy names the account: the identity Allow counts
        (
            CAROL,
            "kms:Decrypt",
            KEY_ROOT,
            ("allowed", [], [IDENTITY, ("resource_policy", KEY_ROOT)]),
        ),
        # key policy names only dave: carol's identity Allow is not enough ...
        (CAROL, "kms:Decrypt", KEY_DAVE, ("implicitly_denied", ["resource_policy"], [IDENTITY])),
        # ... and dave needs no identity policy (named in the key policy)
        (DAVE, "kms:Decrypt", KEY_DAVE, ("allowed", [], [("resource_policy", KEY_DAVE)])),
        # no key policy in the snapshot: KMS grants nothing without one, the identity policy
        # alone does not do (https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html:
        # "no AWS principal ... has any permissions to a KMS key" unless the key policy allows)
        (CAROL, "kms:Decrypt", KEY_UNKNOWN, ("implicitly_denied", ["resource_policy"], [IDENTITY])),
        # the secret's policy (ARN from its name) applies to the full ARN with its suffix
        (
            DAVE,
            "secretsmanager:GetSecretValue",
            SECRET + "-AbC123",
            ("allowed", [], [("resource_policy", SECRET)]),
        ),
        (
            DAVE,
            "secretsmanager:GetSecretValue",
            SECRET + "x-AbC123",
            ("implicitly_denied", ["identity"], []),
        ),
        # same account, queue policy names the root: identity Allow alone grants
        (CAROL, "sqs:SendMessage", QUEUE_PRIVATE, ("allowed", [], [IDENTITY])),
        # cross-account: both sides
        (
            FRANK,
            "sqs:SendMessage",
            QUEUE_SHARED,
            ("allowed", [], [IDENTITY, ("resource_policy", QUEUE_SHARED)]),
        ),
        (
            FRANK,
            "sqs:SendMessage",
            QUEUE_PRIVATE,
            ("implicitly_denied", ["resource_policy"], [IDENTITY]),
        ),
        # a public topic: in the same account it grants on its own; across, with identity
        (DAVE, "sns:Publish", TOPIC_PUBLIC, ("allowed", [], [("resource_policy", TOPIC_PUBLIC)])),
        (
            FRANK,
            "sns:Publish",
            TOPIC_PUBLIC,
            ("allowed", [], [IDENTITY, ("resource_policy", TOPIC_PUBLIC)]),
        ),
        # cross-account under a condition: conditionally allowed
        (
            FRANK,
            "lambda:InvokeFunction",
            FUNCTION,
            ("conditionally_allowed", [], [IDENTITY, ("resource_policy", FUNCTION)]),
        ),
    ],
)
def test_regional_resource_policies(
    store: PolicyStore, principal: str, action: str, resource: str, expected: tuple
) -> None:
    assert _decide(store, principal, action, resource) == expected


def test_conditional_cross_account_grant_keeps_its_condition_keys(store: PolicyStore) -> None:
    r = store.explain(FRANK, "lambda:InvokeFunction", FUNCTION)
    assert r["condition_keys"] == ["aws:sourcevpce"]
