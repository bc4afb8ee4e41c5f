"""Model tests for the detection lifecycle: timeline across runs (with the resource changes that
explain it), suppressions (applied, expired, reported) and the console link of every type."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import duckdb

from pipelines.lib.warehouse.sql_models import run_model
from tests.sql.harness import MODELS, _models_needed, build, rows

ACCT = "222222222222"
D1, D2, D3 = date(2026, 11, 18), date(2026, 11, 19), date(2026, 11, 20)
RECORDED = datetime(2026, 11, 20, tzinfo=UTC)
USER = f"arn:aws:iam::{ACCT}:user/contractor-temp"
GROUP = f"arn:aws:iam::{ACCT}:group/Operators"
ROLE = f"arn:aws:iam::{ACCT}:role/deploy"
FUNCTION = f"arn:aws:lambda:us-east-1:{ACCT}:function:hotfix"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def _reference_inputs() -> dict[str, list[dict]]:
    from pipelines.lib.reference.csvs import REFERENCE_CSVS, load_reference

    return {name: load_reference(name).to_pylist() for name in REFERENCE_CSVS}


def _history(as_of: date, detection_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "as_of": as_of,
        "detection_id": detection_id,
        "rule_id": "admin-iam-user",
        "severity": "high",
        "resource_arn": f"arn:aws:iam::{ACCT}:user/{detection_id}",
        "resource_type": "iam_user",
        "account_id": ACCT,
        "title": f"t {detection_id}",
        "evidence": "{}",
        "recorded_at": RECORDED,
        **extra,
    }


def _config(as_of: date, arn: str, config_type: str, key: str = "", fp: str = "x") -> dict:
    return {
        "as_of": as_of,
        "resource_arn": arn,
        "resource_type": arn.split(":")[5].split("/")[0].replace("user", "iam_user"),
        "account_id": ACCT,
        "config_type": config_type,
        "config_key": key,
        "fingerprint": fp,
        "details": json.dumps({"k": key}),
        "recorded_at": RECORDED,
    }


def test_timeline_has_lifecycle_severity_and_suppression_events() -> None:
    sup = {"suppression_reason": "accepted", "suppression_expires_at": date(2026, 12, 1)}
    history = [
        _history(D1, "a"),
        _history(D2, "a", severity="critical"),
        _history(D1, "b", **sup),
        _history(D2, "b", **sup),
        _history(D3, "b"),  # suppression lifted
        _history(D1, "c"),
        _history(D3, "c", **sup),  # reopened under a suppression
    ]
    con = build(
        {"detection_history": history, **_reference_inputs()}, ["detection_timeline"], as_of=D3
    )
    got = rows(con, "select detection_id, event_at, event_type, details from detection_timeline")
    assert set(got) == {
        ("a", D1, "opened", None),
        ("a", D2, "severity_changed", '{"from":"high","to":"critical"}'),
        ("a", D3, "resolved", None),
        ("b", D1, "opened", None),
        ("b", D1, "suppressed", '{"reason":"accepted","expires_at":"2026-12-01"}'),
        ("b", D3, "unsuppressed", '{"previous_reason":"accepted"}'),
        ("c", D1, "opened", None),
        ("c", D2, "resolved", None),
        ("c", D3, "reopened", None),
        ("c", D3, "suppressed", '{"reason":"accepted","expires_at":"2026-12-01"}'),
    }
    # Columns describing the detection come from its latest run.
    assert set(rows(con, "select distinct detection_id, severity from detection_timeline")) == {
        ("a", "critical"),
        ("b", "high"),
        ("c", "high"),
    }


def test_timeline_counts_runs_that_found_nothing_and_severity_across_a_gap() -> None:
    """A run that found no detection at all still resolves what the run before found (its
    detection history is empty, its configuration snapshot is not), and a detection reopening
    with another severity than when it was last found says so."""
    D4 = date(2026, 11, 21)
    history = [
        _history(D1, "a"),
        _history(D3, "a", severity="critical"),  # D2 found nothing at all
        _history(D1, "b"),  # D4, this run, finds nothing either
    ]
    config = [_config(day, USER, "exists", fp="exists") for day in (D1, D2, D3, D4)]
    con = build(
        {"detection_history": history, "resource_config_history": config, **_reference_inputs()},
        ["detection_timeline"],
        as_of=D4,
    )
    got = rows(
        con,
        "select detection_id, event_at, event_type, details from detection_timeline "
        "order by detection_id, event_at, event_type",
    )
    assert got == [
        ("a", D1, "opened", None),
        ("a", D2, "resolved", None),
        ("a", D3, "reopened", None),
        ("a", D3, "severity_changed", '{"from":"high","to":"critical"}'),
        ("a", D4, "resolved", None),
        ("b", D1, "opened", None),
        ("b", D2, "resolved", None),
    ]
    # Without any configuration snapshot, this run's own date still counts.
    con = build(
        {"detection_history": [_history(D1, "a")], **_reference_inputs()},
        ["detection_timeline"],
        as_of=D2,
    )
    assert rows(
        con, "select detection_id, event_at, event_type from detection_timeline order by event_at"
    ) == [("a", D1, "opened"), ("a", D2, "resolved")]


def test_timeline_explains_detections_with_resource_changes() -> None:
    history = [
        _history(D1, "u", resource_arn=USER, principal_arn=USER),
        _history(D2, "u", resource_arn=USER, principal_arn=USER),
        _history(
            D3,
            "f",
            rule_id="admin-lambda-function",
            resource_arn=FUNCTION,
            resource_type="lambda_function",
            principal_arn=ROLE,
        ),
    ]
    config = [
        # D1: the user has AdministratorAccess, belongs to Operators, has one access key.
        _config(D1, USER, "exists", fp="exists"),
        _config(D1, USER, "managed_policy", ADMIN, "v1"),
        _config(D1, USER, "group_membership", GROUP, "member"),
        _config(D1, USER, "access_key", "access_key_1@2026-01-01T00:00:00Z", "active"),
        _config(D1, GROUP, "exists", fp="exists"),
        _config(D1, ROLE, "exists", fp="exists"),
        _config(D1, ROLE, "trust_policy", fp="t1"),
        # D2: a policy attached to the group, a new key, the old key deactivated.
        _config(D2, USER, "exists", fp="exists"),
        _config(D2, USER, "managed_policy", ADMIN, "v1"),
        _config(D2, USER, "group_membership", GROUP, "member"),
        _config(D2, USER, "access_key", "access_key_1@2026-01-01T00:00:00Z", "inactive"),
        _config(D2, USER, "access_key", "access_key_2@2026-11-19T08:00:00Z", "active"),
        _config(D2, GROUP, "exists", fp="exists"),
        _config(D2, GROUP, "inline_policy", "ops", "p1"),
        _config(D2, ROLE, "exists", fp="exists"),
        _config(D2, ROLE, "trust_policy", fp="t1"),
        # D3: AdministratorAccess detached, trust policy changed, the function created.
        _config(D3, USER, "exists", fp="exists"),
        _config(D3, USER, "group_membership", GROUP, "member"),
        _config(D3, USER, "access_key", "access_key_1@2026-01-01T00:00:00Z", "inactive"),
        _config(D3, USER, "access_key", "access_key_2@2026-11-19T08:00:00Z", "active"),
        _config(D3, GROUP, "exists", fp="exists"),
        _config(D3, GROUP, "inline_policy", "ops", "p1"),
        _config(D3, ROLE, "exists", fp="exists"),
        _config(D3, ROLE, "trust_policy", fp="t2"),
        _config(D3, FUNCTION, "exists", fp="exists"),
        _config(D3, FUNCTION, "compute_role", fp=ROLE),  # comes with the new function
    ]
    con = build(
        {
            "detection_history": history,
            "resource_config_history": config,
            **_reference_inputs(),
        },
        ["detection_timeline"],
        as_of=D3,
    )
    got = rows(
        con,
        """
        select detection_id, event_at, event_type, change_type, changed_resource_arn, config_key
        from detection_timeline""",
    )
    assert set(got) == {
        ("u", D1, "opened", None, None, None),
        ("u", D2, "resource_changed", "policy_attached", GROUP, "ops"),
        (
            "u",
            D2,
            "resource_changed",
            "access_key_deactivated",
            USER,
            "access_key_1@2026-01-01T00:00:00Z",
        ),
        (
            "u",
            D2,
            "resource_changed",
            "access_key_created",
            USER,
            "access_key_2@2026-11-19T08:00:00Z",
        ),
        ("u", D3, "resource_changed", "policy_detached", USER, ADMIN),
        ("u", D3, "resolved", None, None, None),
        ("f", D3, "opened", None, None, None),
        ("f", D3, "resource_changed", "resource_created", FUNCTION, ""),
        ("f", D3, "resource_changed", "trust_policy_changed", ROLE, ""),
    }
    details = rows(
        con,
        "select details from detection_timeline where change_type = 'policy_detached'",
    )
    assert [json.loads(d) for (d,) in details] == [
        {
            "resource_arn": USER,
            "config_type": "managed_policy",
            "config_key": ADMIN,
            "before": {"k": ADMIN},
            "after": None,
        }
    ]


def _run(con: duckdb.DuckDBPyConnection, *models: str) -> None:
    from pipelines.lib.warehouse.sql_models import run_model

    for name in models:
        run_model(con, MODELS[name])


def _suppression(index: int, rule: str, pattern: str, expires: date | None) -> dict:
    return {
        "entry_index": index,
        "rule_id": rule,
        "resource_pattern": pattern,
        "reason": f"reason {index}",
        "expires_at": expires,
        "source_file": "suppressions.yaml",
    }


def test_suppressions_apply_until_they_expire_and_expired_ones_are_reported() -> None:
    suppressions = [
        _suppression(0, "admin-iam-role", f"arn:aws:iam::{ACCT}:role/break-glass-*", None),
        _suppression(1, "*", f"arn:aws:iam::{ACCT}:role/*", date(2026, 11, 20)),  # last day
        _suppression(2, "inactive-identity", "arn:aws:iam::*:user/legacy-?", date(2026, 11, 19)),
        _suppression(3, "admin-iam-user", "arn:aws:iam::*:user/nobody", None),
    ]
    con = build({"ref_suppressions": suppressions}, [], as_of=D3)
    con.execute(
        """
        create table int_detections_current as
        select * from (values
            ('d1', 'admin-iam-role', 'arn:aws:iam::222222222222:role/break-glass-1'),
            ('d2', 'unused-role', 'arn:aws:iam::222222222222:role/etl'),
            ('d3', 'inactive-identity', 'arn:aws:iam::333333333333:user/legacy-1'),
            ('d4', 'admin-iam-user', 'arn:aws:iam::222222222222:user/alice')
        ) as t(detection_id, rule_id, resource_arn)
        """
    )
    _run(con, "int_suppression_matches", "suppressions")
    assert set(
        rows(
            con,
            "select detection_id, entry_index, is_expired, is_applied from int_suppression_matches",
        )
    ) == {
        ("d1", 0, False, True),
        ("d1", 1, False, False),  # a later live entry matches too: the first one wins
        ("d2", 1, False, True),
        ("d3", 2, True, False),
    }
    assert set(
        rows(
            con,
            "select entry_index, status, matched_detections, applied_detections from suppressions",
        )
    ) == {(0, "active", 1, 1), (1, "active", 2, 1), (2, "expired", 1, 0), (3, "active", 0, 0)}
    assert rows(con, MODELS_AUDIT_SQL) == [(2, "inactive-identity")]


MODELS_AUDIT_SQL = (
    "select entry_index, rule_id from ("
    + (
        MODELS["suppressions"].path.parents[1]
        / "audits"
        / "suppressions__no_expired_suppressions.sql"
    ).read_text()
    + ")"
)


def test_detections_mart_status_suppression_and_optional_columns() -> None:
    sup = {"suppression_reason": "accepted", "suppression_expires_at": date(2026, 12, 1)}
    history = [
        _history(D2, "open", principal_arn="p", suggested_policy='{"Version":"2012-10-17"}'),
        _history(D3, "open", principal_arn="p", suggested_policy='{"Version":"2012-10-17"}'),
        _history(D3, "quiet", **sup),
        _history(D2, "gone", **sup),
    ]
    con = build({"detection_history": history, **_reference_inputs()}, ["detections"], as_of=D3)
    assert set(
        rows(
            con,
            """select detection_id, status, suppression_reason, suppression_expires_at,
                principal_arn, suggested_policy from detections""",
        )
    ) == {
        ("open", "open", None, None, "p", '{"Version":"2012-10-17"}'),
        ("quiet", "suppressed", "accepted", date(2026, 12, 1), None, None),
        ("gone", "resolved", None, None, None, None),
    }


def test_console_url_for_every_resource_type() -> None:
    cases = {
        "iam_user": (
            f"arn:aws:iam::{ACCT}:user/team/alice",
            "https://console.aws.amazon.com/iam/home#/users/details/alice",
        ),
        "iam_role": (
            f"arn:aws:iam::{ACCT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_1",
            "https://console.aws.amazon.com/iam/home#/roles/details/AWSReservedSSO_Admin_1",
        ),
        "iam_group": (
            f"arn:aws:iam::{ACCT}:group/Admins",
            "https://console.aws.amazon.com/iam/home#/groups/details/Admins",
        ),
        "aws_account": (
            f"arn:aws:iam::{ACCT}:root",
            "https://console.aws.amazon.com/iam/home#/security_credentials",
        ),
        "ec2_instance": (
            f"arn:aws:ec2:eu-west-1:{ACCT}:instance/i-0abc123",
            "https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1"
            "#InstanceDetails:instanceId=i-0abc123",
        ),
        "lambda_function": (
            f"arn:aws:lambda:us-east-1:{ACCT}:function:orders-api",
            "https://us-east-1.console.aws.amazon.com/lambda/home?region=us-east-1"
            "#/functions/orders-api",
        ),
        "s3_bucket": (
            "arn:aws:s3:::demo-public-assets",
            "https://s3.console.aws.amazon.com/s3/buckets/demo-public-assets",
        ),
        "kms_key": (
            f"arn:aws:kms:us-east-1:{ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "https://us-east-1.console.aws.amazon.com/kms/home?region=us-east-1"
            "#/kms/keys/1234abcd-12ab-34cd-56ef-1234567890ab",
        ),
        "sqs_queue": (
            f"arn:aws:sqs:eu-west-1:{ACCT}:orders",
            "https://eu-west-1.console.aws.amazon.com/sqs/v3/home?region=eu-west-1#/queues/"
            f"https%3A%2F%2Fsqs.eu-west-1.amazonaws.com%2F{ACCT}%2Forders",
        ),
        "sns_topic": (
            f"arn:aws:sns:us-east-1:{ACCT}:alerts",
            "https://us-east-1.console.aws.amazon.com/sns/v3/home?region=us-east-1#/topic/"
            f"arn:aws:sns:us-east-1:{ACCT}:alerts",
        ),
        "secretsmanager_secret": (
            f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:prod/db-AbC123",
            "https://us-east-1.console.aws.amazon.com/secretsmanager/secret"
            "?name=prod%2Fdb&region=us-east-1",
        ),
    }
    history = [
        _history(D3, kind, resource_type=kind, resource_arn=arn) for kind, (arn, _) in cases.items()
    ] + [
        _history(
            D3,
            "gov_role",
            resource_type="iam_role",
            resource_arn="arn:aws-us-gov:iam::123456789012:role/ops",
        ),
        _history(
            D3,
            "cn_function",
            resource_type="lambda_function",
            resource_arn="arn:aws-cn:lambda:cn-north-1:123456789012:function:f",
        ),
    ]
    con = build({"detection_history": history, **_reference_inputs()}, ["detections"], as_of=D3)
    assert dict(rows(con, "select detection_id, console_url from detections")) == {
        **{kind: url for kind, (_, url) in cases.items()},
        "gov_role": "https://console.amazonaws-us-gov.com/iam/home#/roles/details/ops",
        "cn_function": "https://console.amazonaws.cn/lambda/home?region=cn-north-1#/functions/f",
    }


# --- incomplete accounts (issue 18, item 7) --------------------------------------------------

OTHER = "333333333333"  # a second member account
MANAGEMENT = "111111111111"


def _user_row(account: str) -> dict[str, Any]:
    name = f"someone-{account}"
    return {
        "account_id": account,
        "user_name": name,
        "user_id": "AIDA" + account,
        "arn": f"arn:aws:iam::{account}:user/{name}",
    }


def _quarantined(file: str, record: str | None = None, field: str | None = None) -> dict:
    return {
        "source": "snapshot",
        "file": file,
        "record": record,
        "field": field,
        "reason": "invalid JSON at line 1 col 1: Expecting value",
        "partition": "2026-11-20",
        "quarantined_at": RECORDED,
    }


def _two_accounts_found_yesterday(**inputs: list[dict]) -> duckdb.DuckDBPyConnection:
    """Yesterday's run found one detection in each of ACCT and OTHER; today's run finds none
    (both accounts' principals landed, unless `inputs` says otherwise)."""
    history = [
        _history(D2, "in-acct"),
        _history(D2, "in-other", resource_arn=f"arn:aws:iam::{OTHER}:user/x", account_id=OTHER),
    ]
    base = {
        "detection_history": history,
        "raw_iam_users": [_user_row(ACCT), _user_row(OTHER)],
        **_reference_inputs(),
    }
    base.update(inputs)
    con = build(base, ["int_detections_current", "account_completeness"], as_of=D3)
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
    return con


def _statuses(con: duckdb.DuckDBPyConnection) -> set[tuple]:
    return set(
        rows(con, "select detection_id, status, account_incomplete, last_seen_at from detections")
    )


def _resolutions(con: duckdb.DuckDBPyConnection) -> set[tuple]:
    return set(
        rows(con, "select detection_id from detection_timeline where event_type = 'resolved'")
    )


def test_complete_accounts_resolve_what_they_no_longer_find() -> None:
    con = _two_accounts_found_yesterday()
    assert _statuses(con) == {
        ("in-acct", "resolved", False, D2),
        ("in-other", "resolved", False, D2),
    }
    assert _resolutions(con) == {("in-acct",), ("in-other",)}
    assert rows(con, "select count(*) from account_completeness where is_incomplete") == [(0,)]


def test_unreadable_authorization_details_hold_the_accounts_detections_open() -> None:
    gaad = f"{ACCT}/iam/get-account-authorization-details.json"
    con = _two_accounts_found_yesterday(
        raw_quarantine=[_quarantined(gaad)], raw_iam_users=[_user_row(OTHER)]
    )
    # ACCT is held (open, flagged, not resolved); OTHER, complete, resolves as before.
    assert _statuses(con) == {("in-acct", "open", True, D3), ("in-other", "resolved", False, D2)}
    assert _resolutions(con) == {("in-other",)}
    [(reason, held, previous)] = rows(
        con,
        "select incomplete_reason, held_open_detections, previous_as_of "
        f"from account_completeness where account_id = '{ACCT}'",
    )
    assert reason == f"unreadable input {gaad} (whole file)"
    assert (held, previous) == (1, D2)
    [(evidence,)] = rows(con, "select evidence from detections where detection_id = 'in-acct'")
    assert json.loads(evidence)["held_open"] == {
        "reason": reason,
        "account_id": ACCT,
        "last_found_at": "2026-11-19",
    }


def test_a_refused_policy_of_a_principal_makes_its_account_incomplete() -> None:
    con = _two_accounts_found_yesterday(
        raw_quarantine=[
            _quarantined(
                f"{OTHER}/iam/get-account-authorization-details.json",
                "UserDetailList[0]",
                "UserPolicyList[0].PolicyDocument",
            )
        ]
    )
    assert _statuses(con) == {("in-acct", "resolved", False, D2), ("in-other", "open", True, D3)}


def test_absent_authorization_details_of_a_known_account_resolve_nothing() -> None:
    # No file at all for OTHER (nothing quarantined): it had detections yesterday, no principal now.
    con = _two_accounts_found_yesterday(raw_iam_users=[_user_row(ACCT)])
    assert _statuses(con) == {("in-acct", "resolved", False, D2), ("in-other", "open", True, D3)}
    assert rows(
        con, f"select incomplete_reason from account_completeness where account_id = '{OTHER}'"
    ) == [("authorization details absent (the previous run had its principals or detections)",)]


def _org(policy_target: str) -> dict[str, list[dict]]:
    """An organization: root r-1 > OU ou-1 > ACCT; OTHER and MANAGEMENT directly under the root;
    the unreadable SCP p-deny (its file quarantined, its targets file read) on `policy_target`."""
    arn = "arn:aws:organizations::111111111111:x"
    return {
        "raw_org_organization": [
            {"organization_id": "o-1", "arn": arn, "management_account_id": MANAGEMENT}
        ],
        "raw_org_accounts": [
            {"account_id": a, "arn": arn, "name": a} for a in (ACCT, OTHER, MANAGEMENT)
        ],
        "raw_org_parents": [
            {"child_id": ACCT, "parent_id": "ou-1", "parent_type": "ORGANIZATIONAL_UNIT"},
            {"child_id": "ou-1", "parent_id": "r-1", "parent_type": "ROOT"},
            {"child_id": OTHER, "parent_id": "r-1", "parent_type": "ROOT"},
            {"child_id": MANAGEMENT, "parent_id": "r-1", "parent_type": "ROOT"},
        ],
        "raw_org_policy_targets": [
            {
                "policy_id": "p-deny",
                "target_id": policy_target,
                "target_type": "X",
                "target_name": "x",
                "target_arn": arn,
            }
        ],
        "raw_quarantine": [_quarantined("organization/policies/p-deny.json", "Policy", "Content")],
    }


def test_an_unreadable_scp_makes_the_accounts_it_targets_incomplete() -> None:
    con = _two_accounts_found_yesterday(**_org("ou-1"))  # ACCT only, through its OU
    assert _statuses(con) == {("in-acct", "open", True, D3), ("in-other", "resolved", False, D2)}
    assert rows(
        con, "select account_id, incomplete_reason from account_completeness where is_incomplete"
    ) == [
        (
            ACCT,
            "unreadable organization policy p-deny (organization/policies/p-deny.json) "
            "applies to it",
        )
    ]


def test_an_unreadable_scp_on_the_root_spares_the_management_account() -> None:
    con = _two_accounts_found_yesterday(**_org("r-1"))
    assert set(rows(con, "select account_id, is_incomplete from account_completeness")) == {
        (ACCT, True),
        (OTHER, True),
        (MANAGEMENT, False),
    }
    assert _resolutions(con) == set()


def test_an_unreadable_accounts_list_makes_every_account_incomplete() -> None:
    # Which accounts are in the organization is unknown: the trust and resource-policy rules of
    # every account judge other accounts by it, the management account's included. The policy
    # targets and every SCP are read, so only that reason applies (and the SCP placement one for
    # the members: the accounts file also says where policies apply).
    org = _org("r-1")
    org["raw_org_accounts"] = []
    org["raw_quarantine"] = [_quarantined("organization/list-accounts.json")]
    con = _two_accounts_found_yesterday(**org)
    membership = (
        "unreadable organization file organization/list-accounts.json "
        "(which accounts are in the organization is unknown)"
    )
    placement = (
        "unreadable organization file organization/list-accounts.json "
        "(where organization policies apply is unknown)"
    )
    assert set(rows(con, "select account_id, incomplete_reason from account_completeness")) == {
        (ACCT, f"{placement}; {membership}"),
        (OTHER, f"{placement}; {membership}"),
        (MANAGEMENT, membership),
    }
    assert _resolutions(con) == set()


def test_an_unreadable_organization_root_list_spares_the_management_account() -> None:
    org = _org("r-1")
    org["raw_quarantine"] = [_quarantined("organization/list-roots.json")]
    con = _two_accounts_found_yesterday(**org)
    assert set(rows(con, "select account_id, is_incomplete from account_completeness")) == {
        (ACCT, True),
        (OTHER, True),
        (MANAGEMENT, False),
    }
