"""Collect asset: the live, read-only collection of an IAM snapshot folder from AWS."""

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from pipelines.lib.collect.defaults import DEFAULT_ROLE_NAME, DEFAULT_WORKERS

if TYPE_CHECKING:
    from pipelines.lib.collect.collector import CollectOptions


def _env_regions() -> list[str]:
    return [r.strip() for r in os.environ.get("CIEM_COLLECT_REGIONS", "").split(",") if r.strip()]


class CollectConfig(dg.Config):
    """Where and what to collect (defaults: the `CIEM_COLLECT_*` environment variables).

    An empty `snapshot_root` means live collection is not configured: the asset is skipped.
    """

    snapshot_root: str = os.environ.get("CIEM_COLLECT_SNAPSHOT_ROOT", "")
    organization: bool = os.environ.get("CIEM_COLLECT_ORGANIZATION", "") == "1"
    role_name: str = os.environ.get("CIEM_COLLECT_ROLE_NAME", DEFAULT_ROLE_NAME)
    external_id: str = os.environ.get("CIEM_COLLECT_EXTERNAL_ID", "")
    regions: list[str] = _env_regions()  # empty: every region enabled in each account
    workers: int = DEFAULT_WORKERS


def _options(config: CollectConfig) -> "CollectOptions":
    # The collector (and boto3) is loaded when the asset runs, not with the definitions.
    from pipelines.lib.collect.collector import CollectOptions

    return CollectOptions(
        organization=config.organization,
        role_name=config.role_name,
        external_id=config.external_id or None,
        regions=tuple(config.regions) or None,
        workers=config.workers,
    )


@dg.asset(group_name="collect", kinds={"aws", "json"}, output_required=False)
def iam_snapshot_collected(context: dg.AssetExecutionContext, config: CollectConfig):
    """A snapshot folder `<snapshot_root>/<YYYY-MM-DD>` collected live from AWS (read-only),
    dated today, or the night's CloudTrail day in the nightly job:
    IAM authorization details, credential reports, EC2 instances, Lambda functions and resource
    policies per account, and the organization (accounts, OUs, SCPs, RCPs) from the management
    account. Same layout as file imports, so `iam_snapshot` lands either. An account that
    cannot be collected is reported in the metadata and skipped; the others land."""
    if not config.snapshot_root:
        context.log.info("live collection not configured (CIEM_COLLECT_SNAPSHOT_ROOT): skipped")
        return
    # In the nightly job (partition D: the day that just ended), the snapshot taken now is the
    # state at the end of D: it is filed as D, so that the models of as-of D use it.
    day = context.run.tags.get("dagster/partition") or datetime.now(UTC).date().isoformat()
    snapshot_dir = Path(config.snapshot_root) / day
    from pipelines.lib.collect.collector import CollectError, collect

    try:
        summary = collect(snapshot_dir, _options(config))
    except CollectError as err:
        if err.summary is not None:
            context.log.error(err.summary.render())
        raise
    for account in summary.failed:
        context.log.warning(f"account {account.account_id} not collected: {account.errors}")
    yield dg.MaterializeResult(
        metadata={
            "snapshot_dir": str(snapshot_dir),
            "accounts_collected": len(summary.collected),
            "accounts_failed": [a.account_id for a in summary.failed],
            "files": sum(1 for p in snapshot_dir.rglob("*") if p.is_file()),
            # plain text: account names and AWS error messages are data, never Markdown
            "summary": dg.MetadataValue.text(summary.render()),
        }
    )
