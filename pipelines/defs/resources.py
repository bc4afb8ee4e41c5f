"""Resources: where the inputs are, where the lake is, and what the run is about."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import dagster as dg

from pipelines.lib.lake import Lake, lake_location
from pipelines.lib.land.sources import SnapshotSource
from pipelines.lib.warehouse.connection import RunParams


class CiemSettings(dg.ConfigurableResource):
    """Inputs, lake and run parameters. `ciem run` passes them explicitly; the Dagster UI takes
    them from `CIEM_*` environment variables (defaults: the embedded demo organization).

    The as-of day is never a setting: it is the partition being materialized."""

    cloudtrail_dir: str  # a local folder or s3://bucket/prefix
    snapshot_root: str = ""  # dated snapshot folders <root>/YYYY-MM-DD/; the newest on or before
    snapshot_dir: str = ""  # or one fixed snapshot folder, used for every as-of day
    lake_dir: str = "data/lake"  # a local folder or s3://bucket/prefix
    window_days: int = 15
    gap_threshold: float = 0.4
    unused_days: int = 90  # unused-role / unused-password / unused-access-key
    key_rotation_days: int = 90  # access-key-not-rotated
    max_hops: int = 5  # the longest privilege-escalation path searched
    cloudtrail_full_refresh: bool = False  # rebuild each CloudTrail day instead of appending
    suppressions_file: str = ""  # YAML; empty = suppressions.yaml in the working dir, if present
    notify_webhook: str = ""  # http(s) URL; empty = no webhook (README "Notifications")
    notify_webhook_format: str = "slack"  # slack | json
    notify_ocsf_dir: str = ""  # a folder or s3://bucket/prefix for OCSF JSON lines; empty = none

    @property
    def lake(self) -> Lake:
        try:
            return Lake.at(lake_location(self.lake_dir))
        except ValueError as exc:
            raise ValueError(f"CIEM_LAKE={exc}") from exc

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["CiemSettings"]:
        """A lake on S3 is held for the run (in process) or the step (multiprocess, Kubernetes):
        its lock taken and its local cache pulled before, what changed pushed after, also
        after a failure (`Lake.synced`). A local lake needs none of it."""
        with self.lake.synced():
            yield self

    @property
    def snapshots(self) -> SnapshotSource:
        if self.snapshot_dir:
            return SnapshotSource(folder=Path(self.snapshot_dir))
        return SnapshotSource(root=Path(self.snapshot_root or "data/demo/snapshots"))

    def run_params(self, as_of: date) -> RunParams:
        return RunParams(
            as_of=as_of,
            window_days=self.window_days,
            gap_threshold=self.gap_threshold,
            unused_days=self.unused_days,
            key_rotation_days=self.key_rotation_days,
            max_hops=self.max_hops,
        )


def settings_from_env() -> CiemSettings:
    return CiemSettings(
        # Live collection writes dated folders where the snapshot is read from.
        snapshot_root=os.environ.get("CIEM_SNAPSHOT_ROOT")
        or os.environ.get("CIEM_COLLECT_SNAPSHOT_ROOT")
        or "data/demo/snapshots",
        snapshot_dir=os.environ.get("CIEM_SNAPSHOT", ""),
        cloudtrail_dir=os.environ.get("CIEM_CLOUDTRAIL", "data/demo/cloudtrail"),
        lake_dir=os.environ.get("CIEM_LAKE", "data/lake"),
        window_days=int(os.environ.get("CIEM_WINDOW_DAYS", "15")),
        gap_threshold=float(os.environ.get("CIEM_GAP_THRESHOLD", "0.4")),
        unused_days=int(os.environ.get("CIEM_UNUSED_DAYS", "90")),
        key_rotation_days=int(os.environ.get("CIEM_KEY_ROTATION_DAYS", "90")),
        max_hops=int(os.environ.get("CIEM_MAX_HOPS", "5")),
        cloudtrail_full_refresh=os.environ.get("CIEM_CLOUDTRAIL_FULL_REFRESH") == "1",
        suppressions_file=os.environ.get("CIEM_SUPPRESSIONS", ""),
        notify_webhook=os.environ.get("CIEM_NOTIFY_WEBHOOK", ""),
        notify_webhook_format=os.environ.get("CIEM_NOTIFY_WEBHOOK_FORMAT", "slack"),
        notify_ocsf_dir=os.environ.get("CIEM_NOTIFY_OCSF_DIR", ""),
    )
