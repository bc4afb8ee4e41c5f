"""Snapshot reader: real GAAD dumps and hand-written AWS CLI outputs -> the raw_* landing tables."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import pytest

from pipelines.lib.land.quarantine import Quarantine
from pipelines.lib.land.snapshot import (
    SNAPSHOT_SCHEMAS,
    parse_policy_document,
    parse_timestamp,
    read_snapshot,
)

REAL = Path(__file__).parents[1] / "fixtures" / "real"
VULNERABLE = REAL / "cloudsplaining" / "iam-vulnerable-account-authz-details.json"
TEACHING = REAL / "cloudsplaining" / "teaching-authz-details.json"
ROLE_BOUNDARY = REAL / "iamspy-tests" / "role-boundary-allow.json"
USER_BOUNDARY = REAL / "iamspy-tests" / "user-boundary-deny.json"

VULNERABLE_ACCOUNT = "200611803367"
ACCOUNT = "111111111111"
GAAD = f"{ACCOUNT}/iam/get-account-authorization-details.json"


# ---------------------------------------------------------------------------------------------
# helpers


def _write(path: Path, content: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = content if isinstance(content, str) else json.dumps(content, indent=2)
    path.write_text(text, encoding="utf-8")
    return path


def _gaad_path(snap: Path, account: str) -> Path:
    return snap / account / "iam" / "get-account-authorization-details.json"


def _read(snap: Path) -> tuple[dict[str, pa.Table], Quarantine]:
    quarantine = Quarantine(source="snapshot", partition=snap.name)
    return read_snapshot(snap, quarantine), quarantine


def _rows(tables: dict[str, pa.Table], name: str) -> list[dict[str, Any]]:
    return tables[name].to_pylist()


def _where(quarantine: Quarantine) -> set[tuple[str, str | None, str | None]]:
    return {(e.file, e.record, e.field) for e in quarantine.entries}


def _compact(doc: Any) -> str:
    return json.dumps(doc, separators=(",", ":"))


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _str_datetime(text: str) -> datetime:
    """Independent parse of the real dump's `str(datetime)` dates (`2023-03-09 10:41:45+00:00`)."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S%z").astimezone(UTC)


def _user(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "Path": "/",
        "UserName": name,
        "UserId": f"AIDA{name.upper()}",
        "Arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
        "CreateDate": "2024-01-02T03:04:05Z",
        "GroupList": [],
        "AttachedManagedPolicies": [],
        "Tags": [],
        **extra,
    }


def _role(name: str, trust: Any, **extra: Any) -> dict[str, Any]:
    return {
        "Path": "/",
        "RoleName": name,
        "RoleId": f"AROA{name.upper()}",
        "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
        "CreateDate": "2024-01-02T03:04:05Z",
        "AssumeRolePolicyDocument": trust,
        "InstanceProfileList": [],
        "RolePolicyList": [],
        "AttachedManagedPolicies": [],
        "RoleLastUsed": {},
        **extra,
    }


def _gaad(**lists: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "UserDetailList": lists.get("users", []),
        "GroupDetailList": lists.get("groups", []),
        "RoleDetailList": lists.get("roles", []),
        "Policies": lists.get("policies", []),
    }


ALLOW_S3_READ = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
}
ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
TRUST_EC2 = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


# ---------------------------------------------------------------------------------------------
# the real cloudsplaining dump (iam-vulnerable account, dates as str(datetime))


@pytest.fixture(scope="module")
def vulnerable_doc() -> dict[str, Any]:
    return json.loads(VULNERABLE.read_text())


@pytest.fixture(scope="module")
def vulnerable(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, pa.Table], Quarantine]:
    snap = tmp_path_factory.mktemp("real") / "2023-07-01"
    _write(_gaad_path(snap, VULNERABLE_ACCOUNT), VULNERABLE.read_text())
    return _read(snap)


def test_real_dump_lands_every_principal_and_policy_without_quarantine(vulnerable, vulnerable_doc):
    tables, quarantine = vulnerable
    expected = {
        "raw_iam_users": {u["Arn"] for u in vulnerable_doc["UserDetailList"]},
        "raw_iam_groups": {g["Arn"] for g in vulnerable_doc["GroupDetailList"]},
        "raw_iam_roles": {r["Arn"] for r in vulnerable_doc["RoleDetailList"]},
    }
    for name, arns in expected.items():
        assert {row["arn"] for row in _rows(tables, name)} == arns
    policy_arns = {p["Arn"] for p in vulnerable_doc["Policies"]}
    assert {row["policy_arn"] for row in _rows(tables, "raw_iam_policies")} == policy_arns
    counts = {name: tables[name].num_rows for name in [*expected, "raw_iam_policies"]}
    assert counts == {
        "raw_iam_users": 41,
        "raw_iam_groups": 3,
        "raw_iam_roles": 75,
        "raw_iam_policies": 56,
    }
    assert {row["account_id"] for row in _rows(tables, "raw_iam_roles")} == {VULNERABLE_ACCOUNT}
    assert quarantine.entries == []


def test_real_dump_flags_exactly_the_service_linked_roles(vulnerable, vulnerable_doc):
    tables, _ = vulnerable
    expected = {
        r["Arn"]
        for r in vulnerable_doc["RoleDetailList"]
        if r["Path"].startswith("/aws-service-role/")
    }
    landed = {row["arn"] for row in _rows(tables, "raw_iam_roles") if row["is_service_linked"]}
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
    assert {
        (r["user_arn"], r["group_arn"]) for r in _rows(tables, "raw_iam_group_memberships")
    } == {
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
                        _compact(policy["PolicyDocument"]),
                    )
                )
    landed_attachments = {
        (r["principal_arn"], r["principal_type"], r["policy_arn"])
        for r in _rows(tables, "raw_iam_policy_attachments")
    }
    landed_inline = {
        (r["principal_arn"], r["principal_type"], r["policy_name"], r["document"])
        for r in _rows(tables, "raw_iam_inline_policies")
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
    landed = {r["policy_arn"]: json.loads(r["document"]) for r in _rows(tables, "raw_iam_policies")}
    assert landed == expected
    aws_managed = {
        r["policy_arn"] for r in _rows(tables, "raw_iam_policies") if r["is_aws_managed"]
    }
    assert aws_managed == {arn for arn in expected if arn.startswith("arn:aws:iam::aws:policy/")}


def test_real_dump_str_datetime_dates_are_parsed(vulnerable, vulnerable_doc):
    tables, _ = vulnerable
    roles = {r["arn"]: r for r in _rows(tables, "raw_iam_roles")}
    for role in vulnerable_doc["RoleDetailList"]:
        landed = roles[role["Arn"]]
        assert landed["create_date"] == _str_datetime(role["CreateDate"])
        last_used = role["RoleLastUsed"].get("LastUsedDate")
        assert landed["role_last_used_at"] == (_str_datetime(last_used) if last_used else None)
        assert landed["role_last_used_region"] == role["RoleLastUsed"].get("Region")
    user = next(
        u for u in _rows(tables, "raw_iam_users") if u["user_name"] == "fn1-privesc3-partial-user"
    )
    assert user == {
        "account_id": VULNERABLE_ACCOUNT,
        "user_name": "fn1-privesc3-partial-user",
        "user_id": "AIDAS5NLFGDTUMT22VJQ2",
        "arn": "arn:aws:iam::200611803367:user/fn1-privesc3-partial-user",
        "path": "/",
        "create_date": _utc(2023, 3, 9, 10, 41, 45),
        "password_last_used": None,
        "permissions_boundary_arn": None,
        "tags_json": "[]",
    }


def test_real_dump_instance_profile_row(vulnerable):
    tables, _ = vulnerable
    assert _rows(tables, "raw_iam_instance_profiles") == [
        {
            "account_id": VULNERABLE_ACCOUNT,
            "instance_profile_name": "privesc-high-priv-service-profile",
            "instance_profile_id": "AIPAS5NLFGDTULYZSFS22",
            "arn": "arn:aws:iam::200611803367:instance-profile/privesc-high-priv-service-profile",
            "role_arn": "arn:aws:iam::200611803367:role/privesc-high-priv-service-role",
        }
    ]


def test_teaching_dump_takes_the_default_version_not_the_first_listed(tmp_path):
    doc = json.loads(TEACHING.read_text())
    _write(_gaad_path(tmp_path / "snap", "012345678901"), TEACHING.read_text())
    tables, quarantine = _read(tmp_path / "snap")
    (policy,) = [p for p in doc["Policies"] if p["PolicyName"] == "AWSCodeCommitPowerUser"]
    versions = {v["VersionId"]: v["Document"] for v in policy["PolicyVersionList"]}
    (landed,) = [
        r for r in _rows(tables, "raw_iam_policies") if r["policy_name"] == "AWSCodeCommitPowerUser"
    ]
    assert (landed["default_version_id"], landed["document"]) == ("v11", _compact(versions["v11"]))
    assert versions["v10"] != versions["v11"]
    assert quarantine.entries == []


# ---------------------------------------------------------------------------------------------
# permissions boundaries (IAMSpy test files)


def test_permissions_boundary_arns_from_iamspy_files(tmp_path):
    snap = tmp_path / "snap"
    _write(_gaad_path(snap, "123456789012"), ROLE_BOUNDARY.read_text())
    _write(_gaad_path(snap, "391638756970"), USER_BOUNDARY.read_text())
    tables, quarantine = _read(snap)
    assert {
        (r["account_id"], r["arn"], r["permissions_boundary_arn"])
        for r in _rows(tables, "raw_iam_roles")
    } == {
        (
            "123456789012",
            "arn:aws:iam::123456789012:role/name",
            "arn:aws:iam::aws:policy/InvokingAllowed",
        )
    }
    assert {
        (r["account_id"], r["arn"], r["permissions_boundary_arn"])
        for r in _rows(tables, "raw_iam_users")
    } == {
        (
            "391638756970",
            "arn:aws:iam::391638756970:user/PermissionBoundaryBlock",
            "arn:aws:iam::aws:policy/NotInvoking",
        )
    }
    # The user-boundary file has no Tags key at all: null, not "[]".
    assert [r["tags_json"] for r in _rows(tables, "raw_iam_users")] == [None]
    assert quarantine.entries == []


# ---------------------------------------------------------------------------------------------
# hand-written GAAD: URL-encoded documents and bad input


def test_url_encoded_documents_are_decoded(tmp_path):
    snap = tmp_path / "snap"
    user = _user(
        "alice",
        UserPolicyList=[{"PolicyName": "read", "PolicyDocument": quote(json.dumps(ALLOW_S3_READ))}],
    )
    role = _role("web", quote(json.dumps(TRUST_EC2)))
    policy = {
        "PolicyName": "admin",
        "PolicyId": "ANPAADMIN",
        "Arn": f"arn:aws:iam::{ACCOUNT}:policy/admin",
        "Path": "/",
        "DefaultVersionId": "v2",
        "AttachmentCount": 0,
        "PermissionsBoundaryUsageCount": 0,
        "CreateDate": "2024-01-02T03:04:05Z",
        "UpdateDate": "2024-02-03T04:05:06.123Z",
        "PolicyVersionList": [
            {
                "Document": quote(json.dumps(ALLOW_S3_READ)),
                "VersionId": "v1",
                "IsDefaultVersion": False,
            },
            {"Document": quote(json.dumps(ALLOW_ALL)), "VersionId": "v2", "IsDefaultVersion": True},
        ],
    }
    _write(snap / GAAD, _gaad(users=[user], roles=[role], policies=[policy]))
    tables, quarantine = _read(snap)
    assert _rows(tables, "raw_iam_inline_policies") == [
        {
            "account_id": ACCOUNT,
            "principal_arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
            "principal_type": "user",
            "policy_name": "read",
            "document": _compact(ALLOW_S3_READ),
        }
    ]
    assert [r["assume_role_policy_document"] for r in _rows(tables, "raw_iam_roles")] == [
        _compact(TRUST_EC2)
    ]
    assert _rows(tables, "raw_iam_policies") == [
        {
            "account_id": ACCOUNT,
            "policy_arn": f"arn:aws:iam::{ACCOUNT}:policy/admin",
            "policy_name": "admin",
            "policy_id": "ANPAADMIN",
            "path": "/",
            "is_aws_managed": False,
            "default_version_id": "v2",
            "attachment_count": 0,
            "permissions_boundary_usage_count": 0,
            "create_date": _utc(2024, 1, 2, 3, 4, 5),
            "update_date": _utc(2024, 2, 3, 4, 5, 6, 123000),
            "document": _compact(ALLOW_ALL),
        }
    ]
    assert quarantine.entries == []


def test_group_names_resolve_to_the_listed_arn_including_its_path(tmp_path):
    snap = tmp_path / "snap"
    group = {
        "Path": "/teams/",
        "GroupName": "devs",
        "GroupId": "AGPADEVS",
        "Arn": f"arn:aws:iam::{ACCOUNT}:group/teams/devs",
        "CreateDate": "2024-01-02 03:04:05+00:00",
        "GroupPolicyList": [{"PolicyName": "read", "PolicyDocument": ALLOW_S3_READ}],
        "AttachedManagedPolicies": [],
    }
    _write(snap / GAAD, _gaad(users=[_user("alice", GroupList=["devs"])], groups=[group]))
    tables, quarantine = _read(snap)
    assert _rows(tables, "raw_iam_groups") == [
        {
            "account_id": ACCOUNT,
            "group_name": "devs",
            "group_id": "AGPADEVS",
            "arn": f"arn:aws:iam::{ACCOUNT}:group/teams/devs",
            "path": "/teams/",
            "create_date": _utc(2024, 1, 2, 3, 4, 5),
        }
    ]
    assert _rows(tables, "raw_iam_group_memberships") == [
        {
            "account_id": ACCOUNT,
            "user_arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
            "group_arn": f"arn:aws:iam::{ACCOUNT}:group/teams/devs",
        }
    ]
    assert [
        (r["principal_type"], r["policy_name"]) for r in _rows(tables, "raw_iam_inline_policies")
    ] == [("group", "read")]
    assert quarantine.entries == []


def test_instance_profiles_are_one_row_per_profile_and_role(tmp_path):
    snap = tmp_path / "snap"

    def profile(name: str) -> dict[str, Any]:
        arn = f"arn:aws:iam::{ACCOUNT}:instance-profile/{name}"
        return {"InstanceProfileName": name, "InstanceProfileId": f"AIPA{name}", "Arn": arn}

    roles = [
        _role("web", TRUST_EC2, InstanceProfileList=[profile("web"), profile("web")]),
        _role("batch", TRUST_EC2, InstanceProfileList=[profile("batch"), profile("shared")]),
    ]
    _write(snap / GAAD, _gaad(roles=roles))
    tables, quarantine = _read(snap)
    assert {
        (r["instance_profile_name"], r["instance_profile_id"], r["arn"], r["role_arn"])
        for r in _rows(tables, "raw_iam_instance_profiles")
    } == {
        (name, f"AIPA{name}", f"arn:aws:iam::{ACCOUNT}:instance-profile/{name}", role_arn)
        for name, role_arn in [
            ("web", f"arn:aws:iam::{ACCOUNT}:role/web"),
            ("batch", f"arn:aws:iam::{ACCOUNT}:role/batch"),
            ("shared", f"arn:aws:iam::{ACCOUNT}:role/batch"),
        ]
    }
    assert tables["raw_iam_instance_profiles"].num_rows == 3
    assert quarantine.entries == []


def test_truncated_gaad_is_quarantined_and_the_other_account_lands(tmp_path):
    snap = tmp_path / "snap"
    _write(_gaad_path(snap, ACCOUNT), VULNERABLE.read_text()[:5000])
    _write(_gaad_path(snap, VULNERABLE_ACCOUNT), VULNERABLE.read_text())
    tables, quarantine = _read(snap)
    assert _where(quarantine) == {(GAAD, None, None)}
    assert quarantine.entries[0].reason.startswith("invalid JSON at line ")
    assert quarantine.entries[0].partition == "snap"
    assert {r["account_id"] for r in _rows(tables, "raw_iam_users")} == {VULNERABLE_ACCOUNT}
    assert tables["raw_iam_users"].num_rows == 41


def test_invalid_inline_policy_skips_only_that_policy(tmp_path):
    snap = tmp_path / "snap"
    user = _user(
        "alice",
        GroupList=["devs"],
        AttachedManagedPolicies=[
            {"PolicyName": "ReadOnlyAccess", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}
        ],
        UserPolicyList=[
            {"PolicyName": "good", "PolicyDocument": ALLOW_S3_READ},
            {"PolicyName": "broken", "PolicyDocument": '{"Version": "2012-10-17", "Statement": ['},
            {"PolicyName": "also-good", "PolicyDocument": ALLOW_ALL},
        ],
    )
    _write(snap / GAAD, _gaad(users=[user]))
    tables, quarantine = _read(snap)
    alice = f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert [r["arn"] for r in _rows(tables, "raw_iam_users")] == [alice]
    assert {
        (r["policy_name"], r["document"]) for r in _rows(tables, "raw_iam_inline_policies")
    } == {
        ("good", _compact(ALLOW_S3_READ)),
        ("also-good", _compact(ALLOW_ALL)),
    }
    assert _rows(tables, "raw_iam_policy_attachments") == [
        {
            "account_id": ACCOUNT,
            "principal_arn": alice,
            "principal_type": "user",
            "policy_arn": "arn:aws:iam::aws:policy/ReadOnlyAccess",
        }
    ]
    # "devs" is not in GroupDetailList: the ARN is built from the account and the name.
    assert _rows(tables, "raw_iam_group_memberships") == [
        {
            "account_id": ACCOUNT,
            "user_arn": alice,
            "group_arn": f"arn:aws:iam::{ACCOUNT}:group/devs",
        }
    ]
    assert _where(quarantine) == {(GAAD, "UserDetailList[0]", "UserPolicyList[1].PolicyDocument")}


def test_invalid_trust_policy_keeps_the_role_with_a_null_document(tmp_path):
    snap = tmp_path / "snap"
    role = _role(
        "web",
        "%7B%22Version%22%3A",  # URL-encoded and cut short
        RolePolicyList=[{"PolicyName": "read", "PolicyDocument": ALLOW_S3_READ}],
    )
    _write(snap / GAAD, _gaad(roles=[role]))
    tables, quarantine = _read(snap)
    assert [
        (r["arn"], r["assume_role_policy_document"]) for r in _rows(tables, "raw_iam_roles")
    ] == [(f"arn:aws:iam::{ACCOUNT}:role/web", None)]
    assert [r["policy_name"] for r in _rows(tables, "raw_iam_inline_policies")] == ["read"]
    assert _where(quarantine) == {(GAAD, "RoleDetailList[0]", "AssumeRolePolicyDocument")}


def test_managed_policy_without_usable_default_version_keeps_a_null_document(tmp_path):
    snap = tmp_path / "snap"

    def policy(name: str, versions: list[dict[str, Any]]) -> dict[str, Any]:
        arn = f"arn:aws:iam::{ACCOUNT}:policy/{name}"
        return {
            "PolicyName": name,
            "PolicyId": f"ANPA{name}",
            "Arn": arn,
            "PolicyVersionList": versions,
        }

    policies = [
        policy(
            "bad-default",
            [
                {"Document": ALLOW_ALL, "VersionId": "v1", "IsDefaultVersion": False},
                {"Document": "not json", "VersionId": "v2", "IsDefaultVersion": True},
            ],
        ),
        policy(
            "no-default", [{"Document": ALLOW_ALL, "VersionId": "v1", "IsDefaultVersion": False}]
        ),
        policy("fine", [{"Document": ALLOW_ALL, "VersionId": "v1", "IsDefaultVersion": True}]),
    ]
    _write(snap / GAAD, _gaad(policies=policies))
    tables, quarantine = _read(snap)
    assert {r["policy_name"]: r["document"] for r in _rows(tables, "raw_iam_policies")} == {
        "bad-default": None,
        "no-default": None,
        "fine": _compact(ALLOW_ALL),
    }
    assert _where(quarantine) == {
        (GAAD, "Policies[0]", "PolicyVersionList[1].Document"),
        (GAAD, "Policies[1]", "PolicyVersionList"),
    }


def test_record_missing_arn_is_quarantined_and_the_others_land(tmp_path):
    snap = tmp_path / "snap"
    no_arn = _user("bob", UserPolicyList=[{"PolicyName": "p", "PolicyDocument": ALLOW_ALL}])
    del no_arn["Arn"]
    _write(snap / GAAD, _gaad(users=[_user("alice"), no_arn, _user("carol")]))
    tables, quarantine = _read(snap)
    assert [r["user_name"] for r in _rows(tables, "raw_iam_users")] == ["alice", "carol"]
    assert _rows(tables, "raw_iam_inline_policies") == []
    assert _where(quarantine) == {(GAAD, "UserDetailList[1]", "Arn")}
    assert quarantine.entries[0].reason == "required key 'Arn' is missing"


def test_bad_sub_items_are_skipped_one_by_one(tmp_path):
    snap = tmp_path / "snap"
    user = _user(
        "alice",
        AttachedManagedPolicies=[
            {"PolicyName": "NoArn"},
            {"PolicyName": "Admin", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
        ],
        UserPolicyList=[{"PolicyName": "no-document"}],
    )
    _write(snap / GAAD, _gaad(users=[user, "not an object"]))
    tables, quarantine = _read(snap)
    assert [r["user_name"] for r in _rows(tables, "raw_iam_users")] == ["alice"]
    assert [r["policy_arn"] for r in _rows(tables, "raw_iam_policy_attachments")] == [
        "arn:aws:iam::aws:policy/AdministratorAccess"
    ]
    assert _where(quarantine) == {
        (GAAD, "UserDetailList[0]", "AttachedManagedPolicies[0].PolicyArn"),
        (GAAD, "UserDetailList[0]", "UserPolicyList[0].PolicyDocument"),
        (GAAD, "UserDetailList[1]", None),
    }


def test_unparseable_date_lands_null_and_is_quarantined(tmp_path):
    snap = tmp_path / "snap"
    role = _role(
        "web",
        TRUST_EC2,
        CreateDate="last tuesday",
        RoleLastUsed={"LastUsedDate": "2024-13-01T00:00:00Z"},
    )
    _write(snap / GAAD, _gaad(users=[_user("alice", CreateDate="yesterday")], roles=[role]))
    tables, quarantine = _read(snap)
    assert [(r["user_name"], r["create_date"]) for r in _rows(tables, "raw_iam_users")] == [
        ("alice", None)
    ]
    assert [
        (r["role_name"], r["create_date"], r["role_last_used_at"])
        for r in _rows(tables, "raw_iam_roles")
    ] == [("web", None, None)]
    assert _where(quarantine) == {
        (GAAD, "UserDetailList[0]", "CreateDate"),
        (GAAD, "RoleDetailList[0]", "CreateDate"),
        (GAAD, "RoleDetailList[0]", "RoleLastUsed.LastUsedDate"),
    }


def test_wrongly_typed_value_quarantines_the_record_instead_of_failing_the_table(tmp_path):
    snap = tmp_path / "snap"
    _write(
        snap / GAAD,
        _gaad(roles=[_role("web", TRUST_EC2, MaxSessionDuration="3600"), _role("db", TRUST_EC2)]),
    )
    tables, quarantine = _read(snap)
    assert [r["role_name"] for r in _rows(tables, "raw_iam_roles")] == ["db"]
    assert _where(quarantine) == {(GAAD, "RoleDetailList[0]", None)}
    assert quarantine.entries[0].reason == "column max_session_duration: expected int64, got str"


# ---------------------------------------------------------------------------------------------
# credential report, EC2, Lambda, S3 (hand-written CLI outputs)

CREDENTIAL_REPORT = """\
user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated
<root_account>,arn:aws:iam::111111111111:root,2020-01-15T09:30:00+00:00,not_supported,2026-11-10T08:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
alice,arn:aws:iam::111111111111:user/alice,2024-02-01T12:00:00+00:00,true,no_information,2024-02-01T12:05:00+00:00,N/A,false,true,2024-02-01T12:10:00+00:00,2026-11-19T22:15:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
"""

_NULL_KEY_2 = {
    "access_key_2_active": False,
    "access_key_2_last_rotated": None,
    "access_key_2_last_used_date": None,
    "access_key_2_last_used_region": None,
    "access_key_2_last_used_service": None,
}


def test_credential_report_nulls_and_bools(tmp_path):
    snap = tmp_path / "snap"
    _write(snap / ACCOUNT / "iam" / "credential-report.csv", CREDENTIAL_REPORT)
    tables, quarantine = _read(snap)
    assert _rows(tables, "raw_credential_report") == [
        {
            "account_id": ACCOUNT,
            "user": "<root_account>",
            "arn": "arn:aws:iam::111111111111:root",
            "user_creation_time": _utc(2020, 1, 15, 9, 30),
            "password_enabled": None,
            "password_last_used": _utc(2026, 11, 10, 8, 0),
            "password_last_changed": None,
            "password_next_rotation": None,
            "mfa_active": True,
            "access_key_1_active": False,
            "access_key_1_last_rotated": None,
            "access_key_1_last_used_date": None,
            "access_key_1_last_used_region": None,
            "access_key_1_last_used_service": None,
            **_NULL_KEY_2,
        },
        {
            "account_id": ACCOUNT,
            "user": "alice",
            "arn": "arn:aws:iam::111111111111:user/alice",
            "user_creation_time": _utc(2024, 2, 1, 12, 0),
            "password_enabled": True,
            "password_last_used": None,
            "password_last_changed": _utc(2024, 2, 1, 12, 5),
            "password_next_rotation": None,
            "mfa_active": False,
            "access_key_1_active": True,
            "access_key_1_last_rotated": _utc(2024, 2, 1, 12, 10),
            "access_key_1_last_used_date": _utc(2026, 11, 19, 22, 15),
            "access_key_1_last_used_region": "us-east-1",
            "access_key_1_last_used_service": "s3",
            **_NULL_KEY_2,
        },
    ]
    # Without a GAAD file the account lands no IAM principals, and that is not an error.
    assert tables["raw_iam_users"].num_rows == 0
    assert quarantine.entries == []


def test_credential_report_bad_cells_and_rows(tmp_path):
    snap = tmp_path / "snap"
    header = "user,arn,user_creation_time,password_enabled,mfa_active\n"
    lines = "bob,arn:aws:iam::111111111111:user/bob,soon,yes,false\ncarol\n"
    _write(snap / ACCOUNT / "iam" / "credential-report.csv", header + lines)
    _write(snap / "222222222222" / "iam" / "credential-report.csv", "not,a,report\n1,2,3\n")
    tables, quarantine = _read(snap)
    assert [
        (r["user"], r["user_creation_time"], r["password_enabled"], r["mfa_active"])
        for r in _rows(tables, "raw_credential_report")
    ] == [("bob", None, None, False)]
    report = f"{ACCOUNT}/iam/credential-report.csv"
    assert _where(quarantine) == {
        (report, "line 2", "user_creation_time"),
        (report, "line 2", "password_enabled"),
        (report, "line 3", None),
        ("222222222222/iam/credential-report.csv", None, None),
    }


def test_ec2_instances(tmp_path):
    snap = tmp_path / "snap"
    web = {
        "InstanceId": "i-0123456789abcdef0",
        "InstanceType": "t3.micro",
        "ImageId": "ami-0abcdef1234567890",
        "LaunchTime": "2026-11-01T10:00:00+00:00",
        "State": {"Code": 16, "Name": "running"},
        "IamInstanceProfile": {
            "Arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/web",
            "Id": "AIPAWEB",
        },
        "PrivateIpAddress": "10.0.0.12",
        "PublicIpAddress": "203.0.113.7",
        "Tags": [{"Key": "team", "Value": "web"}, {"Key": "Name", "Value": "web-1"}],
    }
    bare = {
        "InstanceId": "i-0fedcba9876543210",
        "State": {"Name": "stopped"},
        "PrivateIpAddress": "",
    }
    _write(
        snap / ACCOUNT / "eu-west-1" / "ec2" / "describe-instances.json",
        {"Reservations": [{"Instances": [web]}, {"Instances": [bare, {"ImageId": "ami-x"}]}]},
    )
    _write(
        snap / ACCOUNT / "cn-north-1" / "ec2" / "describe-instances.json",
        {"Reservations": [{"Instances": [{"InstanceId": "i-0c0c0c0c0c0c0c0c0"}]}]},
    )
    tables, quarantine = _read(snap)
    nulls = dict.fromkeys(
        [
            "state",
            "instance_type",
            "image_id",
            "launch_time",
            "instance_profile_arn",
            "private_ip_address",
            "public_ip_address",
            "name",
            "tags_json",
        ]
    )
    assert _rows(tables, "raw_ec2_instances") == [
        {
            **nulls,
            "account_id": ACCOUNT,
            "region": "cn-north-1",
            "instance_id": "i-0c0c0c0c0c0c0c0c0",
            "arn": f"arn:aws-cn:ec2:cn-north-1:{ACCOUNT}:instance/i-0c0c0c0c0c0c0c0c0",
        },
        {
            "account_id": ACCOUNT,
            "region": "eu-west-1",
            "instance_id": "i-0123456789abcdef0",
            "arn": f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-0123456789abcdef0",
            "state": "running",
            "instance_type": "t3.micro",
            "image_id": "ami-0abcdef1234567890",
            "launch_time": _utc(2026, 11, 1, 10, 0),
            "instance_profile_arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/web",
            "private_ip_address": "10.0.0.12",
            "public_ip_address": "203.0.113.7",
            "name": "web-1",
            "tags_json": _compact(web["Tags"]),
        },
        {
            **nulls,
            "account_id": ACCOUNT,
            "region": "eu-west-1",
            "instance_id": "i-0fedcba9876543210",
            "arn": f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-0fedcba9876543210",
            "state": "stopped",
        },
    ]
    assert _where(quarantine) == {
        (
            f"{ACCOUNT}/eu-west-1/ec2/describe-instances.json",
            "Reservations[1].Instances[1]",
            "InstanceId",
        )
    }


def test_lambda_functions(tmp_path):
    snap = tmp_path / "snap"
    functions = [
        {
            "FunctionName": "resize",
            "FunctionArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:resize",
            "Runtime": "python3.12",
            "Role": f"arn:aws:iam::{ACCOUNT}:role/resize-role",
            "LastModified": "2026-11-01T10:00:00.000+0000",
        },
        {
            "FunctionName": "image-fn",
            "FunctionArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:image-fn",
            "Role": f"arn:aws:iam::{ACCOUNT}:role/image-role",
            "PackageType": "Image",
            "LastModified": "2026-11-02T11:30:15.250+0000",
        },
    ]
    _write(
        snap / ACCOUNT / "us-east-1" / "lambda" / "list-functions.json", {"Functions": functions}
    )
    tables, quarantine = _read(snap)
    assert _rows(tables, "raw_lambda_functions") == [
        {
            "account_id": ACCOUNT,
            "region": "us-east-1",
            "function_name": "resize",
            "function_arn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:resize",
            "role_arn": f"arn:aws:iam::{ACCOUNT}:role/resize-role",
            "runtime": "python3.12",
            "last_modified": _utc(2026, 11, 1, 10, 0),
        },
        {
            "account_id": ACCOUNT,
            "region": "us-east-1",
            "function_name": "image-fn",
            "function_arn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:image-fn",
            "role_arn": f"arn:aws:iam::{ACCOUNT}:role/image-role",
            "runtime": None,
            "last_modified": _utc(2026, 11, 2, 11, 30, 15, 250000),
        },
    ]
    assert quarantine.entries == []


def test_s3_bucket_policies(tmp_path):
    snap = tmp_path / "snap"
    folder = snap / ACCOUNT / "s3" / "bucket-policies"
    _write(folder / "logs.example.com.json", ALLOW_S3_READ)
    # `aws s3api get-bucket-policy` output saved as is: {"Policy": "<policy as JSON text>"}.
    _write(folder / "wrapped.json", {"Policy": json.dumps(ALLOW_ALL)})
    _write(folder / "broken.json", {"Policy": "{"})
    _write(folder / "README.txt", "not a bucket policy")
    tables, quarantine = _read(snap)
    assert _rows(tables, "raw_s3_bucket_policies") == [
        {"account_id": ACCOUNT, "bucket": "logs.example.com", "document": _compact(ALLOW_S3_READ)},
        {"account_id": ACCOUNT, "bucket": "wrapped", "document": _compact(ALLOW_ALL)},
    ]
    assert _where(quarantine) == {(f"{ACCOUNT}/s3/bucket-policies/broken.json", None, "Policy")}


def _resource_policy(
    region: str, service: str, resource_type: str, name: str, arn: str, document: Any, file: str
) -> dict[str, Any]:
    return {
        "account_id": ACCOUNT,
        "region": region,
        "service": service,
        "resource_type": resource_type,
        "resource_name": name,
        "resource_arn": arn,
        "document": _compact(document),
        "source_file": f"{ACCOUNT}/{region}/{file}",
    }


def test_regional_resource_policies_land_in_one_table(tmp_path):
    account = tmp_path / "snap" / ACCOUNT
    east, west = account / "us-east-1", account / "eu-west-1"
    # As the collector writes them: the policy text (`--query ... --output text`).
    _write(east / "kms" / "key-policies" / "1234abcd-12ab.json", json.dumps(ALLOW_ALL))
    _write(east / "lambda" / "function-policies" / "resize.json", json.dumps(ALLOW_S3_READ))
    _write(west / "sqs" / "queue-policies" / "jobs.fifo.json", ALLOW_ALL)
    _write(west / "sns" / "topic-policies" / "alerts.json", ALLOW_S3_READ)
    _write(west / "secretsmanager" / "secret-policies" / "prod%2Fdb.json", ALLOW_ALL)
    # Whole CLI outputs saved as is are accepted too; a secret's output carries its full ARN.
    secret_arn = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:wrapped-AbC123"
    _write(
        west / "secretsmanager" / "secret-policies" / "wrapped.json",
        {"ARN": secret_arn, "Name": "wrapped", "ResourcePolicy": json.dumps(ALLOW_ALL)},
    )
    _write(
        west / "sqs" / "queue-policies" / "attrs.json",
        {"Attributes": {"Policy": json.dumps(ALLOW_S3_READ)}},
    )
    # A GovCloud region gets its partition in the ARN.
    gov = account / "us-gov-west-1"
    _write(gov / "kms" / "key-policies" / "k.json", {"Policy": json.dumps(ALLOW_ALL)})
    tables, quarantine = _read(tmp_path / "snap")
    kms, fn = "kms/key-policies", "lambda/function-policies"
    sqs, sns, sm = "sqs/queue-policies", "sns/topic-policies", "secretsmanager/secret-policies"
    assert _rows(tables, "raw_resource_policies") == [
        _resource_policy(
            "eu-west-1",
            "secretsmanager",
            "secretsmanager_secret",
            "prod/db",
            f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:prod/db",
            ALLOW_ALL,
            f"{sm}/prod%2Fdb.json",
        ),
        _resource_policy(
            "eu-west-1",
            "secretsmanager",
            "secretsmanager_secret",
            "wrapped",
            secret_arn,
            ALLOW_ALL,
            f"{sm}/wrapped.json",
        ),
        _resource_policy(
            "eu-west-1",
            "sns",
            "sns_topic",
            "alerts",
            f"arn:aws:sns:eu-west-1:{ACCOUNT}:alerts",
            ALLOW_S3_READ,
            f"{sns}/alerts.json",
        ),
        _resource_policy(
            "eu-west-1",
            "sqs",
            "sqs_queue",
            "attrs",
            f"arn:aws:sqs:eu-west-1:{ACCOUNT}:attrs",
            ALLOW_S3_READ,
            f"{sqs}/attrs.json",
        ),
        _resource_policy(
            "eu-west-1",
            "sqs",
            "sqs_queue",
            "jobs.fifo",
            f"arn:aws:sqs:eu-west-1:{ACCOUNT}:jobs.fifo",
            ALLOW_ALL,
            f"{sqs}/jobs.fifo.json",
        ),
        _resource_policy(
            "us-east-1",
            "kms",
            "kms_key",
            "1234abcd-12ab",
            f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab",
            ALLOW_ALL,
            f"{kms}/1234abcd-12ab.json",
        ),
        _resource_policy(
            "us-east-1",
            "lambda",
            "lambda_function",
            "resize",
            f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:resize",
            ALLOW_S3_READ,
            f"{fn}/resize.json",
        ),
        _resource_policy(
            "us-gov-west-1",
            "kms",
            "kms_key",
            "k",
            f"arn:aws-us-gov:kms:us-gov-west-1:{ACCOUNT}:key/k",
            ALLOW_ALL,
            f"{kms}/k.json",
        ),
    ]
    assert quarantine.entries == []


def test_bad_resource_policies_are_quarantined_one_by_one(tmp_path):
    region = tmp_path / "snap" / ACCOUNT / "us-east-1"
    _write(region / "sqs" / "queue-policies" / "good.json", json.dumps(ALLOW_ALL))
    _write(region / "sqs" / "queue-policies" / "truncated.json", '{"Statement": [')
    _write(region / "sns" / "topic-policies" / "list.json", "[]")
    _write(region / "kms" / "key-policies" / "encoded.json", {"Policy": "{not json"})
    _write(region / "lambda" / "function-policies" / "empty.json", {"Version": "2012-10-17"})
    _write(region / "secretsmanager" / "secret-policies" / "null.json", {"ResourcePolicy": None})
    _write(region / "sqs" / "queue-policies" / "notes.txt", "ignored: not a .json file")
    tables, quarantine = _read(tmp_path / "snap")
    assert [r["resource_name"] for r in _rows(tables, "raw_resource_policies")] == ["good"]
    where = f"{ACCOUNT}/us-east-1"
    assert {(e.file, e.record, e.field, e.reason) for e in quarantine.entries} == {
        (
            f"{where}/sqs/queue-policies/truncated.json",
            None,
            None,
            "invalid JSON at line 1 col 16: Expecting value",
        ),
        (
            f"{where}/sns/topic-policies/list.json",
            None,
            None,
            "policy document is not a JSON object (got list)",
        ),
        (
            f"{where}/kms/key-policies/encoded.json",
            None,
            "Policy",
            "policy document is not valid JSON (Expecting property name enclosed in double "
            "quotes at char 1)",
        ),
        (
            f"{where}/lambda/function-policies/empty.json",
            None,
            None,
            "policy document has no Statement",
        ),
        (
            f"{where}/secretsmanager/secret-policies/null.json",
            None,
            "ResourcePolicy",
            "policy document is missing",
        ),
    }


# ---------------------------------------------------------------------------------------------
# Organizations

ROOT_ID, OU_ID, MEMBER = "r-ab12", "ou-ab12-11111111", "222222222222"
ORG_ARN = "arn:aws:organizations::111111111111"
FULL_AWS_ACCESS_ARN = "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess"
SCP_DENY_LEAVE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}],
}


def _write_organization(snap: Path) -> None:
    org = snap / "organization"
    _write(
        org / "describe-organization.json",
        {
            "Organization": {
                "Id": "o-exampleorgid",
                "Arn": f"{ORG_ARN}:organization/o-exampleorgid",
                "FeatureSet": "ALL",
                "MasterAccountArn": f"{ORG_ARN}:account/o-exampleorgid/111111111111",
                "MasterAccountId": "111111111111",
                "MasterAccountEmail": "management@example.com",
            }
        },
    )
    _write(
        org / "list-accounts.json",
        {
            "Accounts": [
                {
                    "Id": "111111111111",
                    "Arn": f"{ORG_ARN}:account/o-exampleorgid/111111111111",
                    "Email": "management@example.com",
                    "Name": "management",
                    "Status": "ACTIVE",
                    "JoinedMethod": "INVITED",
                    "JoinedTimestamp": "2020-01-15T09:30:00.123000+00:00",
                },
                {
                    "Id": MEMBER,
                    "Arn": f"{ORG_ARN}:account/o-exampleorgid/{MEMBER}",
                    "Email": "workloads@example.com",
                    "Name": "workloads",
                    "State": "SUSPENDED",
                    "JoinedMethod": "CREATED",
                    "JoinedTimestamp": "2021-06-01T00:00:00Z",
                },
            ]
        },
    )
    _write(
        org / "list-roots.json",
        {
            "Roots": [
                {"Id": ROOT_ID, "Arn": f"{ORG_ARN}:root/o-exampleorgid/{ROOT_ID}", "Name": "Root"}
            ]
        },
    )
    _write(
        org / "parents" / f"{MEMBER}.json",
        {"Parents": [{"Id": OU_ID, "Type": "ORGANIZATIONAL_UNIT"}]},
    )
    _write(org / "parents" / f"{OU_ID}.json", {"Parents": [{"Id": ROOT_ID, "Type": "ROOT"}]})
    _write(
        org / "policies" / "p-FullAWSAccess.json",
        {
            "Policy": {
                "PolicySummary": {
                    "Id": "p-FullAWSAccess",
                    "Arn": FULL_AWS_ACCESS_ARN,
                    "Name": "FullAWSAccess",
                    "Description": "Allows access to every operation",
                    "Type": "SERVICE_CONTROL_POLICY",
                    "AwsManaged": True,
                },
                "Content": json.dumps(ALLOW_ALL),
            }
        },
    )
    _write(
        org / "policies" / "p-denyleave1.json",
        {
            "Policy": {
                "PolicySummary": {
                    "Id": "p-denyleave1",
                    "Arn": f"{ORG_ARN}:policy/o-exampleorgid/service_control_policy/p-denyleave1",
                    "Name": "deny-leave",
                    "Type": "SERVICE_CONTROL_POLICY",
                    "AwsManaged": False,
                },
                "Content": json.dumps(SCP_DENY_LEAVE),
            }
        },
    )
    _write(
        org / "targets" / "p-denyleave1.json",
        {
            "Targets": [
                {
                    "TargetId": OU_ID,
                    "Arn": f"{ORG_ARN}:ou/o-exampleorgid/{OU_ID}",
                    "Name": "workloads-ou",
                    "Type": "ORGANIZATIONAL_UNIT",
                }
            ]
        },
    )


def test_organization_tables(tmp_path):
    snap = tmp_path / "snap"
    _write_organization(snap)
    tables, quarantine = _read(snap)
    assert _rows(tables, "raw_org_organization") == [
        {
            "organization_id": "o-exampleorgid",
            "arn": f"{ORG_ARN}:organization/o-exampleorgid",
            "management_account_id": "111111111111",
            "feature_set": "ALL",
        }
    ]
    assert _rows(tables, "raw_org_accounts") == [
        {
            "account_id": "111111111111",
            "arn": f"{ORG_ARN}:account/o-exampleorgid/111111111111",
            "name": "management",
            "email": "management@example.com",
            "status": "ACTIVE",
            "joined_at": _utc(2020, 1, 15, 9, 30, 0, 123000),
        },
        {
            "account_id": MEMBER,
            "arn": f"{ORG_ARN}:account/o-exampleorgid/{MEMBER}",
            "name": "workloads",
            "email": "workloads@example.com",
            "status": "SUSPENDED",
            "joined_at": _utc(2021, 6, 1),
        },
    ]
    assert _rows(tables, "raw_org_roots") == [
        {"root_id": ROOT_ID, "arn": f"{ORG_ARN}:root/o-exampleorgid/{ROOT_ID}", "name": "Root"}
    ]
    assert _rows(tables, "raw_org_parents") == [
        {"child_id": MEMBER, "parent_id": OU_ID, "parent_type": "ORGANIZATIONAL_UNIT"},
        {"child_id": OU_ID, "parent_id": ROOT_ID, "parent_type": "ROOT"},
    ]
    assert _rows(tables, "raw_org_policies") == [
        {
            "policy_id": "p-FullAWSAccess",
            "arn": FULL_AWS_ACCESS_ARN,
            "name": "FullAWSAccess",
            "type": "SERVICE_CONTROL_POLICY",
            "aws_managed": True,
            "document": _compact(ALLOW_ALL),
        },
        {
            "policy_id": "p-denyleave1",
            "arn": f"{ORG_ARN}:policy/o-exampleorgid/service_control_policy/p-denyleave1",
            "name": "deny-leave",
            "type": "SERVICE_CONTROL_POLICY",
            "aws_managed": False,
            "document": _compact(SCP_DENY_LEAVE),
        },
    ]
    assert _rows(tables, "raw_org_policy_targets") == [
        {
            "policy_id": "p-denyleave1",
            "target_id": OU_ID,
            "target_type": "ORGANIZATIONAL_UNIT",
            "target_name": "workloads-ou",
            "target_arn": f"{ORG_ARN}:ou/o-exampleorgid/{OU_ID}",
        }
    ]
    assert quarantine.entries == []


def test_org_policy_with_invalid_content_keeps_its_row_with_a_null_document(tmp_path):
    snap = tmp_path / "snap"
    summary = {
        "Id": "p-broken01",
        "Arn": f"{ORG_ARN}:policy/o-exampleorgid/resource_control_policy/p-broken01",
        "Name": "broken",
        "Type": "RESOURCE_CONTROL_POLICY",
    }
    _write(
        snap / "organization" / "policies" / "p-broken01.json",
        {"Policy": {"PolicySummary": summary, "Content": '{"Version": '}},
    )
    _write(snap / "organization" / "list-roots.json", '{"Roots": [')
    tables, quarantine = _read(snap)
    assert _rows(tables, "raw_org_policies") == [
        {
            "policy_id": "p-broken01",
            "arn": summary["Arn"],
            "name": "broken",
            "type": "RESOURCE_CONTROL_POLICY",
            "aws_managed": None,
            "document": None,
        }
    ]
    assert _where(quarantine) == {
        ("organization/policies/p-broken01.json", "Policy", "Content"),
        ("organization/list-roots.json", None, None),
    }


# ---------------------------------------------------------------------------------------------
# the table contract


def test_every_table_is_returned_with_its_schema_even_when_empty(tmp_path):
    snap = tmp_path / "snap"
    snap.mkdir()
    tables, quarantine = _read(snap)
    assert list(tables) == list(SNAPSHOT_SCHEMAS)
    assert {name: (t.schema, t.num_rows) for name, t in tables.items()} == {
        name: (schema, 0) for name, schema in SNAPSHOT_SCHEMAS.items()
    }
    assert quarantine.entries == []


def test_full_snapshot_tables_have_the_declared_schemas(tmp_path):
    snap = tmp_path / "snap"
    _write(_gaad_path(snap, VULNERABLE_ACCOUNT), VULNERABLE.read_text())
    _write(snap / ACCOUNT / "iam" / "credential-report.csv", CREDENTIAL_REPORT)
    _write(
        snap / ACCOUNT / "us-east-1" / "ec2" / "describe-instances.json",
        {
            "Reservations": [
                {"Instances": [{"InstanceId": "i-1", "LaunchTime": "2026-11-01T10:00:00Z"}]}
            ]
        },
    )
    _write(
        snap / ACCOUNT / "us-east-1" / "lambda" / "list-functions.json",
        {
            "Functions": [
                {"FunctionName": "f", "FunctionArn": "arn:aws:lambda:us-east-1:1:function:f"}
            ]
        },
    )
    _write(snap / ACCOUNT / "s3" / "bucket-policies" / "b.json", ALLOW_S3_READ)
    _write(snap / ACCOUNT / "us-east-1" / "kms" / "key-policies" / "k.json", ALLOW_ALL)
    _write_organization(snap)
    tables, quarantine = _read(snap)
    assert {name: t.schema for name, t in tables.items()} == SNAPSHOT_SCHEMAS
    assert {name for name, t in tables.items() if t.num_rows == 0} == set()
    assert quarantine.entries == []


def test_only_account_folders_and_known_files_are_read(tmp_path):
    snap = tmp_path / "snap"
    gaad = _gaad(users=[_user("alice")])
    _write(snap / "not-an-account" / "iam" / "get-account-authorization-details.json", gaad)
    _write(snap / "1111111111" / "iam" / "get-account-authorization-details.json", gaad)
    _write(snap / ACCOUNT / "iam" / "get-account-authorization-details.json.bak", "{")
    _write(snap / ACCOUNT / "iam" / "list-users.json", "{")
    _write(snap / ACCOUNT / "us-east-1" / "ec2" / "describe-vpcs.json", "{")
    tables, quarantine = _read(snap)
    assert {name for name, t in tables.items() if t.num_rows} == set()
    assert quarantine.entries == []


def test_missing_snapshot_folder_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        _read(tmp_path / "nope")


# ---------------------------------------------------------------------------------------------
# value parsers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-03-09T10:41:45Z", _utc(2023, 3, 9, 10, 41, 45)),
        ("2023-03-09T10:41:45+00:00", _utc(2023, 3, 9, 10, 41, 45)),
        ("2023-03-09 10:41:45+00:00", _utc(2023, 3, 9, 10, 41, 45)),
        ("2023-03-09T10:41:45.5Z", _utc(2023, 3, 9, 10, 41, 45, 500000)),
        ("2023-03-09 10:41:45.123456+00:00", _utc(2023, 3, 9, 10, 41, 45, 123456)),
        ("2026-11-01T10:00:00.000+0000", _utc(2026, 11, 1, 10, 0)),
        ("2023-03-09T12:41:45+02:00", _utc(2023, 3, 9, 10, 41, 45)),
        ("2023-03-09T10:41:45", _utc(2023, 3, 9, 10, 41, 45)),
    ],
)
def test_parse_timestamp_accepts_aws_forms(text, expected):
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize("bad", ["yesterday", "2023-02-30T00:00:00Z", 1678358505, None])
def test_parse_timestamp_rejects_garbage(bad):
    with pytest.raises(ValueError):
        parse_timestamp(bad)


@pytest.mark.parametrize(
    "value",
    [
        ALLOW_ALL,
        json.dumps(ALLOW_ALL),
        quote(json.dumps(ALLOW_ALL)),
        quote(json.dumps(ALLOW_ALL), safe=""),
    ],
)
def test_parse_policy_document_accepts_objects_json_and_url_encoded_text(value):
    assert parse_policy_document(value) == ALLOW_ALL


@pytest.mark.parametrize("bad", ["{", "%7B%22Version", "[1, 2]", ["a"], 42])
def test_parse_policy_document_rejects_non_objects(bad):
    with pytest.raises(ValueError):
        parse_policy_document(bad)
