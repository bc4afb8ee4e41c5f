"""Snapshot landing (landing layer): an IAM / Organizations snapshot folder -> typed Arrow tables.

The folder holds AWS API responses exactly as the AWS CLI (`--output json`) or boto3 returns them
(layout in DESIGN.md, "Inputs"). Every table is account-scoped by its folder name except the
`raw_org_*` tables. A malformed file, record, date or policy document becomes one quarantine entry
naming file, record and field; everything beside it still lands.

The package reads one file type per module (`iam`, `resources`, `organizations`) through the
landing context (`context`); `reader` walks the folder; `schemas` declares the tables.
"""

from pipelines.lib.land.snapshot.context import parse_policy_document, parse_timestamp
from pipelines.lib.land.snapshot.reader import read_snapshot
from pipelines.lib.land.snapshot.schemas import SNAPSHOT_SCHEMAS

__all__ = ["SNAPSHOT_SCHEMAS", "parse_policy_document", "parse_timestamp", "read_snapshot"]
