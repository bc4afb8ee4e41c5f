"""The Dagster UI as a newcomer meets it (issue 19): `make dev` on the demo, "Materialize all"
with the dialog's defaults, then a CloudTrail backfill that the automation follows. Each ends
with the detections of `ciem run --as-of 2026-11-20`."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import Browser, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from pipelines.cli import main
from tests.browser.dagster_dev import ROOT, graphql, make_dev

DEMO = ROOT / "data" / "demo"
SCREENSHOT = ROOT / "docs" / "img" / "dagster-materialize-all.png"
ARTIFACT = ROOT / "tests" / "artifacts" / "dagster" / "materialize-all.png"
OPEN = "select detection_id, rule_id, severity, status from detections where status = 'open'"
BACKFILLS = "{ partitionBackfillsOrError { ... on PartitionBackfills { results { id status } } } }"
RUNS = "{ runsOrError { ... on Runs { results { runId status } } } }"
LAUNCH = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}
"""
LATEST = """
query($path: [String!]!, $partition: String!) {
  assetOrError(assetKey: {path: $path}) {
    ... on Asset { assetMaterializations(partitions: [$partition], limit: 1) { timestamp } }
  }
}
"""


def _open_detections(lake: Path) -> set[tuple]:
    with duckdb.connect(str(lake / "warehouse" / "ciem.duckdb"), read_only=True) as con:
        return set(con.execute(OPEN).fetchall())


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> set[tuple]:
    """The open detections of `ciem run --as-of 2026-11-20` on the demo."""
    lake = tmp_path_factory.mktemp("reference") / "lake"
    args = ["run", "--snapshot-root", str(DEMO / "snapshots"), "--cloudtrail"]
    assert (
        main([*args, str(DEMO / "cloudtrail"), "--as-of", "2026-11-20", "--lake", str(lake)]) == 0
    )
    return _open_detections(lake)


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    tmp = tmp_path_factory.mktemp("dagster-ui")
    lake = tmp / "lake"
    with make_dev(tmp / "dagster_home", {"CIEM_LAKE": str(lake)}) as port:
        yield port, lake


def _wait_for_backfill(port: int, backfill_id: str, timeout: float = 900) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = graphql(port, BACKFILLS)["partitionBackfillsOrError"]["results"]
        status = next(b["status"] for b in found if b["id"] == backfill_id)
        if status not in ("REQUESTED", "IN_PROGRESS", "CANCELING"):
            return status
        time.sleep(5)
    raise AssertionError(f"backfill {backfill_id} still running after {timeout} s")


def _wait_until_quiet(port: int, quiet: float = 60, timeout: float = 900) -> None:
    """Until no run is queued or running for `quiet` seconds (the automation has settled)."""
    deadline = time.monotonic() + timeout
    calm_since = time.monotonic()
    while time.monotonic() < deadline:
        runs = graphql(port, RUNS)["runsOrError"]["results"]
        if any(r["status"] in ("QUEUED", "NOT_STARTED", "STARTING", "STARTED") for r in runs):
            calm_since = time.monotonic()
        elif time.monotonic() - calm_since > quiet:
            return
        time.sleep(5)
    raise AssertionError(f"runs still going after {timeout} s")


def _failed_runs(port: int) -> list[str]:
    return [
        r["runId"]
        for r in graphql(port, RUNS)["runsOrError"]["results"]
        if r["status"] == "FAILURE"
    ]


def _dismiss_the_newsletter_prompt(page: Page) -> None:
    """Dagster asks a new instance to join its community, a few seconds after the first page
    loads; "Skip" closes it for good."""
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(timeout=15_000)
    except PlaywrightTimeout:
        return
    skip.click()
    skip.wait_for(state="hidden")


def test_materialize_all_with_the_dialogs_defaults_gives_the_detections_of_ciem_run(
    ui: tuple[int, Path], reference: set[tuple], browser: Browser
) -> None:
    port, lake = ui
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"http://127.0.0.1:{port}/asset-groups")
    page.get_by_role("button", name="Materialize all").wait_for()
    _dismiss_the_newsletter_prompt(page)
    page.get_by_role("button", name="Materialize all").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("All partitions").wait_for()
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACT))
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        page.screenshot(path=str(SCREENSHOT))
    # The defaults: every partition of both partitionings (the demo's 20 days and 2 as-of days).
    dialog.get_by_role("button", name="Launch backfill").click()
    page.get_by_text("Created backfill").wait_for()
    context.close()
    [backfill] = graphql(port, BACKFILLS)["partitionBackfillsOrError"]["results"]
    assert _wait_for_backfill(port, backfill["id"]) == "COMPLETED_SUCCESS"
    assert _failed_runs(port) == []
    assert _open_detections(lake) == reference


def test_a_cloudtrail_backfill_is_followed_by_the_models_of_its_window(
    ui: tuple[int, Path], reference: set[tuple]
) -> None:
    port, lake = ui
    before = graphql(port, LATEST, {"path": ["detection_history"], "partition": "2026-11-20"})
    [earlier] = before["assetOrError"]["assetMaterializations"]
    days = ["2026-11-18", "2026-11-19", "2026-11-20"]
    params = {"assetSelection": [{"path": ["raw_cloudtrail_events"]}], "partitionNames": days}
    launched = graphql(port, LAUNCH, {"params": {**params, "fromFailure": False}})
    backfill_id = launched["launchPartitionBackfill"]["backfillId"]
    assert _wait_for_backfill(port, backfill_id) == "COMPLETED_SUCCESS"
    # The automation (`upstream_changed`) rebuilds the aggregates of those days, then the
    # as-of days whose window holds them, down to the history and the detections.
    _wait_until_quiet(port)
    for asset in ("usage_daily", "detection_history", "detections"):
        partition = "2026-11-19" if asset == "usage_daily" else "2026-11-20"
        after = graphql(port, LATEST, {"path": [asset], "partition": partition})
        [latest] = after["assetOrError"]["assetMaterializations"]
        assert float(latest["timestamp"]) > float(earlier["timestamp"]), asset
    assert _failed_runs(port) == []
    assert _open_detections(lake) == reference
