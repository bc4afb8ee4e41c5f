"""Snapshot reader: hand-written get-account-authorization-details files -> the raw_iam_* tables;
URL-encoded documents, names resolved to ARNs, and bad input quarantined record by record."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from tests.unit.land.snapshot_files import (
    ACCOUNT,
    ALLOW_ALL,
    ALLOW_S3_READ,
    GAAD,
    TRUST_EC2,
    VULNERABLE,
    VULNERABLE_ACCOUNT,
    compact,
    gaad_doc,
    gaad_path,
    gaad_role,
    gaad_user,
    land,
    quarantined,
    rows,
    utc,
    write,
)


def test_url_encoded_documents_are_decoded(snap):
    user = gaad_user(
        "alice",
        UserPolicyList=[{"PolicyName": "read", "PolicyDocument": quote(json.dumps(ALLOW_S3_READ))}],
    )
    role = gaad_role("web", quote(json.dumps(TRUST_EC2)))
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
    write(snap / GAAD, gaad_doc(users=[user], roles=[role], policies=[policy]))
    tables, quarantine = land(snap)
    assert rows(tables, "raw_iam_inline_policies") == [
        {
            "account_id": ACCOUNT,
            "principal_arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
            "principal_type": "user",
            "policy_name": "read",
            "document": compact(ALLOW_S3_READ),
        }
    ]
    assert [r["assume_role_policy_document"] for r in rows(tables, "raw_iam_roles")] == [
        compact(TRUST_EC2)
    ]
    assert rows(tables, "raw_iam_policies") == [
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
            "create_date": utc(2024, 1, 2, 3, 4, 5),
            "update_date": utc(2024, 2, 3, 4, 5, 6, 123000),
            "document": compact(ALLOW_ALL),
        }
    ]
    assert quarantine.entries == []


def test_group_names_resolve_to_the_listed_arn_including_its_path(snap):
    group = {
        "Path": "/teams/",
        "GroupName": "devs",
        "GroupId": "AGPADEVS",
        "Arn": f"arn:aws:iam::{ACCOUNT}:group/teams/devs",
        "CreateDate": "2024-01-02 03:04:05+00:00",
        "GroupPolicyList": [{"PolicyName": "read", "PolicyDocument": ALLOW_S3_READ}],
        "AttachedManagedPolicies": [],
    }
    write(snap / GAAD, gaad_doc(users=[gaad_user("alice", GroupList=["devs"])], groups=[group]))
    tables, quarantine = land(snap)
    assert rows(tables, "raw_iam_groups") == [
        {
            "account_id": ACCOUNT,
            "group_name": "devs",
            "group_id": "AGPADEVS",
            "arn": f"arn:aws:iam::{ACCOUNT}:group/teams/devs",
            "path": "/teams/",
            "create_date": utc(2024, 1, 2, 3, 4, 5),
        }
    ]
    assert rows(tables, "raw_iam_group_memberships") == [
        {
            "account_id": ACCOUNT,
            "user_arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
            "group_arn": f"arn:aws:iam::{ACCOUNT}:group/teams/devs",
        }
    ]
    assert [
        (r["principal_type"], r["policy_name"]) for r in rows(tables, "raw_iam_inline_policies")
    ] == [("group", "read")]
    assert quarantine.entries == []


def test_instance_profiles_are_one_row_per_profile_and_role(snap):

    def profile(name: str) -> dict[str, Any]:
        arn = f"arn:aws:iam::{ACCOUNT}:instance-profile/{name}"
        return {"InstanceProfileName": name, "InstanceProfileId": f"AIPA{name}", "Arn": arn}

    roles = [
        gaad_role("web", TRUST_EC2, InstanceProfileList=[profile("web"), profile("web")]),
        gaad_role("batch", TRUST_EC2, InstanceProfileList=[profile("batch"), profile("shared")]),
    ]
    write(snap / GAAD, gaad_doc(roles=roles))
    tables, quarantine = land(snap)
    assert {
        (r["instance_profile_name"], r["instance_profile_id"], r["arn"], r["role_arn"])
        for r in rows(tables, "raw_iam_instance_profiles")
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


# ---------------------------------------------------------------------------------------------
# bad input


def test_truncated_gaad_is_quarantined_and_the_other_account_lands(snap):
    write(gaad_path(snap, ACCOUNT), VULNERABLE.read_text()[:5000])
    write(gaad_path(snap, VULNERABLE_ACCOUNT), VULNERABLE.read_text())
    tables, quarantine = land(snap)
    assert quarantined(quarantine) == {(GAAD, None, None)}
    assert quarantine.entries[0].reason.startswith("invalid JSON at line ")
    assert quarantine.entries[0].partition == "snap"
    assert {r["account_id"] for r in rows(tables, "raw_iam_users")} == {VULNERABLE_ACCOUNT}
    assert tables["raw_iam_users"].num_rows == 41


def test_invalid_inline_policy_skips_only_that_policy(snap):
    user = gaad_user(
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
    write(snap / GAAD, gaad_doc(users=[user]))
    tables, quarantine = land(snap)
    alice = f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert [r["arn"] for r in rows(tables, "raw_iam_users")] == [alice]
    assert {(r["policy_name"], r["document"]) for r in rows(tables, "raw_iam_inline_policies")} == {
        ("good", compact(ALLOW_S3_READ)),
        ("also-good", compact(ALLOW_ALL)),
    }
    assert rows(tables, "raw_iam_policy_attachments") == [
        {
            "account_id": ACCOUNT,
            "principal_arn": alice,
            "principal_type": "user",
            "policy_arn": "arn:aws:iam::aws:policy/ReadOnlyAccess",
        }
    ]
    # "devs" is not in GroupDetailList: the ARN is built from the account and the name.
    assert rows(tables, "raw_iam_group_memberships") == [
        {
            "account_id": ACCOUNT,
            "user_arn": alice,
            "group_arn": f"arn:aws:iam::{ACCOUNT}:group/devs",
        }
    ]
    assert quarantined(quarantine) == {
        (GAAD, "UserDetailList[0]", "UserPolicyList[1].PolicyDocument")
    }


def test_invalid_trust_policy_keeps_the_role_with_a_null_document(snap):
    role = gaad_role(
        "web",
        "%7B%22Version%22%3A",  # URL-encoded and cut short
        RolePolicyList=[{"PolicyName": "read", "PolicyDocument": ALLOW_S3_READ}],
    )
    write(snap / GAAD, gaad_doc(roles=[role]))
    tables, quarantine = land(snap)
    assert [
        (r["arn"], r["assume_role_policy_document"]) for r in rows(tables, "raw_iam_roles")
    ] == [(f"arn:aws:iam::{ACCOUNT}:role/web", None)]
    assert [r["policy_name"] for r in rows(tables, "raw_iam_inline_policies")] == ["read"]
    assert quarantined(quarantine) == {(GAAD, "RoleDetailList[0]", "AssumeRolePolicyDocument")}


def test_managed_policy_without_usable_default_version_keeps_a_null_document(snap):

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
    write(snap / GAAD, gaad_doc(policies=policies))
    tables, quarantine = land(snap)
    assert {r["policy_name"]: r["document"] for r in rows(tables, "raw_iam_policies")} == {
        "bad-default": None,
        "no-default": None,
        "fine": compact(ALLOW_ALL),
    }
    assert quarantined(quarantine) == {
        (GAAD, "Policies[0]", "PolicyVersionList[1].Document"),
        (GAAD, "Policies[1]", "PolicyVersionList"),
    }


def test_record_missing_arn_is_quarantined_and_the_others_land(snap):
    no_arn = gaad_user("bob", UserPolicyList=[{"PolicyName": "p", "PolicyDocument": ALLOW_ALL}])
    del no_arn["Arn"]
    write(snap / GAAD, gaad_doc(users=[gaad_user("alice"), no_arn, gaad_user("carol")]))
    tables, quarantine = land(snap)
    assert [r["user_name"] for r in rows(tables, "raw_iam_users")] == ["alice", "carol"]
    assert rows(tables, "raw_iam_inline_policies") == []
    assert quarantined(quarantine) == {(GAAD, "UserDetailList[1]", "Arn")}
    assert quarantine.entries[0].reason == "required key 'Arn' is missing"


def test_bad_sub_items_are_skipped_one_by_one(snap):
    user = gaad_user(
        "alice",
        AttachedManagedPolicies=[
            {"PolicyName": "NoArn"},
            {"PolicyName": "Admin", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
        ],
        UserPolicyList=[{"PolicyName": "no-document"}],
    )
    write(snap / GAAD, gaad_doc(users=[user, "not an object"]))
    tables, quarantine = land(snap)
    assert [r["user_name"] for r in rows(tables, "raw_iam_users")] == ["alice"]
    assert [r["policy_arn"] for r in rows(tables, "raw_iam_policy_attachments")] == [
        "arn:aws:iam::aws:policy/AdministratorAccess"
    ]
    assert quarantined(quarantine) == {
        (GAAD, "UserDetailList[0]", "AttachedManagedPolicies[0].PolicyArn"),
        (GAAD, "UserDetailList[0]", "UserPolicyList[0].PolicyDocument"),
        (GAAD, "UserDetailList[1]", None),
    }


def test_unparseable_date_lands_null_and_is_quarantined(snap):
    role = gaad_role(
        "web",
        TRUST_EC2,
        CreateDate="last tuesday",
        RoleLastUsed={"LastUsedDate": "2024-13-01T00:00:00Z"},
    )
    write(snap / GAAD, gaad_doc(users=[gaad_user("alice", CreateDate="yesterday")], roles=[role]))
    tables, quarantine = land(snap)
    assert [(r["user_name"], r["create_date"]) for r in rows(tables, "raw_iam_users")] == [
        ("alice", None)
    ]
    assert [
        (r["role_name"], r["create_date"], r["role_last_used_at"])
        for r in rows(tables, "raw_iam_roles")
    ] == [("web", None, None)]
    assert quarantined(quarantine) == {
        (GAAD, "UserDetailList[0]", "CreateDate"),
        (GAAD, "RoleDetailList[0]", "CreateDate"),
        (GAAD, "RoleDetailList[0]", "RoleLastUsed.LastUsedDate"),
    }


def test_wrongly_typed_optional_value_is_left_out_and_the_row_still_lands(snap):
    # Issue 18: an optional value that cannot land is nulled and quarantined as a field; a
    # required one (the ARN) still quarantines the record.
    bad_arn = gaad_role("api", TRUST_EC2)
    bad_arn["Arn"] = 42
    write(
        snap / GAAD,
        gaad_doc(
            roles=[
                gaad_role("web", TRUST_EC2, MaxSessionDuration="3600"),
                gaad_role("db", TRUST_EC2),
                bad_arn,
            ]
        ),
    )
    tables, quarantine = land(snap)
    assert [(r["role_name"], r["max_session_duration"]) for r in rows(tables, "raw_iam_roles")] == [
        ("web", None),
        ("db", None),
    ]
    assert quarantined(quarantine) == {
        (GAAD, "RoleDetailList[0]", "MaxSessionDuration"),
        (GAAD, "RoleDetailList[2]", "Arn"),
    }
    assert [e.reason for e in quarantine.entries] == [
        "column max_session_duration: expected int64, got str ('3600'); the value is left out",
        "column arn: expected string, got int (42)",
    ]
