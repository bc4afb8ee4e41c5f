"""The nightly schedule: yesterday's CloudTrail day, then every model, at 02:00 UTC."""

from datetime import timedelta

import dagster as dg

from pipelines.defs.landing import cloudtrail_days

nightly_job = dg.define_asset_job(
    "ciem_nightly",
    selection=dg.AssetSelection.all(),
    partitions_def=cloudtrail_days,
    description="Land yesterday's CloudTrail and the current snapshot, rebuild every model.",
)


@dg.schedule(
    job=nightly_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,  # turned on per deployment (README)
)
def ciem_nightly_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Each night, the day that just ended is landed and the window ending on it is modelled."""
    day = (context.scheduled_execution_time - timedelta(days=1)).date().isoformat()
    return dg.RunRequest(run_key=day, partition_key=day)
