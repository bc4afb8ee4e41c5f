"""CloudTrail fast path (landing layer): S3 delivery files decoded by msgspec into typed structs.

Only the fields the lake keeps are decoded; requestParameters, responseElements, resources and
additionalEventData stay raw JSON bytes (`msgspec.Raw`), never parsed into Python objects. A file
that does not fit the expected shape (a record that is not an object, a required field missing
or of another type...) returns None, and the caller parses it with the stdlib path, which names
each problem in the quarantine. Both paths produce the same rows (JSON parts equal as JSON:
the fast path keeps CloudTrail's own compact text).
"""

from __future__ import annotations

from datetime import date

import msgspec
import pyarrow as pa

from pipelines.lib import cloudtrail as ct

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


def _raw(value: msgspec.Raw) -> str | None:
    """Raw JSON as compact text (CloudTrail's own text is already compact: kept as is)."""
    text = bytes(value)
    if text == b"null":
        return None
    if b": " in text or b", " in text or b"\n" in text:
        text = msgspec.json.encode(msgspec.json.decode(text))
    return text.decode()


def decode_delivery_file(data: bytes, day: date, source_file: str) -> pa.Table | None:
    """Rows of a `{"Records": [...]}` file, or None if it needs the stdlib path."""
    try:
        records = _DECODER.decode(data).Records
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    rows = []
    append = rows.append
    for index, r in enumerate(records):
        event_time = ct._event_time(r.eventTime)
        if event_time is None or not r.eventSource or not r.eventName:
            return None  # the stdlib path quarantines this record with its reason
        identity = r.userIdentity or _EMPTY_IDENTITY
        session = identity.sessionContext or _EMPTY_SESSION
        issuer = session.sessionIssuer or _EMPTY_ISSUER
        identity_arn = identity.arn or None
        principal_arn, principal_type = ct._credited_principal(
            {
                "type": identity.type,
                "arn": identity_arn,
                "accountId": identity.accountId,
                "userName": identity.userName,
                "invokedBy": identity.invokedBy,
            },
            {"type": issuer.type, "arn": issuer.arn},
            r.eventType or None,
        )
        attributes = session.attributes
        # In CLOUDTRAIL_EVENTS_SCHEMA's column order.
        append(
            (
                day,
                r.eventID or None,
                event_time,
                r.eventVersion or None,
                r.eventSource,
                r.eventName,
                r.eventType or None,
                r.eventCategory or None,
                r.awsRegion or None,
                r.sourceIPAddress or None,
                r.userAgent or None,
                r.recipientAccountId or None,
                identity.type or None,
                identity_arn,
                identity.accountId or None,
                identity.principalId or None,
                identity.accessKeyId or None,
                issuer.arn or None,
                issuer.type or None,
                ct._session_name(identity.type, identity_arn),
                identity.invokedBy or None,
                ct._bool(attributes.mfaAuthenticated) if attributes else None,
                principal_arn,
                principal_type,
                r.errorCode or None,
                r.errorMessage or None,
                ct._bool(r.readOnly),
                ct._bool(r.managementEvent),
                _raw(r.requestParameters),
                _raw(r.responseElements),
                _raw(r.resources),
                _raw(r.additionalEventData),
                r.sharedEventID or None,
                r.vpcEndpointId or None,
                source_file,
                index,
            )
        )
    schema = ct.CLOUDTRAIL_EVENTS_SCHEMA
    if not rows:
        return schema.empty_table()
    columns = zip(*rows, strict=True)
    return pa.Table.from_arrays(
        [pa.array(values, type=field.type) for values, field in zip(columns, schema, strict=True)],
        schema=schema,
    )
