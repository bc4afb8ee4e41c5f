"""Snapshot reader: EC2 describe-instances and Lambda list-functions outputs -> raw_ec2_instances
and raw_lambda_functions."""

from __future__ import annotations

from tests.unit.land.snapshot_files import ACCOUNT, compact, land, quarantined, rows, utc, write


def test_ec2_instances(snap):
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
    write(
        snap / ACCOUNT / "eu-west-1" / "ec2" / "describe-instances.json",
        {"Reservations": [{"Instances": [web]}, {"Instances": [bare, {"ImageId": "ami-x"}]}]},
    )
    write(
        snap / ACCOUNT / "cn-north-1" / "ec2" / "describe-instances.json",
        {"Reservations": [{"Instances": [{"InstanceId": "i-0c0c0c0c0c0c0c0c0"}]}]},
    )
    tables, quarantine = land(snap)
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
    assert rows(tables, "raw_ec2_instances") == [
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
            "launch_time": utc(2026, 11, 1, 10, 0),
            "instance_profile_arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/web",
            "private_ip_address": "10.0.0.12",
            "public_ip_address": "203.0.113.7",
            "name": "web-1",
            "tags_json": compact(web["Tags"]),
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
    assert quarantined(quarantine) == {
        (
            f"{ACCOUNT}/eu-west-1/ec2/describe-instances.json",
            "Reservations[1].Instances[1]",
            "InstanceId",
        )
    }


def test_lambda_functions(snap):
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
    write(snap / ACCOUNT / "us-east-1" / "lambda" / "list-functions.json", {"Functions": functions})
    tables, quarantine = land(snap)
    assert rows(tables, "raw_lambda_functions") == [
        {
            "account_id": ACCOUNT,
            "region": "us-east-1",
            "function_name": "resize",
            "function_arn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:resize",
            "role_arn": f"arn:aws:iam::{ACCOUNT}:role/resize-role",
            "runtime": "python3.12",
            "last_modified": utc(2026, 11, 1, 10, 0),
        },
        {
            "account_id": ACCOUNT,
            "region": "us-east-1",
            "function_name": "image-fn",
            "function_arn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:image-fn",
            "role_arn": f"arn:aws:iam::{ACCOUNT}:role/image-role",
            "runtime": None,
            "last_modified": utc(2026, 11, 2, 11, 30, 15, 250000),
        },
    ]
    assert quarantine.entries == []
