"""The code location built for its settings and days: what `pipelines/definitions.py` serves to
the UI and what `ciem run` materializes in process (the same assets, sized to its as-of day)."""

from __future__ import annotations

import os

import dagster as dg

from pipelines.defs.cloudtrail import build_cloudtrail
from pipelines.defs.collect import iam_snapshot_collected
from pipelines.defs.event_map import ref_event_action_map
from pipelines.defs.executor import executor_from_env, workers_setting
from pipelines.defs.explorer import explorer_report
from pipelines.defs.landing import build_landing, ref_iam_actions, reference_tables
from pipelines.defs.models import build_models, ref_suppressions
from pipelines.defs.notifications import build_notifications
from pipelines.defs.partitions import Days, planned_days
from pipelines.defs.resources import CiemSettings
from pipelines.defs.schedules import build_freshness, build_nightly


def collection_configured() -> bool:
    """Live collection is part of the code location only when it is configured: otherwise it is
    not defined at all, so "Materialize all" and a backfill never meet a skipped asset."""
    return bool(os.environ.get("CIEM_COLLECT_SNAPSHOT_ROOT"))


def location_days(settings: CiemSettings) -> Days:
    return planned_days(
        settings.cloudtrail_dir,
        settings.snapshots,
        settings.window_days,
        lookback_days=settings.unused_days,
    )


def build_definitions(
    settings: CiemSettings,
    days: Days | None = None,
    collect: bool | None = None,
    workers: int | None = None,
    executor: dg.ExecutorDefinition | None = None,
) -> dg.Definitions:
    """The code location. `workers` (default `CIEM_WORKERS`) is how many shares the CloudTrail
    days of a run are landed and aggregated in; `executor` (default `CIEM_EXECUTOR`) runs the
    steps (`defs/executor.py`)."""
    days = days or location_days(settings)
    collect = collection_configured() if collect is None else collect
    assets = [
        *build_landing(days),
        *build_cloudtrail(days, workers_setting() if workers is None else workers),
        ref_iam_actions,
        reference_tables,
        ref_event_action_map,
        ref_suppressions,
        build_models(days),
        build_notifications(days),
        explorer_report,
    ]
    if collect:
        assets.append(iam_snapshot_collected)
    jobs, schedules, sensors = build_nightly(days, collect)
    freshness_checks, freshness_sensor = build_freshness()
    sensors.append(freshness_sensor)
    # Running by default: with `make dev`'s daemon, partitions whose inputs changed are rebuilt
    # (the condition `upstream_changed` on the aggregates and models; README, "Stale means stale").
    sensors.append(
        dg.AutomationConditionSensorDefinition(
            "ciem_automation",
            target=dg.AssetSelection.all(),
            default_status=dg.DefaultSensorStatus.RUNNING,
            minimum_interval_seconds=30,
        )
    )
    return dg.Definitions(
        assets=assets,
        asset_checks=freshness_checks,
        jobs=jobs,
        schedules=schedules,
        sensors=sensors,
        resources={"ciem": settings},
        executor=executor or executor_from_env(),
    )
