"""Findings layer: the lake history that each run appends (detections and resource configuration
items as of that run), which the timeline and the detection lifecycle compare between runs."""

from __future__ import annotations

import pyarrow as pa

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
