"""One CloudTrail record -> one row of `raw_cloudtrail_events` (landing layer): the table's schema
and the field normalisation that both readers share (the stdlib reader in `cloudtrail.py` and the
msgspec fast path in `cloudtrail_fast.py`; neither imports the other's internals)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa

CLOUDTRAIL_EVENTS_SCHEMA = pa.schema(
    [
        pa.field("day", pa.date32(), nullable=False),  # the partition (delivery) day
        pa.field("event_id", pa.string()),
        pa.field("event_time", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("event_version", pa.string()),
        pa.field("event_source", pa.string(), nullable=False),
        pa.field("event_name", pa.string(), nullable=False),
        pa.field("event_type", pa.string()),
        pa.field("event_category", pa.string()),
        pa.field("aws_region", pa.string()),
        pa.field("source_ip_address", pa.string()),
        pa.field("user_agent", pa.string()),
        pa.field("recipient_account_id", pa.string()),
        pa.field("identity_type", pa.string()),  # userIdentity.type, verbatim (null if absent)
        pa.field("identity_arn", pa.string()),
        pa.field("identity_account_id", pa.string()),
        pa.field("identity_principal_id", pa.string()),
        pa.field("access_key_id", pa.string()),
        pa.field("session_issuer_arn", pa.string()),
        pa.field("session_issuer_type", pa.string()),
        pa.field("session_name", pa.string()),
        pa.field("invoked_by", pa.string()),
        pa.field("mfa_authenticated", pa.bool_()),
        pa.field("principal_arn", pa.string()),  # the IAM identity credited with the call
        pa.field("principal_type", pa.string(), nullable=False),  # see PRINCIPAL_TYPES
        pa.field("error_code", pa.string()),
        pa.field("error_message", pa.string()),
        pa.field("read_only", pa.bool_()),
        pa.field("management_event", pa.bool_()),
        pa.field("request_parameters", pa.string()),  # compact JSON text
        pa.field("response_elements", pa.string()),  # compact JSON text
        pa.field("resources", pa.string()),  # compact JSON text
        pa.field("additional_event_data", pa.string()),  # compact JSON text
        pa.field("shared_event_id", pa.string()),
        pa.field("vpc_endpoint_id", pa.string()),
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("record_index", pa.int64(), nullable=False),  # index in the file's Records
    ]
)

PRINCIPAL_TYPES = (
    "user",
    "role",
    "root",
    "aws_service",
    "federated_idp",
    "other_account",
    "unknown",
)

_REQUIRED_FIELDS = ("eventTime", "eventSource", "eventName")
# CloudTrail started on 2013-11-01: an earlier eventTime is not a real event.
EARLIEST_EVENT_DAY = date(2013, 11, 1)
# CloudTrail delivers an event within minutes, late ones within hours: an event of a delivered
# file older than this, before its delivery day, is not a delivery of that event.
# https://docs.aws.amazon.com/awscloudtrail/latest/userguide/how-cloudtrail-works.html
MAX_DELIVERY_DELAY = timedelta(days=30)
# userIdentity.type values whose caller is an identity-provider user, not an IAM principal.
_FEDERATED_IDP_TYPES = frozenset({"SAMLUser", "WebIdentityUser", "IdentityCenterUser"})


# ---------------------------------------------------------------------------------------------
# field normalisation


def text_or_none(value: Any) -> str | None:
    """A scalar as text; missing or empty is None (never "")."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json_text(value)


def json_text(value: Any) -> str | None:
    """A JSON part kept verbatim as compact JSON text; JSON null / missing is None."""
    if value is None:
        return None
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def to_bool(value: Any) -> bool | None:
    """readOnly / managementEvent / mfaAuthenticated arrive as bools or "true"/"false" strings."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
    return None


def as_object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def event_time(value: Any) -> datetime | None:
    """`2023-07-10T11:45:12Z` -> aware UTC datetime; None when absent or unparseable."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def arn_parts(arn: str | None) -> list[str]:
    """arn:partition:service:region:account:resource -> its 6 parts, or [] if not an ARN."""
    parts = arn.split(":", 5) if arn else []
    return parts if len(parts) == 6 and parts[0] == "arn" else []


def iam_arn(identity: dict[str, Any], arn: str | None, resource: str) -> str | None:
    """An IAM ARN in the caller's account and partition (partition 'aws' unless the ARN says)."""
    parts = arn_parts(arn)
    account = text_or_none(identity.get("accountId")) or (parts[4] if parts else None)
    if not account:
        return None
    return f"arn:{parts[1] if parts else 'aws'}:iam::{account}:{resource}"


def user_arn(identity: dict[str, Any], arn: str | None) -> str | None:
    """userIdentity.arn; console sign-in events (CheckMfa) may omit it, then user/<userName>."""
    if arn:
        return arn
    user_name = text_or_none(identity.get("userName"))
    return iam_arn(identity, arn, f"user/{user_name}") if user_name else None


def role_arn_from_session(identity: dict[str, Any], session_arn: str | None) -> str | None:
    """arn:aws:sts::A:assumed-role/R/S -> arn:aws:iam::A:role/R, for sessions without a
    sessionIssuer (the role's path is not in the session ARN, so a path-ed role loses it)."""
    parts = arn_parts(session_arn)
    if not parts or not parts[5].startswith("assumed-role/"):
        return None
    return f"arn:{parts[1]}:iam::{parts[4]}:role/{parts[5].split('/')[1]}"


def credited_principal(
    identity: dict[str, Any], issuer: dict[str, Any], event_type: str | None
) -> tuple[str | None, str]:
    """(principal_arn, principal_type): the IAM identity a call counts for.

    https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html
    """
    kind = identity.get("type")
    arn = text_or_none(identity.get("arn"))
    issuer_arn = text_or_none(issuer.get("arn"))
    if kind == "IAMUser":
        return user_arn(identity, arn), "user"
    if kind == "AssumedRole":
        # A role session counts for its role (sessionIssuer.arn keeps the role's path).
        return issuer_arn or role_arn_from_session(identity, arn), "role"
    if kind == "Root":
        return iam_arn(identity, arn, "root"), "root"
    if kind == "FederatedUser":
        # GetFederationToken session: credited to the IAM user (or root) that requested it.
        return issuer_arn, "root" if issuer.get("type") == "Root" else "user"
    if kind == "AWSService":
        return None, "aws_service"
    if kind is None and (identity.get("invokedBy") or event_type == "AwsServiceEvent"):
        # Service events carry a type-less userIdentity {accountId, invokedBy}.
        return None, "aws_service"
    if kind in _FEDERATED_IDP_TYPES:
        return None, "federated_idp"
    if kind == "AWSAccount":
        return None, "other_account"
    return None, "unknown"


def session_name(kind: Any, arn: str | None) -> str | None:
    """Last path segment of a role-session or federated-user ARN (the caller-chosen name)."""
    if kind not in ("AssumedRole", "FederatedUser") or not arn or "/" not in arn:
        return None
    return arn.rsplit("/", 1)[1] or None


def required_problem(record: dict[str, Any]) -> tuple[str, str] | None:
    """(field, reason) for the first unusable required field of a record, else None."""
    for name in _REQUIRED_FIELDS:
        value = record.get(name)
        if not isinstance(value, str) or value == "":
            return name, f"missing required field {name}"
    if event_time(record["eventTime"]) is None:
        return "eventTime", f"unparseable eventTime {record['eventTime']!r}"
    return None


def implausible_time(value: str, delivery_day: date, undated: bool = False) -> str | None:
    """Why an eventTime cannot be a real event of a file delivered on `delivery_day` (None if
    it can): before CloudTrail existed, or more than one day after the delivery day (a day of
    clock skew is allowed), or more than MAX_DELIVERY_DELAY before it (an undated export has no
    delivery day to compare with)."""
    when = event_time(value)
    if when is None:
        return None
    if when.date() < EARLIEST_EVENT_DAY:
        return f"eventTime {value!r} before CloudTrail existed (2013-11-01)"
    if not undated and when.date() > delivery_day + timedelta(days=1):
        return (
            f"eventTime {value!r} more than one day after the file's delivery day "
            f"{delivery_day.isoformat()}"
        )
    if not undated and when.date() < delivery_day - MAX_DELIVERY_DELAY:
        return (
            f"eventTime {value!r} more than {MAX_DELIVERY_DELAY.days} days before the file's "
            f"delivery day {delivery_day.isoformat()}"
        )
    return None


def to_row(record: dict[str, Any], day: date, source_file: str, index: int) -> dict[str, Any]:
    identity = as_object(record.get("userIdentity"))
    session = as_object(identity.get("sessionContext"))
    issuer = as_object(session.get("sessionIssuer"))
    event_type = text_or_none(record.get("eventType"))
    identity_arn = text_or_none(identity.get("arn"))
    principal_arn, principal_type = credited_principal(identity, issuer, event_type)
    return {
        "day": day,
        "event_id": text_or_none(record.get("eventID")),
        "event_time": event_time(record["eventTime"]),
        "event_version": text_or_none(record.get("eventVersion")),
        "event_source": record["eventSource"],
        "event_name": record["eventName"],
        "event_type": event_type,
        "event_category": text_or_none(record.get("eventCategory")),
        "aws_region": text_or_none(record.get("awsRegion")),
        "source_ip_address": text_or_none(record.get("sourceIPAddress")),
        "user_agent": text_or_none(record.get("userAgent")),
        "recipient_account_id": text_or_none(record.get("recipientAccountId")),
        "identity_type": text_or_none(identity.get("type")),
        "identity_arn": identity_arn,
        "identity_account_id": text_or_none(identity.get("accountId")),
        "identity_principal_id": text_or_none(identity.get("principalId")),
        "access_key_id": text_or_none(identity.get("accessKeyId")),
        "session_issuer_arn": text_or_none(issuer.get("arn")),
        "session_issuer_type": text_or_none(issuer.get("type")),
        "session_name": session_name(identity.get("type"), identity_arn),
        "invoked_by": text_or_none(identity.get("invokedBy")),
        "mfa_authenticated": to_bool(as_object(session.get("attributes")).get("mfaAuthenticated")),
        "principal_arn": principal_arn,
        "principal_type": principal_type,
        "error_code": text_or_none(record.get("errorCode")),
        "error_message": text_or_none(record.get("errorMessage")),
        "read_only": to_bool(record.get("readOnly")),
        "management_event": to_bool(record.get("managementEvent")),
        "request_parameters": json_text(record.get("requestParameters")),
        "response_elements": json_text(record.get("responseElements")),
        "resources": json_text(record.get("resources")),
        "additional_event_data": json_text(record.get("additionalEventData")),
        "shared_event_id": text_or_none(record.get("sharedEventID")),
        "vpc_endpoint_id": text_or_none(record.get("vpcEndpointId")),
        "source_file": source_file,
        "record_index": index,
    }
