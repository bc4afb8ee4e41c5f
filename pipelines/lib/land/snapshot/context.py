"""Snapshot landing context (landing layer): value parsing, and the per-file/record context that
builds rows and quarantines what it cannot read, naming file, record and field."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import pyarrow as pa

from pipelines.lib.land.quarantine import Quarantine
from pipelines.lib.land.snapshot.schemas import SNAPSHOT_SCHEMAS, TS, Row

# Credential report cells that mean "no value". https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html
CREDENTIAL_REPORT_NULLS = frozenset({"", "N/A", "no_information", "not_supported"})
# Region prefix -> ARN partition. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
_REGION_PARTITIONS = (
    ("cn-", "aws-cn"),
    ("us-gov-", "aws-us-gov"),
    ("us-isob-", "aws-iso-b"),
    ("us-iso-", "aws-iso"),
)
# Python types a landed value must have, per Arrow column type.
_PY_TYPES: dict[pa.DataType, type] = {
    pa.string(): str,
    pa.bool_(): bool,
    pa.int64(): int,
    TS: datetime,
}


# ---------------------------------------------------------------------------------------------
# value parsing


def parse_timestamp(value: str) -> datetime:
    """An AWS timestamp as an aware UTC datetime; raises ValueError when unparseable.

    Accepts the CLI's ISO form (`2023-03-09T10:41:45Z`, `+00:00`), Python's `str(datetime)`
    (`2023-03-09 10:41:45+00:00`, boto3 dumps), Lambda's `2026-11-01T10:00:00.000+0000`, with or
    without fractional seconds. A value without an offset is taken as UTC (AWS's only zone).
    """
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {type(value).__name__}")
    parsed = datetime.fromisoformat(value.strip())
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_policy_document(value: Any) -> dict[str, Any]:
    """A policy document as a dict; raises ValueError when it is not a JSON object.

    The CLI returns decoded objects; the raw IAM API (and older boto3 shapes) URL-encoded JSON
    text (https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html);
    Organizations returns plain JSON text in `Content`.
    """
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            try:
                value = json.loads(unquote(value))
            except json.JSONDecodeError as err:
                raise ValueError(f"not valid JSON ({err.msg} at char {err.pos})") from None
    if not isinstance(value, dict):
        raise ValueError(f"not a JSON object (got {type(value).__name__})")
    return value


def json_text(value: Any) -> str | None:
    """A JSON part kept verbatim as compact JSON text; missing is None."""
    if value is None:
        return None
    return json.dumps(value, separators=(",", ":"))


def partition(region: str) -> str:
    for prefix, partition in _REGION_PARTITIONS:
        if region.startswith(prefix):
            return partition
    return "aws"


def arn_partition(arn: str) -> str:
    parts = arn.split(":")
    return parts[1] if len(parts) > 1 and parts[0] == "arn" and parts[1] else "aws"


def boundary_arn(principal: dict[str, Any]) -> str | None:
    return (principal.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")


def tag_value(tags: Any, key: str) -> str | None:
    for tag in tags if isinstance(tags, list) else []:
        if isinstance(tag, dict) and tag.get("Key") == key:
            return tag.get("Value")
    return None


def _row_problem(row: Row, schema: pa.Schema) -> str | None:
    """Why a built row cannot land in `schema` (null required value, wrong type), else None."""
    for column in schema:
        value = row.get(column.name)
        if value is None:
            if not column.nullable:
                return f"required value for column {column.name} is null or empty"
            continue
        expected = _PY_TYPES[column.type]
        wrong_bool = isinstance(value, bool) and expected is not bool
        if wrong_bool or not isinstance(value, expected):
            return f"column {column.name}: expected {column.type}, got {type(value).__name__}"
    return None


# ---------------------------------------------------------------------------------------------
# landing context


@dataclass(frozen=True)
class Ctx:
    """One input file (and optionally one record in it) being landed into `out`."""

    file: str  # path relative to the snapshot folder, as named in quarantine entries
    quarantine: Quarantine
    out: dict[str, list[Row]] = field(repr=False)
    account_id: str | None = None
    record: str | None = None

    def at(self, record: str) -> Ctx:
        return replace(self, record=record)

    def reject(self, reason: str, field: str | None = None) -> None:
        self.quarantine.add(self.file, reason, record=self.record, field=field)

    def timestamp(self, value: Any, field: str) -> datetime | None:
        """A parsed date, or None (quarantined with its field when present but unparseable)."""
        if value is None or value == "":
            return None
        try:
            return parse_timestamp(value)
        except ValueError:
            self.reject(f"unparseable date {value!r}", field)
            return None

    def document(self, value: Any, field: str | None, required: bool = False) -> str | None:
        """A policy document as compact JSON text, or None (quarantined when invalid)."""
        if value is None:
            if required:
                self.reject("policy document is missing", field)
            return None
        try:
            return json_text(parse_policy_document(value))
        except ValueError as err:
            self.reject(f"policy document is {err}", field)
            return None

    def entries(self, doc: Any, key: str) -> Iterator[tuple[Ctx, Any]]:
        """(context at `key[i]`, item) for each item of the list `doc[key]`; absent = none."""
        items = doc.get(key)
        if items is None:
            return
        if not isinstance(items, list):
            self.reject(f"expected a list, got {type(items).__name__}", key)
            return
        prefix = f"{self.record}." if self.record else ""
        for index, item in enumerate(items):
            yield self.at(f"{prefix}{key}[{index}]"), item

    def land(
        self,
        table: str,
        build: Callable[..., Row | None],
        *args: Any,
        field_prefix: str = "",
    ) -> Row | None:
        """Build one row with `build(self, *args)` and append it to `table`.

        A missing required key (`doc["Arn"]`) or a malformed record quarantines this record only
        and lands nothing; `build` returning None means it already quarantined the reason.
        """
        try:
            row = build(self, *args)
        except KeyError as err:
            key = err.args[0]
            self.reject(f"required key {key!r} is missing", f"{field_prefix}{key}")
            return None
        except (TypeError, AttributeError) as err:
            self.reject(f"malformed record: {err}", field_prefix.rstrip(".") or None)
            return None
        if row is None:
            return None
        row = {name: None if value == "" else value for name, value in row.items()}
        problem = _row_problem(row, SNAPSHOT_SCHEMAS[table])
        if problem is not None:
            self.reject(problem, field_prefix.rstrip(".") or None)
            return None
        self.out[table].append(row)
        return row
