"""The registry of lake tables (Parquet written by Python landing code) that SQL models read."""

from __future__ import annotations

import pyarrow as pa

from pipelines.lib.catalog import CATALOG_SCHEMA
from pipelines.lib.cloudtrail import CLOUDTRAIL_EVENTS_SCHEMA
from pipelines.lib.cloudtrail_landing import MANIFEST_SCHEMA
from pipelines.lib.daily import DAILY_SCHEMAS
from pipelines.lib.event_map import EVENT_ACTION_MAP_SCHEMA
from pipelines.lib.quarantine import QUARANTINE_SCHEMA
from pipelines.lib.reference import REFERENCE_CSVS, reference_schema
from pipelines.lib.snapshot import SNAPSHOT_SCHEMAS
from pipelines.lib.suppressions import SUPPRESSIONS_SCHEMA
from pipelines.lib.warehouse import LakeTable

DETECTION_HISTORY_SCHEMA = pa.schema(
    [
        pa.field("as_of", pa.date32(), nullable=False),
        pa.field("detection_id", pa.string(), nullable=False),
        pa.field("rule_id", pa.string(), nullable=False),
        pa.field("severity", pa.string(), nullable=False),
        pa.field("resource_arn", pa.string(), nullable=False),
        pa.field("resource_type", pa.string(), nullable=False),
        pa.field("account_id", pa.string()),
        pa.field("title", pa.string(), nullable=False),
        pa.field("evidence", pa.string()),
        pa.field("recorded_at", pa.timestamp("us", tz="UTC"), nullable=False),
        # Added with issue 5; files written before lack them and read as null (union_by_name).
        pa.field("principal_arn", pa.string()),
        pa.field("suggested_policy", pa.string()),
        pa.field("suggested_policy_verification", pa.string()),
        pa.field("suppression_reason", pa.string()),  # the suppression applied in that run
        pa.field("suppression_expires_at", pa.date32()),
    ]
)

# One row per (resource, configuration item) of each run's snapshot: what the timeline compares
# between consecutive runs to explain why a detection opened or resolved.
RESOURCE_CONFIG_HISTORY_SCHEMA = pa.schema(
    [
        pa.field("as_of", pa.date32(), nullable=False),
        pa.field("resource_arn", pa.string(), nullable=False),
        pa.field("resource_type", pa.string(), nullable=False),
        pa.field("account_id", pa.string()),
        # exists, managed_policy, inline_policy, trust_policy, permissions_boundary,
        # group_membership, access_key, compute_role
        pa.field("config_type", pa.string(), nullable=False),
        pa.field("config_key", pa.string(), nullable=False),  # '' when one item per resource
        pa.field("fingerprint", pa.string(), nullable=False),  # changes when the item changes
        pa.field("details", pa.string()),  # JSON: what a person needs to read the change
        pa.field("recorded_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)


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
