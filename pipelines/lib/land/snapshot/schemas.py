"""Snapshot tables (landing layer): the Arrow schema of every `raw_*` table a snapshot lands."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

Row = dict[str, Any]

TS = pa.timestamp("us", tz="UTC")


def _req(name: str, type_: pa.DataType | None = None) -> pa.Field:
    """A column AWS always returns (IDs, ARNs, names): a record without it is quarantined."""
    return pa.field(name, type_ or pa.string(), nullable=False)


def _opt(name: str, type_: pa.DataType | None = None) -> pa.Field:
    return pa.field(name, type_ or pa.string())


SNAPSHOT_SCHEMAS: dict[str, pa.Schema] = {
    "raw_iam_users": pa.schema(
        [
            _req("account_id"),
            _req("user_name"),
            _req("user_id"),
            _req("arn"),
            _opt("path"),
            _opt("create_date", TS),
            _opt("password_last_used", TS),
            _opt("permissions_boundary_arn"),
            _opt("tags_json"),  # the Tags list verbatim, compact JSON; null when absent
        ]
    ),
    "raw_iam_groups": pa.schema(
        [
            _req("account_id"),
            _req("group_name"),
            _req("group_id"),
            _req("arn"),
            _opt("path"),
            _opt("create_date", TS),
        ]
    ),
    "raw_iam_roles": pa.schema(
        [
            _req("account_id"),
            _req("role_name"),
            _req("role_id"),
            _req("arn"),
            _opt("path"),
            _opt("create_date", TS),
            _opt("description"),
            _opt("max_session_duration", pa.int64()),
            _opt("assume_role_policy_document"),  # compact JSON; null when absent or invalid
            _opt("permissions_boundary_arn"),
            _opt("role_last_used_at", TS),
            _opt("role_last_used_region"),
            _req("is_service_linked", pa.bool_()),
            _opt("tags_json"),
        ]
    ),
    "raw_iam_group_memberships": pa.schema(
        [_req("account_id"), _req("user_arn"), _req("group_arn")]
    ),
    "raw_iam_policy_attachments": pa.schema(
        [
            _req("account_id"),
            _req("principal_arn"),
            _req("principal_type"),  # 'user' | 'group' | 'role'
            _req("policy_arn"),
        ]
    ),
    "raw_iam_inline_policies": pa.schema(
        [
            _req("account_id"),
            _req("principal_arn"),
            _req("principal_type"),
            _req("policy_name"),
            _req("document"),  # compact JSON; an invalid document skips the policy
        ]
    ),
    "raw_iam_policies": pa.schema(
        [
            _req("account_id"),
            _req("policy_arn"),
            _req("policy_name"),
            _req("policy_id"),
            _opt("path"),
            _req("is_aws_managed", pa.bool_()),
            _opt("default_version_id"),
            _opt("attachment_count", pa.int64()),
            _opt("permissions_boundary_usage_count", pa.int64()),
            _opt("create_date", TS),
            _opt("update_date", TS),
            _opt("document"),  # the default version, compact JSON; null (+ quarantine) if unusable
        ]
    ),
    "raw_iam_instance_profiles": pa.schema(
        [
            _req("account_id"),
            _req("instance_profile_name"),
            _req("instance_profile_id"),
            _req("arn"),
            _req("role_arn"),
        ]
    ),
    "raw_credential_report": pa.schema(
        [
            _req("account_id"),
            _req("user"),  # '<root_account>' for the root user
            _req("arn"),
            _opt("user_creation_time", TS),
            _opt("password_enabled", pa.bool_()),  # null for root ('not_supported')
            _opt("password_last_used", TS),
            _opt("password_last_changed", TS),
            _opt("password_next_rotation", TS),
            _opt("mfa_active", pa.bool_()),
            _opt("access_key_1_active", pa.bool_()),
            _opt("access_key_1_last_rotated", TS),
            _opt("access_key_1_last_used_date", TS),
            _opt("access_key_1_last_used_region"),
            _opt("access_key_1_last_used_service"),
            _opt("access_key_2_active", pa.bool_()),
            _opt("access_key_2_last_rotated", TS),
            _opt("access_key_2_last_used_date", TS),
            _opt("access_key_2_last_used_region"),
            _opt("access_key_2_last_used_service"),
        ]
    ),
    "raw_ec2_instances": pa.schema(
        [
            _req("account_id"),
            _req("region"),
            _req("instance_id"),
            _req("arn"),
            _opt("state"),
            _opt("instance_type"),
            _opt("image_id"),
            _opt("launch_time", TS),
            _opt("instance_profile_arn"),
            _opt("private_ip_address"),
            _opt("public_ip_address"),
            _opt("name"),  # the Name tag
            _opt("tags_json"),
        ]
    ),
    "raw_lambda_functions": pa.schema(
        [
            _req("account_id"),
            _req("region"),
            _req("function_name"),
            _req("function_arn"),
            _opt("role_arn"),
            _opt("runtime"),  # null for container-image functions
            _opt("last_modified", TS),
        ]
    ),
    "raw_s3_bucket_policies": pa.schema([_req("account_id"), _req("bucket"), _req("document")]),
    # `s3/list-buckets.json`: the buckets each account owns, with or without a policy.
    "raw_s3_buckets": pa.schema(
        [_req("account_id"), _req("bucket"), _opt("creation_date", TS), _opt("region")]
    ),
    # Regional resource-based policies (S3 bucket policies stay in raw_s3_bucket_policies).
    "raw_resource_policies": pa.schema(
        [
            _req("account_id"),
            _req("region"),
            _req("service"),  # 'kms' | 'lambda' | 'secretsmanager' | 'sns' | 'sqs'
            _req("resource_type"),  # kms_key, lambda_function, secretsmanager_secret, ...
            _req("resource_name"),  # key id, function/queue/topic/secret name (file name decoded)
            _req("resource_arn"),
            _req("document"),  # compact JSON; an invalid document quarantines the file
            _req("source_file"),  # the file, relative to the snapshot folder
        ]
    ),
    "raw_org_organization": pa.schema(
        [_req("organization_id"), _req("arn"), _opt("management_account_id"), _opt("feature_set")]
    ),
    "raw_org_accounts": pa.schema(
        [
            _req("account_id"),
            _req("arn"),
            _req("name"),
            _opt("email"),
            _opt("status"),
            _opt("joined_at", TS),
        ]
    ),
    "raw_org_roots": pa.schema([_req("root_id"), _req("arn"), _req("name")]),
    "raw_org_parents": pa.schema(
        [_req("child_id"), _req("parent_id"), _req("parent_type")]  # 'ROOT' | 'ORGANIZATIONAL_UNIT'
    ),
    "raw_org_policies": pa.schema(
        [
            _req("policy_id"),
            _req("arn"),
            _req("name"),
            _req("type"),  # SERVICE_CONTROL_POLICY, RESOURCE_CONTROL_POLICY, ...
            _opt("aws_managed", pa.bool_()),
            _opt("document"),  # Content as compact JSON; null (+ quarantine) if invalid
        ]
    ),
    "raw_org_policy_targets": pa.schema(
        [
            _req("policy_id"),
            _req("target_id"),
            _req("target_type"),
            _req("target_name"),
            _req("target_arn"),
        ]
    ),
}
