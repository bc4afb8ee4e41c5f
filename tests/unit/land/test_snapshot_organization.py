"""Snapshot reader: an AWS Organizations export -> the raw_org_* tables."""

from __future__ import annotations

from tests.unit.land.snapshot_files import (
    ALLOW_ALL,
    FULL_AWS_ACCESS_ARN,
    MEMBER,
    ORG_ARN,
    OU_ID,
    ROOT_ID,
    SCP_DENY_LEAVE,
    compact,
    land,
    quarantined,
    rows,
    utc,
    write,
    write_organization,
)


def test_organization_tables(snap):
    write_organization(snap)
    tables, quarantine = land(snap)
    assert rows(tables, "raw_org_organization") == [
        {
            "organization_id": "o-exampleorgid",
            "arn": f"{ORG_ARN}:organization/o-exampleorgid",
            "management_account_id": "111111111111",
            "feature_set": "ALL",
        }
    ]
    assert rows(tables, "raw_org_accounts") == [
        {
            "account_id": "111111111111",
            "arn": f"{ORG_ARN}:account/o-exampleorgid/111111111111",
            "name": "management",
            "email": "management@example.com",
            "status": "ACTIVE",
            "joined_at": utc(2020, 1, 15, 9, 30, 0, 123000),
        },
        {
            "account_id": MEMBER,
            "arn": f"{ORG_ARN}:account/o-exampleorgid/{MEMBER}",
            "name": "workloads",
            "email": "workloads@example.com",
            "status": "SUSPENDED",
            "joined_at": utc(2021, 6, 1),
        },
    ]
    assert rows(tables, "raw_org_roots") == [
        {"root_id": ROOT_ID, "arn": f"{ORG_ARN}:root/o-exampleorgid/{ROOT_ID}", "name": "Root"}
    ]
    assert rows(tables, "raw_org_parents") == [
        {"child_id": MEMBER, "parent_id": OU_ID, "parent_type": "ORGANIZATIONAL_UNIT"},
        {"child_id": OU_ID, "parent_id": ROOT_ID, "parent_type": "ROOT"},
    ]
    assert rows(tables, "raw_org_policies") == [
        {
            "policy_id": "p-FullAWSAccess",
            "arn": FULL_AWS_ACCESS_ARN,
            "name": "FullAWSAccess",
            "type": "SERVICE_CONTROL_POLICY",
            "aws_managed": True,
            "document": compact(ALLOW_ALL),
        },
        {
            "policy_id": "p-denyleave1",
            "arn": f"{ORG_ARN}:policy/o-exampleorgid/service_control_policy/p-denyleave1",
            "name": "deny-leave",
            "type": "SERVICE_CONTROL_POLICY",
            "aws_managed": False,
            "document": compact(SCP_DENY_LEAVE),
        },
    ]
    assert rows(tables, "raw_org_policy_targets") == [
        {
            "policy_id": "p-denyleave1",
            "target_id": OU_ID,
            "target_type": "ORGANIZATIONAL_UNIT",
            "target_name": "workloads-ou",
            "target_arn": f"{ORG_ARN}:ou/o-exampleorgid/{OU_ID}",
        }
    ]
    assert quarantine.entries == []


def test_org_policy_with_invalid_content_keeps_its_row_with_a_null_document(snap):
    summary = {
        "Id": "p-broken01",
        "Arn": f"{ORG_ARN}:policy/o-exampleorgid/resource_control_policy/p-broken01",
        "Name": "broken",
        "Type": "RESOURCE_CONTROL_POLICY",
    }
    write(
        snap / "organization" / "policies" / "p-broken01.json",
        {"Policy": {"PolicySummary": summary, "Content": '{"Version": '}},
    )
    write(snap / "organization" / "list-roots.json", '{"Roots": [')
    tables, quarantine = land(snap)
    assert rows(tables, "raw_org_policies") == [
        {
            "policy_id": "p-broken01",
            "arn": summary["Arn"],
            "name": "broken",
            "type": "RESOURCE_CONTROL_POLICY",
            "aws_managed": None,
            "document": None,
        }
    ]
    assert quarantined(quarantine) == {
        ("organization/policies/p-broken01.json", "Policy", "Content"),
        ("organization/list-roots.json", None, None),
    }
