"""Demo writers: the last-use facts the snapshots report (credential report, RoleLastUsed)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from pipelines.demo.accounts import trail_time

# Both snapshots report last-used facts as collected at 06:00 on 11-19: every snapshot field is
# identical except the deliberate changes (User.only_in_snapshot, Function.first_snapshot).
LAST_USED_CUTOFF = datetime(2026, 11, 19, 6, 0, tzinfo=UTC)

# principal ARN -> channel ('password' / 'key' / 'role' / 'key_created') -> (when, region, service)
LastUsed = dict[str, dict[str, tuple[str, str, str]]]


def credited_arn(event: dict) -> str | None:
    """The IAM user or role a CloudTrail event credits (None: nobody's use)."""
    identity = event["userIdentity"]
    kind = identity.get("type")
    if kind == "IAMUser":
        return identity["arn"]
    if kind == "AssumedRole":
        return identity["sessionContext"]["sessionIssuer"]["arn"]
    return None


def last_used(events: list[dict]) -> LastUsed:
    """Per principal ARN and channel ('password' / 'key' / 'role'), the last use before the
    snapshot cutoff as (eventTime, region, service)."""
    last: LastUsed = defaultdict(dict)
    cutoff = trail_time(LAST_USED_CUTOFF)
    for event in events:
        if event["eventTime"] >= cutoff or event.get("errorCode"):
            continue
        identity = event["userIdentity"]
        value = (event["eventTime"], event["awsRegion"], event["eventSource"].split(".")[0])
        if identity.get("type") == "Root":  # the root user's sign-ins and key creations
            root = last[f"arn:aws:iam::{identity['accountId']}:root"]
            channel = {"ConsoleLogin": "password", "CreateAccessKey": "key_created"}.get(
                event["eventName"], ""
            )
            if channel and value > root.get(channel, ("",)):
                root[channel] = value
            continue
        arn = credited_arn(event)
        if arn is None:
            continue
        if identity["type"] == "AssumedRole":
            channel = "role"
        elif event["eventName"] == "ConsoleLogin":
            channel = "password"
        elif identity.get("accessKeyId", "").startswith("AKIA"):
            channel = "key"
        else:
            continue
        if value > last[arn].get(channel, ("",)):
            last[arn][channel] = value
    return last
