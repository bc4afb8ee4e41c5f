"""CloudTrail fast path (landing layer): S3 delivery files decoded by msgspec into typed structs.

Only the fields the lake keeps are decoded; requestParameters, responseElements, resources and
additionalEventData stay raw JSON bytes (`msgspec.Raw`), never parsed into Python objects. A file
that does not fit the expected shape (a record that is not an object, a required field missing
or of another type...) returns None, and the caller parses it with the stdlib path, which names
each problem in the quarantine. Both paths produce the same rows (JSON parts equal as JSON:
the fast path keeps the text as delivered, CloudTrail's own compact JSON). A file with an
implausible eventTime, text that is not UTF-8, or a value msgspec or Arrow refuses (nested too
deeply, a lone surrogate...) also returns None: the stdlib path quarantines that one record.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.lib.land import cloudtrail_events as ct

_NULL = msgspec.Raw(b"null")


class _Issuer(msgspec.Struct):
    type: str | None = None
    arn: str | None = None


class _Attributes(msgspec.Struct):
    mfaAuthenticated: str | bool | None = None


class _Session(msgspec.Struct):
    sessionIssuer: _Issuer | None = None
    attributes: _Attributes | None = None


class _Identity(msgspec.Struct):
    type: str | None = None
    arn: str | None = None
    accountId: str | None = None
    principalId: str | None = None
    accessKeyId: str | None = None
    invokedBy: str | None = None
    userName: str | None = None
    sessionContext: _Session | None = None


class _Record(msgspec.Struct):
    eventTime: str
    eventSource: str
    eventName: str
    eventVersion: str | None = None
    eventID: str | None = None
    eventType: str | None = None
    eventCategory: str | None = None
    awsRegion: str | None = None
    sourceIPAddress: str | None = None
    userAgent: str | None = None
    recipientAccountId: str | None = None
    userIdentity: _Identity | None = None
    errorCode: str | None = None
    errorMessage: str | None = None
    readOnly: bool | str | None = None
    managementEvent: bool | str | None = None
    requestParameters: msgspec.Raw = _NULL
    responseElements: msgspec.Raw = _NULL
    resources: msgspec.Raw = _NULL
    additionalEventData: msgspec.Raw = _NULL
    sharedEventID: str | None = None
    vpcEndpointId: str | None = None


class _File(msgspec.Struct):
    Records: list[_Record]


_DECODER = msgspec.json.Decoder(_File)
_EMPTY_IDENTITY = _Identity()
_EMPTY_SESSION = _Session()
_EMPTY_ISSUER = _Issuer()


_JSON_COLUMNS = ("request_parameters", "response_elements", "resources", "additional_event_data")
_NULL_JSON = pa.scalar(b"null")


def _json_column(values: list[bytes]) -> pa.Array:
    """Raw JSON bytes as text, JSON null as null (vectorized; the text is kept as delivered)."""
    raw = pa.array(values, type=pa.binary())
    return pc.if_else(
        pc.equal(raw, _NULL_JSON), pa.scalar(None, pa.string()), raw.cast(pa.string())
    )


def _bool(value: bool | str | None) -> bool | None:
    return value if value is None or value is True or value is False else ct.to_bool(value)


_EARLIEST_AT = datetime.combine(ct.EARLIEST_EVENT_DAY, time(), tzinfo=UTC)


def decode_delivery_file(data: bytes | bytearray, day: date, source_file: str) -> pa.Table | None:
    """Rows of a `{"Records": [...]}` file, or None if it needs the stdlib path."""
    try:
        table = _decode(data, day, source_file)
    except (
        RecursionError,
        ValueError,
        TypeError,
        UnicodeError,
        OverflowError,
        msgspec.MsgspecError,
    ):
        return None
    if table is None or table.num_rows == 0:
        return table
    low, high = pc.min_max(table.column("event_time")).values()
    latest = datetime.combine(day + timedelta(days=2), time(), tzinfo=UTC)
    earliest = datetime.combine(day - ct.MAX_DELIVERY_DELAY, time(), tzinfo=UTC)
    if low.as_py() < max(_EARLIEST_AT, earliest) or high.as_py() >= latest:
        return None
    return table


def _decode(data: bytes | bytearray, day: date, source_file: str) -> pa.Table | None:
    try:
        records = _DECODER.decode(data).Records
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    rows = []
    append = rows.append
    credited = ct.credited_principal
    session_name = ct.session_name
    for index, r in enumerate(records):
        if not r.eventSource or not r.eventName:
            return None  # the stdlib path quarantines this record with its reason
        identity = r.userIdentity or _EMPTY_IDENTITY
        session = identity.sessionContext or _EMPTY_SESSION
        issuer = session.sessionIssuer or _EMPTY_ISSUER
        identity_arn = identity.arn or None
        kind = identity.type
        # The two shapes of nearly every event, answered as ct.credited_principal would;
        # every other shape goes through it.
        if kind == "AssumedRole" and issuer.arn:
            principal_arn, principal_type = issuer.arn, "role"
        elif kind == "IAMUser" and identity_arn:
            principal_arn, principal_type = identity_arn, "user"
        else:
            principal_arn, principal_type = credited(
                {
                    "type": kind,
                    "arn": identity_arn,
                    "accountId": identity.accountId,
                    "userName": identity.userName,
                    "invokedBy": identity.invokedBy,
                },
                {"type": issuer.type, "arn": issuer.arn},
                r.eventType or None,
            )
        attributes = session.attributes
        # In CLOUDTRAIL_EVENTS_SCHEMA's column order (day, source_file are added whole below).
        append(
            (
                r.eventID or None,
                r.eventTime,
                r.eventVersion or None,
                r.eventSource,
                r.eventName,
                r.eventType or None,
                r.eventCategory or None,
                r.awsRegion or None,
                r.sourceIPAddress or None,
                r.userAgent or None,
                r.recipientAccountId or None,
                kind or None,
                identity_arn,
                identity.accountId or None,
                identity.principalId or None,
                identity.accessKeyId or None,
                issuer.arn or None,
                issuer.type or None,
                session_name(kind, identity_arn) if identity_arn else None,
                identity.invokedBy or None,
                _bool(attributes.mfaAuthenticated) if attributes else None,
                principal_arn,
                principal_type,
                r.errorCode or None,
                r.errorMessage or None,
                _bool(r.readOnly),
                _bool(r.managementEvent),
                bytes(r.requestParameters),
                bytes(r.responseElements),
                bytes(r.resources),
                bytes(r.additionalEventData),
                r.sharedEventID or None,
                r.vpcEndpointId or None,
                index,
            )
        )
    schema = ct.CLOUDTRAIL_EVENTS_SCHEMA
    if not rows:
        return schema.empty_table()
    names = [f.name for f in schema if f.name not in ("day", "source_file")]
    columns = dict(zip(names, zip(*rows, strict=True), strict=True))
    arrays = {}
    try:
        for field in schema:
            if field.name == "day":
                arrays["day"] = pa.array([day] * len(rows), type=field.type)
            elif field.name == "source_file":
                arrays["source_file"] = pa.array([source_file] * len(rows), type=field.type)
            elif field.name == "event_time":
                # ISO 8601 parsed in Arrow; anything else sends the file to the stdlib path.
                arrays["event_time"] = pa.array(columns["event_time"], pa.string()).cast(field.type)
            elif field.name in _JSON_COLUMNS:
                arrays[field.name] = _json_column(columns[field.name])
            else:
                arrays[field.name] = pa.array(columns[field.name], type=field.type)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    return pa.Table.from_pydict(arrays, schema=schema)
