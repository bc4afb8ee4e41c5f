"""The registry of lake tables (Parquet written by Python code) that the SQL models read.

It names a table of every layer (land, reference, warehouse daily aggregates, findings history
and suppressions), so it sits above `pipelines/lib/`, beside the Dagster definitions that use it:
no layer of `lib/` imports it."""

from __future__ import annotations

from pipelines.lib.findings.history import (
    DETECTION_HISTORY_SCHEMA,
    RESOURCE_CONFIG_HISTORY_SCHEMA,
)
from pipelines.lib.findings.suppressions import SUPPRESSIONS_SCHEMA
from pipelines.lib.land.cloudtrail_events import CLOUDTRAIL_EVENTS_SCHEMA
from pipelines.lib.land.cloudtrail_landing import MANIFEST_SCHEMA
from pipelines.lib.land.quarantine import QUARANTINE_SCHEMA
from pipelines.lib.land.snapshot import SNAPSHOT_SCHEMAS
from pipelines.lib.reference.catalog import CATALOG_SCHEMA
from pipelines.lib.reference.csvs import REFERENCE_CSVS, reference_schema
from pipelines.lib.reference.event_map import EVENT_ACTION_MAP_SCHEMA
from pipelines.lib.warehouse.connection import LakeTable
from pipelines.lib.warehouse.daily import DAILY_SCHEMAS


def lake_tables() -> dict[str, LakeTable]:
    """Every lake table by name, with its schema and the glob of its Parquet files in the lake."""
    whole = {
        "ref_event_action_map": EVENT_ACTION_MAP_SCHEMA,
        "ref_iam_actions": CATALOG_SCHEMA,
        **{name: reference_schema(name) for name in REFERENCE_CSVS},
        "ref_suppressions": SUPPRESSIONS_SCHEMA,
    }
    tables = [LakeTable(name, schema, f"parquet/{name}.parquet") for name, schema in whole.items()]
    # The snapshot is landed per as-of day (the newest snapshot on or before it).
    tables += [
        LakeTable(name, schema, "", f"parquet/{name}/as_of={{as_of}}.parquet")
        for name, schema in SNAPSHOT_SCHEMAS.items()
    ]
    tables += [
        LakeTable(name, schema, f"parquet/{name}/day=*/data.parquet")
        for name, schema in DAILY_SCHEMAS.items()
    ]
    tables += [
        LakeTable(
            "raw_cloudtrail_events",
            CLOUDTRAIL_EVENTS_SCHEMA,
            "parquet/raw_cloudtrail_events/day=*/*.parquet",
        ),
        LakeTable(
            "cloudtrail_manifest",
            MANIFEST_SCHEMA,
            "parquet/cloudtrail_manifest/day=*/manifest.parquet",
        ),
        # CloudTrail's quarantine of every landed day, and the snapshot's of the as-of day.
        LakeTable(
            "raw_quarantine",
            QUARANTINE_SCHEMA,
            "parquet/quarantine/cloudtrail-*.parquet",
            "parquet/snapshot_quarantine/as_of={as_of}.parquet",
        ),
        LakeTable(
            "detection_history", DETECTION_HISTORY_SCHEMA, "history/detections/as_of=*.parquet"
        ),
        LakeTable(
            "resource_config_history",
            RESOURCE_CONFIG_HISTORY_SCHEMA,
            "history/resources/as_of=*.parquet",
        ),
        # The same files, for the models that read earlier runs only (`as_of <` this run's): this
        # run appends to them after those models, so under these names they are no dependency.
        LakeTable(
            "earlier_detection_history",
            DETECTION_HISTORY_SCHEMA,
            "history/detections/as_of=*.parquet",
        ),
        LakeTable(
            "earlier_resource_config_history",
            RESOURCE_CONFIG_HISTORY_SCHEMA,
            "history/resources/as_of=*.parquet",
        ),
    ]
    return {table.name: table for table in tables}
