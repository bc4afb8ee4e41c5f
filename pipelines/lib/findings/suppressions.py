"""Suppressions as code (reference layer): a YAML file of accepted risks, landed as a lake table.

The file is a list of entries (or a mapping with a `suppressions:` list):

    - rule: admin-iam-role            # a rule id, or "*" for every rule
      resource: "arn:aws:iam::222222222222:role/break-glass-*"   # glob on the resource ARN
      reason: "Break-glass role, reviewed quarterly (SEC-1234)"  # required
      expires: 2027-01-31             # optional: last day the suppression applies

The detections mart marks a matching detection `suppressed` (with the reason and expiry) while
the run's as-of date is on or before `expires`; after that the entry is `expired`, no longer
applies, and the `suppressions` table and a warning check report it. A file that does not follow
this format is an error naming the file, the entry and the field: a suppression silently dropped
would reopen what someone accepted, one silently misread would hide a risk.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

DEFAULT_FILE = "suppressions.yaml"
ENV_VAR = "CIEM_SUPPRESSIONS"
FIELDS = ("rule", "resource", "reason", "expires")

SUPPRESSIONS_SCHEMA = pa.schema(
    [
        pa.field("entry_index", pa.int32(), nullable=False),  # 0-based position in the file
        pa.field("rule_id", pa.string(), nullable=False),  # a rule id or '*'
        pa.field("resource_pattern", pa.string(), nullable=False),  # glob on resource_arn
        pa.field("reason", pa.string(), nullable=False),
        pa.field("expires_at", pa.date32()),  # last day it applies; null = never expires
        pa.field("source_file", pa.string(), nullable=False),
    ]
)


class SuppressionError(ValueError):
    """The suppressions file is not valid; the message names the file, entry and field."""


class _Mapping(dict):
    """A YAML mapping that remembers the keys it was given more than once (PyYAML keeps the
    last value silently: a second `reason:` or `expires:` would quietly replace the first)."""

    duplicates: tuple[str, ...] = ()


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _Mapping:
    loader.flatten_mapping(node)
    mapping = _Mapping()
    duplicates: list[str] = []
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping and str(key) not in duplicates:
            duplicates.append(str(key))
        mapping[key] = loader.construct_object(value_node, deep=True)
    mapping.duplicates = tuple(duplicates)
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
# Dates stay text until `_expires` reads them: PyYAML's own timestamp parsing would fail on
# `2026-02-30` with a bare ValueError that names no entry or field.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def known_rule_ids() -> frozenset[str]:
    """The rule ids of the registry (data/reference/detection_rules.csv)."""
    from pipelines.lib.reference.csvs import load_reference

    return frozenset(load_reference("ref_detection_rules").column("rule_id").to_pylist())


def resolve_path(setting: str | None, cwd: Path | None = None) -> Path | None:
    """The file to read: the setting if given (it must exist), else `suppressions.yaml` in the
    working directory if present, else none."""
    if setting:
        path = Path(setting).expanduser()
        if not path.is_file():
            raise SuppressionError(f"{path}: suppressions file not found")
        return path
    default = (cwd or Path.cwd()) / DEFAULT_FILE
    return default if default.is_file() else None


def _entry_error(path: Path, index: int, message: str) -> SuppressionError:
    return SuppressionError(f"{path}: entry {index}: {message}")


def _text(path: Path, index: int, entry: Mapping[str, Any], name: str) -> str:
    value = entry.get(name)
    if value is None:
        raise _entry_error(path, index, f"field '{name}' is required")
    if not isinstance(value, str) or not value.strip():
        raise _entry_error(path, index, f"field '{name}' must be a non-empty string")
    return value.strip()


def _expires(path: Path, index: int, value: object) -> date | None:
    if value is None:
        return None
    # The loader keeps dates as text (see _Loader); a date object can still come from the API.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _entry_error(path, index, f"field 'expires' must be a YYYY-MM-DD date, got {value!r}")


def parse_entry(
    path: Path, index: int, entry: object, rule_ids: frozenset[str] | None = None
) -> dict[str, Any]:
    """One entry as a row; `rule_ids` None accepts any rule id."""
    if not isinstance(entry, dict):
        raise _entry_error(path, index, "must be a mapping with rule, resource and reason")
    unknown = sorted(str(k) for k in entry if k not in FIELDS)
    if unknown:
        raise _entry_error(
            path, index, f"unknown field(s) {', '.join(unknown)} (allowed: {', '.join(FIELDS)})"
        )
    for name in getattr(entry, "duplicates", ()):
        raise _entry_error(path, index, f"field '{name}' is given more than once")
    rule_id = _text(path, index, entry, "rule")
    if rule_ids is not None and rule_id != "*" and rule_id not in rule_ids:
        # A misspelt rule would never match: the risk someone accepted would stay open.
        raise _entry_error(path, index, f"field 'rule': unknown rule id {rule_id!r}")
    return {
        "entry_index": index,
        "rule_id": rule_id,
        "resource_pattern": _text(path, index, entry, "resource"),
        "reason": _text(path, index, entry, "reason"),
        "expires_at": _expires(path, index, entry.get("expires")),
        "source_file": str(path),
    }


def load_suppressions(path: Path | None, rule_ids: frozenset[str] | None = None) -> pa.Table:
    """Every entry of the file as a row of SUPPRESSIONS_SCHEMA (no file: no rows). Each rule is
    `*` or one of `rule_ids` (default: the ids of the rule registry)."""
    if path is None:
        return SUPPRESSIONS_SCHEMA.empty_table()
    if rule_ids is None:
        rule_ids = known_rule_ids()
    try:
        document = yaml.load(path.read_text(), Loader=_Loader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SuppressionError(f"{path}: invalid YAML{where}: {problem}") from None
    if isinstance(document, dict) and set(document) == {"suppressions"}:
        if getattr(document, "duplicates", ()):
            raise SuppressionError(f"{path}: 'suppressions' is given more than once")
        document = document["suppressions"]
    if document is None:
        document = []
    if not isinstance(document, list):
        raise SuppressionError(
            f"{path}: expected a list of suppressions (or a mapping with a 'suppressions' list)"
        )
    rows = [parse_entry(path, i, entry, rule_ids) for i, entry in enumerate(document)]
    first_of: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (row["rule_id"], row["resource_pattern"])
        if key in first_of:
            # Only the first would ever apply: the second's reason and expiry would be ignored.
            raise _entry_error(
                path,
                row["entry_index"],
                f"same rule and resource as entry {first_of[key]} (edit that entry instead)",
            )
        first_of[key] = row["entry_index"]
    return pa.Table.from_pylist(rows, schema=SUPPRESSIONS_SCHEMA)


def setting_from_env() -> str:
    return os.environ.get(ENV_VAR, "")
