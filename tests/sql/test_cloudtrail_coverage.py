"""Model tests for CloudTrail coverage (issue 14): the daily delivery counts from a landing
manifest, `cloudtrail_coverage` (covered / partial / missing per account, region and day), and
what a gap does: usage verdicts `unobservable` (`cloudtrail_gap`), the usage rules skip the
account, rule cloudtrail-coverage-gap reports it. As of 2026-11-20, window 5 days: 11-16 .. 11-20.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import duckdb
import pyarrow as pa

from pipelines.lib.land.cloudtrail_landing import MANIFEST_SCHEMA
from pipelines.lib.warehouse.daily import DAILY_SCHEMAS, daily_model
from tests.sql.harness import build, evidence_of, fired, iam_role, iam_user, inline_policy, rows

A, B, C = "111111111111", "222222222222", "333333333333"
AS_OF = date(2026, 11, 20)
WINDOW = [date(2026, 11, d) for d in range(16, 21)]


def _delivery(
    account: str, region: str, day: date, hour: int | None, files: int = 1, quarantined: int = 0
) -> dict[str, Any]:
    return {
        "day": day,
        "account_id": account,
        "region": region,
        "delivery_hour": hour,
        "files": files,
        "quarantined_files": quarantined,
        "records": 3 * (files - quarantined),
    }


def test_daily_deliveries_read_account_region_and_hour_from_the_object_names() -> None:
    day = date(2026, 11, 20)
    org = "AWSLogs/o-1/111111111111/CloudTrail"

    def entry(key: str, records: int, status: str = "ingested") -> dict[str, Any]:
        return {
            "day": day,
            "object_key": key,
            "size": 10,
            "version": "v",
            "records": records,
            "status": status,
            "part": "p",
            "ingested_at": datetime(2026, 11, 21, tzinfo=UTC),
        }

    manifest = [
        entry(f"{org}/us-east-1/2026/11/20/{A}_CloudTrail_us-east-1_20261120T0005Z_a.json.gz", 4),
        entry(f"{org}/us-east-1/2026/11/20/{A}_CloudTrail_us-east-1_20261120T0055Z_b.json.gz", 0),
        entry(f"{org}/eu-west-1/2026/11/20/{A}_CloudTrail_eu-west-1_20261120T2310Z_c.json.gz", 0,
              "quarantined"),
        # A flat capture: the name alone says where it is from.
        entry(f"{B}_CloudTrail_eu-west-1_20261120T1200Z_d.json.gz", 7),
        # A name of another shape: account and region from the path, no hour.
        entry(f"{org}/ap-south-1/2026/11/20/renamed.json.gz", 2),
        entry("somewhere/else.json.gz", 1),
    ]  # fmt: skip
    con = duckdb.connect()
    con.register(
        "day_manifest",
        pa.Table.from_pylist(
            [{f.name: r.get(f.name) for f in MANIFEST_SCHEMA} for r in manifest],
            schema=MANIFEST_SCHEMA,
        ),
    )
    got = con.sql(daily_model("cloudtrail_deliveries_daily").sql).to_arrow_table()
    got = got.cast(DAILY_SCHEMAS["cloudtrail_deliveries_daily"]).to_pylist()
    assert {tuple(r.values()) for r in got} == {
        (day, A, "us-east-1", 0, 2, 0, 4),
        (day, A, "eu-west-1", 23, 1, 1, 0),
        (day, B, "eu-west-1", 12, 1, 0, 7),
        (day, A, "ap-south-1", None, 1, 0, 2),
        (day, None, None, None, 1, 0, 1),
    }


def test_coverage_tells_covered_partial_and_missing_days() -> None:
    deliveries = [_delivery(A, "us-east-1", d, 12) for d in WINDOW]
    deliveries += [
        _delivery(A, "eu-west-1", WINDOW[0], 5),
        _delivery(A, "eu-west-1", WINDOW[0], 23),
        # The trail stops after 10:00 on 11-17: 13 silent hours, then nothing on 11-18.
        _delivery(A, "eu-west-1", WINDOW[1], 2),
        _delivery(A, "eu-west-1", WINDOW[1], 10),
        # Only an unreadable file on 11-19: not a delivery.
        _delivery(A, "eu-west-1", WINDOW[3], 9, quarantined=1),
        # Back at 00:xx on 11-20: no silent hour that day.
        _delivery(A, "eu-west-1", WINDOW[4], 0),
        _delivery(A, "eu-west-1", WINDOW[4], 20),
        # Outside the window: no row for account C.
        _delivery(C, "us-east-1", date(2026, 11, 10), 12),
    ]
    inputs = {
        "raw_iam_users": [iam_user("ann", A), iam_user("bo", B)],
        "raw_ec2_instances": [
            {
                "account_id": A,
                "region": "ap-south-1",
                "instance_id": "i-1",
                "arn": "a1",
                "state": "running",
            },
            {
                "account_id": A,
                "region": "eu-central-1",
                "instance_id": "i-2",
                "arn": "a2",
                "state": "terminated",
            },
        ],
        "cloudtrail_deliveries_daily": deliveries,
    }
    con = build(inputs, ["cloudtrail_coverage"], as_of=AS_OF, window_days=5)
    got = set(
        rows(con, "select account_id, region, day, coverage, silent_hours from cloudtrail_coverage")
    )
    expected = {(A, "*", d, "covered", 0) for d in WINDOW}
    expected |= {(A, "us-east-1", d, "covered", 0) for d in WINDOW}
    expected |= {
        (A, "eu-west-1", WINDOW[0], "covered", 0),
        (A, "eu-west-1", WINDOW[1], "partial", 13),
        (A, "eu-west-1", WINDOW[2], "missing", 24),
        (A, "eu-west-1", WINDOW[3], "missing", 24),
        (A, "eu-west-1", WINDOW[4], "covered", 0),
    }
    expected |= {(A, "ap-south-1", d, "missing", 24) for d in WINDOW}
    expected |= {(B, "*", d, "missing", 24) for d in WINDOW}
    assert got == expected
    because = (
        "select distinct account_id, region, expected_because::varchar from cloudtrail_coverage"
    )
    assert set(rows(con, because)) == {
        (A, "*", "[cloudtrail, principals]"),
        (A, "us-east-1", "[cloudtrail]"),
        (A, "eu-west-1", "[cloudtrail]"),
        (A, "ap-south-1", "[ec2_instances]"),
        (B, "*", "[principals]"),
    }  # fmt: skip
    assert set(rows(con, "select account_id, region, day, files, quarantined_files, events "
                         "from cloudtrail_coverage where region = 'eu-west-1' and files > 0")) == {
        (A, "eu-west-1", WINDOW[0], 2, 0, 6),
        (A, "eu-west-1", WINDOW[1], 2, 0, 6),
        (A, "eu-west-1", WINDOW[3], 1, 1, 0),
        (A, "eu-west-1", WINDOW[4], 2, 0, 6),
    }  # fmt: skip


def _account_inputs(gap_region_days: list[date]) -> dict[str, list[dict[str, Any]]]:
    """Account A (its eu-west-1 trail silent on `gap_region_days`) and account B (covered),
    each with an idle role; A also has a worker role that listed a bucket in the window."""
    statements = [
        {
            "Effect": "Allow",
            "Resource": "*",
            "Action": ["s3:ListBucket", "iam:CreateUser", "iam:PassRole"],
        }
    ]
    roles = [
        iam_role("idle", account=A),
        iam_role("worker", account=A),
        iam_role("idle", account=B),
    ]
    policies = [inline_policy(r["arn"], statements) for r in roles]
    deliveries = [
        _delivery(account, region, d, 12)
        for account in (A, B)
        for region in ("us-east-1", "eu-west-1")
        for d in WINDOW
        if not (account == A and region == "eu-west-1" and d in gap_region_days)
    ]
    when = datetime(2026, 11, 19, 8, tzinfo=UTC)
    usage = {
        "day": when.date(),
        "account_id": A,
        "principal_arn": f"arn:aws:iam::{A}:role/worker",
        "action": "s3:listbucket",
        "successful_calls": 2,
        "denied_attempts": 0,
        "throttled_calls": 0,
        "other_errors": 0,
        "first_seen_at": when,
        "last_seen_at": when,
        "last_used_at": when,
    }
    from pipelines.lib.reference.csvs import REFERENCE_CSVS, load_reference

    references = {name: load_reference(name).to_pylist() for name in REFERENCE_CSVS}
    return {
        "raw_iam_roles": roles,
        "raw_iam_inline_policies": policies,
        "cloudtrail_deliveries_daily": deliveries,
        "usage_daily": [usage],
        **references,
    }


PASSROLE_REASON = (
    "iam:PassRole has no CloudTrail event of its own; it is checked inside RunInstances, "
    "CreateFunction, ..."
)


def test_a_gap_makes_the_accounts_unused_verdicts_unobservable() -> None:
    con = build(_account_inputs([WINDOW[2]]), ["permission_insights"], as_of=AS_OF, window_days=5)
    got = set(
        rows(
            con,
            "select principal_arn, action, usage_status, unobservable_reason "
            "from permission_insights",
        )
    )
    idle_a, worker_a = f"arn:aws:iam::{A}:role/idle", f"arn:aws:iam::{A}:role/worker"
    idle_b = f"arn:aws:iam::{B}:role/idle"
    assert got == {
        (idle_a, "s3:listbucket", "unobservable", "cloudtrail_gap"),
        (idle_a, "iam:createuser", "unobservable", "cloudtrail_gap"),
        (idle_a, "iam:passrole", "unobservable", PASSROLE_REASON),
        (worker_a, "s3:listbucket", "used", None),  # a call seen is use, gap or not
        (worker_a, "iam:createuser", "unobservable", "cloudtrail_gap"),
        (worker_a, "iam:passrole", "unobservable", PASSROLE_REASON),
        (idle_b, "s3:listbucket", "unused", None),
        (idle_b, "iam:createuser", "unused", None),
        (idle_b, "iam:passrole", "unobservable", PASSROLE_REASON),
    }


RULES = (
    "det_inactive_identity",
    "det_large_permissions_gap",
    "det_unused_role",
    "det_cloudtrail_coverage_gap",
)


def test_usage_rules_skip_an_account_with_a_gap_and_the_gap_is_reported() -> None:
    con = build(_account_inputs([WINDOW[2], WINDOW[3]]), RULES, as_of=AS_OF, window_days=5)
    idle_b = f"arn:aws:iam::{B}:role/idle"
    assert fired(con, *RULES) == {
        ("inactive-identity", idle_b),
        ("unused-role", idle_b),
        ("cloudtrail-coverage-gap", f"arn:aws:iam::{A}:root"),
    }
    evidence = evidence_of(con, "det_cloudtrail_coverage_gap", f"arn:aws:iam::{A}:root")
    assert evidence["regions"] == [
        {
            "region": "eu-west-1",
            "missing_days": ["2026-11-18", "2026-11-19"],
            "partial_days": ["2026-11-17", "2026-11-20"],
            "expected_because": ["cloudtrail"],
        }
    ]
    assert (evidence["gap_days"], evidence["account_wide"]) == (4, False)
    [(title,)] = rows(con, "select title from det_cloudtrail_coverage_gap")
    assert title == f"CloudTrail of account {A} has gaps on 4 of the last 5 days in eu-west-1"


def test_usage_rules_judge_the_account_again_once_its_window_is_whole() -> None:
    con = build(_account_inputs([]), RULES, as_of=AS_OF, window_days=5)
    idle_a, idle_b = f"arn:aws:iam::{A}:role/idle", f"arn:aws:iam::{B}:role/idle"
    assert fired(con, *RULES) == {
        # listed a bucket, never created a user: half its observable grant unused
        ("large-permissions-gap", f"arn:aws:iam::{A}:role/worker"),
        ("inactive-identity", idle_a),
        ("unused-role", idle_a),
        ("inactive-identity", idle_b),
        ("unused-role", idle_b),
    }


def _history(detection_id: str, rule_id: str, account: str) -> dict[str, Any]:
    return {
        "as_of": date(2026, 11, 19),
        "detection_id": detection_id,
        "rule_id": rule_id,
        "severity": "medium",
        "resource_arn": f"arn:aws:iam::{account}:user/{detection_id}",
        "resource_type": "iam_user",
        "account_id": account,
        "title": f"t {detection_id}",
        "evidence": "{}",
        "recorded_at": datetime(2026, 11, 19, tzinfo=UTC),
    }


def test_a_gap_holds_the_accounts_usage_detections_open_instead_of_resolving_them() -> None:
    """Yesterday's run found an inactive user in A and in B, and an admin user in A; today A's
    trail missed a day. A's usage detection is held open (a trail outage neither resolves it
    nor, when delivery is back, reopens it); A's admin detection and B's resolve as before."""
    young = datetime(2026, 11, 19, tzinfo=UTC)  # too young for today's usage rules
    inputs = {
        "detection_history": [
            _history("idle-a", "inactive-identity", A),
            _history("admin-a", "admin-iam-user", A),
            _history("idle-b", "inactive-identity", B),
        ],
        "raw_iam_users": [
            iam_user("new", A, create_date=young),
            iam_user("new", B, create_date=young),
        ],
        "cloudtrail_deliveries_daily": [
            _delivery(account, "us-east-1", d, 12)
            for account in (A, B)
            for d in WINDOW
            if (account, d) != (A, WINDOW[2])
        ],
    }
    from pipelines.lib.reference.csvs import REFERENCE_CSVS, load_reference
    from pipelines.lib.warehouse.sql_models import run_model
    from tests.sql.harness import _models_needed

    inputs |= {name: load_reference(name).to_pylist() for name in REFERENCE_CSVS}
    con = build(inputs, ["int_detections_current"], as_of=AS_OF, window_days=5)
    # As the detection_history asset does: this run's detections appended to the history.
    con.execute(
        """
        insert into detection_history by name
        select as_of, detection_id, rule_id, severity, resource_arn, resource_type, account_id,
            title, evidence, now() as recorded_at, principal_arn
        from int_detections_current
        """
    )
    built = {r[0] for r in rows(con, "select table_name from information_schema.tables")}
    for model in _models_needed(["detections", "detection_timeline"]):
        if model.name not in built:
            run_model(con, model)
    statuses = set(rows(con, "select detection_id, rule_id, status, last_seen_at from detections"))
    assert {s for s in statuses if s[0] in {"idle-a", "admin-a", "idle-b"}} == {
        ("idle-a", "inactive-identity", "open", AS_OF),
        ("admin-a", "admin-iam-user", "resolved", date(2026, 11, 19)),
        ("idle-b", "inactive-identity", "resolved", date(2026, 11, 19)),
    }
    assert {s[1] for s in statuses} - {"inactive-identity", "admin-iam-user"} == {
        "cloudtrail-coverage-gap"
    }
    resolved = "select detection_id from detection_timeline where event_type = 'resolved'"
    assert set(rows(con, resolved)) == {("admin-a",), ("idle-b",)}
    [(evidence,)] = rows(con, "select evidence from detections where detection_id = 'idle-a'")
    assert json.loads(evidence)["held_open"] == {
        "reason": "cloudtrail_gap",
        "account_id": "111111111111",
        "last_found_at": "2026-11-19",
    }


def test_a_gap_leaves_the_suggestions_review_list_to_what_cloudtrail_cannot_show() -> None:
    """The review list of a suggestion names the granted actions CloudTrail cannot show; an
    action unobservable only through its account's gap is not one (listed, every granted action
    of the account's principals would be: millions in a dense organization)."""
    con = build(
        _account_inputs([WINDOW[2]]), ["int_suggested_policies"], as_of=AS_OF, window_days=5
    )
    got = set(
        rows(
            con,
            "select principal_arn, array_to_string(unobservable_actions, ' '), suggested_actions "
            "from int_suggested_policies",
        )
    )
    idle_a, worker_a = f"arn:aws:iam::{A}:role/idle", f"arn:aws:iam::{A}:role/worker"
    idle_b = f"arn:aws:iam::{B}:role/idle"
    assert got == {
        (idle_a, "iam:PassRole", 0),
        (worker_a, "iam:PassRole", 1),
        (idle_b, "iam:PassRole", 0),
    }
