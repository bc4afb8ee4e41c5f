"""Suggested least-privilege policy of large-permissions-gap and its replay verification."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb

from pipelines.lib.warehouse.sql_models import run_model
from tests.sql.harness import MODELS, SMALL_CATALOG, build, catalog_rows, rows
from tests.sql.test_usage_and_detection_models import ROLE, _event, _role_inputs

T = datetime(2026, 11, 19, 10, tzinfo=UTC)
CATALOG = [*SMALL_CATALOG, ("iam:DeleteUser", "Write"), ("ec2:TerminateInstances", "Write")]
BUCKET = ["arn:aws:s3:::data", "arn:aws:s3:::data/*"]
STATEMENTS = [
    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": BUCKET},
    {
        "Effect": "Allow",
        "Resource": "*",
        "Action": [
            "s3:ListAllMyBuckets",
            "ec2:RunInstances",
            "ec2:TerminateInstances",
            "iam:CreateUser",
            "iam:DeleteUser",
            "iam:PassRole",
            "lambda:CreateFunction",
            "cloudwatch:PutMetricData",
        ],
    },
]
EVENTS = [
    _event("s3.amazonaws.com", "ListObjects", T, i=1),
    _event("s3.amazonaws.com", "ListObjects", T, i=2),
    _event("s3.amazonaws.com", "GetObject", T, category="Data", i=3),
    _event("s3.amazonaws.com", "ListBuckets", T, i=4),
    _event("ec2.amazonaws.com", "RunInstances", T, i=5),
    _event("monitoring.amazonaws.com", "PutMetricData", T, i=6),
    _event("monitoring.amazonaws.com", "PutMetricData", T, i=7),
    # Allowed by the bucket policy: no identity policy grants s3:PutObject.
    _event("s3.amazonaws.com", "PutObject", T, category="Data", i=8),
    _event("iam.amazonaws.com", "CreateUser", T, error="AccessDenied", i=9),  # an attempt
    _event("sts.amazonaws.com", "GetCallerIdentity", T, i=10),  # no IAM action
]
METHOD = (
    "replay of the window's successful calls (action level) through the suggested policy "
    "expanded against the IAM action catalog; boundary, SCPs and resource policies unchanged"
)


def _build(targets: list[str]) -> duckdb.DuckDBPyConnection:
    inputs = _role_inputs(EVENTS, datetime(2025, 1, 1, tzinfo=UTC), STATEMENTS)
    return build({**inputs, "ref_iam_actions": catalog_rows(CATALOG)}, targets)


def _reverify(con: duckdb.DuckDBPyConnection, document: dict) -> dict:
    """Replace the suggestion with `document` and rerun the verification model on it."""
    # int_suggested_policies is built per principal bucket (one here): a view over its part
    assert rows(con, "select count(*) from int_principal_policy_sets") == [(1,)]
    con.execute(
        "update int_suggested_policies__p000 set suggested_policy = ?", [json.dumps(document)]
    )
    run_model(con, MODELS["int_suggested_policy_verification"])
    [(verified, verification)] = rows(
        con, "select verified, verification from int_suggested_policy_verification"
    )
    result = json.loads(verification)
    assert result["verified"] is verified
    return result


def test_gap_detection_carries_the_suggested_policy_grouped_by_service() -> None:
    con = _build(["det_large_permissions_gap"])
    [(title, evidence, policy, verification)] = rows(
        con,
        """select title, evidence, suggested_policy, suggested_policy_verification
           from det_large_permissions_gap""",
    )
    # 9 observable granted actions (iam:PassRole is unobservable), 5 used, 4 unused: 44% > 40%.
    assert title == "IAM role app left 4 of its 9 observable permissions (44%) unused in 15 days"
    assert json.loads(policy) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowCloudwatch",
                "Effect": "Allow",
                "Action": ["cloudwatch:PutMetricData"],
                "Resource": ["*"],
            },
            {
                "Sid": "AllowEc2",
                "Effect": "Allow",
                "Action": ["ec2:RunInstances"],
                "Resource": ["*"],
            },
            {
                "Sid": "AllowS3",
                "Effect": "Allow",
                "Action": ["s3:ListAllMyBuckets"],
                "Resource": ["*"],
            },
            {
                "Sid": "AllowS3Part2",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": BUCKET,
            },
        ],
    }
    assert json.loads(verification) == {
        "verified": True,
        "events_replayed": 7,
        "actions_replayed": 5,
        "denied_event_count": 0,
        "denied_events": [],
        "events_allowed_by_other_policies": 1,
        "method": METHOD,
    }
    assert json.loads(evidence)["not_in_suggested_policy"]["unobservable_actions"] == [
        "iam:PassRole"
    ]


def test_a_broken_suggestion_fails_its_replay_with_the_denied_events() -> None:
    con = _build(["int_suggested_policy_verification"])
    broken = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "S3", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Sid": "Ec2", "Effect": "Allow", "Action": ["ec2:RunInstances"], "Resource": "*"},
            {"Sid": "NoEc2", "Effect": "Deny", "Action": "ec2:Run*", "Resource": "*"},
            {
                "Sid": "MetricsUnderCondition",
                "Effect": "Allow",
                "Action": "cloudwatch:PutMetricData",
                "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "true"}},
            },
        ],
    }
    assert _reverify(con, broken) == {
        "verified": False,
        "events_replayed": 7,
        "actions_replayed": 5,
        "denied_event_count": 3,
        "denied_events": [
            {
                "action": "cloudwatch:PutMetricData",
                "successful_calls": 2,
                "last_used_at": "2026-11-19 10:00:00+00",
            },
            {
                "action": "ec2:RunInstances",
                "successful_calls": 1,
                "last_used_at": "2026-11-19 10:00:00+00",
            },
        ],
        "events_allowed_by_other_policies": 1,
        "method": METHOD,
    }


def test_replay_expands_not_action_and_single_statement_documents() -> None:
    con = _build(["int_suggested_policy_verification"])
    # Everything but IAM, as one statement object: every used action is allowed.
    document = {"Statement": {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}}
    assert _reverify(con, document)["verified"] is True
    # Everything but S3: the five S3 calls are denied.
    document = {"Statement": [{"Effect": "Allow", "NotAction": ["S3:*"], "Resource": "*"}]}
    result = _reverify(con, document)
    assert (result["verified"], result["denied_event_count"]) == (False, 4)
    assert [e["action"] for e in result["denied_events"]] == [
        "s3:GetObject",
        "s3:ListAllMyBuckets",
        "s3:ListBucket",
    ]
    # An empty policy denies every replayed call.
    result = _reverify(con, {"Version": "2012-10-17", "Statement": []})
    assert (result["verified"], result["denied_event_count"]) == (False, 7)


def test_identity_without_used_actions_gets_an_empty_verified_suggestion() -> None:
    inputs = _role_inputs([], datetime(2025, 1, 1, tzinfo=UTC), STATEMENTS)
    con = build(
        {**inputs, "ref_iam_actions": catalog_rows(CATALOG)},
        ["int_suggested_policies", "int_suggested_policy_verification"],
    )
    assert rows(
        con,
        """select p.principal_arn, p.suggested_policy, p.statement_count, v.verified,
                  v.events_replayed
           from int_suggested_policies as p
           join int_suggested_policy_verification as v using (principal_arn)""",
    ) == [(ROLE, '{"Version":"2012-10-17","Statement":[]}', 0, True, 0)]
