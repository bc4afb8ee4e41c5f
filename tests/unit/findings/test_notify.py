"""Notifications (issue 14, item 2): which detections are sent (opened, reopened, severity
changed, unsuppressed; never the backlog, never a suppressed one), the message bodies, and
delivery against a real HTTP server on loopback with failures injected (500s, timeouts, then
success; a permanent failure), OCSF JSON lines to a folder and to S3 (moto server), and the
delivery log that keeps a rerun from sending twice."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.lib.findings.history import (
    DETECTION_HISTORY_SCHEMA,
    RESOURCE_CONFIG_HISTORY_SCHEMA,
)
from pipelines.lib.findings.notify import (
    DeliveryFailed,
    Destinations,
    NotifySettingError,
    delivery_log_path,
    detection_changes,
    notify,
    with_retries,
)
from pipelines.lib.lake import Lake, write_parquet
from pipelines.lib.reference.csvs import load_reference
from tests.fixtures.notify_server import TIMEOUT, webhook_server

D1, D2, D3 = date(2026, 11, 18), date(2026, 11, 19), date(2026, 11, 20)
# A client timeout well above what a loaded machine takes to answer on loopback: at 0.5 s, a 200
# answered late during a full test run was taken for a timeout, retried, and accepted twice
# (`test_after_a_failed_batch…` saw [20, 20, 20, 5]). The scripted `timeout` is held longer.
FAST = {"retries": 3, "backoff_s": 0.01, "timeout_s": 3.0}


def _detection(detection_id: str, severity: str = "high", suppressed: bool = False) -> dict:
    return {
        "detection_id": detection_id,
        "rule_id": "admin-iam-role",
        "severity": severity,
        "resource_arn": f"arn:aws:iam::222222222222:role/{detection_id}",
        "resource_type": "iam_role",
        "account_id": "222222222222",
        "title": f"IAM role {detection_id} has administrative privileges",
        "evidence": '{"policies": ["AdministratorAccess"]}',
        "principal_arn": f"arn:aws:iam::222222222222:role/{detection_id}",
        "suppression_reason": "accepted risk" if suppressed else None,
    }


def _history(lake: Lake, as_of: date, detections: list[dict]) -> None:
    now = datetime(2026, 11, 21, tzinfo=UTC)
    rows = [{**d, "as_of": as_of, "recorded_at": now} for d in detections]
    write_parquet(
        pa.Table.from_pylist(rows, schema=DETECTION_HISTORY_SCHEMA), lake.history_path(as_of)
    )


def _resources(lake: Lake, as_of: date) -> None:
    row = {
        "as_of": as_of,
        "resource_arn": "arn:aws:iam::222222222222:role/x",
        "resource_type": "iam_role",
        "account_id": "222222222222",
        "config_type": "exists",
        "config_key": "",
        "fingerprint": "1",
        "details": None,
        "recorded_at": datetime(2026, 11, 21, tzinfo=UTC),
    }
    write_parquet(
        pa.Table.from_pylist([row], schema=RESOURCE_CONFIG_HISTORY_SCHEMA),
        lake.resource_history_path(as_of),
    )


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    """Three runs. D1: a, b, c (suppressed), e, g (suppressed). D2: a, b (now critical), c
    (still suppressed), d (new), f (new, suppressed), g (still suppressed). D3: a, b, d, e (back
    after D2 missed it), g (its suppression expired), h (new)."""
    lake = Lake.at(tmp_path / "lake")
    write_parquet(load_reference("ref_detection_rules"), lake.table_path("ref_detection_rules"))
    _history(
        lake,
        D1,
        [
            _detection("a"),
            _detection("b"),
            _detection("c", suppressed=True),
            _detection("e", "medium"),
            _detection("g", suppressed=True),
        ],
    )
    _history(
        lake,
        D2,
        [
            _detection("a"),
            _detection("b", "critical"),
            _detection("c", suppressed=True),
            _detection("d"),
            _detection("f", suppressed=True),
            _detection("g", suppressed=True),
        ],
    )
    _history(
        lake,
        D3,
        [
            _detection("a"),
            _detection("b", "critical"),
            _detection("d"),
            _detection("e", "high"),
            _detection("g"),
            _detection("h", "low"),
        ],
    )
    return lake


def _changes(lake: Lake, as_of: date) -> set[tuple]:
    _, changes = detection_changes(lake, as_of)
    return {
        (c["detection_id"], c["change"], c["severity"], c["previous_severity"]) for c in changes
    }


def test_only_what_changed_since_the_previous_run_is_sent(lake: Lake) -> None:
    assert _changes(lake, D2) == {
        ("b", "severity_changed", "critical", "high"),
        ("d", "opened", "high", None),
    }
    assert _changes(lake, D3) == {
        ("e", "reopened", "high", "medium"),
        ("g", "unsuppressed", "high", "high"),
        ("h", "opened", "low", None),
    }


def test_the_first_run_of_a_lake_is_the_baseline(lake: Lake) -> None:
    assert detection_changes(lake, D1) == (None, [])


def test_a_run_that_found_nothing_is_the_previous_run(tmp_path: Path) -> None:
    """D2 found no detection (its detection history is empty; its resource history says it
    ran): a, found by D1 and D3, reopened on D3, exactly as the timeline says."""
    lake = Lake.at(tmp_path / "lake")
    _history(lake, D1, [_detection("a")])
    _resources(lake, D1)
    _resources(lake, D2)
    _history(lake, D2, [])
    _history(lake, D3, [_detection("a")])
    assert detection_changes(lake, D3)[0] == D2
    assert _changes(lake, D3) == {("a", "reopened", "high", "high")}


def test_a_date_without_history_is_said_so(lake: Lake) -> None:
    with pytest.raises(FileNotFoundError, match="no detection history for 2026-11-21"):
        detection_changes(lake, date(2026, 11, 21))


def test_settings_are_checked() -> None:
    with pytest.raises(NotifySettingError, match="CIEM_NOTIFY_WEBHOOK_FORMAT='teams'"):
        Destinations(webhook="http://127.0.0.1/x", webhook_format="teams")
    with pytest.raises(NotifySettingError, match="not an http"):
        Destinations(webhook="file:///etc/passwd")


def test_backoff_doubles_and_stops_after_the_retries() -> None:
    waits: list[float] = []

    def attempt() -> None:
        raise DeliveryFailed("HTTP 500", True)

    assert with_retries(attempt, retries=3, backoff_s=1.0, sleep=waits.append) == (4, "HTTP 500")
    assert waits == [1.0, 2.0, 4.0]
    waits.clear()

    def refused() -> None:
        raise DeliveryFailed("HTTP 404 Not Found", False)

    assert with_retries(refused, retries=3, backoff_s=1.0, sleep=waits.append) == (
        1,
        "HTTP 404 Not Found",
    )
    assert waits == []


def test_a_slack_webhook_gets_the_changes_after_500s_and_a_timeout(lake: Lake) -> None:
    with webhook_server([500, TIMEOUT, 503]) as hook:
        result = notify(lake, D3, Destinations(webhook=hook.url), **FAST)
    assert [r["outcome"] for r in hook.requests] == [500, TIMEOUT, 503, 200]
    assert {(d.detection_id, d.change, d.status, d.attempts) for d in result.deliveries} == {
        ("e", "reopened", "delivered", 4),
        ("g", "unsuppressed", "delivered", 4),
        ("h", "opened", "delivered", 4),
    }
    [body] = hook.accepted
    assert body["text"] == "ciem: 3 detection change(s) as of 2026-11-20"
    assert [b["type"] for b in body["blocks"]] == ["header", "section", "section", "section"]
    assert body["blocks"][1]["text"] == {
        "type": "mrkdwn",
        "text": "*HIGH* reopened (medium → high): IAM role e has administrative privileges\n"
        "`arn:aws:iam::222222222222:role/e`\n"
        "rule `admin-iam-role` · account 222222222222 · id `e`",
    }
    # every attempt carried the same idempotency key (a receiver can drop a repeat)
    assert len({r["headers"]["Idempotency-Key"] for r in hook.requests}) == 1


def test_a_generic_json_webhook_gets_one_object_per_change(lake: Lake) -> None:
    with webhook_server() as hook:
        notify(lake, D2, Destinations(webhook=hook.url, webhook_format="json"), **FAST)
    [body] = hook.accepted
    assert body == {
        "source": "ciem",
        "as_of": "2026-11-19",
        "total_changes": 2,
        "notifications": [
            {
                "detection_id": "b",
                "change": "severity_changed",
                "severity": "critical",
                "previous_severity": "high",
                "rule_id": "admin-iam-role",
                "title": "IAM role b has administrative privileges",
                "resource_arn": "arn:aws:iam::222222222222:role/b",
                "resource_type": "iam_role",
                "account_id": "222222222222",
                "principal_arn": "arn:aws:iam::222222222222:role/b",
                "first_seen_at": "2026-11-18",
                "evidence": {"policies": ["AdministratorAccess"]},
            },
            {
                "detection_id": "d",
                "change": "opened",
                "severity": "high",
                "previous_severity": None,
                "rule_id": "admin-iam-role",
                "title": "IAM role d has administrative privileges",
                "resource_arn": "arn:aws:iam::222222222222:role/d",
                "resource_type": "iam_role",
                "account_id": "222222222222",
                "principal_arn": "arn:aws:iam::222222222222:role/d",
                "first_seen_at": "2026-11-19",
                "evidence": {"policies": ["AdministratorAccess"]},
            },
        ],
    }


def test_a_rerun_of_the_same_date_sends_nothing_again(lake: Lake) -> None:
    with webhook_server() as hook:
        first = notify(lake, D3, Destinations(webhook=hook.url), **FAST)
        again = notify(lake, D3, Destinations(webhook=hook.url), **FAST)
    assert len(hook.accepted) == 1
    assert (len(first.delivered), again.deliveries, again.already_delivered) == (3, [], 3)


def test_a_permanent_failure_is_reported_then_sent_by_a_rerun(lake: Lake) -> None:
    with webhook_server([500] * 4) as hook:
        failed = notify(lake, D3, Destinations(webhook=hook.url), **FAST)
    assert {(d.detection_id, d.status, d.attempts, d.error) for d in failed.failed} == {
        (i, "failed", 4, "HTTP 500 Internal Server Error") for i in "egh"
    }
    assert hook.accepted == []
    log = pq.read_table(delivery_log_path(lake, D3)).to_pylist()
    assert {(r["detection_id"], r["status"]) for r in log} == {(i, "failed") for i in "egh"}
    with webhook_server() as hook:
        rerun = notify(lake, D3, Destinations(webhook=hook.url), **FAST)
    assert {(d.detection_id, d.status) for d in rerun.deliveries} == {
        (i, "delivered") for i in "egh"
    }
    assert len(hook.accepted) == 1


def test_an_unreachable_webhook_fails_without_raising(lake: Lake) -> None:
    with webhook_server() as hook:
        url = hook.url  # the server is gone after the block: connection refused
    result = notify(lake, D3, Destinations(webhook=url), retries=1, backoff_s=0.01)
    assert {(d.status, d.attempts) for d in result.deliveries} == {("failed", 2)}
    assert result.failed[0].error.startswith("cannot reach the webhook: ")


def test_a_refused_request_is_not_retried(lake: Lake) -> None:
    with webhook_server([404]) as hook:
        result = notify(lake, D3, Destinations(webhook=hook.url), **FAST)
    assert [r["outcome"] for r in hook.requests] == [404]
    assert {d.error for d in result.failed} == {"HTTP 404 Not Found"}


def _ocsf_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def test_ocsf_json_lines_go_to_a_folder_once(lake: Lake, tmp_path: Path) -> None:
    folder = tmp_path / "ocsf"
    destinations = Destinations(ocsf_dir=str(folder))
    notify(lake, D3, destinations, product_version="1.2.3", **FAST)
    notify(lake, D3, destinations, product_version="1.2.3", **FAST)
    [path] = folder.iterdir()
    assert path.name.startswith("ciem-notifications-2026-11-20-")
    lines = _ocsf_lines(path.read_text())
    assert [
        (f["finding_info"]["uid"], f["unmapped"]["notification_change"], f["severity"])
        for f in lines
    ] == [("e", "reopened", "High"), ("g", "unsuppressed", "High"), ("h", "opened", "Low")]
    first = lines[0]
    assert (first["class_uid"], first["status"], first["type_uid"]) == (2004, "New", 200401)
    assert first["finding_info"]["first_seen_time"] == 1794960000000  # 2026-11-18 (D1)
    assert first["finding_info"]["last_seen_time"] == 1795132800000  # 2026-11-20 (D3)
    assert first["finding_info"]["types"] == ["admin-rights"]  # from the rule registry
    assert first["unmapped"]["previous_severity"] == "medium"


def test_ocsf_json_lines_go_to_an_s3_prefix(lake: Lake, aws_env: str) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="ciem-notify-test")
    notify(lake, D2, Destinations(ocsf_dir="s3://ciem-notify-test/findings"), **FAST)
    [key] = [o["Key"] for o in s3.list_objects_v2(Bucket="ciem-notify-test")["Contents"]]
    assert key.startswith("findings/ciem-notifications-2026-11-19-")
    body = s3.get_object(Bucket="ciem-notify-test", Key=key)["Body"].read().decode()
    assert [
        (f["finding_info"]["uid"], f["unmapped"]["notification_change"]) for f in _ocsf_lines(body)
    ] == [
        ("b", "severity_changed"),
        ("d", "opened"),
    ]


def test_an_unwritable_ocsf_folder_is_a_failed_delivery(lake: Lake, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    result = notify(lake, D3, Destinations(ocsf_dir=str(blocker)), **FAST)
    assert {(d.status, d.attempts) for d in result.deliveries} == {("failed", 4)}


def test_each_destination_has_its_own_log_and_no_url_is_stored(lake: Lake, tmp_path: Path) -> None:
    with webhook_server() as hook:
        destinations = Destinations(
            webhook=hook.url + "?token=SECRET", ocsf_dir=str(tmp_path / "o")
        )
        result = notify(lake, D2, destinations, **FAST)
    assert len(result.delivered) == 4
    log = pq.read_table(delivery_log_path(lake, D2))
    assert {d.split(":")[0] for d in log.column("destination").to_pylist()} == {"webhook", "ocsf"}
    assert b"SECRET" not in delivery_log_path(lake, D2).read_bytes()
    assert "127.0.0.1" not in str(log.to_pylist())


def test_after_a_failed_batch_the_rest_is_not_sent_in_this_run(tmp_path: Path) -> None:
    """45 new detections are three messages; the first fails after its retries, so the other
    two are not tried against a webhook that is down (a rerun sends all three)."""
    lake = Lake.at(tmp_path / "lake")
    _history(lake, D1, [])
    _history(lake, D2, [_detection(f"n{i:02d}") for i in range(45)])
    with webhook_server([500] * 4) as hook:
        failed = notify(lake, D2, Destinations(webhook=hook.url), **FAST)
    assert len(hook.requests) == 4
    assert sorted({(d.attempts, d.error) for d in failed.failed}) == [
        (0, "not sent: HTTP 500 Internal Server Error"),
        (4, "HTTP 500 Internal Server Error"),
    ]
    assert len(failed.failed) == 45
    with webhook_server() as hook:
        rerun = notify(lake, D2, Destinations(webhook=hook.url), **FAST)
    assert [len(b["blocks"]) - 1 for b in hook.accepted] == [20, 20, 5]
    assert {d.detection_id for d in rerun.delivered} == {f"n{i:02d}" for i in range(45)}
