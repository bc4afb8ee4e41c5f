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
    tables = {
        name: LakeTable(name, schema, f"parquet/{name}.parquet")
        for name, schema in SNAPSHOT_SCHEMAS.items()
    }
    tables["raw_cloudtrail_events"] = LakeTable(
        "raw_cloudtrail_events",
        CLOUDTRAIL_EVENTS_SCHEMA,
        "parquet/raw_cloudtrail_events/day=*/*.parquet",
    )
    tables["cloudtrail_manifest"] = LakeTable(
        "cloudtrail_manifest", MANIFEST_SCHEMA, "parquet/cloudtrail_manifest/day=*/manifest.parquet"
    )
    for name, schema in DAILY_SCHEMAS.items():
        tables[name] = LakeTable(name, schema, f"parquet/{name}/day=*/data.parquet")
    tables["ref_event_action_map"] = LakeTable(
        "ref_event_action_map", EVENT_ACTION_MAP_SCHEMA, "parquet/ref_event_action_map.parquet"
    )
    tables["raw_quarantine"] = LakeTable(
        "raw_quarantine", QUARANTINE_SCHEMA, "parquet/quarantine/*.parquet"
    )
    tables["ref_iam_actions"] = LakeTable(
        "ref_iam_actions", CATALOG_SCHEMA, "parquet/ref_iam_actions.parquet"
    )
    for name in REFERENCE_CSVS:
        tables[name] = LakeTable(name, reference_schema(name), f"parquet/{name}.parquet")
    tables["detection_history"] = LakeTable(
        "detection_history", DETECTION_HISTORY_SCHEMA, "history/detections/as_of=*.parquet"
    )
    tables["resource_config_history"] = LakeTable(
        "resource_config_history",
        RESOURCE_CONFIG_HISTORY_SCHEMA,
        "history/resources/as_of=*.parquet",
    )
    tables["ref_suppressions"] = LakeTable(
        "ref_suppressions", SUPPRESSIONS_SCHEMA, "parquet/ref_suppressions.parquet"
    )
    return tables
