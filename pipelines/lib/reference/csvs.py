"""Reference layer: the small CSV tables shipped in `data/reference/`."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa

REFERENCE_DIR = Path(__file__).resolve().parents[3] / "data" / "reference"

# table name -> (csv file, columns). Every column is text; models cast where needed.
REFERENCE_CSVS: dict[str, tuple[str, tuple[str, ...]]] = {
    "ref_eventsource_aliases": ("eventsource_aliases.csv", ("event_source", "iam_prefix")),
    "ref_event_action_overrides": (
        "event_action_overrides.csv",
        ("event_source", "event_name", "iam_action", "is_primary"),
    ),
    "ref_events_without_iam_action": (
        "events_without_iam_action.csv",
        ("event_source", "event_name", "reason"),
    ),
    "ref_unobservable_actions": (
        "unobservable_actions.csv",
        ("action_pattern", "reason", "observable_when"),
    ),
    "ref_error_codes": ("error_codes.csv", ("error_code", "outcome", "note")),
    "ref_detection_rules": (
        "detection_rules.csv",
        ("rule_id", "title", "severity", "category", "description", "remediation", "references"),
    ),
    # Common OIDC identity providers (CI systems, EKS, Google, Cognito...): tokens of any of their
    # workloads are valid, so a trust policy must pin the claim naming the workload
    # (`subject_claim`); `probe_subject` is a stranger's subject, used to test whether the
    # conditions on that claim shut strangers out (oidc-trust-without-subject).
    "ref_oidc_providers": (
        "oidc_providers.csv",
        ("provider_pattern", "name", "subject_claim", "probe_subject", "reference"),
    ),
    # Published one-step privilege-escalation methods (read by int_privesc_paths).
    "ref_privesc_methods": (
        "privesc_methods.csv",
        (
            "method_id",
            "title",
            "required_actions",
            "principal_types",
            "target_kind",
            "target_type",
            "target_actions",
            "service_principal",
            "reference",
        ),
    ),
}


def reference_schema(name: str) -> pa.Schema:
    return pa.schema([pa.field(c, pa.string()) for c in REFERENCE_CSVS[name][1]])


def load_reference(name: str, reference_dir: Path = REFERENCE_DIR) -> pa.Table:
    """Read one reference CSV; its header must equal the declared columns."""
    file, columns = REFERENCE_CSVS[name]
    path = reference_dir / file
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != columns:
            raise ValueError(f"{path}: header {reader.fieldnames} != expected {list(columns)}")
        rows = [{c: (row[c] if row[c] != "" else None) for c in columns} for row in reader]
    return pa.Table.from_pylist(rows, schema=reference_schema(name))
