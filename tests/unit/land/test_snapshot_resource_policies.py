"""Snapshot reader: S3 bucket policies and the regional resource policies (KMS, Lambda, SQS, SNS,
Secrets Manager) -> raw_s3_bucket_policies and raw_resource_policies."""

from __future__ import annotations

import json
from typing import Any

# Resource policies name a Principal (issue 18: IAM's grammar is checked on landing).
from tests.unit.land.snapshot_files import (
    ACCOUNT,
    compact,
    land,
    quarantined,
    rows,
    write,
)
from tests.unit.land.snapshot_files import RESOURCE_ALLOW_ALL as ALLOW_ALL
from tests.unit.land.snapshot_files import RESOURCE_ALLOW_S3_READ as ALLOW_S3_READ


def test_s3_bucket_policies(snap):
    folder = snap / ACCOUNT / "s3" / "bucket-policies"
    write(folder / "logs.example.com.json", ALLOW_S3_READ)
    # `aws s3api get-bucket-policy` output saved as is: {"Policy": "<policy as JSON text>"}.
    write(folder / "wrapped.json", {"Policy": json.dumps(ALLOW_ALL)})
    write(folder / "broken.json", {"Policy": "{"})
    write(folder / "README.txt", "not a bucket policy")
    tables, quarantine = land(snap)
    assert rows(tables, "raw_s3_bucket_policies") == [
        {"account_id": ACCOUNT, "bucket": "logs.example.com", "document": compact(ALLOW_S3_READ)},
        {"account_id": ACCOUNT, "bucket": "wrapped", "document": compact(ALLOW_ALL)},
    ]
    assert quarantined(quarantine) == {
        (f"{ACCOUNT}/s3/bucket-policies/broken.json", None, "Policy")
    }


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
        "document": compact(document),
        "source_file": f"{ACCOUNT}/{region}/{file}",
    }


def test_regional_resource_policies_land_in_one_table(snap):
    account = snap / ACCOUNT
    east, west = account / "us-east-1", account / "eu-west-1"
    # As the collector writes them: the policy text (`--query ... --output text`).
    write(east / "kms" / "key-policies" / "1234abcd-12ab.json", json.dumps(ALLOW_ALL))
    write(east / "lambda" / "function-policies" / "resize.json", json.dumps(ALLOW_S3_READ))
    write(west / "sqs" / "queue-policies" / "jobs.fifo.json", ALLOW_ALL)
    write(west / "sns" / "topic-policies" / "alerts.json", ALLOW_S3_READ)
    write(west / "secretsmanager" / "secret-policies" / "prod%2Fdb.json", ALLOW_ALL)
    # Whole CLI outputs saved as is are accepted too; a secret's output carries its full ARN.
    secret_arn = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:wrapped-AbC123"
    write(
        west / "secretsmanager" / "secret-policies" / "wrapped.json",
        {"ARN": secret_arn, "Name": "wrapped", "ResourcePolicy": json.dumps(ALLOW_ALL)},
    )
    write(
        west / "sqs" / "queue-policies" / "attrs.json",
        {"Attributes": {"Policy": json.dumps(ALLOW_S3_READ)}},
    )
    # A GovCloud region gets its partition in the ARN.
    gov = account / "us-gov-west-1"
    write(gov / "kms" / "key-policies" / "k.json", {"Policy": json.dumps(ALLOW_ALL)})
    tables, quarantine = land(snap)
    kms, fn = "kms/key-policies", "lambda/function-policies"
    sqs, sns, sm = "sqs/queue-policies", "sns/topic-policies", "secretsmanager/secret-policies"
    assert rows(tables, "raw_resource_policies") == [
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


def test_bad_resource_policies_are_quarantined_one_by_one(snap):
    region = snap / ACCOUNT / "us-east-1"
    write(region / "sqs" / "queue-policies" / "good.json", json.dumps(ALLOW_ALL))
    write(region / "sqs" / "queue-policies" / "truncated.json", '{"Statement": [')
    write(region / "sns" / "topic-policies" / "list.json", "[]")
    write(region / "kms" / "key-policies" / "encoded.json", {"Policy": "{not json"})
    write(region / "lambda" / "function-policies" / "empty.json", {"Version": "2012-10-17"})
    write(region / "secretsmanager" / "secret-policies" / "null.json", {"ResourcePolicy": None})
    write(region / "sqs" / "queue-policies" / "notes.txt", "ignored: not a .json file")
    tables, quarantine = land(snap)
    assert [r["resource_name"] for r in rows(tables, "raw_resource_policies")] == ["good"]
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
            "Statement",
            "policy document refused (not IAM policy grammar for a resource policy): "
            "missing Statement",
        ),
        (
            f"{where}/secretsmanager/secret-policies/null.json",
            None,
            "ResourcePolicy",
            "policy document is missing",
        ),
    }
