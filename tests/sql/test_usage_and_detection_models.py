"""Model tests for the event->action map, usage in the window, insights, rules and timeline."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from tests.sql.harness import build, daily, rows

ACCT = "111111111111"
ROLE = f"arn:aws:iam::{ACCT}:role/app"
USER = f"arn:aws:iam::{ACCT}:user/dev"


def _event(
    source: str,
    name: str,
    when: datetime,
    principal: str | None = ROLE,
    error: str | None = None,
    category: str = "Management",
    i: int = 0,
) -> dict:
    return {
        "day": when.date(),
        "event_id": f"e{i}-{name}-{when.isoformat()}",
        "event_time": when,
        "event_source": source,
        "event_name": name,
        "recipient_account_id": ACCT,
        "principal_arn": principal,
        "principal_type": "role" if principal else "aws_service",
        "error_code": error,
        "event_category": category,
        "source_file": "f.json.gz",
        "record_index": i,
    }


def _reference_inputs() -> dict[str, list[dict]]:
    from pipelines.lib.reference.csvs import REFERENCE_CSVS, load_reference

    return {name: load_reference(name).to_pylist() for name in REFERENCE_CSVS}


def test_daily_usage_maps_events_classifies_outcomes_and_skips_services() -> None:
    t = datetime(2026, 11, 10, 12, tzinfo=UTC)
    events = [
        _event("s3.amazonaws.com", "ListObjects", t, i=1),
        _event("s3.amazonaws.com", "ListObjects", t, error="AccessDenied", i=2),
        _event("lambda.amazonaws.com", "CreateFunction20150331", t, i=3),
        _event("sts.amazonaws.com", "GetCallerIdentity", t, i=4),
        _event("ec2.amazonaws.com", "RunInstances", t, error="Client.RequestLimitExceeded", i=5),
        _event("iam.amazonaws.com", "GetUser", t, error="NoSuchEntity", i=6),
        _event("kms.amazonaws.com", "Decrypt", t, principal=None, i=7),  # the service itself
        # A failed console sign-in carries no errorCode, only a "Failure" response.
        {
            **_event("signin.amazonaws.com", "ConsoleLogin", t, i=9),
            "response_elements": json.dumps({"ConsoleLogin": "Failure"}),
        },
        {
            **_event("signin.amazonaws.com", "ConsoleLogin", t, i=10),
            "response_elements": json.dumps({"ConsoleLogin": "Success"}),
        },
        {
            **_event("dynamodb.amazonaws.com", "ExecuteStatement", t, i=8),
            "request_parameters": json.dumps({"statement": 'SELECT * FROM "orders" WHERE id = 1'}),
        },
    ]
    got = daily(events)
    assert {
        (
            r["action"],
            r["successful_calls"],
            r["denied_attempts"],
            r["throttled_calls"],
            r["other_errors"],
        )
        for r in got["usage_daily"]
    } == {
        ("s3:listbucket", 1, 1, 0, 0),
        ("lambda:createfunction", 1, 0, 0, 0),  # the iam:PassRole inside stays unobservable
        ("dynamodb:partiqlselect", 1, 0, 0, 0),  # ExecuteStatement: by the statement text
        (None, 2, 1, 0, 0),  # GetCallerIdentity and one ConsoleLogin: activity, no IAM action
        ("ec2:runinstances", 0, 0, 1, 0),
        ("iam:getuser", 0, 0, 0, 1),
    }
    assert {
        (r["event_name"], r["successful_events"])
        for r in got["event_counts_daily"]
        if r["event_name"] == "ConsoleLogin"
    } == {("ConsoleLogin", 1)}
    assert {(r["event_name"], r["mapping"], r["events"]) for r in got["event_counts_daily"]} == {
        ("ListObjects", "mapped", 2),
        ("CreateFunction20150331", "mapped", 1),
        ("GetCallerIdentity", "no_iam_action", 1),
        ("ConsoleLogin", "no_iam_action", 2),
        ("RunInstances", "mapped", 1),
        ("GetUser", "mapped", 1),
        ("Decrypt", "mapped", 1),
        ("ExecuteStatement", "mapped", 1),
    }


def _role_inputs(events: list[dict], created: datetime, statements: list[dict]) -> dict:
    return {
        "raw_iam_roles": [
            {
                "account_id": ACCT,
                "role_name": "app",
                "role_id": "AROAAPP",
                "arn": ROLE,
                "path": "/",
                "create_date": created,
                "is_service_linked": False,
            }
        ],
        "raw_iam_inline_policies": [
            {
                "account_id": ACCT,
                "principal_arn": ROLE,
                "principal_type": "role",
                "policy_name": "p",
                "document": json.dumps({"Version": "2012-10-17", "Statement": statements}),
            }
        ],
        **daily(events),
        **_reference_inputs(),
    }


def test_insights_classify_used_unused_unobservable_within_the_window() -> None:
    statements = [
        {
            "Effect": "Allow",
            "Resource": "*",
            "Action": [
                "s3:ListBucket",
                "s3:GetObject",
                "iam:PassRole",
                "ec2:RunInstances",
                "iam:CreateUser",
            ],
        }
    ]
    events = [
        _event("s3.amazonaws.com", "ListObjects", datetime(2026, 11, 19, 8, tzinfo=UTC), i=1),
        # denied: an attempt, not use
        _event(
            "iam.amazonaws.com",
            "CreateUser",
            datetime(2026, 11, 19, 9, tzinfo=UTC),
            error="AccessDenied",
            i=2,
        ),
        # before the window (2026-11-06 .. 2026-11-20): last used, but not used in the window
        _event("ec2.amazonaws.com", "RunInstances", datetime(2026, 11, 5, 23, 59, tzinfo=UTC), i=3),
        # after the as-of date: ignored
        _event("iam.amazonaws.com", "CreateUser", datetime(2026, 11, 21, 1, tzinfo=UTC), i=4),
    ]
    con = build(
        _role_inputs(events, datetime(2025, 1, 1, tzinfo=UTC), statements), ["permission_insights"]
    )
    assert set(
        rows(
            con,
            """select action, usage_status, calls_in_window, denied_attempts_in_window,
                                   last_used_at, unobservable_reason from permission_insights""",
        )
    ) == {
        ("s3:listbucket", "used", 1, 0, datetime(2026, 11, 19, 8, tzinfo=UTC), None),
        ("iam:createuser", "unused", 0, 1, None, None),
        ("ec2:runinstances", "unused", 0, 0, datetime(2026, 11, 5, 23, 59, tzinfo=UTC), None),
        ("s3:getobject", "unobservable", 0, 0, None, "S3 object-level data event"),
        (
            "iam:passrole",
            "unobservable",
            0,
            0,
            None,
            "iam:PassRole has no CloudTrail event of its own; it is checked inside RunInstances, "
            "CreateFunction, ...",
        ),
    }


def test_data_events_make_data_actions_observable() -> None:
    statements = [{"Effect": "Allow", "Resource": "*", "Action": ["s3:GetObject", "s3:ListBucket"]}]
    events = [
        _event(
            "s3.amazonaws.com",
            "ListObjects",
            datetime(2026, 11, 19, tzinfo=UTC),
            category="Data",
            i=1,
        )
    ]
    con = build(
        _role_inputs(events, datetime(2025, 1, 1, tzinfo=UTC), statements), ["permission_insights"]
    )
    assert set(rows(con, "select action, usage_status from permission_insights")) == {
        ("s3:listbucket", "used"),
        ("s3:getobject", "unused"),
    }


def test_gap_and_inactive_rules() -> None:
    statements = [
        {
            "Effect": "Allow",
            "Resource": "*",
            "Action": [
                "s3:ListBucket",
                "ec2:RunInstances",
                "iam:CreateUser",
                "lambda:CreateFunction",
            ],
        }
    ]
    used_once = [_event("s3.amazonaws.com", "ListObjects", datetime(2026, 11, 19, tzinfo=UTC), i=1)]
    old = datetime(2025, 1, 1, tzinfo=UTC)
    # 1 of 4 observable actions used: gap 75% > 40%.
    con = build(
        _role_inputs(used_once, old, statements),
        ["det_large_permissions_gap", "det_inactive_identity"],
    )
    assert rows(con, "select rule_id, resource_arn, title from det_large_permissions_gap") == [
        (
            "large-permissions-gap",
            ROLE,
            "IAM role app left 3 of its 4 observable permissions (75%) unused in 15 days",
        )
    ]
    evidence = json.loads(rows(con, "select evidence from det_large_permissions_gap")[0][0])
    assert {
        k: evidence[k]
        for k in (
            "granted_actions",
            "observable_granted_actions",
            "used_actions",
            "unused_actions",
            "used_actions_by_service",
        )
    } == {
        "granted_actions": 4,
        "observable_granted_actions": 4,
        "used_actions": 1,
        "unused_actions": 3,
        "used_actions_by_service": {"s3": ["s3:ListBucket"]},
    }
    assert rows(con, "select * from det_inactive_identity") == []

    # No event at all: inactive, and not reported as a gap.
    con = build(
        _role_inputs([], old, statements), ["det_large_permissions_gap", "det_inactive_identity"]
    )
    assert rows(con, "select * from det_large_permissions_gap") == []
    assert rows(con, "select rule_id, resource_arn from det_inactive_identity") == [
        ("inactive-identity", ROLE)
    ]

    # Created inside the window: insufficient history, neither rule fires.
    young = datetime(2026, 11, 10, tzinfo=UTC)
    con = build(
        _role_inputs([], young, statements), ["det_large_permissions_gap", "det_inactive_identity"]
    )
    assert rows(con, "select count(*) from det_inactive_identity") == [(0,)]

    # Higher threshold: 75% is not above 80%.
    con = build(
        _role_inputs(used_once, old, statements), ["det_large_permissions_gap"], gap_threshold=0.8
    )
    assert rows(con, "select count(*) from det_large_permissions_gap") == [(0,)]


def _history(as_of: date, detection_id: str) -> dict:
    return {
        "as_of": as_of,
        "detection_id": detection_id,
        "rule_id": "r",
        "severity": "high",
        "resource_arn": f"arn:{detection_id}",
        "resource_type": "iam_role",
        "account_id": ACCT,
        "title": f"t {detection_id}",
        "evidence": "{}",
        "recorded_at": datetime(2026, 11, 20, tzinfo=UTC),
    }


def test_timeline_and_status_follow_consecutive_runs() -> None:
    d1, d2, d3 = date(2026, 11, 18), date(2026, 11, 19), date(2026, 11, 20)
    history = [
        _history(d1, "a"),
        _history(d2, "a"),
        _history(d2, "b"),
        _history(d3, "b"),
        _history(d1, "c"),
        _history(d3, "c"),
    ]
    con = build(
        {"detection_history": history, **_reference_inputs()},
        ["detection_timeline", "detections"],
        as_of=d3,
    )
    assert set(rows(con, "select detection_id, event_at, event_type from detection_timeline")) == {
        ("a", d1, "opened"),
        ("a", d3, "resolved"),
        ("b", d2, "opened"),
        ("c", d1, "opened"),
        ("c", d2, "resolved"),
        ("c", d3, "reopened"),
    }
    assert set(
        rows(con, "select detection_id, status, first_seen_at, last_seen_at from detections")
    ) == {("a", "resolved", d1, d2), ("b", "open", d2, d3), ("c", "open", d1, d3)}

    # Looking back from d2 ignores the later run.
    con = build({"detection_history": history, **_reference_inputs()}, ["detections"], as_of=d2)
    assert set(rows(con, "select detection_id, status from detections")) == {
        ("a", "open"),
        ("b", "open"),
        ("c", "resolved"),
    }
