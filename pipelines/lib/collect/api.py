"""Collect layer: `get_*`, the dumb read-only API calls (all pages merged the way the AWS CLI merges
them); no logic, no files."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from pipelines.lib.collect.settings import (
    CREDENTIAL_REPORT_TIMEOUT_S,
    ENABLED_OPT_IN,
    ROLE_SESSION_NAME,
)

# ---------------------------------------------------------------------------------------------
# get_*: dumb API calls


def full(client: Any, operation: str, **kwargs: Any) -> dict[str, Any]:
    """Every page of a paginated operation merged into one response, as the AWS CLI does."""
    result = client.get_paginator(operation).paginate(**kwargs).build_full_result()
    result.pop("ResponseMetadata", None)
    return result


def error_code(err: ClientError) -> str:
    return err.response.get("Error", {}).get("Code", "Unknown")


def get_caller_account(sts: Any) -> tuple[str, str]:
    """(account id, partition) of the credentials in use."""
    identity = sts.get_caller_identity()
    return identity["Account"], identity["Arn"].split(":")[1]


def get_account_authorization_details(iam: Any) -> dict[str, Any]:
    # No Filter: every entity type (users, groups, roles, local and AWS-managed policies), as
    # `aws iam get-account-authorization-details` without --filter returns them.
    return full(iam, "get_account_authorization_details")


def get_policies_by_arn(iam: Any) -> dict[str, dict[str, Any]]:
    policies = full(iam, "list_policies", Scope="All").get("Policies", [])
    return {policy["Arn"]: policy for policy in policies}


def complete_policy_names(doc: dict[str, Any], iam: Any) -> int:
    """Fill PolicyName / PolicyId that a GetAccountAuthorizationDetails response left out.

    AWS always returns both; moto 5.2.5 omits them (REFERENCE-DATA.md, "moto gaps"), and the
    snapshot reader requires them. Only when some are missing, the values come from
    iam:ListPolicies (same ARNs); returns how many policies were completed.
    """
    missing = [p for p in doc.get("Policies", []) if "PolicyName" not in p or "PolicyId" not in p]
    if not missing:
        return 0
    listed = get_policies_by_arn(iam)
    for policy in missing:
        known = listed.get(policy["Arn"], {})
        for key in ("PolicyName", "PolicyId"):
            if key not in policy and key in known:
                policy[key] = known[key]
    return len(missing)


def get_credential_report(
    iam: Any, timeout_s: float = CREDENTIAL_REPORT_TIMEOUT_S, sleep: Callable = time.sleep
) -> bytes:
    """Generate the credential report, wait for it, fetch it (boto3 base64-decodes Content)."""
    deadline = time.monotonic() + timeout_s
    delay = 0.25  # a report usually takes seconds; poll often at first, then back off
    while iam.generate_credential_report()["State"] != "COMPLETE":
        if time.monotonic() > deadline:
            raise TimeoutError(f"credential report not ready after {timeout_s:.0f} s")
        sleep(delay)
        delay = min(delay * 2, 10.0)
    return iam.get_credential_report()["Content"]


def get_enabled_regions(ec2: Any) -> list[str]:
    regions = ec2.describe_regions()["Regions"]
    return sorted(r["RegionName"] for r in regions if r.get("OptInStatus") in ENABLED_OPT_IN)


def get_instances(ec2: Any) -> dict[str, Any]:
    return full(ec2, "describe_instances")


def get_functions(lambda_: Any) -> dict[str, Any]:
    return full(lambda_, "list_functions")


def get_function_policy(lambda_: Any, function_name: str) -> str | None:
    try:
        return lambda_.get_policy(FunctionName=function_name)["Policy"]
    except ClientError as err:
        if error_code(err) == "ResourceNotFoundException":  # no resource-based policy
            return None
        raise


def list_buckets(s3: Any) -> dict[str, Any]:
    """`aws s3api list-buckets`: the buckets the account owns (pages merged)."""
    return full(s3, "list_buckets")


def get_bucket_policy(s3: Any, bucket: str) -> str | None:
    try:
        return s3.get_bucket_policy(Bucket=bucket)["Policy"]
    except ClientError as err:
        if error_code(err) == "NoSuchBucketPolicy":
            return None
        raise


def get_key_ids(kms: Any) -> list[str]:
    return [key["KeyId"] for key in full(kms, "list_keys").get("Keys", [])]


def get_key_policy(kms: Any, key_id: str) -> str:
    # "default" is the only key policy name KMS supports.
    return kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]


def get_queue_urls(sqs: Any) -> list[str]:
    return full(sqs, "list_queues").get("QueueUrls", [])


def get_queue_policy(sqs: Any, queue_url: str) -> str | None:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["Policy"])
    return attributes.get("Attributes", {}).get("Policy")


def get_topic_arns(sns: Any) -> list[str]:
    return [topic["TopicArn"] for topic in full(sns, "list_topics").get("Topics", [])]


def get_topic_policy(sns: Any, topic_arn: str) -> str | None:
    return sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"].get("Policy")


def get_secret_names(secretsmanager: Any) -> list[str]:
    return [s["Name"] for s in full(secretsmanager, "list_secrets").get("SecretList", [])]


def get_secret_policy(secretsmanager: Any, name: str) -> str | None:
    return secretsmanager.get_resource_policy(SecretId=name).get("ResourcePolicy")


def get_organization(org: Any) -> dict[str, Any]:
    response = org.describe_organization()
    response.pop("ResponseMetadata", None)
    return response


def get_child_ous(org: Any, parent_id: str) -> list[dict[str, Any]]:
    result = full(org, "list_organizational_units_for_parent", ParentId=parent_id)
    return result.get("OrganizationalUnits", [])


def get_policy(org: Any, policy_id: str) -> dict[str, Any]:
    response = org.describe_policy(PolicyId=policy_id)
    response.pop("ResponseMetadata", None)
    return response


def get_assumed_credentials(sts: Any, role_arn: str, external_id: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": ROLE_SESSION_NAME}
    if external_id:
        params["ExternalId"] = external_id
    return sts.assume_role(**params)["Credentials"]
