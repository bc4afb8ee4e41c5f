"""int_credential_usage counts each CloudTrail eventID once: a call redelivered in a later day's
partition (landing keeps an eventID once per day only) is the same call; events without an
eventID are all kept."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from tests.sql.harness import build, rows, user_arn

ALICE = user_arn("alice")
KEY = "AKIAALICE00000000001"


def _call(event_id: str | None, day: date, hour: int, index: int) -> dict[str, Any]:
    return {
        "day": day,
        "event_id": event_id,
        "event_time": datetime(2026, 11, 19, hour, tzinfo=UTC),
        "event_source": "s3.amazonaws.com",
        "event_name": "ListBuckets",
        "recipient_account_id": ALICE.split(":")[4],
        "identity_type": "IAMUser",
        "identity_arn": ALICE,
        "access_key_id": KEY,
        "principal_arn": ALICE,
        "principal_type": "user",
        "source_file": f"f{day.isoformat()}.json.gz",
        "record_index": index,
    }


def test_a_redelivered_event_counts_once_and_events_without_an_id_all_count() -> None:
    events = [
        _call("e-1", date(2026, 11, 19), 23, 0),
        _call("e-1", date(2026, 11, 20), 23, 0),  # redelivered after midnight
        _call("e-2", date(2026, 11, 19), 10, 1),
        _call(None, date(2026, 11, 19), 11, 2),
        _call(None, date(2026, 11, 19), 11, 3),
    ]
    con = build({"raw_cloudtrail_events": events}, ["int_credential_usage"])
    assert rows(
        con,
        "select principal_arn, credential_type, access_key_id, successful_calls "
        "from int_credential_usage",
    ) == [(ALICE, "access_key", KEY, 4)]


def test_a_failed_sign_in_is_no_use_of_the_password_however_its_response_is_written() -> None:
    """The sign-in outcome is read from the response JSON, also when its key is escaped."""

    def sign_in(event_id: str, response: str) -> dict[str, Any]:
        return {
            **_call(event_id, date(2026, 11, 19), 9, int(event_id[-1])),
            "event_source": "signin.amazonaws.com",
            "event_name": "ConsoleLogin",
            "access_key_id": None,
            "response_elements": response,
        }

    events = [
        sign_in("s-1", '{"ConsoleLogin":"Failure"}'),
        sign_in("s-2", '{"Console\\u004cogin":"Failure"}'),
        sign_in("s-3", '{"ConsoleLogin":"Success"}'),
        sign_in("s-4", '{"other":"\\u00e9"}'),
    ]
    con = build({"raw_cloudtrail_events": events}, ["int_credential_usage"])
    assert rows(
        con, "select credential_type, successful_calls, event_names from int_credential_usage"
    ) == [("password", 2, ["ConsoleLogin"])]
