"""Notifications: after the models, the detections that opened, reopened or changed severity
are sent to the configured destinations (`pipelines/lib/findings/notify.py`).

A downstream asset rather than a sensor (README "Notifications"): it runs in the same run as the
models it reports on, for the same as-of date, in `ciem run` and in the nightly job alike (no
daemon needed), its delivery is an asset check beside it in the UI, and a rerun of the date
rematerializes it (the lake's delivery log keeps that from sending twice)."""

import logging
from datetime import date
from importlib.metadata import PackageNotFoundError, version

import dagster as dg

from pipelines.defs.partitions import Days
from pipelines.defs.resources import CiemSettings
from pipelines.lib.findings.notify import (
    Destinations,
    NotifyResult,
    NotifySettingError,
    delivery_log_path,
    notify,
)

DELIVERED = "delivered"
log = logging.getLogger("ciem")  # the progress lines of `ciem run` and the Dagster UI


def _product_version() -> str:
    try:
        return version("ciem")
    except PackageNotFoundError:
        return "0+unknown"


def _check(passed: bool, description: str, **metadata: object) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=DELIVERED,
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=description,
        metadata=metadata,
    )


def _summary(result: NotifyResult) -> str:
    if result.previous_as_of is None:
        return f"{result.as_of}: first run of this lake, the baseline (nothing sent)"
    counts: dict[str, int] = {}
    for change in result.changes:
        counts[change["change"]] = counts.get(change["change"], 0) + 1
    detail = ", ".join(f"{n} {c}" for c, n in sorted(counts.items())) or "no change"
    return f"{result.as_of} against {result.previous_as_of}: {detail}"


def build_notifications(days: Days) -> dg.AssetsDefinition:
    """The notifications asset, per as-of day (a range is sent day by day, in date order)."""

    @dg.asset(
        name="notifications",
        group_name="notify",
        deps=["detection_history"],
        kinds={"python"},
        partitions_def=days.as_of_days,
        backfill_policy=dg.BackfillPolicy.single_run(),
        check_specs=[
            dg.AssetCheckSpec(
                DELIVERED,
                asset="notifications",
                description="Every change of this run reached every configured destination "
                "(after retries with backoff); fails naming the destination and the last error.",
            )
        ],
    )
    def notifications(
        context: dg.AssetExecutionContext, ciem: CiemSettings
    ) -> dg.MaterializeResult:
        """The detections of this run that opened, reopened, changed severity or lost their
        suppression since the previous run (never the backlog, never a suppressed one), sent to
        the webhook (`CIEM_NOTIFY_WEBHOOK`, Slack or generic JSON) and as OCSF JSON lines to a
        folder or S3 prefix (`CIEM_NOTIFY_OCSF_DIR`). Each delivery is recorded in the lake
        (`notifications/as_of=YYYY-MM-DD/deliveries.parquet`), so a rerun never sends twice. A
        failed delivery fails the `delivered` check, never this asset or the models."""
        lake = ciem.lake
        results: list[NotifyResult] = []
        as_of = date.min
        for key in sorted(context.partition_keys):
            as_of = date.fromisoformat(key)
            try:
                destinations = Destinations(
                    ciem.notify_webhook, ciem.notify_webhook_format, ciem.notify_ocsf_dir
                )
                result = notify(lake, as_of, destinations, _product_version())
            except (NotifySettingError, FileNotFoundError) as exc:
                log.error(f"✗ notifications: {exc}")
                return dg.MaterializeResult(
                    metadata={"as_of": key},
                    check_results=[_check(False, str(exc), offending_rows=0)],
                )
            log.info(
                f"✓ notifications: {_summary(result)}; {len(result.delivered)} delivered, "
                f"{len(result.failed)} failed, {result.already_delivered} sent before"
            )
            results.append(result)
        result = results[-1]
        failed = [d for r in results for d in r.failed]
        errors = sorted({f"{d.destination}: {d.error}" for d in failed})
        return dg.MaterializeResult(
            metadata={
                "as_of": as_of.isoformat(),
                "previous_as_of": result.previous_as_of.isoformat()
                if result.previous_as_of
                else "",
                "changes": sum(len(r.changes) for r in results),
                "destinations": dg.MetadataValue.json(destinations.destination_keys()),
                "delivered": sum(len(r.delivered) for r in results),
                "failed": len(failed),
                "already_delivered": sum(r.already_delivered for r in results),
                "delivery_log": str(delivery_log_path(lake, as_of)),
            },
            check_results=[
                _check(
                    not failed,
                    "; ".join(errors) if errors else _summary(result),
                    offending_rows=len(failed),
                    errors=dg.MetadataValue.json(errors),
                )
            ],
        )

    return notifications
