"""Compute and resource policies of a snapshot (landing layer): EC2 instances, Lambda functions, S3
bucket policies and the KMS / Lambda / SQS / SNS / Secrets Manager resource policies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipelines.lib.land.snapshot.context import Ctx, Seen, partition, tag_value
from pipelines.lib.land.snapshot.grammar import RESOURCE
from pipelines.lib.land.snapshot.schemas import Row

# ---------------------------------------------------------------------------------------------
# compute and resource policies (per region / per bucket)


def _instance_row(ctx: Ctx, region: str, instance: dict[str, Any]) -> Row:
    instance_id = instance["InstanceId"]
    arn = f"arn:{partition(region)}:ec2:{region}:{ctx.account_id}:instance/{instance_id}"
    return {
        "account_id": ctx.account_id,
        "region": region,
        "instance_id": instance_id,
        "arn": arn,
        "state": (instance.get("State") or {}).get("Name"),
        "instance_type": instance.get("InstanceType"),
        "image_id": instance.get("ImageId"),
        "launch_time": ctx.timestamp(instance.get("LaunchTime"), "LaunchTime"),
        "instance_profile_arn": (instance.get("IamInstanceProfile") or {}).get("Arn"),
        "private_ip_address": instance.get("PrivateIpAddress"),
        "public_ip_address": instance.get("PublicIpAddress"),
        "name": tag_value(instance.get("Tags"), "Name"),
        "tags_json": ctx.tags(instance.get("Tags")),
    }


def land_instances(ctx: Ctx, doc: dict[str, Any], region: str) -> None:
    seen = Seen("InstanceId")  # an instance repeated (pages merged twice) lands once
    for reservation_ctx, reservation in ctx.entries(doc, "Reservations"):
        if not isinstance(reservation, dict):
            reservation_ctx.reject("record is not a JSON object")
            continue
        for instance_ctx, instance in reservation_ctx.entries(reservation, "Instances", seen):
            instance_ctx.land("raw_ec2_instances", _instance_row, region, instance)


def _function_row(ctx: Ctx, region: str, function: dict[str, Any]) -> Row:
    return {
        "account_id": ctx.account_id,
        "region": region,
        "function_name": function["FunctionName"],
        "function_arn": function["FunctionArn"],
        "role_arn": function.get("Role"),
        "runtime": function.get("Runtime"),
        "last_modified": ctx.timestamp(function.get("LastModified"), "LastModified"),
    }


def land_functions(ctx: Ctx, doc: dict[str, Any], region: str) -> None:
    functions = ctx.entries(doc, "Functions", Seen("FunctionArn"), subject="FunctionArn")
    for function_ctx, function in functions:
        function_ctx.land("raw_lambda_functions", _function_row, region, function)


def _bucket_policy_row(ctx: Ctx, bucket: str, doc: Any) -> Row | None:
    # The file is the decoded policy; `get-bucket-policy` output saved as is ({"Policy": "<json
    # text>"}) is accepted too.
    wrapped = isinstance(doc, dict) and doc.keys() == {"Policy"}
    ctx = ctx.about(f"arn:aws:s3:::{bucket}")
    policy = doc["Policy"] if wrapped else doc
    document = ctx.document(policy, "Policy" if wrapped else None, RESOURCE, required=True)
    if document is None:
        return None
    return {"account_id": ctx.account_id, "bucket": bucket, "document": document}


def land_bucket_policy(ctx: Ctx, doc: Any, bucket: str) -> None:
    ctx.land("raw_s3_bucket_policies", _bucket_policy_row, bucket, doc)


@dataclass(frozen=True)
class _ResourcePolicyKind:
    """One kind of regional resource policy file: `<region>/<service>/<folder>/<name>.json`."""

    service: str
    folder: str
    resource_type: str
    arn_resource: str  # the ARN's resource part, `{name}` standing for the resource name


# The collector's layout (pipelines/lib/collect/collector.py, README "Live collection"). A
# secret's ARN ends in a random `-XXXXXX` suffix that the name does not carry: without it
# (unless the file is `get-resource-policy` output saved as is, which has the ARN) the ARN is the
# name's prefix.
RESOURCE_POLICY_KINDS: tuple[_ResourcePolicyKind, ...] = (
    _ResourcePolicyKind("kms", "key-policies", "kms_key", "key/{name}"),
    _ResourcePolicyKind("lambda", "function-policies", "lambda_function", "function:{name}"),
    _ResourcePolicyKind(
        "secretsmanager", "secret-policies", "secretsmanager_secret", "secret:{name}"
    ),
    _ResourcePolicyKind("sns", "topic-policies", "sns_topic", "{name}"),
    _ResourcePolicyKind("sqs", "queue-policies", "sqs_queue", "{name}"),
)


def _unwrap_policy(doc: Any) -> tuple[Any, str | None, str | None]:
    """(policy, field it came from, ARN if the output names one) of a resource policy file.

    The file is the policy text (`--query ... --output text`); the whole CLI output saved as is
    is accepted too: `{"Policy": ...}` (lambda get-policy, kms get-key-policy),
    `{"Attributes": {"Policy": ...}}` (sqs / sns get-*-attributes) and
    `{"ARN": ..., "ResourcePolicy": ...}` (secretsmanager get-resource-policy).
    """
    if not isinstance(doc, dict) or "Statement" in doc:
        return doc, None, None
    if "Policy" in doc:
        return doc["Policy"], "Policy", None
    if isinstance(doc.get("Attributes"), dict) and "Policy" in doc["Attributes"]:
        return doc["Attributes"]["Policy"], "Attributes.Policy", None
    if "ResourcePolicy" in doc:
        arn = doc.get("ARN") if isinstance(doc.get("ARN"), str) else None
        return doc["ResourcePolicy"], "ResourcePolicy", arn
    return doc, None, None


def _resource_policy_row(
    ctx: Ctx, doc: Any, region: str, kind: _ResourcePolicyKind, name: str
) -> Row | None:
    policy, where, named_arn = _unwrap_policy(doc)
    resource = kind.arn_resource.format(name=name)
    arn = f"arn:{partition(region)}:{kind.service}:{region}:{ctx.account_id}:{resource}"
    ctx = ctx.about(named_arn or arn)
    # The grammar check refuses a document without a Statement too.
    document = ctx.document(policy, where, RESOURCE, required=True)
    if document is None:
        return None
    return {
        "account_id": ctx.account_id,
        "region": region,
        "service": kind.service,
        "resource_type": kind.resource_type,
        "resource_name": name,
        "resource_arn": named_arn or arn,
        "document": document,
        "source_file": ctx.file,
    }


def land_resource_policy(
    ctx: Ctx, doc: Any, region: str, kind: _ResourcePolicyKind, name: str
) -> None:
    ctx.land("raw_resource_policies", _resource_policy_row, doc, region, kind, name)
