"""The explorer's static snapshot: after each run, `<lake>/reports/explorer.html`, the same page
as `ciem explorer` with every detection embedded (to attach to a ticket or host as a file)."""

import time

import dagster as dg

from pipelines.defs.landing import report
from pipelines.defs.models import SQL_MODELS
from pipelines.defs.resources import CiemSettings
from pipelines.lib.serve.explorer.page import write_snapshot

# The tables the page reads; only those the code location builds become dependencies (the
# page shows "not available" for the others).
READS = (
    "detections",
    "detection_timeline",
    "identity_risks_by_risk",
    "identity_risks_by_resource",
    "permission_insights",
    "principals",
    "relationships",
    "stg_policy_documents",
)


@dg.asset(
    group_name="reports",
    deps=[m.name for m in SQL_MODELS if m.name in READS],
    kinds={"html"},
)
def explorer_report(ciem: CiemSettings) -> dg.MaterializeResult:
    """The Identity Risks Explorer as one self-contained HTML file (data embedded as JSON, no
    network access needed): the list grouped by risk or resource, and each detection's
    insights, relationships, configuration, timeline and remediation."""
    started = time.monotonic()
    path, detections = write_snapshot(ciem.lake)
    report("explorer_report", detections, started, f"({path})")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "detections": detections,
            "size_bytes": path.stat().st_size,
        }
    )
