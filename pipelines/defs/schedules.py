"""The nightly loop: at 02:00 UTC the day that just ended is landed (and, where live collection
is configured, a snapshot is collected first); when that run succeeds, the as-of day is modelled.

Two jobs, because a job has one partitioning: `ciem_nightly` (CloudTrail day D) and
`ciem_models` (as-of day D: the snapshot used and every model). The sensor chains them, so the
models never start on a day that is not landed."""

from __future__ import annotations

import os
import warnings
from datetime import timedelta

import dagster as dg

from pipelines.defs.partitions import Days
from pipelines.lib.warehouse.daily import DAILY_MODELS


def _running() -> bool:
    # Stopped unless the deployment says otherwise (README, "Nightly schedule").
    return os.environ.get("CIEM_NIGHTLY_SCHEDULE") == "running"


def build_nightly(days: Days, collect: bool) -> tuple[list, list, list]:
    """The jobs, the schedule and the sensor of the nightly loop."""
    # Every daily aggregate: they are one multi-asset, which runs whole.
    landing = dg.AssetSelection.assets("raw_cloudtrail_events", *DAILY_MODELS)
    if collect:
        landing = landing | dg.AssetSelection.assets("iam_snapshot_collected")
    nightly_job = dg.define_asset_job(
        "ciem_nightly",
        selection=landing,
        description="Collect a snapshot (if configured) and land the CloudTrail day that ended.",
    )
    models_job = dg.define_asset_job(
        "ciem_models",
        selection=dg.AssetSelection.all()
        - landing
        - dg.AssetSelection.groups("collect", "reference", "reports"),
        description="Model one as-of day: its snapshot, every SQL model and the history.",
    )

    @dg.schedule(
        job=nightly_job,
        cron_schedule="0 2 * * *",
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING
        if _running()
        else dg.DefaultScheduleStatus.STOPPED,
    )
    def ciem_nightly_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        """Each night, the day that just ended is landed; `ciem_models_after_landing` follows."""
        day = (context.scheduled_execution_time - timedelta(days=1)).date().isoformat()
        return dg.RunRequest(run_key=day, partition_key=day)

    @dg.run_status_sensor(
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=[nightly_job],
        request_job=models_job,
        default_status=dg.DefaultSensorStatus.RUNNING
        if _running()
        else dg.DefaultSensorStatus.STOPPED,
    )
    def ciem_models_after_landing(context: dg.RunStatusSensorContext):
        """When a day has landed, model that day as the as-of day (its window ends on it)."""
        day = context.dagster_run.tags.get("dagster/partition")
        if day and day in days.as_of_days.get_partition_keys():
            return dg.RunRequest(run_key=f"models-{day}", partition_key=day)
        return dg.SkipReason(f"no as-of partition for {day!r}")

    return [nightly_job, models_job], [ciem_nightly_schedule], [ciem_models_after_landing]


def freshness_deadline() -> str:
    """When the day that ended must have landed (cron, UTC): by default 06:00, four hours after
    the nightly run starts (`CIEM_FRESHNESS_DEADLINE`)."""
    return os.environ.get("CIEM_FRESHNESS_DEADLINE", "0 6 * * *")


def build_freshness() -> tuple[list[dg.AssetChecksDefinition], dg.SensorDefinition]:
    """Warn when the newest as-of day landed (its snapshot: `raw_iam_users`) or modelled
    (`detections`) is older than the deadline expects: after 06:00 UTC, yesterday must be there.
    A CloudTrail day that did not land shows here too: the models of its as-of day wait for it
    (`int_usage_in_window:window_inputs_landed`). CloudTrail's own partitions run up to today,
    whose partial day nothing waits for, so they are not checked themselves. A warning (never an
    error), cleared by the run that catches up; evaluated by the daemon's sensor, which runs
    with the nightly schedule (`CIEM_NIGHTLY_SCHEDULE=running`)."""
    with warnings.catch_warnings():
        # Dagster 1.13 points to `FreshnessPolicy`, which judges an asset's last materialization
        # of any partition (a backfill of last month would count as fresh); these checks ask for
        # the newest day itself.
        warnings.simplefilter("ignore", category=dg.SupersessionWarning)
        checks = list(
            dg.build_time_partition_freshness_checks(
                assets=["raw_iam_users", "detections"],
                deadline_cron=freshness_deadline(),
                timezone="UTC",
                severity=dg.AssetCheckSeverity.WARN,
            )
        )
        sensor = dg.build_sensor_for_freshness_checks(
            freshness_checks=checks,
            name="ciem_freshness",
            minimum_interval_seconds=600,
            default_status=dg.DefaultSensorStatus.RUNNING
            if _running()
            else dg.DefaultSensorStatus.STOPPED,
        )
    return checks, sensor


def is_freshness_check(checks: dg.AssetChecksDefinition) -> bool:
    return all(key.name == FRESHNESS_CHECK for key in checks.check_keys)


FRESHNESS_CHECK = "freshness_check"
