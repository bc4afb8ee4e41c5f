"""Demo writers: EC2, Lambda and Organizations documents of the snapshots (AWS CLI shapes)."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import date, datetime
from typing import Any

from pipelines.demo.accounts import (
    ACCOUNT_CREATED,
    ACCOUNT_NAMES,
    DEV,
    MGMT,
    ORG_ID,
    OU_ID,
    OU_NAME,
    PROD,
    ROOT_ID,
    cli_time,
    fake_hex,
    fake_id,
    fake_uuid,
    ts,
)
from pipelines.demo.scenarios import TABLES


def describe_instances(account: str, region: str) -> dict:
    reservations = []
    for instance in (i for i in TABLES.instances if i.account == account and i.region == region):
        vpc = "vpc-0" + fake_hex(account + region + "vpc", 16)
        subnet = "subnet-0" + fake_hex(account + region + "subnet", 16)
        state = {"running": (16, "running"), "stopped": (80, "stopped")}
        code, name = state.get(instance.state, (48, "terminated"))
        item: dict[str, Any] = {
            "AmiLaunchIndex": 0,
            "ImageId": "ami-0" + fake_hex(region + "al2023", 16),
            "InstanceId": instance.id,
            "InstanceType": instance.instance_type,
            "LaunchTime": cli_time(ts(instance.launched)),
            "Monitoring": {"State": "disabled"},
            "Placement": {"AvailabilityZone": f"{region}a", "GroupName": "", "Tenancy": "default"},
            "PrivateDnsName": "",
            "ProductCodes": [],
            "PublicDnsName": "",
            "State": {"Code": code, "Name": name},
            "StateTransitionReason": "",
        }
        if instance.state != "terminated":
            octet = int(fake_hex(instance.id, 2), 16) % 250 + 2
            item["PrivateDnsName"] = f"ip-10-0-1-{octet}.ec2.internal"
            item["PrivateIpAddress"] = f"10.0.1.{octet}"
            item["SubnetId"] = subnet
            item["VpcId"] = vpc
        if instance.state == "terminated":
            item["StateTransitionReason"] = "User initiated (2025-10-02 14:00:00 GMT)"
        elif instance.state == "stopped":
            item["StateTransitionReason"] = "User initiated (2026-10-30 18:22:10 GMT)"
        item["Architecture"] = "x86_64"
        item["Hypervisor"] = "xen"
        if instance.role:
            profile = f"arn:aws:iam::{account}:instance-profile/{instance.role}"
            item["IamInstanceProfile"] = {"Arn": profile, "Id": fake_id("AIPA", profile)}
        item["RootDeviceName"] = "/dev/xvda"
        item["RootDeviceType"] = "ebs"
        item["SecurityGroups"] = (
            []
            if instance.state == "terminated"
            else [{"GroupName": "default", "GroupId": "sg-0" + fake_hex(vpc, 16)}]
        )
        item["Tags"] = [{"Key": "Name", "Value": instance.name}]
        item["VirtualizationType"] = "hvm"
        item["MetadataOptions"] = {
            "State": "applied",
            "HttpTokens": "required",
            "HttpEndpoint": "enabled",
        }
        item["PlatformDetails"] = "Linux/UNIX"
        reservations.append(
            {
                "ReservationId": "r-0" + fake_hex("reservation" + instance.id, 16),
                "OwnerId": account,
                "Groups": [],
                "Instances": [item],
            }
        )
    return {"Reservations": reservations}


def list_functions(account: str, region: str, snapshot: date) -> dict:
    functions = []
    for function in TABLES.functions_in(snapshot):
        if function.account != account or function.region != region:
            continue
        modified = datetime.strptime(function.last_modified, "%Y-%m-%d %H:%M:%S")
        functions.append(
            {
                "FunctionName": function.name,
                "FunctionArn": function.arn,
                "Runtime": function.runtime,
                "Role": TABLES.role_by_name(account, function.role).arn,
                "Handler": "index.handler"
                if function.runtime.startswith("nodejs")
                else "app.handler",
                "CodeSize": 48213,
                "Description": "",
                "Timeout": 30,
                "MemorySize": 256,
                "LastModified": modified.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
                "CodeSha256": base64.b64encode(
                    hashlib.sha256(function.arn.encode()).digest()
                ).decode(),
                "Version": "$LATEST",
                "TracingConfig": {"Mode": "PassThrough"},
                "RevisionId": fake_uuid(function.arn + function.last_modified),
                "PackageType": "Zip",
                "Architectures": ["x86_64"],
                "EphemeralStorage": {"Size": 512},
                "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
                "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{function.name}"},
            }
        )
    return {"Functions": functions}


def _org_arn(kind: str, entity: str) -> str:
    return f"arn:aws:organizations::{MGMT}:{kind}/{ORG_ID}/{entity}"


def organization_files() -> dict[str, Any]:
    accounts = [
        {
            "Id": account,
            "Arn": _org_arn("account", account),
            "Email": f"aws+{name}@ciem-demo.example",
            "Name": name,
            "Status": "ACTIVE",
            "State": "ACTIVE",
            "JoinedMethod": "INVITED" if account == MGMT else "CREATED",
            "JoinedTimestamp": cli_time(ts(ACCOUNT_CREATED[account])),
        }
        for account, name in ACCOUNT_NAMES.items()
    ]
    scp_type = [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}]
    files: dict[str, Any] = {
        "describe-organization.json": {
            "Organization": {
                "Id": ORG_ID,
                "Arn": f"arn:aws:organizations::{MGMT}:organization/{ORG_ID}",
                "FeatureSet": "ALL",
                "MasterAccountArn": _org_arn("account", MGMT),
                "MasterAccountId": MGMT,
                "MasterAccountEmail": f"aws+{ACCOUNT_NAMES[MGMT]}@ciem-demo.example",
                "AvailablePolicyTypes": scp_type,
            }
        },
        "list-accounts.json": {"Accounts": accounts},
        "list-roots.json": {
            "Roots": [
                {
                    "Id": ROOT_ID,
                    "Arn": _org_arn("root", ROOT_ID),
                    "Name": "Root",
                    "PolicyTypes": scp_type,
                }
            ]
        },
    }
    parents = {MGMT: (ROOT_ID, "ROOT"), PROD: (OU_ID, "ORGANIZATIONAL_UNIT")}
    parents |= {DEV: (OU_ID, "ORGANIZATIONAL_UNIT"), OU_ID: (ROOT_ID, "ROOT")}
    for child, (parent, kind) in parents.items():
        files[f"parents/{child}.json"] = {"Parents": [{"Id": parent, "Type": kind}]}
    for scp in TABLES.scps:
        arn = (
            f"arn:aws:organizations::aws:policy/service_control_policy/{scp.id}"
            if scp.aws_managed
            else _org_arn("policy", f"service_control_policy/{scp.id}")
        )
        files[f"policies/{scp.id}.json"] = {
            "Policy": {
                "PolicySummary": {
                    "Id": scp.id,
                    "Arn": arn,
                    "Name": scp.name,
                    "Description": scp.description,
                    "Type": "SERVICE_CONTROL_POLICY",
                    "AwsManaged": scp.aws_managed,
                },
                "Content": json.dumps(scp.document, indent=4),
            }
        }
        files[f"targets/{scp.id}.json"] = {"Targets": [_target(t) for t in scp.targets]}
    return files


def _target(target: str) -> dict:
    if target == ROOT_ID:
        kind, name, target_type = "root", "Root", "ROOT"
    elif target == OU_ID:
        kind, name, target_type = "ou", OU_NAME, "ORGANIZATIONAL_UNIT"
    else:
        kind, name, target_type = "account", ACCOUNT_NAMES[target], "ACCOUNT"
    return {"TargetId": target, "Arn": _org_arn(kind, target), "Name": name, "Type": target_type}
