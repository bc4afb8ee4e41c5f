"""CloudTrail reader (landing layer): one day of delivered log files -> one typed Arrow table."""

from __future__ import annotations

import gzip
import io
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import fsspec
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
_LOG_SUFFIXES = (".json.gz", ".json", ".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
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


@dataclass(frozen=True)
class LogObject:
    """One log file of a CloudTrail source, as the manifest records it."""

    key: str  # path relative to the source root, with '/' separators
    size: int
    version: str  # S3 ETag, or the local file's mtime (ns): a change means new content
    day: date | None  # delivery day from the name or folder; None = undated (exports)


class CloudTrailSource:
    """A local folder or an S3 prefix (`s3://bucket/prefix`, through s3fs) holding CloudTrail.

    The S3 delivery layout `AWSLogs/[o-orgid/]<account>/CloudTrail/<region>/YYYY/MM/DD/` is
    listed one day folder at a time (an organization trail holds millions of files); anything
    else under the root (flat folders of delivery files, exports as JSON arrays or JSON lines)
    is listed whole. The standard AWS configuration (profile, environment, AWS_ENDPOINT_URL)
    applies to S3.
    """

    def __init__(self, location: str | Path) -> None:
        self.location = str(location)
        self.fs, root = fsspec.core.url_to_fs(self.location)
        self.root = root.rstrip("/")
        self._day_prefixes: list[str] | None = None
        self._other: list[LogObject] | None = None

    @property
    def is_remote(self) -> bool:
        return "://" in self.location and not self.location.startswith("file://")

    def exists(self) -> bool:
        return bool(self.fs.isdir(self.root))

    def _rel(self, path: str) -> str:
        return path[len(self.root) + 1 :] if path.startswith(self.root + "/") else path

    def _object(self, info: dict[str, Any]) -> LogObject:
        rel = self._rel(info["name"])
        version = str(
            info.get("ETag") or info.get("etag") or info.get("mtime") or info.get("LastModified")
        )
        return LogObject(
            key=rel, size=int(info.get("size") or 0), version=version, day=file_day(rel)
        )

    def _dirs(self, path: str) -> list[str]:
        return sorted(e["name"] for e in self.fs.ls(path, detail=True) if e["type"] == "directory")

    def _scan(self) -> None:
        """Find the region folders of the delivery layout, and every file outside it."""
        day_prefixes: list[str] = []
        other: list[LogObject] = []
        for entry in self.fs.ls(self.root, detail=True):
            name = entry["name"].rstrip("/")
            base = name.rsplit("/", 1)[-1]
            if entry["type"] == "directory" and base == "AWSLogs":
                for owner in self._dirs(name):
                    accounts = (
                        self._dirs(owner) if owner.rsplit("/", 1)[-1].startswith("o-") else [owner]
                    )
                    for account in accounts:
                        trail = f"{account}/CloudTrail"
                        if self.fs.isdir(trail):
                            day_prefixes.extend(self._dirs(trail))
            elif entry["type"] == "directory":
                for info in self.fs.find(name, detail=True).values():
                    if info["type"] == "file" and _is_log_file(info["name"]):
                        other.append(self._object(info))
            elif _is_log_file(base):
                other.append(self._object(entry))
        self._day_prefixes, self._other = day_prefixes, sorted(other, key=lambda o: o.key)

    def objects_for_day(self, day: date) -> list[LogObject]:
        """Delivery files of `day`, and undated files (which may hold events of any day)."""
        if self._day_prefixes is None or self._other is None:
            self._scan()
        assert self._day_prefixes is not None and self._other is not None
        found = [o for o in self._other if o.day in (day, None)]
        suffix = f"{day.year:04d}/{day.month:02d}/{day.day:02d}"
        for region in self._day_prefixes:
            folder = f"{region}/{suffix}"
            if not self.fs.isdir(folder):
                continue
            for info in self.fs.ls(folder, detail=True):
                if info["type"] == "file" and _is_log_file(info["name"].rsplit("/", 1)[-1]):
                    found.append(self._object(info))
        return sorted(found, key=lambda o: o.key)

    def read_bytes(self, key: str) -> bytes:
        return self.fs.cat_file(key if key.startswith("/") else f"{self.root}/{key}")


def list_files_for_day(root: str | Path, day: date) -> list[Path]:
    """Every CloudTrail log file in a local folder whose delivery day is `day` (sorted paths).

    Undated files (exports without a delivery name) are not listed here; see
    `CloudTrailSource.objects_for_day`.
    """
    source = CloudTrailSource(Path(root).resolve())
    return [Path(source.root) / o.key for o in source.objects_for_day(day) if o.day is not None]


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
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


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


def _decompress(raw: bytes, source_file: str, quarantine: Quarantine) -> bytes | None:
    """gzip is recognised by its magic bytes; a `.gz` file without them is corrupt."""
    if raw[:2] != b"\x1f\x8b":
        if source_file.endswith(".gz"):
            quarantine.add(source_file, f"corrupt gzip: Not a gzipped file ({raw[:2]!r})")
            return None
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        quarantine.add(source_file, f"corrupt gzip: {exc}")
        return None


def _json_lines(text: str, source_file: str, quarantine: Quarantine) -> list[tuple[str, Any]]:
    """JSON lines (one event per line, as other tools export them); bad lines are quarantined."""
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append((f"line {number}", json.loads(line)))
        except json.JSONDecodeError as exc:
            quarantine.add(
                source_file, f"invalid JSON at col {exc.colno}: {exc.msg}", f"line {number}"
            )
    return records


def parse_records(
    raw: bytes, source_file: str, quarantine: Quarantine
) -> list[tuple[str, Any]] | None:
    """The records of one file with their labels, recognised by content, or None after
    quarantining the whole file: `{"Records": [...]}` (S3 delivery, gzip or not), a JSON array
    of events, or JSON lines. A problem in one record or line is left to the caller."""
    data = _decompress(raw, source_file, quarantine)
    if data is None:
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        quarantine.add(source_file, f"invalid JSON: not UTF-8 text: {exc}")
        return None
    try:
        content = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and text.lstrip().startswith("{"):
            return _json_lines(text, source_file, quarantine)
        quarantine.add(source_file, f"invalid JSON at line {exc.lineno} col {exc.colno}: {exc.msg}")
        return None
    if isinstance(content, dict) and isinstance(content.get("Records"), list):
        return [(f"Records[{i}]", r) for i, r in enumerate(content["Records"])]
    if isinstance(content, list):
        return [(f"[{i}]", r) for i, r in enumerate(content)]
    if isinstance(content, dict) and _unwrap(content) is not None:
        return [("line 1", content)]
    quarantine.add(source_file, "not a CloudTrail log file: no Records array")
    return None


def _unwrap(record: dict[str, Any]) -> dict[str, Any] | None:
    """The CloudTrail event in a record: itself, or the `event` object of an export wrapper
    (`{"source_file": ..., "event": {...}}`); None if it holds none."""
    if "eventName" in record or "eventSource" in record:
        return record
    inner = record.get("event")
    if isinstance(inner, dict) and ("eventName" in inner or "eventSource" in inner):
        return inner
    return None


def _good_rows(
    records: list[tuple[str, Any]],
    day: date,
    source_file: str,
    quarantine: Quarantine,
    undated: bool,
    start: int = 0,
) -> Iterator[dict[str, Any]]:
    for index, (where, raw_record) in enumerate(records, start=start):
        if not isinstance(raw_record, dict):
            quarantine.add(
                source_file, f"record is not a JSON object (got {type(raw_record).__name__})", where
            )
            continue
        record = _unwrap(raw_record)
        if record is None:
            quarantine.add(source_file, "not a CloudTrail event: no eventName/eventSource", where)
            continue
        if "eventTime" not in record and isinstance(record.get("@timestamp"), str):
            # Logstash/ELK exports replace eventTime by @timestamp (the same instant).
            record = {**record, "eventTime": record["@timestamp"]}
        problem = _required_problem(record)
        if problem is not None:
            quarantine.add(source_file, problem[1], where, problem[0])
            continue
        if undated and _event_time(record["eventTime"]).date() != day:
            continue  # an export's event of another day belongs to that day's partition
        yield _to_row(record, day, source_file, index)


def _fast_table(raw: bytes, obj: LogObject, day: date) -> pa.Table | None:
    """The msgspec fast path for delivery files (None: use the stdlib path)."""
    from pipelines.lib.cloudtrail_fast import decode_delivery_file

    if obj.day is None:
        return None  # exports (arrays, JSON lines) are filtered per record by the slow path
    try:
        data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    except (OSError, EOFError, zlib.error):
        return None
    return decode_delivery_file(data, day, obj.key)


# A file this large (compressed) is parsed as a stream of records, in batches, instead of whole:
# CloudTrail files are usually a few MB, but data-event trails and exports can reach hundreds.
STREAM_MIN_BYTES = 64 * 1024 * 1024
STREAM_BATCH_RECORDS = 20_000
_CHUNK_CHARS = 1 << 20


def _stream_records(
    fh: Any, source_file: str, quarantine: Quarantine
) -> Iterator[list[tuple[str, Any]]]:
    """Batches of (label, record) from a `{"Records": [...]}` or `[...]` text stream, decoding
    one record at a time (memory: one batch and one chunk). A truncated or malformed stream is
    quarantined from the point where it breaks; the records before it are kept."""
    decoder = json.JSONDecoder()
    buffer, pos, eof = "", 0, False

    def more() -> bool:
        nonlocal buffer, pos, eof
        chunk = fh.read(_CHUNK_CHARS)
        if not chunk:
            eof = True
            return False
        buffer, pos = buffer[pos:] + chunk, 0
        return True

    while "[" not in buffer[pos:] and more():
        pass
    head = buffer[: buffer.find("[")] if "[" in buffer else buffer
    if "[" not in buffer or not (head.strip() == "" or '"Records"' in head):
        quarantine.add(source_file, "not a CloudTrail log file: no Records array")
        return
    pos = buffer.find("[") + 1
    batch: list[tuple[str, Any]] = []
    index = 0
    while True:
        while True:  # skip separators, reading more when the buffer runs dry
            while pos < len(buffer) and buffer[pos] in " \t\r\n,":
                pos += 1
            if pos < len(buffer) or not more():
                break
        if pos >= len(buffer):
            quarantine.add(
                source_file, f"truncated JSON after {index} records", f"Records[{index}]"
            )
            break
        if buffer[pos] == "]":
            break
        try:
            record, end = decoder.raw_decode(buffer, pos)
        except json.JSONDecodeError as exc:
            if not eof and more():
                continue
            quarantine.add(source_file, f"invalid JSON: {exc.msg}", f"Records[{index}]")
            break
        batch.append((f"Records[{index}]", record))
        index, pos = index + 1, end
        if len(batch) >= STREAM_BATCH_RECORDS:
            yield batch
            batch = []
    if batch:
        yield batch


def _streamed_tables(
    source: CloudTrailSource, obj: LogObject, day: date, quarantine: Quarantine
) -> Iterator[pa.Table]:
    path = obj.key if obj.key.startswith("/") else f"{source.root}/{obj.key}"
    with source.fs.open(path, "rb") as raw:
        binary = gzip.GzipFile(fileobj=raw) if raw.read(2) == b"\x1f\x8b" else raw
        raw.seek(0)
        text = io.TextIOWrapper(binary, encoding="utf-8-sig")
        try:
            offset = 0
            for batch in _stream_records(text, obj.key, quarantine):
                rows = list(
                    _good_rows(batch, day, obj.key, quarantine, obj.day is None, start=offset)
                )
                offset += len(batch)
                yield pa.Table.from_pylist(rows, schema=CLOUDTRAIL_EVENTS_SCHEMA)
        except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
            quarantine.add(obj.key, f"corrupt or unreadable stream: {exc}")


def object_tables(
    source: CloudTrailSource, obj: LogObject, day: date, quarantine: Quarantine
) -> Iterator[pa.Table]:
    """The rows of one object as Arrow tables: one for an ordinary file, a batch at a time for
    a file over STREAM_MIN_BYTES. Bad files and records go to `quarantine`."""
    if obj.size >= STREAM_MIN_BYTES:
        yield from _streamed_tables(source, obj, day, quarantine)
        return
    try:
        raw = source.read_bytes(obj.key)
    except OSError as exc:
        quarantine.add(obj.key, f"unreadable file: {exc}")
        return
    table = _fast_table(raw, obj, day)
    if table is not None:
        yield table
        return
    records = parse_records(raw, obj.key, quarantine)
    del raw
    if records is not None:
        rows = list(_good_rows(records, day, obj.key, quarantine, undated=obj.day is None))
        yield pa.Table.from_pylist(rows, schema=CLOUDTRAIL_EVENTS_SCHEMA)


def read_objects(
    source: CloudTrailSource, objects: list[LogObject], day: date, quarantine: Quarantine
) -> tuple[pa.Table, dict[str, int]]:
    """Parse the given objects of one day; returns the table and the record count per object."""
    tables = []
    counts: dict[str, int] = {}
    for obj in objects:
        counts[obj.key] = 0
        for table in object_tables(source, obj, day, quarantine):
            counts[obj.key] += table.num_rows
            tables.append(table)
    if not tables:
        return CLOUDTRAIL_EVENTS_SCHEMA.empty_table(), counts
    return pa.concat_tables(tables), counts


def read_events(
    files: list[Path], day: date, quarantine: Quarantine, root: Path | None = None
) -> pa.Table:
    """Parse local files of one day (paths relative to `root` name them; absolute otherwise)."""
    base = Path(root).resolve() if root is not None else None
    source = CloudTrailSource(base or Path.cwd())
    objects = []
    for path in map(Path, files):
        key = str(path.resolve())
        if base is not None and path.resolve().is_relative_to(base):
            key = path.resolve().relative_to(base).as_posix()
        elif base is None:
            key = str(path)
        objects.append(LogObject(key=key, size=0, version="", day=file_day(path) or day))
    return read_objects(source, objects, day, quarantine)[0]
