"""Model tests for the credential rules: unused-password, unused-access-key,
access-key-not-rotated, console-user-without-mfa, root-account-used and root-access-key-present
(unused-role and inactive-admin: test_inactive_identity_rules.py).

Credential reports are written as CSV text (as AWS returns them, 'N/A' and 'no_information'
included) and landed by the real snapshot reader; CloudTrail rows are written by hand.
As of 2026-11-20: window 2026-11-06 .. 11-20; unused_days 90 -> unused since 2026-08-23 00:00Z;
key_rotation_days 90 -> keys created before 2026-08-23 00:00Z are due.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.lib.land.quarantine import Quarantine
from pipelines.lib.land.snapshot import read_snapshot
from tests.sql.harness import DETECTION_COLUMNS, build, evidence_of, fired, rows, user_arn

A1, A2, A3 = "111111111111", "222222222222", "333333333333"

# The header of a real credential report, in its order.
REPORT_COLUMNS = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    *(
        f"access_key_{n}_{field}"
        for n in (1, 2)
        for field in (
            "active",
            "last_rotated",
            "last_used_date",
            "last_used_region",
            "last_used_service",
        )
    ),
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
]

CREDENTIAL_RULES = [
    "det_unused_password",
    "det_unused_access_key",
    "det_access_key_not_rotated",
    "det_console_user_without_mfa",
    "det_root_account_used",
    "det_root_access_key_present",
]


def _root(account: str) -> str:
    return f"arn:aws:iam::{account}:root"


def _line(name: str, account: str = A1, **fields: str) -> dict[str, str]:
    """A credential-report line: a user created 2025-01-01 without password or keys."""
    line = dict.fromkeys(REPORT_COLUMNS, "N/A")
    line |= {
        "user": name,
        "arn": _root(account) if name == "<root_account>" else user_arn(name, account),
        "user_creation_time": "2025-01-01T00:00:00+00:00",
        "password_enabled": "false",
        "mfa_active": "false",
        "access_key_1_active": "false",
        "access_key_2_active": "false",
        "cert_1_active": "false",
        "cert_2_active": "false",
    }
    if name == "<root_account>":
        line |= {
            "password_enabled": "not_supported",
            "password_last_used": "no_information",
            "password_last_changed": "not_supported",
            "password_next_rotation": "not_supported",
        }
    return line | fields


def _console(
    used: str, mfa: bool = True, changed: str = "2025-01-01T00:05:00+00:00"
) -> dict[str, str]:
    """A console password last used at `used` ('no_information': never), set at `changed`."""
    return {
        "password_enabled": "true",
        "password_last_used": used,
        "password_last_changed": changed,
        "mfa_active": "true" if mfa else "false",
    }


def _key(slot: int, created: str, used: str = "N/A", active: bool = True) -> dict[str, str]:
    known = used != "N/A"
    return {
        f"access_key_{slot}_active": "true" if active else "false",
        f"access_key_{slot}_last_rotated": created,
        f"access_key_{slot}_last_used_date": used,
        f"access_key_{slot}_last_used_region": "us-east-1" if known else "N/A",
        f"access_key_{slot}_last_used_service": "s3" if known else "N/A",
    }


def _landed_report(tmp_path: Path, lines: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The report lines as CSV files per account, landed by the real snapshot reader."""
    snap = tmp_path / "snapshot"
    for account in sorted({line["arn"].split(":")[4] for line in lines}):
        buf = io.StringIO()
        writer = csv.DictWriter(buf, REPORT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(line for line in lines if line["arn"].split(":")[4] == account)
        path = snap / account / "iam" / "credential-report.csv"
        path.parent.mkdir(parents=True)
        path.write_text(buf.getvalue())
    quarantine = Quarantine(source="snapshot")
    tables = read_snapshot(snap, quarantine)
    assert quarantine.entries == []
    return tables["raw_credential_report"].to_pylist()


def _event(
    principal: str,
    when: datetime,
    name: str = "ListBuckets",
    source: str = "s3.amazonaws.com",
    key: str | None = None,
    error: str | None = None,
    response: dict | None = None,
    i: int = 0,
) -> dict[str, Any]:
    is_root = principal.endswith(":root")
    return {
        "day": when.date(),
        "event_id": f"e{i}",
        "event_time": when,
        "event_source": source,
        "event_name": name,
        "recipient_account_id": principal.split(":")[4],
        "identity_type": "Root" if is_root else "IAMUser",
        "identity_arn": principal,
        "access_key_id": key,
        "principal_arn": principal,
        "principal_type": "root" if is_root else "user",
        "error_code": error,
        "response_elements": json.dumps(response) if response else None,
        "source_file": "f.json.gz",
        "record_index": i,
    }


def _console_login(principal: str, when: datetime, success: bool, i: int) -> dict[str, Any]:
    outcome = "Success" if success else "Failure"
    return _event(
        principal,
        when,
        "ConsoleLogin",
        "signin.amazonaws.com",
        response={"ConsoleLogin": outcome},
        i=i,
    )


def _at(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def _organization(tmp_path: Path) -> dict[str, list[dict[str, Any]]]:
    lines = [
        # Root of A1: password used in the window, an active key never used.
        _line(
            "<root_account>",
            A1,
            **{"password_last_used": "2026-11-10T08:00:00+00:00", "mfa_active": "true"},
            **_key(1, "2024-02-01T00:00:00+00:00"),
        ),
        # Root of A2: the report knows no use; CloudTrail shows a root call in the window.
        _line("<root_account>", A2),
        # Root of A3: used before the window, a failed sign-in in it, an inactive key.
        _line(
            "<root_account>",
            A3,
            **{"password_last_used": "2026-10-01T08:00:00+00:00"},
            **_key(1, "2025-01-01T00:00:00+00:00", active=False),
        ),
        _line(
            "alice",
            **_console("2026-11-18T08:00:00+00:00"),
            **_key(1, "2026-01-10T00:00:00+00:00", "2026-11-18T09:00:00+00:00"),
        ),
        # Key 1 old and unused; key 2 created inside the period, never used.
        _line(
            "bob",
            **_key(1, "2025-03-01T00:00:00+00:00", "2026-05-01T00:00:00+00:00"),
            **_key(2, "2026-10-01T00:00:00+00:00"),
        ),
        _line("carol", **_console("no_information", mfa=False)),
        # Created inside the period: password and key never used, insufficient history.
        _line(
            "dave",
            user_creation_time="2026-10-15T00:00:00+00:00",
            **_console("no_information", changed="2026-10-15T00:05:00+00:00"),
            **_key(1, "2026-10-15T00:10:00+00:00"),
        ),
        _line("erin", **_console("2026-05-01T00:00:00+00:00")),  # ConsoleLogin in CloudTrail
        _line("frank", **_console("2026-05-01T00:00:00+00:00")),  # failed ConsoleLogin only
        # One active key the report never saw used; CloudTrail shows an AKIA key of gina.
        _line("gina", **_key(1, "2025-01-01T00:00:00+00:00")),
        # Two keys, the report saw key 1 used; CloudTrail shows one key id: key 2 is unused.
        _line(
            "hank",
            **_key(1, "2025-01-01T00:00:00+00:00", "2026-11-19T10:00:00+00:00"),
            **_key(2, "2025-01-01T00:00:00+00:00"),
        ),
        # Same, but CloudTrail shows two key ids: either key may be the second, none reported.
        _line(
            "ivan",
            **_key(1, "2025-01-01T00:00:00+00:00", "2026-11-19T10:00:00+00:00"),
            **_key(2, "2025-01-01T00:00:00+00:00"),
        ),
        _line("judy", **_key(1, "2024-01-01T00:00:00+00:00", "2024-06-01T00:00:00+00:00", False)),
        _line("ken", **_console("2026-11-19T08:00:00+00:00", mfa=False)),
        _line("lee", **_console("2026-08-23T00:00:00+00:00")),  # first instant of the period
        _line("mia", **_console("2026-08-22T23:59:59+00:00")),  # just before it
        _line("nora", **_key(1, "2026-08-23T00:00:00+00:00", "2026-11-19T00:00:00+00:00")),
        _line("otto", **_key(1, "2026-08-22T23:00:00+00:00", "2026-11-19T00:00:00+00:00")),
    ]
    events = [
        _event(_root(A2), _at(11, 12), "DescribeInstances", "ec2.amazonaws.com", i=1),
        _console_login(_root(A3), _at(11, 15), success=False, i=2),
        _event(_root(A3), _at(10, 20), i=3),  # before the window
        _console_login(user_arn("erin", A1), _at(11, 19), success=True, i=4),
        _console_login(user_arn("frank", A1), _at(11, 19), success=False, i=5),
        _event(user_arn("gina", A1), _at(11, 15), key="AKIAGINA000000000001", i=6),
        _event(user_arn("hank", A1), _at(11, 19), key="AKIAHANK000000000001", i=7),
        _event(user_arn("ivan", A1), _at(11, 19), key="AKIAIVAN000000000001", i=8),
        _event(user_arn("ivan", A1), _at(11, 20), key="AKIAIVAN000000000002", i=9),
        # A denied call is an attempt, not use; a console session (ASIA) is not a key.
        _event(
            user_arn("bob", A1), _at(11, 19), key="AKIABOB0000000000001", error="AccessDenied", i=11
        ),
        _event(user_arn("bob", A1), _at(11, 19), key="ASIABOB0000000000001", i=10),
    ]
    return {
        "raw_credential_report": _landed_report(tmp_path, lines),
        "raw_cloudtrail_events": events,
    }


def _fired(con: Any, rule_model: str) -> set[tuple[str, ...]]:
    return fired(con, rule_model, columns=DETECTION_COLUMNS)


def _user_row(rule: str, name: str, title: str) -> tuple[str, ...]:
    return (rule, user_arn(name, A1), "iam_user", A1, user_arn(name, A1), title)


def test_credential_rules_fire_where_they_should(tmp_path: Path) -> None:
    con = build(_organization(tmp_path), CREDENTIAL_RULES)

    never = "IAM user {} has a console password that was never used"
    stale = "IAM user {} has a console password not used in 90 days"
    assert _fired(con, "det_unused_password") == {
        _user_row("unused-password", "carol", never.format("carol")),
        _user_row("unused-password", "frank", stale.format("frank")),
        _user_row("unused-password", "mia", stale.format("mia")),
    }
    assert _fired(con, "det_console_user_without_mfa") == {
        _user_row(
            "console-user-without-mfa", n, f"IAM user {n} can sign in to the console without MFA"
        )
        for n in ("carol", "ken")
    }
    assert _fired(con, "det_unused_access_key") == {
        _user_row(
            "unused-access-key", n, f"IAM user {n} has an active access key not used in 90 days"
        )
        for n in ("bob", "hank")
    }
    one = "IAM user {} has an active access key older than 90 days"
    two = "IAM user {} has 2 active access keys older than 90 days"
    assert _fired(con, "det_access_key_not_rotated") == {
        _user_row("access-key-not-rotated", "alice", one.format("alice")),
        _user_row("access-key-not-rotated", "bob", one.format("bob")),
        _user_row("access-key-not-rotated", "gina", one.format("gina")),
        _user_row("access-key-not-rotated", "hank", two.format("hank")),
        _user_row("access-key-not-rotated", "ivan", two.format("ivan")),
        _user_row("access-key-not-rotated", "otto", one.format("otto")),
    }
    assert _fired(con, "det_root_access_key_present") == {
        (
            "root-access-key-present",
            _root(A1),
            "aws_account",
            A1,
            _root(A1),
            f"The root user of account {A1} has an active access key",
        )
    }
    assert _fired(con, "det_root_account_used") == {
        (
            "root-account-used",
            _root(a),
            "aws_account",
            a,
            _root(a),
            f"The root user of account {a} was used in the last 15 days",
        )
        for a in (A1, A2)
    }


def test_credential_rule_evidence(tmp_path: Path) -> None:
    con = build(_organization(tmp_path), CREDENTIAL_RULES)

    assert evidence_of(con, "det_unused_access_key", user_arn("bob", A1)) == {
        "unused_days": 90,
        "unused_since": "2026-08-23",
        "as_of": "2026-11-20",
        "access_keys": [
            {
                "key": "access_key_1",
                "created_at": "2025-03-01 00:00:00+00",
                "last_used_at": "2026-05-01 00:00:00+00",
                "last_used_service": "s3",
                "last_used_region": "us-east-1",
                "status": "unused",
            },
            {
                "key": "access_key_2",
                "created_at": "2026-10-01 00:00:00+00",
                "last_used_at": None,
                "last_used_service": None,
                "last_used_region": None,
                "status": "insufficient_history",
            },
        ],
        # The denied call and the console session are not uses of a key.
        "cloudtrail_access_keys": [],
    }
    hank = evidence_of(con, "det_unused_access_key", user_arn("hank", A1))
    assert [(k["key"], k["status"]) for k in hank["access_keys"]] == [
        ("access_key_1", "used"),
        ("access_key_2", "unused"),
    ]
    assert hank["cloudtrail_access_keys"] == [
        {
            "access_key_id": "AKIAHANK000000000001",
            "successful_calls": 1,
            "last_used_at": "2026-11-19 12:00:00+00",
        }
    ]
    assert evidence_of(con, "det_access_key_not_rotated", user_arn("otto", A1)) == {
        "key_rotation_days": 90,
        "as_of": "2026-11-20",
        "access_keys": [
            {
                "key": "access_key_1",
                "created_at": "2026-08-22 23:00:00+00",
                "age_days": 90,
                "last_used_at": "2026-11-19 00:00:00+00",
            }
        ],
    }
    assert evidence_of(con, "det_root_account_used", _root(A2)) == {
        "window_start": "2026-11-06",
        "window_end": "2026-11-20",
        "password_last_used": None,
        "access_key_last_used": None,
        "successful_calls_in_window": 1,
        "last_event_at": "2026-11-12 12:00:00+00",
        "event_names": ["DescribeInstances"],
        "credential_types": ["session"],
    }
    frank = evidence_of(con, "det_unused_password", user_arn("frank", A1))
    assert (frank["password_last_used"], frank["last_console_login_at"]) == (
        "2026-05-01 00:00:00+00",
        None,
    )


def test_credential_rules_follow_the_thresholds(tmp_path: Path) -> None:
    con = build(_organization(tmp_path), CREDENTIAL_RULES, unused_days=30, key_rotation_days=365)
    # Unused since 2026-10-22: dave (created 10-15) is now judged, lee's use is now too old.
    assert {r[1] for r in _fired(con, "det_unused_password")} == {
        user_arn(n, A1) for n in ("carol", "dave", "frank", "lee", "mia")
    }
    assert {(r[1], r[5]) for r in _fired(con, "det_unused_access_key")} == {
        (user_arn("bob", A1), "IAM user bob has 2 active access keys not used in 30 days"),
        (user_arn("dave", A1), "IAM user dave has an active access key not used in 30 days"),
        (user_arn("hank", A1), "IAM user hank has an active access key not used in 30 days"),
    }
    # Due: created before 2025-11-21.
    assert {r[1] for r in _fired(con, "det_access_key_not_rotated")} == {
        user_arn(n, A1) for n in ("bob", "gina", "hank", "ivan")
    }


def test_root_account_used_counts_the_root_user_not_services_acting_as_root(
    tmp_path: Path,
) -> None:
    a4 = "444444444444"
    lines = [
        # Key 1 used in the window, key 2 after the as-of date (a report fetched later).
        _line(
            "<root_account>",
            A1,
            **_key(1, "2024-01-01T00:00:00+00:00", "2026-11-10T08:00:00+00:00"),
            **_key(2, "2024-01-01T00:00:00+00:00", "2026-11-23T08:00:00+00:00"),
        ),
        _line("<root_account>", A2),
        _line("<root_account>", A3),
        _line("<root_account>", a4),
    ]
    events = [
        # Elastic Load Balancing acting with the root identity (invokedBy), and a service
        # event under it: not the root user.
        _event(_root(A2), _at(11, 12), "DeleteNetworkInterface", "ec2.amazonaws.com", i=1)
        | {"invoked_by": "elasticloadbalancing.amazonaws.com"},
        _event(_root(A3), _at(11, 12), "SharedSnapshotVolumeCreated", "ec2.amazonaws.com", i=2)
        | {"event_type": "AwsServiceEvent"},
        _event(_root(a4), _at(11, 12), i=3) | {"event_type": "AwsApiCall"},
    ]
    con = build(
        {"raw_credential_report": _landed_report(tmp_path, lines), "raw_cloudtrail_events": events},
        ["det_root_account_used"],
    )
    assert {r[0] for r in rows(con, "select resource_arn from det_root_account_used")} == {
        _root(A1),
        _root(a4),
    }
