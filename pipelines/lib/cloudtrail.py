"""CloudTrail reader (landing layer): one day of delivered log files -> one typed Arrow table."""

from __future__ import annotations

import gzip
import json
import os
import re
import zlib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipelines.lib.quarantine import Quarantine

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

# <account>_CloudTrail_<region>_YYYYMMDDTHHMMZ_<unique>.json.gz, the S3 delivery file name.
# https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html
_DELIVERY_NAME = re.compile(r"^\d{12}_CloudTrail_[^_]+_(\d{4})(\d{2})(\d{2})T\d{4}Z_")
_FOUR_DIGITS, _TWO_DIGITS = re.compile(r"^\d{4}$"), re.compile(r"^\d{2}$")
_LOG_SUFFIXES = (".json.gz", ".json")
_DIGEST_MARKER = "CloudTrail-Digest"
_REQUIRED_FIELDS = ("eventTime", "eventSource", "eventName")
# userIdentity.type values whose caller is an identity-provider user, not an IAM principal.
_FEDERATED_IDP_TYPES = frozenset({"SAMLUser", "WebIdentityUser", "IdentityCenterUser"})


def _date_or_none(year: str, month: str, day: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _dir_day(parts: tuple[str, ...]) -> date | None:
    """The date of the last YYYY/MM/DD run of directory names in `parts`, if any."""
    for i in range(len(parts) - 3, -1, -1):
        y, m, d = parts[i : i + 3]
        if _FOUR_DIGITS.match(y) and _TWO_DIGITS.match(m) and _TWO_DIGITS.match(d):
            found = _date_or_none(y, m, d)
            if found is not None:
                return found
    return None


def file_day(path: str | Path) -> date | None:
    """Delivery day of a CloudTrail log file: from its delivery name, else its YYYY/MM/DD folder."""
    path = Path(path)
    match = _DELIVERY_NAME.match(path.name)
    if match:
        found = _date_or_none(*match.groups())
        if found is not None:
            return found
    return _dir_day(path.parent.parts)


def _is_log_file(name: str) -> bool:
    return name.endswith(_LOG_SUFFIXES) and _DIGEST_MARKER not in name


def list_files_for_day(root: str | Path, day: date) -> list[Path]:
    """Every CloudTrail log file under `root` (recursive, sorted) whose `file_day` is `day`.

    Digest files are skipped. A `YYYY/MM/DD` folder of another day is not descended into (a year
    of an organization trail holds millions of files): this relies on CloudTrail naming each file
    after the same delivery time as its folder.
    """
    root = Path(root)
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        rel_parts = here.relative_to(root).parts
        if any(_DIGEST_MARKER in part for part in rel_parts):
            dirnames.clear()
            continue
        dirnames[:] = [d for d in dirnames if _dir_day((*rel_parts, d)[-3:]) in (None, day)]
        found.extend(
            here / name for name in filenames if _is_log_file(name) and file_day(here / name) == day
        )
    return sorted(found)


# ---------------------------------------------------------------------------------------------
# field normalisation


def _text(value: Any) -> str | None:
    """A scalar as text; missing or empty is None (never "")."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return _json_text(value)


def _json_text(value: Any) -> str | None:
    """A JSON part kept verbatim as compact JSON text; JSON null / missing is None."""
    if value is None:
        return None
    return json.dumps(value, separators=(",", ":"))


def _bool(value: Any) -> bool | None:
    """readOnly / managementEvent / mfaAuthenticated arrive as bools or "true"/"false" strings."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
    return None


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _event_time(value: Any) -> datetime | None:
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


def _arn_parts(arn: str | None) -> list[str]:
    """arn:partition:service:region:account:resource -> its 6 parts, or [] if not an ARN."""
    parts = arn.split(":", 5) if arn else []
    return parts if len(parts) == 6 and parts[0] == "arn" else []


def _iam_arn(identity: dict[str, Any], arn: str | None, resource: str) -> str | None:
    """An IAM ARN in the caller's account and partition (partition 'aws' unless the ARN says)."""
    parts = _arn_parts(arn)
    account = _text(identity.get("accountId")) or (parts[4] if parts else None)
    if not account:
        return None
    return f"arn:{parts[1] if parts else 'aws'}:iam::{account}:{resource}"


def _user_arn(identity: dict[str, Any], arn: str | None) -> str | None:
    """userIdentity.arn; console sign-in events (CheckMfa) may omit it, then user/<userName>."""
    if arn:
        return arn
    user_name = _text(identity.get("userName"))
    return _iam_arn(identity, arn, f"user/{user_name}") if user_name else None


def _role_arn_from_session(identity: dict[str, Any], session_arn: str | None) -> str | None:
    """arn:aws:sts::A:assumed-role/R/S -> arn:aws:iam::A:role/R, for sessions without a
    sessionIssuer (the role's path is not in the session ARN, so a path-ed role loses it)."""
    parts = _arn_parts(session_arn)
    if not parts or not parts[5].startswith("assumed-role/"):
        return None
    return f"arn:{parts[1]}:iam::{parts[4]}:role/{parts[5].split('/')[1]}"


def _credited_principal(
    identity: dict[str, Any], issuer: dict[str, Any], event_type: str | None
) -> tuple[str | None, str]:
    """(principal_arn, principal_type): the IAM identity a call counts for.

    https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html
    """
    kind = identity.get("type")
    arn = _text(identity.get("arn"))
    issuer_arn = _text(issuer.get("arn"))
    if kind == "IAMUser":
        return _user_arn(identity, arn), "user"
    if kind == "AssumedRole":
        # A role session counts for its role (sessionIssuer.arn keeps the role's path).
        return issuer_arn or _role_arn_from_session(identity, arn), "role"
    if kind == "Root":
        return _iam_arn(identity, arn, "root"), "root"
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


def _session_name(kind: Any, arn: str | None) -> str | None:
    """Last path segment of a role-session or federated-user ARN (the caller-chosen name)."""
    if kind not in ("AssumedRole", "FederatedUser") or not arn or "/" not in arn:
        return None
    return arn.rsplit("/", 1)[1] or None


def _required_problem(record: dict[str, Any]) -> tuple[str, str] | None:
    """(field, reason) for the first unusable required field of a record, else None."""
    for name in _REQUIRED_FIELDS:
        value = record.get(name)
        if not isinstance(value, str) or value == "":
            return name, f"missing required field {name}"
    if _event_time(record["eventTime"]) is None:
        return "eventTime", f"unparseable eventTime {record['eventTime']!r}"
    return None


def _to_row(record: dict[str, Any], day: date, source_file: str, index: int) -> dict[str, Any]:
    identity = _obj(record.get("userIdentity"))
    session = _obj(identity.get("sessionContext"))
    issuer = _obj(session.get("sessionIssuer"))
    event_type = _text(record.get("eventType"))
    identity_arn = _text(identity.get("arn"))
    principal_arn, principal_type = _credited_principal(identity, issuer, event_type)
    return {
        "day": day,
        "event_id": _text(record.get("eventID")),
        "event_time": _event_time(record["eventTime"]),
        "event_version": _text(record.get("eventVersion")),
        "event_source": record["eventSource"],
        "event_name": record["eventName"],
        "event_type": event_type,
        "event_category": _text(record.get("eventCategory")),
        "aws_region": _text(record.get("awsRegion")),
        "source_ip_address": _text(record.get("sourceIPAddress")),
        "user_agent": _text(record.get("userAgent")),
        "recipient_account_id": _text(record.get("recipientAccountId")),
        "identity_type": _text(identity.get("type")),
        "identity_arn": identity_arn,
        "identity_account_id": _text(identity.get("accountId")),
        "identity_principal_id": _text(identity.get("principalId")),
        "access_key_id": _text(identity.get("accessKeyId")),
        "session_issuer_arn": _text(issuer.get("arn")),
        "session_issuer_type": _text(issuer.get("type")),
        "session_name": _session_name(identity.get("type"), identity_arn),
        "invoked_by": _text(identity.get("invokedBy")),
        "mfa_authenticated": _bool(_obj(session.get("attributes")).get("mfaAuthenticated")),
        "principal_arn": principal_arn,
        "principal_type": principal_type,
        "error_code": _text(record.get("errorCode")),
        "error_message": _text(record.get("errorMessage")),
        "read_only": _bool(record.get("readOnly")),
        "management_event": _bool(record.get("managementEvent")),
        "request_parameters": _json_text(record.get("requestParameters")),
        "response_elements": _json_text(record.get("responseElements")),
        "resources": _json_text(record.get("resources")),
        "additional_event_data": _json_text(record.get("additionalEventData")),
        "shared_event_id": _text(record.get("sharedEventID")),
        "vpc_endpoint_id": _text(record.get("vpcEndpointId")),
        "source_file": source_file,
        "record_index": index,
    }


# ---------------------------------------------------------------------------------------------
# files


def _load_records(path: Path, source_file: str, quarantine: Quarantine) -> list[Any] | None:
    """The Records array of one delivery file, or None after quarantining the whole file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        quarantine.add(source_file, f"unreadable file: {exc.strerror or exc}")
        return None
    if path.name.endswith(".gz"):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            quarantine.add(source_file, f"corrupt gzip: {exc}")
            return None
    try:
        content = json.loads(raw)
    except json.JSONDecodeError as exc:
        quarantine.add(source_file, f"invalid JSON at line {exc.lineno} col {exc.colno}: {exc.msg}")
        return None
    except UnicodeDecodeError as exc:
        quarantine.add(source_file, f"invalid JSON: not UTF-8 text: {exc}")
        return None
    records = content.get("Records") if isinstance(content, dict) else None
    if not isinstance(records, list):
        quarantine.add(source_file, "not a CloudTrail log file: no Records array")
        return None
    return records


def _good_rows(
    records: list[Any], day: date, source_file: str, quarantine: Quarantine
) -> Iterator[dict[str, Any]]:
    for index, record in enumerate(records):
        where = f"Records[{index}]"
        if not isinstance(record, dict):
            quarantine.add(
                source_file, f"record is not a JSON object (got {type(record).__name__})", where
            )
            continue
        problem = _required_problem(record)
        if problem is not None:
            quarantine.add(source_file, problem[1], where, problem[0])
            continue
        yield _to_row(record, day, source_file, index)


def _source_name(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    return str(path)


def read_events(
    files: list[Path], day: date, quarantine: Quarantine, root: Path | None = None
) -> pa.Table:
    """Parse delivery files into CLOUDTRAIL_EVENTS_SCHEMA rows, in file order then record order.

    Files are read one at a time and converted to Arrow before the next is opened, so Python
    memory is bounded by the largest file. Bad files and records go to `quarantine`.
    """
    root = Path(root) if root is not None else None
    tables = []
    for path in files:
        path = Path(path)
        source_file = _source_name(path, root)
        records = _load_records(path, source_file, quarantine)
        if records is None:
            continue
        rows = list(_good_rows(records, day, source_file, quarantine))
        del records
        tables.append(pa.Table.from_pylist(rows, schema=CLOUDTRAIL_EVENTS_SCHEMA))
    if not tables:
        return CLOUDTRAIL_EVENTS_SCHEMA.empty_table()
    return pa.concat_tables(tables)
