"""Writing snapshot folders for the snapshot reader tests, and reading what it lands: the file
helpers, hand-written get-account-authorization-details entries, policy documents, a credential
report and an AWS Organizations export shared by the reader's test modules."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipelines.lib.land.quarantine import Quarantine
from pipelines.lib.land.snapshot import read_snapshot

REAL = Path(__file__).parents[2] / "fixtures" / "real"
VULNERABLE = REAL / "cloudsplaining" / "iam-vulnerable-account-authz-details.json"

VULNERABLE_ACCOUNT = "200611803367"
ACCOUNT = "111111111111"
GAAD = f"{ACCOUNT}/iam/get-account-authorization-details.json"


# ---------------------------------------------------------------------------------------------
# files in, tables out


def write(path: Path, content: Any) -> Path:
    """Write `content` (text as is, anything else as indented JSON), making its folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = content if isinstance(content, str) else json.dumps(content, indent=2)
    path.write_text(text, encoding="utf-8")
    return path


def gaad_path(snap: Path, account: str) -> Path:
    return snap / account / "iam" / "get-account-authorization-details.json"


def land(snap: Path) -> tuple[dict[str, pa.Table], Quarantine]:
    """Read the snapshot folder: the landed tables and the quarantine."""
    quarantine = Quarantine(source="snapshot", partition=snap.name)
    return read_snapshot(snap, quarantine), quarantine


def rows(tables: dict[str, pa.Table], name: str) -> list[dict[str, Any]]:
    return tables[name].to_pylist()


def quarantined(quarantine: Quarantine) -> set[tuple[str, str | None, str | None]]:
    """Where each quarantine entry points: (file, record, field)."""
    return {(e.file, e.record, e.field) for e in quarantine.entries}


def compact(doc: Any) -> str:
    return json.dumps(doc, separators=(",", ":"))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# get-account-authorization-details entries and policy documents


def gaad_user(name: str, **extra: Any) -> dict[str, Any]:
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


def gaad_role(name: str, trust: Any, **extra: Any) -> dict[str, Any]:
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


def gaad_doc(**lists: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "UserDetailList": lists.get("users", []),
        "GroupDetailList": lists.get("groups", []),
        "RoleDetailList": lists.get("roles", []),
        "Policies": lists.get("policies", []),
    }


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    """A policy document, as an object."""
    return {"Version": "2012-10-17", "Statement": list(statements)}


ALLOW_S3_READ = policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
ALLOW_ALL = policy({"Effect": "Allow", "Action": "*", "Resource": "*"})
# The same as resource-based policies (bucket, key, queue, ... policies), which name a Principal
# (IAM's grammar requires one there).
RESOURCE_ALLOW_S3_READ = policy(
    {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "s3:GetObject",
        "Resource": "*",
    }
)
RESOURCE_ALLOW_ALL = policy({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"})
TRUST_EC2 = policy(
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
)


# ---------------------------------------------------------------------------------------------
# a credential report

CREDENTIAL_REPORT = """\
user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated
<root_account>,arn:aws:iam::111111111111:root,2020-01-15T09:30:00+00:00,not_supported,2026-11-10T08:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
alice,arn:aws:iam::111111111111:user/alice,2024-02-01T12:00:00+00:00,true,no_information,2024-02-01T12:05:00+00:00,N/A,false,true,2024-02-01T12:10:00+00:00,2026-11-19T22:15:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
"""


# ---------------------------------------------------------------------------------------------
# an AWS Organizations export

ROOT_ID, OU_ID, MEMBER = "r-ab12", "ou-ab12-11111111", "222222222222"
ORG_ARN = "arn:aws:organizations::111111111111"
FULL_AWS_ACCESS_ARN = "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess"
SCP_DENY_LEAVE = policy(
    {"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}
)


def write_organization(snap: Path) -> None:
    org = snap / "organization"
    write(
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
    write(
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
    write(
        org / "list-roots.json",
        {
            "Roots": [
                {"Id": ROOT_ID, "Arn": f"{ORG_ARN}:root/o-exampleorgid/{ROOT_ID}", "Name": "Root"}
            ]
        },
    )
    write(
        org / "parents" / f"{MEMBER}.json",
        {"Parents": [{"Id": OU_ID, "Type": "ORGANIZATIONAL_UNIT"}]},
    )
    write(org / "parents" / f"{OU_ID}.json", {"Parents": [{"Id": ROOT_ID, "Type": "ROOT"}]})
    write(
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
    write(
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
    write(
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
