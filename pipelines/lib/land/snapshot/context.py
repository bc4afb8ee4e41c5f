"""Snapshot landing context (landing layer): value parsing, and the per-file/record context that
builds rows and quarantines what it cannot read, naming file, record and field.

Bad input never changes what it did not touch:
- an optional value that cannot land (wrong type, `NaN`, a byte that is not UTF-8) is left out
  (null) and quarantined as a field; the row still lands;
- a required value that cannot land, or an ARN in an unknown partition, quarantines the record;
- a policy document that is not valid JSON or breaks IAM's grammar (`grammar`) is refused whole:
  never read as granting nothing or everything; the entry names the principal, policy or resource
  it belongs to (`subject_arn`) so the account and principal can be marked incomplete;
- a record repeated under the same id lands once; a repeat that differs is quarantined.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import pyarrow as pa

from pipelines.lib.land.quarantine import Quarantine
from pipelines.lib.land.snapshot.decode import load_json, text_problem, value_problem
from pipelines.lib.land.snapshot.grammar import PolicyKind, arn_partition_problem, policy_problems
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
            value = load_json(value)
        except json.JSONDecodeError:
            try:
                value = load_json(unquote(value))
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


def _value_problem(column: pa.Field, value: Any) -> str | None:
    """Why a non-null `value` cannot land in `column` (wrong type, not text), else None."""
    expected = _PY_TYPES[column.type]
    wrong_bool = isinstance(value, bool) and expected is not bool
    if wrong_bool or not isinstance(value, expected):
        shown = f" ({value!r})" if isinstance(value, str | int | float) else ""
        return f"column {column.name}: expected {column.type}, got {type(value).__name__}{shown}"
    if isinstance(value, str):
        problem = text_problem(value)
        if problem is not None:
            return f"column {column.name}: {problem}"
    return None


def _is_arn_column(name: str) -> bool:
    return name == "arn" or name.endswith("_arn")


def _source_field(args: tuple[Any, ...], value: Any) -> str | None:
    """The path (`RoleLastUsed.Region`, `Tags[0].Value`) of the input value a built row holds,
    found by identity in the records it was built from; None when it was derived."""
    queue: list[tuple[str, Any, int]] = [("", arg, 0) for arg in args]
    visited = 0
    while queue and visited < 10_000:
        path, item, depth = queue.pop(0)
        visited += 1
        if isinstance(item, dict):
            pairs: Any = ((f"{path}.{k}" if path else str(k), v) for k, v in item.items())
        elif isinstance(item, list) and path:
            pairs = ((f"{path}[{i}]", v) for i, v in enumerate(item))
        else:
            continue
        for where, child in pairs:
            if child is value:
                return where
            if depth < 3:
                queue.append((where, child, depth + 1))
    return None


def _shape(value: Any) -> str:
    """What a JSON value is, for a quarantine reason (`str`, `object with keys Key, Val`)."""
    if isinstance(value, dict):
        keys = ", ".join(sorted(str(k) for k in value)[:4])
        return f"an object with keys {keys}" if keys else "an empty object"
    return type(value).__name__


def _printable(text: str) -> str:
    """Text for a quarantine entry: bytes that are not UTF-8 shown as escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class Seen:
    """The ids of the records already landed from one list. A record repeated under an id lands
    once: an identical repeat (pages merged twice) is skipped, a repeat that differs is
    quarantined (which of the two AWS meant is unknown; the first is kept)."""

    def __init__(self, *ids: str) -> None:
        self.ids = ids
        self.first: dict[tuple[str, Any], tuple[str, Any]] = {}

    def repeated(self, ctx: Ctx, item: Any, where: str, field: str | None = None) -> bool:
        """True when `item` (at `where`) repeats an earlier record; quarantines a different one."""
        keys = [("", item)] if isinstance(item, str) else []
        if isinstance(item, dict):
            keys = [(k, item[k]) for k in self.ids if isinstance(item.get(k), str)]
        for key in keys:
            if key in self.first:
                first_where, first = self.first[key]
                if first != item:
                    named = f"{key[0]} {key[1]!r}" if key[0] else repr(key[1])
                    ctx.reject(
                        f"repeats {named} of {first_where} with different content; "
                        f"{first_where} is kept",
                        field,
                    )
                return True
        for key in keys:
            self.first[key] = (where, item)
        return False


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
    # The ARN of the principal, policy or resource being landed, named in quarantine entries.
    subject_arn: str | None = None

    def at(self, record: str) -> Ctx:
        return replace(self, record=record)

    def about(self, subject_arn: Any) -> Ctx:
        """This context, naming `subject_arn` (when it is text) in its quarantine entries."""
        if not isinstance(subject_arn, str) or text_problem(subject_arn) is not None:
            return self
        return replace(self, subject_arn=subject_arn)

    def reject(self, reason: str, field: str | None = None) -> None:
        self.quarantine.add(
            _printable(self.file),
            _printable(reason),
            record=self.record,
            field=None if field is None else _printable(field),
            account_id=self.account_id,
            subject_arn=self.subject_arn,
        )

    def timestamp(self, value: Any, field: str) -> datetime | None:
        """A parsed date, or None (quarantined with its field when present but unparseable)."""
        if value is None or value == "":
            return None
        try:
            return parse_timestamp(value)
        except ValueError:
            self.reject(f"unparseable date {value!r}", field)
            return None

    def document(
        self, value: Any, field: str | None, kind: PolicyKind | None, required: bool = False
    ) -> str | None:
        """A policy document as compact JSON text, or None: quarantined when it is not a JSON
        object or (for a `kind`) breaks IAM's policy grammar. One entry per refused document,
        at the first problem's field (`PolicyDocument.Statement[1].Effect`)."""
        if value is None:
            if required:
                self.reject("policy document is missing", field)
            return None
        try:
            doc = parse_policy_document(value)
        except ValueError as err:
            self.reject(f"policy document is {err}", field)
            return None
        except RecursionError:
            self.reject("policy document is nested too deep", field)
            return None
        problems = policy_problems(doc, kind) if kind is not None else []
        if problems:
            (path, reason), more = problems[0], problems[1:]
            also = "; ".join(f"{p}: {r}" for p, r in more[:3])
            also += "; …" if len(more) > 3 else ""
            self.reject(
                f"policy document refused (not IAM policy grammar for a {kind.name} policy): "
                f"{reason}" + (f" (also {also})" if also else ""),
                f"{field}.{path}" if field else path,
            )
            return None
        return json_text(doc)

    def json(self, value: Any, field: str) -> str | None:
        """A JSON part kept verbatim (Tags) as compact JSON text, or None: a part holding a value
        that cannot land (not UTF-8, not a finite number, nested too deep) is left out and
        quarantined as a field."""
        if value is None:
            return None
        problem = value_problem(value, field)
        if problem is not None:
            self.reject(f"{problem[1]}; the value is left out", problem[0])
            return None
        return json_text(value)

    def tags(self, value: Any, field: str = "Tags") -> str | None:
        """AWS tags (`[{"Key": …, "Value": …}, …]`) as compact JSON text, or None: tags holding a
        value that cannot land (`json`) or not of that shape (a string, a tag without its Key) are
        left out and quarantined as a field; the record still lands."""
        text = self.json(value, field)
        if text is None:
            return None
        if not isinstance(value, list):
            self.reject(
                f"expected a list of tags, got {type(value).__name__}; the value is left out", field
            )
            return None
        for index, tag in enumerate(value):
            if not (
                isinstance(tag, dict)
                and isinstance(tag.get("Key"), str)
                and isinstance(tag.get("Value"), str)
            ):
                self.reject(
                    "expected a tag {Key, Value} of text, got "
                    f"{_shape(tag)}; the tags are left out",
                    f"{field}[{index}]",
                )
                return None
        return text

    def entries(
        self, doc: Any, key: str, seen: Seen | None = None, subject: str | None = None
    ) -> Iterator[tuple[Ctx, Any]]:
        """(context at `key[i]`, item) for each item of the list `doc[key]`; absent = none.

        `seen` skips repeated records (by its ids); `subject` is the item's key holding the ARN
        that its quarantine entries name."""
        items = doc.get(key)
        if items is None:
            return
        if not isinstance(items, list):
            self.reject(f"expected a list, got {type(items).__name__}", key)
            return
        prefix = f"{self.record}." if self.record else ""
        for index, item in enumerate(items):
            ctx = self.at(f"{prefix}{key}[{index}]")
            if subject is not None and isinstance(item, dict):
                ctx = ctx.about(item.get(subject))
            if seen is not None and seen.repeated(ctx, item, ctx.record or ""):
                continue
            yield ctx, item

    def land(
        self,
        table: str,
        build: Callable[..., Row | None],
        *args: Any,
        field_prefix: str = "",
    ) -> Row | None:
        """Build one row with `build(self, *args)` and append it to `table`.

        A missing required key (`doc["Arn"]`), a required value that cannot land, an ARN in an
        unknown partition or a malformed record quarantines this record only and lands nothing;
        an optional value that cannot land is left out (null) and quarantined as a field.
        `build` returning None means it already quarantined the reason.
        """
        where = field_prefix.rstrip(".") or None
        try:
            row = build(self, *args)
        except KeyError as err:
            key = err.args[0]
            self.reject(f"required key {key!r} is missing", f"{field_prefix}{key}")
            return None
        except (TypeError, AttributeError, ValueError, RecursionError) as err:
            self.reject(f"malformed record: {type(err).__name__}: {err}", where)
            return None
        if row is None:
            return None
        row = {name: None if value == "" else value for name, value in row.items()}
        for column in SNAPSHOT_SCHEMAS[table]:
            value = row.get(column.name)
            if value is None:
                if not column.nullable:
                    self.reject(f"required value for column {column.name} is null or empty", where)
                    return None
                continue
            problem = _value_problem(column, value)
            if problem is None and isinstance(value, str) and _is_arn_column(column.name):
                problem = arn_partition_problem(value)
            if problem is None:
                continue
            source = _source_field(args, value)
            field = f"{field_prefix}{source}" if source else where
            if column.nullable and not _is_arn_column(column.name):
                self.reject(f"{problem}; the value is left out", field)
                row[column.name] = None
                continue
            self.reject(problem, field)
            return None
        self.out[table].append(row)
        return row
