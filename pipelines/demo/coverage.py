"""Demo scenario, CloudTrail coverage (issue 14): the management account's eu-west-1 trail
delivers nothing on three days inside both runs' windows (the trail was stopped there).

The calls made then still happened: IAM's own last-used records (RoleLastUsed, the credential
report) count them, so the snapshot is built from every event; only the delivery files of those
days are missing. Expected: that account's usage verdicts are unobservable (`cloudtrail_gap`),
its unused-*, inactive-* and large-permissions-gap detections are not reported, and the rule
cloudtrail-coverage-gap reports the account in both runs."""

from __future__ import annotations

from datetime import date

from pipelines.demo.accounts import MGMT, ORG_ID, SNAPSHOT_DATES, alias_of
from pipelines.demo.detections import Detection, GapFigure, window

SILENT_ACCOUNT = MGMT
SILENT_REGION = "eu-west-1"
SILENT_DAYS = (date(2026, 11, 12), date(2026, 11, 13), date(2026, 11, 14))
# The rules that judge usage: none of them fires in an account with a gap in the window.
USAGE_RULES = frozenset(
    {
        "inactive-identity",
        "inactive-admin",
        "large-permissions-gap",
        "unused-role",
        "unused-password",
        "unused-access-key",
    }
)
RULE = "cloudtrail-coverage-gap"


def silent_folders() -> frozenset[str]:
    """The CloudTrail folders (relative to the bucket) that receive no file."""
    return frozenset(
        f"AWSLogs/{ORG_ID}/{SILENT_ACCOUNT}/CloudTrail/{SILENT_REGION}/{d:%Y/%m/%d}/"
        for d in SILENT_DAYS
    )


def is_silenced(event: dict) -> bool:
    return (
        event["recipientAccountId"] == SILENT_ACCOUNT
        and event["awsRegion"] == SILENT_REGION
        and date.fromisoformat(event["eventTime"][:10]) in SILENT_DAYS
    )


def delivered(events: list[dict]) -> list[dict]:
    """The events the trail delivered. Refuses a silenced event of another account's caller:
    the gap must change no verdict outside the silent account (the demo's other expectations
    stay as they are)."""
    kept = []
    for event in events:
        if not is_silenced(event):
            kept.append(event)
        elif event["userIdentity"].get("accountId") != SILENT_ACCOUNT:
            raise ValueError(f"a silenced event of another account: {event['eventID']}")
    return kept


def gap_days(as_of: date) -> list[date]:
    start, end = window(as_of)
    return [d for d in SILENT_DAYS if start.date() <= d < end.date()]


def apply_coverage_gap(
    detections: list[Detection], gaps: list[GapFigure]
) -> tuple[list[Detection], list[GapFigure]]:
    """The detections and gap figures of both runs once the silent days are taken into
    account: the silent account's usage rules do not fire, cloudtrail-coverage-gap does."""
    alias = alias_of(SILENT_ACCOUNT)
    kept = []
    for d in detections:
        in_gap = gap_days(d.as_of) and d.resource_arn.split(":")[4] == SILENT_ACCOUNT
        if not (in_gap and d.rule_id in USAGE_RULES):
            kept.append(d)
    for as_of in SNAPSHOT_DATES:
        days = gap_days(as_of)
        if days:
            why = (
                f"no {SILENT_REGION} delivery on {', '.join(f'{d:%m-%d}' for d in days)}: "
                "usage verdicts of the account are unobservable"
            )
            arn = f"arn:aws:iam::{SILENT_ACCOUNT}:root"
            kept.append(Detection(as_of, RULE, arn, f"{alias}/account", why))
    figures = [g for g in gaps if not (gap_days(g.as_of) and g.principal.startswith(f"{alias}/"))]
    return kept, figures
