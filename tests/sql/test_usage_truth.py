"""Trustworthy "unused": service-linked roles, young identities, IAM Identity Center roles,
unobservable actions and the denominators of the usage rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.sql.harness import build, daily, rows
from tests.sql.test_usage_and_detection_models import ACCT, _event, _reference_inputs

OLD = datetime(2025, 1, 1, tzinfo=UTC)
T = datetime(2026, 11, 19, 10, tzinfo=UTC)
# The default window of the as-of date 2026-11-20: 2026-11-06 .. 2026-11-20.
WINDOW_START = datetime(2026, 11, 6, tzinfo=UTC)
SSO_PATH = "/aws-reserved/sso.amazonaws.com/"
SSO_NAME = "AWSReservedSSO_Admin_0123456789abcdef"
SSO_ADVICE = "fix it in the IAM Identity Center permission set"
ACTIONS = ["s3:ListBucket", "ec2:RunInstances", "iam:CreateUser", "lambda:CreateFunction"]


def _arn(name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{ACCT}:role{path}{name}"


def _role(
    name: str, created: datetime | None, path: str = "/", actions: list[str] = ACTIONS
) -> dict:
    return {
        "role": {
            "account_id": ACCT,
            "role_name": name,
            "role_id": f"AROA{name.upper()}",
            "arn": _arn(name, path),
            "path": path,
            "create_date": created,
            "is_service_linked": path.startswith("/aws-service-role/"),
        },
        "policy": {
            "account_id": ACCT,
            "principal_arn": _arn(name, path),
            "principal_type": "role",
            "policy_name": "p",
            "document": json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Resource": "*", "Action": actions}],
                }
            ),
        },
    }


def _inputs(roles: list[dict], events: list[dict]) -> dict:
    return {
        "raw_iam_roles": [r["role"] for r in roles],
        "raw_iam_inline_policies": [r["policy"] for r in roles],
        **daily(events),
        **_reference_inputs(),
    }


def _list_objects(principal: str, i: int) -> dict:
    return _event("s3.amazonaws.com", "ListObjects", T, principal=principal, i=i)


RULES = ["det_large_permissions_gap", "det_inactive_identity", "principals", "permission_insights"]


def test_service_linked_roles_are_never_reported_by_usage_rules() -> None:
    slr_path = "/aws-service-role/elasticloadbalancing.amazonaws.com/"
    roles = [
        _role("idle", OLD),
        _role("busy", OLD),
        _role("AWSServiceRoleForElasticLoadBalancing", OLD, slr_path),
        _role("AWSServiceRoleForSupport", OLD, "/aws-service-role/support.amazonaws.com/"),
    ]
    events = [
        _list_objects(_arn("busy"), 1),
        _list_objects(_arn("AWSServiceRoleForElasticLoadBalancing", slr_path), 2),
    ]
    con = build(_inputs(roles, events), RULES)
    # The busy service-linked role has the same 75% gap as `busy`, the idle one is as idle as
    # `idle`: neither is reported.
    assert set(rows(con, "select rule_id, resource_arn from det_large_permissions_gap")) == {
        ("large-permissions-gap", _arn("busy"))
    }
    assert set(rows(con, "select rule_id, resource_arn from det_inactive_identity")) == {
        ("inactive-identity", _arn("idle"))
    }


def test_identities_younger_than_the_window_have_insufficient_history() -> None:
    roles = [
        _role("veteran", OLD),
        _role("exactly-window-old", WINDOW_START),  # existed for the whole window
        _role("young-busy", datetime(2026, 11, 10, tzinfo=UTC)),
        _role("young-idle", datetime(2026, 11, 6, 0, 0, 1, tzinfo=UTC)),
        _role("unknown-age", None),
    ]
    events = [
        _list_objects(_arn("veteran"), 1),
        _list_objects(_arn("exactly-window-old"), 2),
        _list_objects(_arn("young-busy"), 3),
    ]
    con = build(_inputs(roles, events), RULES)
    assert set(rows(con, "select resource_arn from det_large_permissions_gap")) == {
        (_arn("veteran"),),
        (_arn("exactly-window-old"),),
    }
    assert rows(con, "select resource_arn from det_inactive_identity") == []
    assert set(
        rows(con, "select name, usage_history, unused_actions, gap_ratio from principals")
    ) == {
        ("veteran", "complete", 3, 0.75),
        ("exactly-window-old", "complete", 3, 0.75),
        ("young-busy", "insufficient_history", 3, None),
        ("young-idle", "insufficient_history", 4, None),
        ("unknown-age", "insufficient_history", 4, None),
    }
    assert set(
        rows(
            con,
            """select principal_arn, usage_history, count(*) from permission_insights
               group by all""",
        )
    ) == {
        (_arn("veteran"), "complete", 4),
        (_arn("exactly-window-old"), "complete", 4),
        (_arn("young-busy"), "insufficient_history", 4),
        (_arn("young-idle"), "insufficient_history", 4),
        (_arn("unknown-age"), "insufficient_history", 4),
    }


def test_window_days_decides_who_is_old_enough() -> None:
    roles = [_role("month-old", datetime(2026, 11, 1, tzinfo=UTC))]
    # 15 days (from 2026-11-06): old enough and idle; 30 days (from 2026-10-22): too young.
    con = build(_inputs(roles, []), RULES)
    assert rows(con, "select resource_arn from det_inactive_identity") == [(_arn("month-old"),)]
    assert rows(con, "select usage_history from principals") == [("complete",)]
    con = build(_inputs(roles, []), RULES, window_days=30)
    assert rows(con, "select resource_arn from det_inactive_identity") == []
    assert rows(con, "select usage_history from principals") == [("insufficient_history",)]


def test_sso_reserved_roles_are_sent_to_the_permission_set() -> None:
    roles = [
        _role(SSO_NAME, OLD, SSO_PATH),
        _role("AWSReservedSSO_ReadOnly_fedcba9876543210", OLD, SSO_PATH),
        _role("plain", OLD),
    ]
    events = [_list_objects(_arn(SSO_NAME, SSO_PATH), 1), _list_objects(_arn("plain"), 2)]
    con = build(_inputs(roles, events), RULES)
    evidence = {
        (rule, arn): json.loads(ev)
        for rule, arn, ev in rows(
            con,
            """select rule_id, resource_arn, evidence from det_large_permissions_gap
               union all
               select rule_id, resource_arn, evidence from det_inactive_identity""",
        )
    }
    managed = {key: (ev.get("managed_by"), ev.get("remediation")) for key, ev in evidence.items()}
    assert managed == {
        ("large-permissions-gap", _arn(SSO_NAME, SSO_PATH)): ("iam-identity-center", SSO_ADVICE),
        ("large-permissions-gap", _arn("plain")): (None, None),
        (
            "inactive-identity",
            _arn("AWSReservedSSO_ReadOnly_fedcba9876543210", SSO_PATH),
        ): ("iam-identity-center", SSO_ADVICE),
    }
    assert "managed_by" not in evidence[("large-permissions-gap", _arn("plain"))]


def test_gap_figures_carry_their_denominator_and_unobservable_actions_are_never_unused() -> None:
    roles = [
        # 1 used of 4 observable; iam:PassRole and s3:GetObject (no data events) unobservable.
        _role("wide", OLD, actions=[*ACTIONS, "iam:PassRole", "s3:GetObject"]),
        # Only unobservable actions besides the used one: no gap at all.
        _role("narrow", OLD, actions=["s3:ListBucket", "iam:PassRole", "s3:GetObject"]),
    ]
    events = [_list_objects(_arn("wide"), 1), _list_objects(_arn("narrow"), 2)]
    con = build(_inputs(roles, events), RULES)
    [(arn, title, evidence)] = rows(
        con, "select resource_arn, title, evidence from det_large_permissions_gap"
    )
    assert (arn, title) == (
        _arn("wide"),
        "IAM role wide left 3 of its 4 observable permissions (75%) unused in 15 days",
    )
    figures = json.loads(evidence)
    assert {
        k: figures[k]
        for k in (
            "granted_actions",
            "observable_granted_actions",
            "used_actions",
            "unused_actions",
            "unobservable_actions",
            "gap_ratio",
            "gap_denominator",
            "threshold",
            "window_days",
            "window_start",
            "window_end",
            "usage_history",
            "catalog_version",
        )
    } == {
        "granted_actions": 6,
        "observable_granted_actions": 4,
        "used_actions": 1,
        "unused_actions": 3,
        "unobservable_actions": 2,
        "gap_ratio": 0.75,
        "gap_denominator": "observable_granted_actions",
        "threshold": 0.4,
        "window_days": 15,
        "window_start": "2026-11-06",
        "window_end": "2026-11-20",
        "usage_history": "complete",
        "catalog_version": "test-catalog",
    }
    assert figures["not_in_suggested_policy"]["unobservable_actions"] == [
        "iam:PassRole",
        "s3:GetObject",
    ]
    assert set(
        rows(
            con,
            """select name, granted_actions, used_actions, unused_actions, unobservable_actions,
                      gap_ratio from principals""",
        )
    ) == {("wide", 6, 1, 3, 2, 0.75), ("narrow", 3, 1, 0, 2, 0.0)}
    narrow = con.execute(
        "select action, usage_status from permission_insights where principal_arn = ?",
        [_arn("narrow")],
    ).fetchall()
    assert set(narrow) == {
        ("s3:listbucket", "used"),
        ("iam:passrole", "unobservable"),
        ("s3:getobject", "unobservable"),
    }
    # The threshold is a run parameter: 75% is not above 0.8.
    con = build(_inputs(roles, events), RULES, gap_threshold=0.8)
    assert rows(con, "select count(*) from det_large_permissions_gap") == [(0,)]
