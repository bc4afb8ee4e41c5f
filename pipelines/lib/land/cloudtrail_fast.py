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
from itertools import accumulate

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


def _json_column(values: list[msgspec.Raw]) -> pa.Array:
    """Raw JSON as text, JSON null as null (vectorized; the text is kept as delivered): the
    values' bytes joined once into one Arrow buffer, without a bytes object per value."""
    offsets = pa.array(list(accumulate(map(len, values), initial=0)), pa.int32())
    raw = pa.Array.from_buffers(
        pa.binary(), len(values), [None, offsets.buffers()[1], pa.py_buffer(b"".join(values))]
    )
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


def _bools(values: list[bool | str | None]) -> pa.Array:
    """readOnly / managementEvent / mfaAuthenticated: bools, or "true"/"false" strings."""
    try:
        return pa.array(values, type=pa.bool_())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([_bool(v) for v in values], type=pa.bool_())


def _texts(values: list[str | None]) -> pa.Array:
    """Text, "" as null (never "")."""
    array = pa.array(values, type=pa.string())
    if array.null_count == len(array) or "" not in values:
        return array
    return pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.string()), array)


def _decode(data: bytes | bytearray, day: date, source_file: str) -> pa.Table | None:
    """The file's rows, built a column at a time (one pass over the records per column)."""
    try:
        records = _DECODER.decode(data).Records
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    schema = ct.CLOUDTRAIL_EVENTS_SCHEMA
    n = len(records)
    if not n:
        return schema.empty_table()
    for r in records:
        if not r.eventSource or not r.eventName:
            return None  # the stdlib path quarantines this record with its reason
    identities = [r.userIdentity or _EMPTY_IDENTITY for r in records]
    sessions = [i.sessionContext or _EMPTY_SESSION for i in identities]
    issuers = [s.sessionIssuer or _EMPTY_ISSUER for s in sessions]
    kinds = [i.type for i in identities]
    identity_arns = [i.arn or None for i in identities]
    issuer_arns = [s.arn for s in issuers]
    principal_arns: list[str | None] = []
    principal_types: list[str] = []
    credited = ct.credited_principal
    for r, identity, issuer, kind, identity_arn, issuer_arn in zip(
        records, identities, issuers, kinds, identity_arns, issuer_arns, strict=True
    ):
        # The two shapes of nearly every event, answered as ct.credited_principal would;
        # every other shape goes through it.
        if kind == "AssumedRole" and issuer_arn:
            principal_arns.append(issuer_arn)
            principal_types.append("role")
        elif kind == "IAMUser" and identity_arn:
            principal_arns.append(identity_arn)
            principal_types.append("user")
        else:
            arn, kind_credited = credited(
                {
                    "type": kind,
                    "arn": identity_arn,
                    "accountId": identity.accountId,
                    "userName": identity.userName,
                    "invokedBy": identity.invokedBy,
                },
                {"type": issuer.type, "arn": issuer_arn},
                r.eventType or None,
            )
            principal_arns.append(arn)
            principal_types.append(kind_credited)
    session_name = ct.session_name
    session_names = [
        session_name(k, a) if a and (k == "AssumedRole" or k == "FederatedUser") else None
        for k, a in zip(kinds, identity_arns, strict=True)
    ]
    mfa = [s.attributes.mfaAuthenticated if s.attributes else None for s in sessions]
    columns = {
        "event_id": _texts([r.eventID for r in records]),
        "event_time": [r.eventTime for r in records],
        "event_version": _texts([r.eventVersion for r in records]),
        "event_source": [r.eventSource for r in records],
        "event_name": [r.eventName for r in records],
        "event_type": _texts([r.eventType for r in records]),
        "event_category": _texts([r.eventCategory for r in records]),
        "aws_region": _texts([r.awsRegion for r in records]),
        "source_ip_address": _texts([r.sourceIPAddress for r in records]),
        "user_agent": _texts([r.userAgent for r in records]),
        "recipient_account_id": _texts([r.recipientAccountId for r in records]),
        "identity_type": _texts(kinds),
        "identity_arn": identity_arns,
        "identity_account_id": _texts([i.accountId for i in identities]),
        "identity_principal_id": _texts([i.principalId for i in identities]),
        "access_key_id": _texts([i.accessKeyId for i in identities]),
        "session_issuer_arn": _texts(issuer_arns),
        "session_issuer_type": _texts([s.type for s in issuers]),
        "session_name": session_names,
        "invoked_by": _texts([i.invokedBy for i in identities]),
        "mfa_authenticated": _bools(mfa),
        "principal_arn": principal_arns,
        "principal_type": principal_types,
        "error_code": _texts([r.errorCode for r in records]),
        "error_message": _texts([r.errorMessage for r in records]),
        "read_only": _bools([r.readOnly for r in records]),
        "management_event": _bools([r.managementEvent for r in records]),
        "request_parameters": [r.requestParameters for r in records],
        "response_elements": [r.responseElements for r in records],
        "resources": [r.resources for r in records],
        "additional_event_data": [r.additionalEventData for r in records],
        "shared_event_id": _texts([r.sharedEventID for r in records]),
        "vpc_endpoint_id": _texts([r.vpcEndpointId for r in records]),
        "record_index": pa.array(range(n), type=pa.int64()),
    }
    arrays = {}
    try:
        for field in schema:
            if field.name == "day":
                arrays["day"] = pa.array([day] * n, type=field.type)
            elif field.name == "source_file":
                arrays["source_file"] = pa.array([source_file] * n, type=field.type)
            elif field.name == "event_time":
                # ISO 8601 parsed in Arrow; anything else sends the file to the stdlib path.
                arrays["event_time"] = pa.array(columns["event_time"], pa.string()).cast(field.type)
            elif field.name in _JSON_COLUMNS:
                arrays[field.name] = _json_column(columns[field.name])
            else:
                value = columns[field.name]
                arrays[field.name] = (
                    value if isinstance(value, pa.Array) else pa.array(value, type=field.type)
                )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    return pa.Table.from_pydict(arrays, schema=schema)
