"""The `notifications` asset (issue 14, item 2) in real runs: `ciem run` on the demo's two
snapshots sends, on the second night, exactly the changes `detection_timeline` shows for that
night, to a webhook on loopback (after a 500) and as OCSF lines; a rerun sends nothing again; a
webhook that never answers 2xx fails the `delivered` check while the models and the asset
succeed."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

import pipelines.lib.findings.notify as notify_module
from pipelines.defs.notifications import build_notifications
from pipelines.defs.partitions import run_days
from pipelines.defs.resources import CiemSettings
from tests.faults.harness import DEMO_SNAPSHOTS, rows, run_ciem
from tests.fixtures.notify_server import Webhook, webhook_server

TIMELINE_CHANGES = """
    select detection_id, event_type from detection_timeline
    where event_at = '2026-11-20' and event_type in ('opened', 'reopened', 'severity_changed')
"""


@pytest.fixture(scope="module")
def two_nights(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Webhook]:
    """`ciem run` on the demo's 2026-11-19 and 2026-11-20 snapshots, then 2026-11-20 again,
    with a webhook (generic JSON; its first answer a 500) and an OCSF folder configured."""
    base = tmp_path_factory.mktemp("notify")
    lake = base / "lake"
    with pytest.MonkeyPatch.context() as env, webhook_server([500]) as hook:
        env.setattr(notify_module, "BACKOFF_S", 0.01)
        env.setenv("CIEM_NOTIFY_WEBHOOK", hook.url)
        env.setenv("CIEM_NOTIFY_WEBHOOK_FORMAT", "json")
        env.setenv("CIEM_NOTIFY_OCSF_DIR", str(base / "ocsf"))
        assert run_ciem(lake, snapshot=DEMO_SNAPSHOTS / "2026-11-19", as_of="2026-11-19") == 0
        assert hook.requests == []  # the first night is the baseline
        assert run_ciem(lake) == 0
        assert run_ciem(lake) == 0  # a rerun of the night sends nothing again
    return base, hook


def test_the_second_night_sends_what_the_timeline_shows_once(
    two_nights: tuple[Path, Webhook],
) -> None:
    base, hook = two_nights
    sent = {(n["detection_id"], n["change"]) for b in hook.accepted for n in b["notifications"]}
    assert sent == rows(base / "lake", TIMELINE_CHANGES)
    assert len(sent) == 2 and len(hook.accepted) == 1
    assert [r["outcome"] for r in hook.requests] == [500, 200]
    [ocsf] = (base / "ocsf").iterdir()
    lines = [json.loads(line) for line in ocsf.read_text().splitlines()]
    assert {(f["finding_info"]["uid"], f["unmapped"]["notification_change"]) for f in lines} == sent


def test_a_failed_delivery_fails_the_check_not_the_asset(
    two_nights: tuple[Path, Webhook], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another webhook (nothing delivered to it yet) that answers 503 every time."""
    base, _ = two_nights
    monkeypatch.setattr(notify_module, "BACKOFF_S", 0.01)
    with webhook_server([503] * 10) as hook:
        settings = CiemSettings(
            snapshot_dir="-",
            cloudtrail_dir="-",
            lake_dir=str(base / "lake"),
            notify_webhook=hook.url,
            notify_webhook_format="slack",
        )
        notifications = build_notifications(run_days(date(2026, 11, 20), 15))
        result = dg.materialize(
            [notifications], resources={"ciem": settings}, partition_key="2026-11-20"
        )
    assert result.success
    assert len(hook.requests) == 1 + notify_module.RETRIES
    [check] = result.get_asset_check_evaluations()
    assert (check.check_name, check.passed) == ("delivered", False)
    assert check.metadata["offending_rows"].value == 2
    assert check.metadata["errors"].value == [
        f"{settings_key(hook.url)}: HTTP 503 Service Unavailable"
    ]


def settings_key(url: str) -> str:
    from pipelines.lib.findings.notify import Destinations

    [key] = Destinations(webhook=url).destination_keys()
    return key
