"""Snapshot reader: real get-account-authorization-details dumps (cloudsplaining's iam-vulnerable
account and teaching dump, IAMSpy's permissions-boundary files) -> the raw_iam_* tables."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest

from pipelines.lib.land.quarantine import Quarantine
from tests.unit.land.snapshot_files import (
    REAL,
    VULNERABLE,
    VULNERABLE_ACCOUNT,
    compact,
    gaad_path,
    land,
    rows,
    utc,
    write,
)

TEACHING = REAL / "cloudsplaining" / "teaching-authz-details.json"
ROLE_BOUNDARY = REAL / "iamspy-tests" / "role-boundary-allow.json"
USER_BOUNDARY = REAL / "iamspy-tests" / "user-boundary-deny.json"


def _str_datetime(text: str) -> datetime:
    """Independent parse of the real dump's `str(datetime)` dates (`2023-03-09 10:41:45+00:00`)."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S%z").astimezone(UTC)


# ---------------------------------------------------------------------------------------------
# the real cloudsplaining dump (iam-vulnerable account, dates as str(datetime))


@pytest.fixture(scope="module")
def vulnerable_doc() -> dict[str, Any]:
    return json.loads(VULNERABLE.read_text())


@pytest.fixture(scope="module")
def vulnerable(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, pa.Table], Quarantine]:
    snap = tmp_path_factory.mktemp("real") / "2023-07-01"
    write(gaad_path(snap, VULNERABLE_ACCOUNT), VULNERABLE.read_text())
    return land(snap)


def test_real_dump_lands_every_principal_and_policy_without_quarantine(vulnerable, vulnerable_doc):
    tables, quarantine = vulnerable
    expected = {
        "raw_iam_users": {u["Arn"] for u in vulnerable_doc["UserDetailList"]},
        "raw_iam_groups": {g["Arn"] for g in vulnerable_doc["GroupDetailList"]},
        "raw_iam_roles": {r["Arn"] for r in vulnerable_doc["RoleDetailList"]},
    }
    for name, arns in expected.items():
        assert {row["arn"] for row in rows(tables, name)} == arns
    policy_arns = {p["Arn"] for p in vulnerable_doc["Policies"]}
    assert {row["policy_arn"] for row in rows(tables, "raw_iam_policies")} == policy_arns
    counts = {name: tables[name].num_rows for name in [*expected, "raw_iam_policies"]}
    assert counts == {
        "raw_iam_users": 41,
        "raw_iam_groups": 3,
        "raw_iam_roles": 75,
        "raw_iam_policies": 56,
    }
    assert {row["account_id"] for row in rows(tables, "raw_iam_roles")} == {VULNERABLE_ACCOUNT}
    assert quarantine.entries == []


def test_real_dump_flags_exactly_the_service_linked_roles(vulnerable, vulnerable_doc):
    tables, _ = vulnerable
    expected = {
        r["Arn"]
        for r in vulnerable_doc["RoleDetailList"]
        if r["Path"].startswith("/aws-service-role/")
    }
    landed = {row["arn"] for row in rows(tables, "raw_iam_roles") if row["is_service_linked"]}
    assert landed == expected
    assert (
        "arn:aws:iam::200611803367:role/aws-service-role/sso.amazonaws.com/AWSServiceRoleForSSO"
        in landed
    )
    # AWS SSO reserved roles live under /aws-reserved/: not service-linked.
    assert not any("AWSReservedSSO_" in arn for arn in landed)


def test_real_dump_group_memberships_resolve_names_to_arns(vulnerable):
    tables, _ = vulnerable
    account = f"arn:aws:iam::{VULNERABLE_ACCOUNT}"
    assert {(r["user_arn"], r["group_arn"]) for r in rows(tables, "raw_iam_group_memberships")} == {
        (f"{account}:user/privesc-sre-user", f"{account}:group/privesc-sre-group"),
        (
            f"{account}:user/privesc11-PutGroupPolicy-user",
            f"{account}:group/privesc11-PutGroupPolicy-group",
        ),
        (
            f"{account}:user/privesc8-AttachGroupPolicy-user",
            f"{account}:group/privesc8-AttachGroupPolicy-group",
        ),
    }


def test_real_dump_attachments_and_inline_policies_match_the_json(vulnerable, vulnerable_doc):
    tables, _ = vulnerable
    lists = [
        ("UserDetailList", "user", "UserPolicyList"),
        ("GroupDetailList", "group", "GroupPolicyList"),
        ("RoleDetailList", "role", "RolePolicyList"),
    ]
    attachments, inline = set(), set()
    for list_key, kind, inline_key in lists:
        for principal in vulnerable_doc[list_key]:
            for attached in principal["AttachedManagedPolicies"]:
                attachments.add((principal["Arn"], kind, attached["PolicyArn"]))
            for policy in principal.get(inline_key, []):
                inline.add(
                    (
                        principal["Arn"],
                        kind,
                        policy["PolicyName"],
                        compact(policy["PolicyDocument"]),
                    )
                )
    landed_attachments = {
        (r["principal_arn"], r["principal_type"], r["policy_arn"])
        for r in rows(tables, "raw_iam_policy_attachments")
    }
    landed_inline = {
        (r["principal_arn"], r["principal_type"], r["policy_name"], r["document"])
        for r in rows(tables, "raw_iam_inline_policies")
    }
    assert landed_attachments == attachments
    assert landed_inline == inline
    assert len(landed_inline) == 33


def test_real_dump_policy_documents_are_the_default_versions(vulnerable, vulnerable_doc):
    tables, _ = vulnerable
    expected = {}
    for policy in vulnerable_doc["Policies"]:
        (default,) = [v for v in policy["PolicyVersionList"] if v["IsDefaultVersion"]]
        expected[policy["Arn"]] = default["Document"]
    landed = {r["policy_arn"]: json.loads(r["document"]) for r in rows(tables, "raw_iam_policies")}
    assert landed == expected
    aws_managed = {r["policy_arn"] for r in rows(tables, "raw_iam_policies") if r["is_aws_managed"]}
    assert aws_managed == {arn for arn in expected if arn.startswith("arn:aws:iam::aws:policy/")}


def test_real_dump_str_datetime_dates_are_parsed(vulnerable, vulnerable_doc):
    tables, _ = vulnerable
    roles = {r["arn"]: r for r in rows(tables, "raw_iam_roles")}
    for role in vulnerable_doc["RoleDetailList"]:
        landed = roles[role["Arn"]]
        assert landed["create_date"] == _str_datetime(role["CreateDate"])
        last_used = role["RoleLastUsed"].get("LastUsedDate")
        assert landed["role_last_used_at"] == (_str_datetime(last_used) if last_used else None)
        assert landed["role_last_used_region"] == role["RoleLastUsed"].get("Region")
    user = next(
        u for u in rows(tables, "raw_iam_users") if u["user_name"] == "fn1-privesc3-partial-user"
    )
    assert user == {
        "account_id": VULNERABLE_ACCOUNT,
        "user_name": "fn1-privesc3-partial-user",
        "user_id": "AIDAS5NLFGDTUMT22VJQ2",
        "arn": "arn:aws:iam::200611803367:user/fn1-privesc3-partial-user",
        "path": "/",
        "create_date": utc(2023, 3, 9, 10, 41, 45),
        "password_last_used": None,
        "permissions_boundary_arn": None,
        "tags_json": "[]",
    }


def test_real_dump_instance_profile_row(vulnerable):
    tables, _ = vulnerable
    assert rows(tables, "raw_iam_instance_profiles") == [
        {
            "account_id": VULNERABLE_ACCOUNT,
            "instance_profile_name": "privesc-high-priv-service-profile",
            "instance_profile_id": "AIPAS5NLFGDTULYZSFS22",
            "arn": "arn:aws:iam::200611803367:instance-profile/privesc-high-priv-service-profile",
            "role_arn": "arn:aws:iam::200611803367:role/privesc-high-priv-service-role",
        }
    ]


def test_teaching_dump_takes_the_default_version_not_the_first_listed(snap):
    doc = json.loads(TEACHING.read_text())
    write(gaad_path(snap, "012345678901"), TEACHING.read_text())
    tables, quarantine = land(snap)
    (policy,) = [p for p in doc["Policies"] if p["PolicyName"] == "AWSCodeCommitPowerUser"]
    versions = {v["VersionId"]: v["Document"] for v in policy["PolicyVersionList"]}
    (landed,) = [
        r for r in rows(tables, "raw_iam_policies") if r["policy_name"] == "AWSCodeCommitPowerUser"
    ]
    assert (landed["default_version_id"], landed["document"]) == ("v11", compact(versions["v11"]))
    assert versions["v10"] != versions["v11"]
    assert quarantine.entries == []


# ---------------------------------------------------------------------------------------------
# permissions boundaries (IAMSpy test files)


def test_permissions_boundary_arns_from_iamspy_files(snap):
    write(gaad_path(snap, "123456789012"), ROLE_BOUNDARY.read_text())
    write(gaad_path(snap, "391638756970"), USER_BOUNDARY.read_text())
    tables, quarantine = land(snap)
    assert {
        (r["account_id"], r["arn"], r["permissions_boundary_arn"])
        for r in rows(tables, "raw_iam_roles")
    } == {
        (
            "123456789012",
            "arn:aws:iam::123456789012:role/name",
            "arn:aws:iam::aws:policy/InvokingAllowed",
        )
    }
    assert {
        (r["account_id"], r["arn"], r["permissions_boundary_arn"])
        for r in rows(tables, "raw_iam_users")
    } == {
        (
            "391638756970",
            "arn:aws:iam::391638756970:user/PermissionBoundaryBlock",
            "arn:aws:iam::aws:policy/NotInvoking",
        )
    }
    # The user-boundary file has no Tags key at all: null, not "[]".
    assert [r["tags_json"] for r in rows(tables, "raw_iam_users")] == [None]
    assert quarantine.entries == []
