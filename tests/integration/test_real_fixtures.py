"""`ciem run` on real public AWS data: the iam-vulnerable account and the invictus CloudTrail."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"
SNAPSHOT = REAL / "snapshots" / "iam-vulnerable"
CLOUDTRAIL = REAL / "invictus-aws-dataset" / "CloudTrail"
GAAD = REAL / "cloudsplaining" / "iam-vulnerable-account-authz-details.json"


def _has_everything(document: dict, effect: str) -> bool:
    """An unconditional statement of this effect on Action * and Resource *."""
    statements = document["Statement"]
    statements = statements if isinstance(statements, list) else [statements]
    for s in statements:
        actions = s.get("Action", [])
        resources = s.get("Resource", [])
        actions = [actions] if isinstance(actions, str) else actions
        resources = [resources] if isinstance(resources, str) else resources
        if s["Effect"] == effect and "*" in actions and "*" in resources and "Condition" not in s:
            return True
    return False


def _oracle_admins() -> set[str]:
    """Admins by the simplest reading of the raw dump: some attached or inline policy (own or a
    group's) holds an unconditional Allow of * on *, and the dump has no Deny on * for them."""
    gaad = json.loads(GAAD.read_text())
    managed = {
        p["Arn"]: next(v["Document"] for v in p["PolicyVersionList"] if v["IsDefaultVersion"])
        for p in gaad["Policies"]
    }

    def docs(entity: dict, inline_key: str) -> list[dict]:
        found = [managed[a["PolicyArn"]] for a in entity.get("AttachedManagedPolicies", [])]
        return found + [p["PolicyDocument"] for p in entity.get(inline_key, [])]

    def admin(documents: list[dict]) -> bool:
        return any(_has_everything(d, "Allow") for d in documents) and not any(
            _has_everything(d, "Deny") for d in documents
        )

    groups = {g["GroupName"]: docs(g, "GroupPolicyList") for g in gaad["GroupDetailList"]}
    admins = {r["Arn"] for r in gaad["RoleDetailList"] if admin(docs(r, "RolePolicyList"))}
    admins |= {
        u["Arn"]
        for u in gaad["UserDetailList"]
        if admin(docs(u, "UserPolicyList") + [d for g in u.get("GroupList", []) for d in groups[g]])
    }
    return admins


@pytest.fixture(scope="module")
def real_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lake = tmp_path_factory.mktemp("lake")
    code = main(
        [
            "run",
            "--snapshot",
            str(SNAPSHOT),
            "--cloudtrail",
            str(CLOUDTRAIL),
            "--as-of",
            "2023-07-10",
            "--window-days",
            "3",
            "--lake",
            str(lake),
        ]
    )
    assert code == 0
    return lake


def _query(lake: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(lake / "warehouse" / "ciem.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_admin_detections_equal_an_independent_reading_of_the_dump(real_lake: Path) -> None:
    got = set(
        _query(
            real_lake,
            """
        select resource_arn from detections
        where rule_id in ('admin-iam-user', 'admin-iam-role') and status = 'open'""",
        )
    )
    assert {arn for (arn,) in got} == _oracle_admins()


def test_every_cloudtrail_record_lands_and_the_malformed_real_scp_is_quarantined(
    real_lake: Path,
) -> None:
    assert _query(real_lake, "select count(*) from raw_cloudtrail_events") == [(2900,)]
    assert _query(real_lake, "select source, file, record, field from quarantine") == [
        ("snapshot", "organization/policies/p-svccredtype01.json", "Policy", "Content")
    ]
    # The other SCPs of the account still apply: the OU's Deny of LeaveOrganization holds.
    assert _query(
        real_lake,
        """
        select count(*) from effective_permissions
        where action = 'organizations:leaveorganization'""",
    ) == [(0,)]


def test_principals_match_the_dump(real_lake: Path) -> None:
    gaad = json.loads(GAAD.read_text())
    expected = (
        {(u["Arn"], "user") for u in gaad["UserDetailList"]}
        | {(r["Arn"], "role") for r in gaad["RoleDetailList"]}
        | {(g["Arn"], "group") for g in gaad["GroupDetailList"]}
    )
    assert (
        set(_query(real_lake, "select principal_arn, principal_type from principals")) == expected
    )


def test_assumed_role_sessions_credit_their_role(real_lake: Path) -> None:
    # invictus is another account than the snapshot: usage still lands, keyed by the role ARN.
    got = set(_query(real_lake, "select distinct principal_arn from usage_daily"))
    expected = set(
        _query(
            real_lake,
            """
        select distinct
            case when identity_type = 'AssumedRole' then session_issuer_arn
                 when identity_type = 'IAMUser' then coalesce(identity_arn, principal_arn)
            end
        from raw_cloudtrail_events
        where identity_type in ('AssumedRole', 'IAMUser')""",
        )
    )
    assert got == expected
    assert ("arn:aws:iam::123837392027:user/bert-jan",) in got


def test_unmapped_events_are_reported_and_below_one_percent(real_lake: Path) -> None:
    [(unmapped, total)] = _query(
        real_lake,
        """
        select coalesce(sum(events) filter (where mapping = 'unmapped'), 0), sum(events)
        from event_counts_daily""",
    )
    assert total == 2900
    reported = _query(real_lake, "select coalesce(sum(events), 0) from unmapped_events")
    assert reported == [(unmapped,)]
    assert unmapped / total <= 0.01
