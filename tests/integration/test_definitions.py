"""The real Dagster definitions: asset graph snapshot, code-location name, rule registry."""

from __future__ import annotations

import json
import os
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import yaml

from pipelines.definitions import defs
from pipelines.defs.lake_tables import lake_tables
from pipelines.defs.location import location_days
from pipelines.lib.reference.csvs import load_reference
from pipelines.lib.warehouse.sql_models import SQL_DIR, discover_models

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = Path(__file__).with_name("asset_graph.json")


def _partitions(node: object) -> str | None:
    """Which of the two daily partitionings an asset has (their dates follow the data)."""
    partitions = node.partitions_def  # type: ignore[attr-defined]
    if partitions is None:
        return None
    days = location_days(defs.resources["ciem"])
    return {days.cloudtrail_days: "cloudtrail_days", days.as_of_days: "as_of_days"}[partitions]


def _dep(graph: object, key: dg.AssetKey, parent: dg.AssetKey) -> str:
    """A dependency, with its partition mapping where it is not the identity."""
    name = parent.to_user_string()
    mapping = graph.get_partition_mapping(key, parent)  # type: ignore[attr-defined]
    if isinstance(mapping, dg.TimeWindowPartitionMapping) and mapping.start_offset != 0:
        return f"{name} [window {mapping.start_offset}..{mapping.end_offset}]"
    return name


def asset_graph() -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(_dep(graph, key, k) for k in node.parent_keys),
            "partitions": _partitions(node),
            "kinds": sorted(node.kinds),
            "automation": node.automation_condition.get_label()
            if node.automation_condition
            else None,
        }
    return {
        "assets": assets,
        "asset_checks": sorted(k.to_user_string() for k in graph.asset_check_keys),
        "schedules": sorted(
            [s.name, s.cron_schedule, s.job_name, s.default_status.value]
            for s in defs.get_repository_def().schedule_defs
        ),
        "sensors": sorted(
            [s.name, s.default_status.value] for s in defs.get_repository_def().sensor_defs
        ),
        "jobs": sorted(
            j.name for j in defs.get_repository_def().get_all_jobs() if not j.name.startswith("__")
        ),
    }


def test_asset_graph_matches_snapshot() -> None:
    current = json.loads(json.dumps(asset_graph()))
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(current, indent=2) + "\n")
    expected = json.loads(SNAPSHOT.read_text())
    assert current == expected, (
        "the asset graph changed; review the change and regenerate the snapshot with "
        "`UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/integration/test_definitions.py`"
    )


def test_workspace_and_dg_agree_on_the_code_location_name() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    [location] = workspace["load_from"]
    module = location["python_module"]
    assert module["location_name"] == pyproject["tool"]["dg"]["project"]["code_location_name"]
    assert (
        module["module_name"] == f"{pyproject['tool']['dg']['project']['root_module']}.definitions"
    )
    # [tool.dagster] would silently outrank [tool.dg].
    assert "dagster" not in pyproject["tool"]


def test_every_rule_has_a_model_a_registry_row_and_a_place_in_the_union() -> None:
    rule_models = {p.stem for p in (SQL_DIR / "detections").glob("*.sql")}
    registry = {r["rule_id"] for r in load_reference("ref_detection_rules").to_pylist()}
    [union] = [
        m for m in discover_models(external=lake_tables()) if m.name == "int_detections_current"
    ]
    assert {"det_" + r.replace("-", "_") for r in registry} == rule_models
    assert {m for m in rule_models if f"select * from {m}\n" in union.sql} == rule_models
    assert set(union.deps) >= rule_models
    for model in rule_models:
        rule_id = model.removeprefix("det_").replace("_", "-")
        assert f"'{rule_id}' as rule_id" in (SQL_DIR / "detections" / f"{model}.sql").read_text()


def test_nightly_schedule_lands_yesterday_and_the_models_follow_it() -> None:
    """A live deployment (days rolling with the calendar): the schedule lands the day that
    ended, the sensor models that as-of day; between the two jobs and the reference and report
    assets (materialized with any run), every asset is covered."""
    from pipelines.defs.location import build_definitions
    from pipelines.defs.partitions import planned_days

    settings = defs.resources["ciem"]
    days = planned_days(
        settings.cloudtrail_dir, settings.snapshots, 15, env={"CIEM_LATEST_DAY": "rolling"}
    )
    live = build_definitions(settings, days, collect=False)
    schedule = live.resolve_schedule_def("ciem_nightly_schedule")
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 28, 2, 0, tzinfo=UTC),
        repository_def=live.get_repository_def(),
    )
    [request] = list(schedule.evaluate_tick(context).run_requests or [])
    assert request.partition_key == "2026-11-27"
    landing = live.resolve_job_def("ciem_nightly")
    models = live.resolve_job_def("ciem_models")
    assert {k.to_user_string() for k in landing.asset_layer.selected_asset_keys} == {
        "raw_cloudtrail_events",
        "usage_daily",
        "event_counts_daily",
        "cloudtrail_deliveries_daily",
    }
    graph = live.resolve_asset_graph()
    as_of = {
        k.to_user_string()
        for k in graph.get_all_asset_keys()
        if graph.get(k).partitions_def == days.as_of_days
    }
    assert {k.to_user_string() for k in models.asset_layer.selected_asset_keys} == as_of
    unpartitioned = {
        k.to_user_string()
        for k in graph.get_all_asset_keys()
        if graph.get(k).partitions_def is None
    }
    assert {graph.get(dg.AssetKey(k)).group_name for k in unpartitioned} == {"reference", "reports"}


def _freshness(live: dg.Definitions, landed: list[str]) -> dict[str, tuple[bool, str]]:
    """Run the freshness checks of a live deployment on an instance where `landed` days of
    CloudTrail (and their as-of days of detections) have been materialized."""
    instance = dg.DagsterInstance.ephemeral()
    for day in landed:
        for asset in ("raw_iam_users", "detections"):
            instance.report_runless_asset_event(dg.AssetMaterialization(asset, partition=day))
    checks = dg.AssetSelection.checks(*live.asset_checks)
    job = dg.define_asset_job("freshness", selection=checks)
    defs_with_job = dg.Definitions(
        assets=live.assets, asset_checks=live.asset_checks, jobs=[job], resources=live.resources
    )
    result = defs_with_job.resolve_job_def("freshness").execute_in_process(instance=instance)
    return {
        e.asset_key.to_user_string(): (e.passed, e.severity.value)
        for e in result.get_asset_check_evaluations()
    }


def test_freshness_warns_when_the_newest_landed_day_is_late() -> None:
    """A live deployment whose newest as-of day is five days old is warned of (on both the
    landed snapshot and the modelled detections); one that landed yesterday and the day before
    is not, whatever the hour (before the 06:00 deadline, the day before counts)."""
    from pipelines.defs.location import build_definitions
    from pipelines.defs.partitions import planned_days
    from pipelines.defs.schedules import FRESHNESS_CHECK

    settings = defs.resources["ciem"]
    days = planned_days(
        settings.cloudtrail_dir, settings.snapshots, 15, env={"CIEM_LATEST_DAY": "rolling"}
    )
    live = build_definitions(settings, days, collect=False)
    [checks] = live.asset_checks
    assert {k.to_user_string() for k in checks.check_keys} == {
        f"raw_iam_users:{FRESHNESS_CHECK}",
        f"detections:{FRESHNESS_CHECK}",
    }
    today = datetime.now(UTC).date()
    ago = [(today - timedelta(days=n)).isoformat() for n in (1, 2, 5)]
    late, fresh = (False, "WARN"), (True, "WARN")
    assert _freshness(live, [ago[2]]) == {"raw_iam_users": late, "detections": late}
    assert _freshness(live, ago) == {"raw_iam_users": fresh, "detections": fresh}
