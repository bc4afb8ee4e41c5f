"""Model tests for the identity usage rules unused-role and inactive-admin (with inactive-identity
and admin-iam-group): roles and users with their last use, usage_daily rows written by hand.
As of 2026-11-20: window 2026-11-06 .. 11-20; unused_days 90 -> unused since 2026-08-23 00:00Z.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from tests.sql.harness import (
    DETECTION_COLUMNS,
    build,
    evidence_of,
    fired,
    iam_group,
    iam_role,
    iam_user,
    inline_policy,
    rows,
    user_arn,
)

A1 = "111111111111"
OLD = datetime(2025, 1, 1, tzinfo=UTC)
SSO = "/aws-reserved/sso.amazonaws.com/"
ADMIN = [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
READ = [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]


def _fired(con: Any, rule_model: str) -> set[tuple[str, ...]]:
    return fired(con, rule_model, columns=DETECTION_COLUMNS)


def _role(name: str, created: datetime, last_used: datetime | None, path: str = "/") -> dict:
    return iam_role(
        name,
        path=path,
        create_date=created,
        role_last_used_at=last_used,
        role_last_used_region="us-east-1" if last_used else None,
    )


def _usage(principal: str, day: date, successful: int, denied: int = 0) -> dict:
    when = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    return {
        "day": day,
        "account_id": A1,
        "principal_arn": principal,
        "action": "s3:listbucket",
        "successful_calls": successful,
        "denied_attempts": denied,
        "throttled_calls": 0,
        "other_errors": 0,
        "first_seen_at": when,
        "last_seen_at": when,
        "last_used_at": when if successful else None,
    }


def test_unused_role() -> None:
    roles = [
        _role("stale", OLD, datetime(2026, 5, 1, tzinfo=UTC)),
        _role("never", OLD, None),
        _role("recent", OLD, datetime(2026, 11, 1, tzinfo=UTC)),
        # RoleLastUsed lags; CloudTrail shows a call in the period.
        _role("cloudtrail", OLD, datetime(2026, 3, 1, tzinfo=UTC)),
        # Only denied attempts: not use.
        _role("denied", OLD, None),
        _role("young", datetime(2026, 10, 1, tzinfo=UTC), None),
        _role("AWSServiceRoleForSupport", OLD, None, "/aws-service-role/"),
        _role("AWSReservedSSO_Admin_0123456789abcdef", OLD, None, SSO),
    ]
    usage = [
        _usage(f"arn:aws:iam::{A1}:role/cloudtrail", date(2026, 11, 10), 2),
        _usage(f"arn:aws:iam::{A1}:role/denied", date(2026, 11, 10), 0, denied=3),
    ]
    con = build({"raw_iam_roles": roles, "usage_daily": usage}, ["det_unused_role"])

    def row(name: str, path: str, title: str) -> tuple[str, ...]:
        arn = f"arn:aws:iam::{A1}:role{path}{name}"
        return ("unused-role", arn, "iam_role", A1, arn, f"IAM role {name} {title}")

    sso = "AWSReservedSSO_Admin_0123456789abcdef"
    assert _fired(con, "det_unused_role") == {
        row("stale", "/", "has not been used in 90 days"),
        row("never", "/", "has no recorded use"),
        row("denied", "/", "has no recorded use"),
        row(sso, SSO, "has no recorded use"),
    }
    assert evidence_of(con, "det_unused_role", f"arn:aws:iam::{A1}:role{SSO}{sso}") == {
        "unused_days": 90,
        "unused_since": "2026-08-23",
        "as_of": "2026-11-20",
        "created_at": "2025-01-01 00:00:00+00",
        "role_last_used_at": None,
        "role_last_used_region": None,
        "last_event_at": None,
        "managed_by": "iam-identity-center",
        "remediation": "fix it in the IAM Identity Center permission set",
    }
    assert (
        evidence_of(con, "det_unused_role", f"arn:aws:iam::{A1}:role/stale")["managed_by"] is None
    )

    # Unused since 2026-11-11: `recent` (11-01) and `cloudtrail` (11-10) now unused too, `young`
    # (created 10-01) judged.
    con = build({"raw_iam_roles": roles, "usage_daily": usage}, ["det_unused_role"], unused_days=10)
    assert {r[1].split("/")[-1] for r in _fired(con, "det_unused_role")} == {
        "stale",
        "never",
        "denied",
        "recent",
        "cloudtrail",
        "young",
        sso,
    }


# ---------------------------------------------------------------------------------------------
# inactive-admin


def test_inactive_admin() -> None:
    users = {
        "adm-idle": ADMIN,
        "adm-active": ADMIN,
        "dev-idle": READ,
    }
    roles = {
        "adm-role-idle": (OLD, "/"),
        "adm-role-young": (datetime(2026, 11, 10, tzinfo=UTC), "/"),
        "AWSReservedSSO_Admin_0123456789abcdef": (OLD, SSO),
    }
    group = f"arn:aws:iam::{A1}:group/admins"
    inputs = {
        "raw_iam_users": [iam_user(name, A1, create_date=OLD) for name in users],
        "raw_iam_roles": [
            _role(name, created, None, path) for name, (created, path) in roles.items()
        ],
        "raw_iam_groups": [iam_group("admins", A1, create_date=OLD)],
        "raw_iam_inline_policies": [
            *(inline_policy(user_arn(name, A1), doc) for name, doc in users.items()),
            *(
                inline_policy(f"arn:aws:iam::{A1}:role{path}{name}", ADMIN)
                for name, (_, path) in roles.items()
            ),
            inline_policy(group, ADMIN),
        ],
        "usage_daily": [_usage(user_arn("adm-active", A1), date(2026, 11, 12), 1)],
    }
    con = build(inputs, ["det_inactive_admin", "det_inactive_identity", "det_admin_iam_group"])

    sso = "AWSReservedSSO_Admin_0123456789abcdef"
    sso_arn = f"arn:aws:iam::{A1}:role{SSO}{sso}"
    idle_role = f"arn:aws:iam::{A1}:role/adm-role-idle"
    assert _fired(con, "det_inactive_admin") == {
        (
            "inactive-admin",
            user_arn("adm-idle", A1),
            "iam_user",
            A1,
            user_arn("adm-idle", A1),
            "Administrator IAM user adm-idle has not been used in 15 days",
        ),
        (
            "inactive-admin",
            idle_role,
            "iam_role",
            A1,
            idle_role,
            "Administrator IAM role adm-role-idle has not been used in 15 days",
        ),
        (
            "inactive-admin",
            sso_arn,
            "iam_role",
            A1,
            sso_arn,
            f"Administrator IAM role {sso} has not been used in 15 days",
        ),
    }
    # dev-idle is inactive but no admin; the admin group is no identity that acts.
    assert {r[0] for r in rows(con, "select resource_arn from det_inactive_identity")} == {
        user_arn("adm-idle", A1),
        user_arn("dev-idle", A1),
        idle_role,
        sso_arn,
    }
    assert rows(con, "select resource_arn from det_admin_iam_group") == [(group,)]
    evidence = evidence_of(con, "det_inactive_admin", sso_arn)
    assert {k: evidence[k] for k in ("granting_policies", "managed_by", "remediation")} == {
        "granting_policies": ["p"],  # the inline policy's name
        "managed_by": "iam-identity-center",
        "remediation": "fix it in the IAM Identity Center permission set",
    }
    assert "managed_by" not in evidence_of(con, "det_inactive_admin", idle_role)
