"""IAM policy grammar (landing layer): why a decoded policy document is not one IAM would accept.

A document that breaks the grammar is refused whole by the snapshot reader (quarantined, never
read as granting nothing or everything). The rules follow
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html, with element
names and the Effect value case-sensitive as IAM parses them (IAM answers a lowercase `effect`
or `statement` with "Unknown field"):

- top level: `Version` optional (`2012-10-17` or `2008-10-17`), `Id` optional (a string),
  `Statement` required: one statement object or a list of them; nothing else;
- statement: `Sid` a string; `Effect` exactly `Allow` or `Deny`; exactly one of `Action` /
  `NotAction`; at most one of `Resource` / `NotResource` (required except in trust policies);
  at most one of `Principal` / `NotPrincipal` (required in trust, resource and resource control
  policies, refused in identity policies and SCPs); `Condition`; nothing else;
- `Action` / `NotAction`: a string or a non-empty list of strings, each `*` or `service:action`;
- `Resource` / `NotResource`: a string or a non-empty list of strings, each `*` or an ARN;
- `Principal` / `NotPrincipal`: `*`, or an object of `AWS` / `Service` / `Federated` /
  `CanonicalUser` to a string or a non-empty list of strings;
- `Condition`: an object of operator to an object of key to a string, boolean or number, or a
  non-empty list of them;
- every ARN (resource or principal) names a known partition (`aws`, `aws-cn`, ...) or a wildcard;
- every string is text (no byte that is not UTF-8) and every number finite.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from pipelines.lib.land.snapshot.decode import text_problem

# https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/partitions.html
KNOWN_PARTITIONS = frozenset(
    {"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"}
)
VERSIONS = frozenset({"2012-10-17", "2008-10-17"})
PRINCIPAL_TYPES = frozenset({"AWS", "Service", "Federated", "CanonicalUser"})
_TOP_LEVEL = frozenset({"Version", "Id", "Statement"})
_STATEMENT = frozenset(
    {
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    }
)
# `*`, or a service prefix, one colon and an action name (wildcards allowed).
_ACTION = re.compile(r"^(\*|[A-Za-z0-9-]+:[^:]*)$")


@dataclass(frozen=True)
class PolicyKind:
    """Where a document is attached, which decides the elements it needs or must not have."""

    name: str
    resource_required: bool
    principal: str  # 'required' | 'forbidden'


IDENTITY = PolicyKind("identity", resource_required=True, principal="forbidden")
TRUST = PolicyKind("trust", resource_required=False, principal="required")
RESOURCE = PolicyKind("resource", resource_required=True, principal="required")
SCP = PolicyKind("service control", resource_required=False, principal="forbidden")
RCP = PolicyKind("resource control", resource_required=True, principal="required")


def arn_partition_problem(arn: str) -> str | None:
    """Why the partition of `arn` (`arn:<partition>:...`) is not one AWS has, else None.
    A wildcard partition (`arn:*:...`, `arn:aws*:...`) is accepted."""
    parts = arn.split(":", 2)
    if len(parts) < 3 or parts[0] != "arn":
        return None
    partition = parts[1]
    if "*" in partition or "?" in partition or partition in KNOWN_PARTITIONS:
        return None
    return f"unknown partition {partition!r} in ARN {arn!r}"


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


class _Check:
    """Collects (path, reason) problems of one document."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def add(self, path: str, reason: str) -> None:
        self.problems.append((path, reason))

    def text(self, path: str, value: Any) -> bool:
        """True when `value` is a string that is text; records why not otherwise."""
        if not isinstance(value, str):
            self.add(path, f"expected a string, got {_kind(value)}")
            return False
        problem = text_problem(value)
        if problem is not None:
            self.add(path, problem)
            return False
        return True

    def keys(self, path: str, obj: dict[str, Any], allowed: frozenset[str]) -> None:
        for key in obj:
            where = f"{path}.{key}" if path else str(key)
            if not isinstance(key, str) or text_problem(key) is not None:
                self.add(where, "element name is not text")
            elif key not in allowed:
                known = next((k for k in allowed if k.lower() == key.lower()), None)
                hint = f" (element names are case-sensitive: {known!r})" if known else ""
                self.add(where, f"unknown element {key!r}{hint}")

    def strings(self, path: str, value: Any) -> list[tuple[str, str]]:
        """(path, string) of each string of a string-or-list-of-strings element; records what is
        wrong."""
        if isinstance(value, str):
            return [(path, value)] if self.text(path, value) else []
        if not isinstance(value, list):
            self.add(path, f"expected a string or a list of strings, got {_kind(value)}")
            return []
        if not value:
            self.add(path, "empty list")
        items = [(f"{path}[{i}]", item) for i, item in enumerate(value)]
        return [(where, item) for where, item in items if self.text(where, item)]

    def one_of(self, path: str, stmt: dict[str, Any], names: tuple[str, str], required: bool):
        present = [name for name in names if name in stmt]
        if len(present) > 1:
            self.add(f"{path}.{names[1]}", f"both {names[0]} and {names[1]}")
        elif not present and required:
            self.add(f"{path}.{names[0]}", f"missing {names[0]} (or {names[1]})")
        return present[0] if present else None

    def principal(self, path: str, value: Any) -> None:
        if isinstance(value, str):
            # `*`; a bare ARN string is read as an AWS principal, as the models read it
            # (hand-written policies in IAMSpy's fixtures use it).
            if self.text(path, value) and (problem := arn_partition_problem(value)) is not None:
                self.add(path, problem)
            return
        if not isinstance(value, dict):
            self.add(path, f'expected "*" or an object, got {_kind(value)}')
            return
        if not value:
            self.add(path, "empty principal")
        self.keys(path, value, PRINCIPAL_TYPES)
        for key, names in value.items():
            if key in PRINCIPAL_TYPES:
                for where, name in self.strings(f"{path}.{key}", names):
                    if (problem := arn_partition_problem(name)) is not None:
                        self.add(where, problem)

    def condition(self, path: str, value: Any) -> None:
        if not isinstance(value, dict):
            self.add(path, f"expected an object of condition operators, got {_kind(value)}")
            return
        for operator, block in value.items():
            where = f"{path}.{operator}"
            if not self.text(where, operator):
                continue
            if not isinstance(block, dict):
                self.add(where, f"expected an object of condition keys, got {_kind(block)}")
                continue
            for key, values in block.items():
                key_path = f"{where}.{key}"
                if not self.text(key_path, key):
                    continue
                items = values if isinstance(values, list) else [values]
                if isinstance(values, list) and not values:
                    self.add(key_path, "empty list")
                for i, item in enumerate(items):
                    item_path = f"{key_path}[{i}]" if isinstance(values, list) else key_path
                    self.condition_value(item_path, item)

    def condition_value(self, path: str, value: Any) -> None:
        if isinstance(value, str):
            self.text(path, value)
        elif isinstance(value, float) and not math.isfinite(value):
            self.add(path, f"not a finite number ({value})")
        elif not isinstance(value, bool | int | float):
            self.add(path, f"expected a string, boolean or number, got {_kind(value)}")

    def statement(self, path: str, stmt: Any, kind: PolicyKind) -> None:
        if not isinstance(stmt, dict):
            self.add(path, f"statement is not an object (got {_kind(stmt)})")
            return
        self.keys(path, stmt, _STATEMENT)
        if "Sid" in stmt:
            self.text(f"{path}.Sid", stmt["Sid"])
        effect = stmt.get("Effect")
        if "Effect" not in stmt:
            self.add(f"{path}.Effect", "missing Effect")
        elif effect not in ("Allow", "Deny"):
            shown = effect if not isinstance(effect, str) or text_problem(effect) is None else "…"
            self.add(f"{path}.Effect", f'Effect must be "Allow" or "Deny", got {shown!r}')
        action = self.one_of(path, stmt, ("Action", "NotAction"), required=True)
        if action is not None:
            for where, name in self.strings(f"{path}.{action}", stmt[action]):
                if not _ACTION.match(name):
                    self.add(where, f"not an action (service:action or *): {name!r}")
        resource = self.one_of(
            path, stmt, ("Resource", "NotResource"), required=kind.resource_required
        )
        if resource is not None:
            for where, name in self.strings(f"{path}.{resource}", stmt[resource]):
                if name != "*" and not name.startswith("arn:"):
                    self.add(where, f"not an ARN or '*': {name!r}")
                elif (problem := arn_partition_problem(name)) is not None:
                    self.add(where, problem)
        principal = self.one_of(
            path, stmt, ("Principal", "NotPrincipal"), required=kind.principal == "required"
        )
        if principal is not None:
            if kind.principal == "forbidden":
                reason = f"{principal} is not allowed in a {kind.name} policy"
                self.add(f"{path}.{principal}", reason)
            else:
                self.principal(f"{path}.{principal}", stmt[principal])
        if "Condition" in stmt:
            self.condition(f"{path}.Condition", stmt["Condition"])


def policy_problems(doc: dict[str, Any], kind: PolicyKind) -> list[tuple[str, str]]:
    """Every (path, reason) by which `doc` breaks IAM's policy grammar for a `kind` policy, in
    document order; empty when IAM would accept it. Paths read like `Statement[1].Effect`."""
    check = _Check()
    check.keys("", doc, _TOP_LEVEL)
    version = doc.get("Version", "2012-10-17")
    if not isinstance(version, str) or version not in VERSIONS:
        check.add("Version", f"unknown policy language version {doc['Version']!r}")
    if "Id" in doc:
        check.text("Id", doc["Id"])
    statements = doc.get("Statement")
    if "Statement" not in doc:
        check.add("Statement", "missing Statement")
    elif isinstance(statements, dict):
        check.statement("Statement", statements, kind)
    elif isinstance(statements, list):
        # An empty list grants nothing, as written (IAMSpy's real bucket policies have one).
        for index, stmt in enumerate(statements):
            check.statement(f"Statement[{index}]", stmt, kind)
    else:
        check.add("Statement", f"expected an object or a list of objects, got {_kind(statements)}")
    return check.problems
