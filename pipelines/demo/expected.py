"""Demo evaluation: the detections both pipeline runs must produce, re-derived from the tables."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

from pipelines.demo.accounts import (
    DEV,
    OU_ID,
    PROD,
    SNAPSHOT_DATES,
    parse_trail,
    principal_key,
    trail_time,
    ts,
)
from pipelines.demo.coverage import apply_coverage_gap, delivered
from pipelines.demo.detections import (
    DECLARED_RULES,
    GAP_THRESHOLD,
    MINIMUM_PER_RUN,
    RULES,
    UNAMBIGUOUS_MARGIN,
    Detection,
    Expectations,
    GapFigure,
    RunContext,
    normalise,
    window,
)
from pipelines.demo.evaluator import Catalog, event_actions, managed_names, observable, permissions
from pipelines.demo.last_used import LastUsed, credited_arn, last_used
from pipelines.demo.principals import Group, Role, User
from pipelines.demo.rules_access import reach_detections, resource_detections, trust_detections
from pipelines.demo.rules_credentials import (
    credential_detections,
    inactive_admins,
    usage_detections,
)
from pipelines.demo.scenarios import TABLES
from pipelines.demo.scenarios.regions import (
    BREAK_GLASS_ARN,
    GLOBAL_ACTIONS,
    SCP_REGION_RESTRICTION,
)
from pipelines.demo.trail import build_trail


def expected_detections(
    events: list[dict] | None = None, used_before: LastUsed | None = None
) -> Expectations:
    """The detections both pipeline runs must produce, derived from the tables and the trail as
    delivered (`events`; the snapshot's last-used facts `used_before` come from every call)."""
    if events is None:
        every_call = build_trail(TABLES)
        events = delivered(every_call)
        used_before = last_used(every_call)
    catalog = Catalog()
    used_before = last_used(events) if used_before is None else used_before
    detections: list[Detection] = []
    gaps: list[GapFigure] = []
    for as_of in SNAPSHOT_DATES:
        found, admins = _identity_detections(as_of, events, used_before, catalog, gaps)
        detections += found
        inactive = {d.resource_arn for d in found if d.rule_id == "inactive-identity"}
        context = RunContext(as_of, events, used_before, catalog, frozenset(admins))
        detections.extend(inactive_admins(context, inactive))
        detections.extend(usage_detections(context))
        detections.extend(credential_detections(context))
        detections.extend(trust_detections(context))
        detections.extend(reach_detections(context))
        detections.extend(resource_detections(context))
    detections, gaps = apply_coverage_gap(detections, gaps)
    detections.sort(key=lambda d: (d.as_of, d.rule_id, d.resource_arn))
    return Expectations(detections, gaps, catalog.version, len(events))


def _window_use(
    events: list[dict], as_of: date, catalog: Catalog
) -> tuple[set[str], dict[str, set[str]]]:
    """The principals with a successful call in the run's window, and the actions they used."""
    start, end = window(as_of)
    used: dict[str, set[str]] = defaultdict(set)
    active: set[str] = set()
    for event in events:
        moment = parse_trail(event["eventTime"])
        arn = credited_arn(event)
        if arn is None or event.get("errorCode") or not start <= moment < end:
            continue
        active.add(arn)
        used[arn] |= event_actions(event, catalog)
    return active, used


def _identity_detections(
    as_of: date,
    events: list[dict],
    used_before: LastUsed,
    catalog: Catalog,
    gaps: list[GapFigure],
) -> tuple[list[Detection], set[tuple[str, str]]]:
    """The admin, inactive-identity and gap rules of a run (gap figures go to gaps), and the
    (account, name) of its admin users and roles."""
    start, _ = window(as_of)
    active, used = _window_use(events, as_of, catalog)
    found: list[Detection] = []

    def add(rule: str, arn: str, key: str, reason: str) -> None:
        found.append(Detection(as_of, rule, arn, key, reason))

    admins: set[tuple[str, str]] = set()
    for group in TABLES.groups:
        key = principal_key(group.account, group.name)
        if permissions(group, as_of, catalog).admin:
            add("admin-iam-group", group.arn, key, f"policies {_policy_list(group, as_of)}")
    for principal in (*TABLES.users, *TABLES.roles):
        key = principal_key(principal.account, principal.name)
        is_role = isinstance(principal, Role)
        perms = permissions(principal, as_of, catalog)
        if perms.admin:
            admins.add((principal.account, principal.name))
            rule = "admin-iam-role" if is_role else "admin-iam-user"
            add(rule, principal.arn, key, f"policies {_policy_list(principal, as_of)}")
        if is_role and principal.service_linked:
            continue
        if ts(principal.created) > start:
            continue
        if principal.arn not in active:
            seen, what = _last_seen(principal, used_before)
            if not any(value >= trail_time(start) for value in seen):
                last = f"{what} last used {max(seen)}" if seen else f"{what}: never used"
                why = f"no successful call in the window; {last}, before the window start"
                add("inactive-identity", principal.arn, key, why)
            continue
        visible = observable(perms.granted, catalog)
        figure = GapFigure(as_of, key, len(perms.granted), len(visible),
                           len(visible & used[principal.arn]))  # fmt: skip
        gaps.append(figure)
        if abs(figure.unused_ratio - GAP_THRESHOLD) < UNAMBIGUOUS_MARGIN:
            raise ValueError(f"borderline gap ratio {figure} - redesign the principal")
        if figure.unused_ratio > GAP_THRESHOLD:
            add("large-permissions-gap", principal.arn, key,
                f"{figure.used} of {figure.observable} observable granted actions used "
                f"({figure.unused_ratio:.1%} unused)")  # fmt: skip
    for instance in TABLES.instances:
        live = instance.role and instance.state != "terminated"
        if live and (instance.account, instance.role) in admins:
            add("admin-ec2-instance", instance.arn,
                principal_key(instance.account, instance.name),
                f"instance profile role {instance.role} is admin")  # fmt: skip
    for function in TABLES.functions_in(as_of):
        if (function.account, function.role) in admins:
            add("admin-lambda-function", function.arn,
                principal_key(function.account, function.name),
                f"execution role {function.role} is admin")  # fmt: skip
    return found, admins


def _policy_list(principal: User | Role | Group, snapshot: date) -> str:
    parts = [f"inline {name}" for name, _ in principal.inline]
    parts += list(managed_names(principal, snapshot))
    if isinstance(principal, User):
        parts += [f"group {g}" for g in principal.groups]
    return ", ".join(parts)


def _last_seen(principal: User | Role, used_before: LastUsed) -> tuple[list[str], str]:
    """Every last-use time of a principal (trail form), and where the snapshot reports it."""
    seen = [value[0] for value in used_before.get(principal.arn, {}).values()]
    if isinstance(principal, User):
        seen += [principal.password_used_before or "", (principal.key_used_before or ("",))[0]]
        what = "credentials (credential report)"
    else:
        seen.append((principal.used_before or ("",))[0])
        what = "RoleLastUsed"
    return [normalise(value) for value in seen if value], what


def check_expectations(expectations: Expectations) -> None:
    """Refuse to write a demo that lost one of its promised scenarios."""
    found = {(d.as_of, d.rule_id, d.principal) for d in expectations.detections}
    counts = Counter((d.as_of, d.rule_id) for d in expectations.detections)
    for as_of in SNAPSHOT_DATES:
        for rule, minimum in MINIMUM_PER_RUN.items():
            if counts[(as_of, rule)] < minimum:
                raise ValueError(f"{as_of}: only {counts[(as_of, rule)]} {rule} detections")
    for principal, rule, why, runs in TABLES.near_misses:
        for as_of in runs:
            if (as_of, rule, principal) in found:
                raise ValueError(f"{principal} must not fire {rule} on {as_of}: {why}")
    unknown = {d.rule_id for d in expectations.detections} - set(RULES)
    if unknown:
        raise ValueError(f"detections of unknown rules {unknown}")
    for principal in (*TABLES.users, *TABLES.roles):
        if set(principal.expect) - set(DECLARED_RULES):
            raise ValueError(f"{principal.name}: only {DECLARED_RULES} are declared")


def region_restricted(as_of: date, catalog: Catalog | None = None) -> dict[str, bool]:
    """The region restriction (scenarios/regions.py) as the answers must show it: for every user
    and role of the accounts under its OU that holds a regional permission, whether those
    permissions hold only under `aws:RequestedRegion` (True) or unconditionally (False: the
    break-glass role the SCP exempts by `aws:PrincipalArn`, and service-linked roles, which SCPs
    do not restrict)."""
    catalog = catalog or Catalog()
    scp = next(s for s in TABLES.scps if s.id == SCP_REGION_RESTRICTION)
    governed = {a for a in (PROD, DEV) if OU_ID in scp.targets}
    global_actions = frozenset().union(*(catalog.expand(p) for p in GLOBAL_ACTIONS))
    found: dict[str, bool] = {}
    for principal in (*TABLES.users, *TABLES.roles):
        if principal.account not in governed:
            continue
        if permissions(principal, as_of, catalog).granted - global_actions:
            exempt = principal.arn == BREAK_GLASS_ARN or getattr(principal, "service_linked", False)
            found[principal.arn] = not exempt
    return found
