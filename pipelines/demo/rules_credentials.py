"""Demo evaluation: the usage and credential rules (inactive admin, unused role and key, root)."""

from __future__ import annotations

from datetime import UTC, datetime

from pipelines.demo.accounts import (
    ACCOUNT_NAMES,
    alias_of,
    parse_trail,
    principal_key,
    trail_time,
    ts,
)
from pipelines.demo.credential_report import credential_rows
from pipelines.demo.detections import Detection, RunContext, normalise, window
from pipelines.demo.last_used import credited_arn
from pipelines.demo.principals import Role
from pipelines.demo.scenarios import TABLES


def inactive_admins(ctx: RunContext, inactive: set[str]) -> list[Detection]:
    """inactive-admin: an admin user or role that is also inactive-identity in the window."""
    return [
        ctx.detection("inactive-admin", p.arn, principal_key(p.account, p.name),
                      "admin, and no sign of use in the window (see inactive-identity)")
        for p in (*TABLES.users, *TABLES.roles)
        if (p.account, p.name) in ctx.admins and p.arn in inactive
    ]  # fmt: skip


def _role_last_use(ctx: RunContext, role: Role) -> datetime | None:
    """Latest of RoleLastUsed (snapshot) and the role's own successful calls up to as-of."""
    end = trail_time(window(ctx.as_of)[1])
    seen = [
        e["eventTime"]
        for e in ctx.events
        if credited_arn(e) == role.arn and not e.get("errorCode") and e["eventTime"] < end
    ]
    snapshot = ctx.last_used.get(role.arn, {}).get("role")
    if snapshot:
        seen.append(snapshot[0])
    elif role.used_before:
        seen.append(normalise(role.used_before[0]))
    return parse_trail(max(seen)) if seen else None


def usage_detections(ctx: RunContext) -> list[Detection]:
    """unused-role: not service-linked, at least 90 days old, no use in the last 90 days."""
    found = []
    for role in TABLES.roles:
        key = principal_key(role.account, role.name)
        if role.service_linked or not ctx.older_than_cutoff(ts(role.created), f"{key} created"):
            continue
        last = _role_last_use(ctx, role)
        if last is None or ctx.older_than_cutoff(last, f"{key} last used"):
            seen = f"last used {trail_time(last)}" if last else "never used"
            found.append(ctx.detection("unused-role", role.arn, key,
                                       f"{seen} (RoleLastUsed and CloudTrail)"))  # fmt: skip
    return found


def _report_time(value: str) -> datetime | None:
    """A credential-report timestamp; None for N/A, no_information, not_supported."""
    if not value or not value[0].isdigit():
        return None
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S+00:00").replace(tzinfo=UTC)


def _active_keys(row: dict[str, str]) -> list[tuple[int, datetime, datetime | None]]:
    """(key number, created, last used) of the row's active access keys."""
    keys = []
    for number in (1, 2):
        if row[f"access_key_{number}_active"] == "true":
            created = _report_time(row[f"access_key_{number}_last_rotated"])
            assert created, row
            keys.append((number, created, _report_time(row[f"access_key_{number}_last_used_date"])))
    return keys


def credential_detections(ctx: RunContext) -> list[Detection]:
    """The credential-report rules, read from the report rows the snapshot holds."""
    found = []
    for account in ACCOUNT_NAMES:
        for row in credential_rows(account, ctx.last_used):
            key = (
                f"{alias_of(account)}/{'root' if row['user'] == '<root_account>' else row['user']}"
            )
            if row["user"] == "<root_account>":
                found += _root_detections(ctx, account, row, key)
            else:
                found += _user_credential_detections(ctx, row, key)
    return found


def _user_credential_detections(ctx: RunContext, row: dict[str, str], key: str) -> list[Detection]:
    found = []
    arn = row["arn"]
    created = _report_time(row["user_creation_time"])
    assert created
    if row["password_enabled"] == "true":  # noqa: S105 - a flag, not a password
        used = _report_time(row["password_last_used"])
        if ctx.older_than_cutoff(used or created, f"{key} password"):
            why = (
                f"last used {trail_time(used)}" if used else f"never used (user created {created})"
            )
            found.append(ctx.detection("unused-password", arn, key, f"console password {why}"))
        if row["mfa_active"] != "true":
            found.append(ctx.detection("console-user-without-mfa", arn, key,
                                       "console password, no MFA device"))  # fmt: skip
    keys = _active_keys(row)
    unused = [
        f"key {n} " + (f"last used {trail_time(used)}" if used else f"never used (created {made})")
        for n, made, used in keys
        if ctx.older_than_cutoff(used or made, f"{key} key {n}")
    ]
    if unused:
        found.append(ctx.detection("unused-access-key", arn, key, "; ".join(unused)))
    stale = [f"key {n} created {made}" for n, made, _ in keys if ctx.older_than_cutoff(made, key)]
    if stale:
        found.append(ctx.detection("access-key-not-rotated", arn, key, "; ".join(stale)))
    return found


def _root_detections(
    ctx: RunContext, account: str, row: dict[str, str], key: str
) -> list[Detection]:
    found = []
    start, end = window(ctx.as_of)
    report = [
        (column, _report_time(row[column]))
        for column in (
            "password_last_used", "access_key_1_last_used_date", "access_key_2_last_used_date",
        )
    ]  # fmt: skip
    uses = [f"{column} {moment}" for column, moment in report if moment and start <= moment < end]
    trail = sorted(
        e["eventTime"]
        for e in ctx.events
        if e["userIdentity"].get("type") == "Root"
        and e["userIdentity"]["accountId"] == account
        and trail_time(start) <= e["eventTime"] < trail_time(end)
    )
    if trail:
        uses.append(f"{len(trail)} CloudTrail events as Root, first {trail[0]}")
    if uses:
        found.append(ctx.detection("root-account-used", row["arn"], key, "; ".join(uses)))
    if _active_keys(row):
        keys = ", ".join(f"key {n} created {made}" for n, made, _ in _active_keys(row))
        found.append(ctx.detection("root-access-key-present", row["arn"], key, keys))
    return found
