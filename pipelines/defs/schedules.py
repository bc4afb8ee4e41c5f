"""The nightly schedule: yesterday's CloudTrail day, then every model, at 02:00 UTC."""

import os
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
    # Stopped unless the deployment says otherwise (README, "Nightly schedule").
    default_status=dg.DefaultScheduleStatus.RUNNING
    if os.environ.get("CIEM_NIGHTLY_SCHEDULE") == "running"
    else dg.DefaultScheduleStatus.STOPPED,
)
def ciem_nightly_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Each night, the day that just ended is landed and the window ending on it is modelled."""
    day = (context.scheduled_execution_time - timedelta(days=1)).date().isoformat()
    return dg.RunRequest(run_key=day, partition_key=day)
