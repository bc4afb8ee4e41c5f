"""Snapshot reader (landing layer): an IAM / Organizations snapshot folder -> typed Arrow tables.

The folder holds AWS API responses exactly as the AWS CLI (`--output json`) or boto3 returns them
(layout in DESIGN.md, "Inputs"). Every table is account-scoped by its folder name except the
`raw_org_*` tables. A malformed file, record, date or policy document becomes one quarantine entry
naming file, record and field; everything beside it still lands.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pyarrow as pa

from pipelines.lib.land.quarantine import Quarantine

Row = dict[str, Any]

_TS = pa.timestamp("us", tz="UTC")


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
            _opt("create_date", _TS),
            _opt("password_last_used", _TS),
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
            _opt("create_date", _TS),
        ]
    ),
    "raw_iam_roles": pa.schema(
        [
            _req("account_id"),
            _req("role_name"),
            _req("role_id"),
            _req("arn"),
            _opt("path"),
            _opt("create_date", _TS),
            _opt("description"),
            _opt("max_session_duration", pa.int64()),
            _opt("assume_role_policy_document"),  # compact JSON; null when absent or invalid
            _opt("permissions_boundary_arn"),
            _opt("role_last_used_at", _TS),
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
            _opt("create_date", _TS),
            _opt("update_date", _TS),
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
            _opt("user_creation_time", _TS),
            _opt("password_enabled", pa.bool_()),  # null for root ('not_supported')
            _opt("password_last_used", _TS),
            _opt("password_last_changed", _TS),
            _opt("password_next_rotation", _TS),
            _opt("mfa_active", pa.bool_()),
            _opt("access_key_1_active", pa.bool_()),
            _opt("access_key_1_last_rotated", _TS),
            _opt("access_key_1_last_used_date", _TS),
            _opt("access_key_1_last_used_region"),
            _opt("access_key_1_last_used_service"),
            _opt("access_key_2_active", pa.bool_()),
            _opt("access_key_2_last_rotated", _TS),
            _opt("access_key_2_last_used_date", _TS),
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
            _opt("launch_time", _TS),
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
            _opt("last_modified", _TS),
        ]
    ),
    "raw_s3_bucket_policies": pa.schema([_req("account_id"), _req("bucket"), _req("document")]),
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
            _opt("joined_at", _TS),
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

_ACCOUNT_DIR = re.compile(r"^\d{12}$")
_GAAD_FILE = "get-account-authorization-details.json"
_CREDENTIAL_REPORT_FILE = "credential-report.csv"
# Credential report cells that mean "no value". https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html
_CREDENTIAL_REPORT_NULLS = frozenset({"", "N/A", "no_information", "not_supported"})
# Region prefix -> ARN partition. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
_REGION_PARTITIONS = (
    ("cn-", "aws-cn"),
    ("us-gov-", "aws-us-gov"),
    ("us-isob-", "aws-iso-b"),
    ("us-iso-", "aws-iso"),
)
# Python types a landed value must have, per Arrow column type.
_PY_TYPES: dict[pa.DataType, type] = {
    pa.string(): str,
    pa.bool_(): bool,
    pa.int64(): int,
    _TS: datetime,
}


# ---------------------------------------------------------------------------------------------
# value parsing


def parse_timestamp(value: str) -> datetime:
    """An AWS timestamp as an aware UTC datetime; raises ValueError when unparseable.

    Accepts the CLI's ISO form (`2023-03-09T10:41:45Z`, `+00:00`), Python's `str(datetime)`
    (`2023-03-09 10:41:45+00:00`, boto3 dumps), Lambda's `2026-11-01T10:00:00.000+0000`, with or
    without fractional seconds. A value without an offset is taken as UTC (AWS's only zone).
    """
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {type(value).__name__}")
    parsed = datetime.fromisoformat(value.strip())
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_policy_document(value: Any) -> dict[str, Any]:
    """A policy document as a dict; raises ValueError when it is not a JSON object.

    The CLI returns decoded objects; the raw IAM API (and older boto3 shapes) URL-encoded JSON
    text (https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html);
    Organizations returns plain JSON text in `Content`.
    """
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            try:
                value = json.loads(unquote(value))
            except json.JSONDecodeError as err:
                raise ValueError(f"not valid JSON ({err.msg} at char {err.pos})") from None
    if not isinstance(value, dict):
        raise ValueError(f"not a JSON object (got {type(value).__name__})")
    return value


def _json_text(value: Any) -> str | None:
    """A JSON part kept verbatim as compact JSON text; missing is None."""
    if value is None:
        return None
    return json.dumps(value, separators=(",", ":"))


def _partition(region: str) -> str:
    for prefix, partition in _REGION_PARTITIONS:
        if region.startswith(prefix):
            return partition
    return "aws"


def _arn_partition(arn: str) -> str:
    parts = arn.split(":")
    return parts[1] if len(parts) > 1 and parts[0] == "arn" and parts[1] else "aws"


def _boundary_arn(principal: dict[str, Any]) -> str | None:
    return (principal.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")


def _tag_value(tags: Any, key: str) -> str | None:
    for tag in tags if isinstance(tags, list) else []:
        if isinstance(tag, dict) and tag.get("Key") == key:
            return tag.get("Value")
    return None


def _row_problem(row: Row, schema: pa.Schema) -> str | None:
    """Why a built row cannot land in `schema` (null required value, wrong type), else None."""
    for column in schema:
        value = row.get(column.name)
        if value is None:
            if not column.nullable:
                return f"required value for column {column.name} is null or empty"
            continue
        expected = _PY_TYPES[column.type]
        wrong_bool = isinstance(value, bool) and expected is not bool
        if wrong_bool or not isinstance(value, expected):
            return f"column {column.name}: expected {column.type}, got {type(value).__name__}"
    return None


# ---------------------------------------------------------------------------------------------
# landing context


@dataclass(frozen=True)
class _Ctx:
    """One input file (and optionally one record in it) being landed into `out`."""

    file: str  # path relative to the snapshot folder, as named in quarantine entries
    quarantine: Quarantine
    out: dict[str, list[Row]] = field(repr=False)
    account_id: str | None = None
    record: str | None = None

    def at(self, record: str) -> _Ctx:
        return replace(self, record=record)

    def reject(self, reason: str, field: str | None = None) -> None:
        self.quarantine.add(self.file, reason, record=self.record, field=field)

    def timestamp(self, value: Any, field: str) -> datetime | None:
        """A parsed date, or None (quarantined with its field when present but unparseable)."""
        if value is None or value == "":
            return None
        try:
            return parse_timestamp(value)
        except ValueError:
            self.reject(f"unparseable date {value!r}", field)
            return None

    def document(self, value: Any, field: str | None, required: bool = False) -> str | None:
        """A policy document as compact JSON text, or None (quarantined when invalid)."""
        if value is None:
            if required:
                self.reject("policy document is missing", field)
            return None
        try:
            return _json_text(parse_policy_document(value))
        except ValueError as err:
            self.reject(f"policy document is {err}", field)
            return None

    def entries(self, doc: Any, key: str) -> Iterator[tuple[_Ctx, Any]]:
        """(context at `key[i]`, item) for each item of the list `doc[key]`; absent = none."""
        items = doc.get(key)
        if items is None:
            return
        if not isinstance(items, list):
            self.reject(f"expected a list, got {type(items).__name__}", key)
            return
        prefix = f"{self.record}." if self.record else ""
        for index, item in enumerate(items):
            yield self.at(f"{prefix}{key}[{index}]"), item

    def land(
        self,
        table: str,
        build: Callable[..., Row | None],
        *args: Any,
        field_prefix: str = "",
    ) -> Row | None:
        """Build one row with `build(self, *args)` and append it to `table`.

        A missing required key (`doc["Arn"]`) or a malformed record quarantines this record only
        and lands nothing; `build` returning None means it already quarantined the reason.
        """
        try:
            row = build(self, *args)
        except KeyError as err:
            key = err.args[0]
            self.reject(f"required key {key!r} is missing", f"{field_prefix}{key}")
            return None
        except (TypeError, AttributeError) as err:
            self.reject(f"malformed record: {err}", field_prefix.rstrip(".") or None)
            return None
        if row is None:
            return None
        row = {name: None if value == "" else value for name, value in row.items()}
        problem = _row_problem(row, SNAPSHOT_SCHEMAS[table])
        if problem is not None:
            self.reject(problem, field_prefix.rstrip(".") or None)
            return None
        self.out[table].append(row)
        return row


# ---------------------------------------------------------------------------------------------
# IAM: get-account-authorization-details


def _user_row(ctx: _Ctx, user: dict[str, Any]) -> Row:
    return {
        "account_id": ctx.account_id,
        "user_name": user["UserName"],
        "user_id": user["UserId"],
        "arn": user["Arn"],
        "path": user.get("Path"),
        "create_date": ctx.timestamp(user.get("CreateDate"), "CreateDate"),
        "password_last_used": ctx.timestamp(user.get("PasswordLastUsed"), "PasswordLastUsed"),
        "permissions_boundary_arn": _boundary_arn(user),
        "tags_json": _json_text(user.get("Tags")),
    }


def _group_row(ctx: _Ctx, group: dict[str, Any]) -> Row:
    return {
        "account_id": ctx.account_id,
        "group_name": group["GroupName"],
        "group_id": group["GroupId"],
        "arn": group["Arn"],
        "path": group.get("Path"),
        "create_date": ctx.timestamp(group.get("CreateDate"), "CreateDate"),
    }


def _role_row(ctx: _Ctx, role: dict[str, Any]) -> Row:
    path = role.get("Path")
    last_used = role.get("RoleLastUsed") or {}
    trust = role.get("AssumeRolePolicyDocument")
    return {
        "account_id": ctx.account_id,
        "role_name": role["RoleName"],
        "role_id": role["RoleId"],
        "arn": role["Arn"],
        "path": path,
        "create_date": ctx.timestamp(role.get("CreateDate"), "CreateDate"),
        "description": role.get("Description"),
        "max_session_duration": role.get("MaxSessionDuration"),
        # An invalid trust policy keeps the role (null document); the entry says why.
        "assume_role_policy_document": ctx.document(trust, "AssumeRolePolicyDocument"),
        "permissions_boundary_arn": _boundary_arn(role),
        "role_last_used_at": ctx.timestamp(
            last_used.get("LastUsedDate"), "RoleLastUsed.LastUsedDate"
        ),
        "role_last_used_region": last_used.get("Region"),
        # Service-linked roles live under /aws-service-role/ and are exempt from SCPs.
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html
        "is_service_linked": isinstance(path, str) and path.startswith("/aws-service-role/"),
        "tags_json": _json_text(role.get("Tags")),
    }


def _default_version_document(ctx: _Ctx, policy: dict[str, Any]) -> str | None:
    """The document of the version with IsDefaultVersion true (the one IAM evaluates)."""
    for index, version in enumerate(policy.get("PolicyVersionList") or []):
        if version.get("IsDefaultVersion") is True:
            where = f"PolicyVersionList[{index}].Document"
            return ctx.document(version.get("Document"), where, required=True)
    ctx.reject("no policy version with IsDefaultVersion true", "PolicyVersionList")
    return None


def _policy_row(ctx: _Ctx, policy: dict[str, Any]) -> Row:
    arn = policy["Arn"]
    return {
        "account_id": ctx.account_id,
        "policy_arn": arn,
        "policy_name": policy["PolicyName"],
        "policy_id": policy["PolicyId"],
        "path": policy.get("Path"),
        "is_aws_managed": ":aws:policy/" in arn,
        "default_version_id": policy.get("DefaultVersionId"),
        "attachment_count": policy.get("AttachmentCount"),
        "permissions_boundary_usage_count": policy.get("PermissionsBoundaryUsageCount"),
        "create_date": ctx.timestamp(policy.get("CreateDate"), "CreateDate"),
        "update_date": ctx.timestamp(policy.get("UpdateDate"), "UpdateDate"),
        "document": _default_version_document(ctx, policy),
    }


def _membership_row(ctx: _Ctx, user_arn: str, group_name: str, group_arns: dict[str, str]) -> Row:
    # GroupList holds group names; a group missing from GroupDetailList gets the ARN IAM would
    # give it at path "/".
    group_arn = group_arns.get(group_name)
    if group_arn is None:
        group_arn = f"arn:{_arn_partition(user_arn)}:iam::{ctx.account_id}:group/{group_name}"
    return {"account_id": ctx.account_id, "user_arn": user_arn, "group_arn": group_arn}


def _attachment_row(
    ctx: _Ctx, principal_arn: str, principal_type: str, attachment: dict[str, Any]
) -> Row:
    return {
        "account_id": ctx.account_id,
        "principal_arn": principal_arn,
        "principal_type": principal_type,
        "policy_arn": attachment["PolicyArn"],
    }


def _inline_row(
    ctx: _Ctx, principal_arn: str, principal_type: str, policy: dict[str, Any], where: str
) -> Row | None:
    name = policy["PolicyName"]
    document = ctx.document(policy["PolicyDocument"], f"{where}.PolicyDocument")
    if document is None:
        return None
    return {
        "account_id": ctx.account_id,
        "principal_arn": principal_arn,
        "principal_type": principal_type,
        "policy_name": name,
        "document": document,
    }


def _instance_profile_row(ctx: _Ctx, role_arn: str, profile: dict[str, Any]) -> Row:
    # GAAD lists each instance profile under the role it holds (a profile holds at most one role).
    return {
        "account_id": ctx.account_id,
        "instance_profile_name": profile["InstanceProfileName"],
        "instance_profile_id": profile["InstanceProfileId"],
        "arn": profile["Arn"],
        "role_arn": role_arn,
    }


def _land_principal_policies(
    ctx: _Ctx, principal_arn: str, principal_type: str, doc: dict[str, Any], inline_key: str
) -> None:
    for index, attachment in enumerate(doc.get("AttachedManagedPolicies") or []):
        prefix = f"AttachedManagedPolicies[{index}]."
        ctx.land(
            "raw_iam_policy_attachments",
            _attachment_row,
            principal_arn,
            principal_type,
            attachment,
            field_prefix=prefix,
        )
    for index, policy in enumerate(doc.get(inline_key) or []):
        where = f"{inline_key}[{index}]"
        ctx.land(
            "raw_iam_inline_policies",
            _inline_row,
            principal_arn,
            principal_type,
            policy,
            where,
            field_prefix=f"{where}.",
        )


def _land_user(ctx: _Ctx, user: dict[str, Any], group_arns: dict[str, str]) -> None:
    row = ctx.land("raw_iam_users", _user_row, user)
    if row is None:
        return
    for index, group_name in enumerate(user.get("GroupList") or []):
        ctx.land(
            "raw_iam_group_memberships",
            _membership_row,
            row["arn"],
            group_name,
            group_arns,
            field_prefix=f"GroupList[{index}].",
        )
    _land_principal_policies(ctx, row["arn"], "user", user, "UserPolicyList")


def _land_group(ctx: _Ctx, group: dict[str, Any]) -> None:
    row = ctx.land("raw_iam_groups", _group_row, group)
    if row is not None:
        _land_principal_policies(ctx, row["arn"], "group", group, "GroupPolicyList")


def _land_role(ctx: _Ctx, role: dict[str, Any], seen_profiles: set[tuple[str, str]]) -> None:
    row = ctx.land("raw_iam_roles", _role_row, role)
    if row is None:
        return
    _land_principal_policies(ctx, row["arn"], "role", role, "RolePolicyList")
    for index, profile in enumerate(role.get("InstanceProfileList") or []):
        key = (profile.get("Arn") if isinstance(profile, dict) else None, row["arn"])
        if key in seen_profiles:
            continue
        landed = ctx.land(
            "raw_iam_instance_profiles",
            _instance_profile_row,
            row["arn"],
            profile,
            field_prefix=f"InstanceProfileList[{index}].",
        )
        if landed is not None:
            seen_profiles.add(key)


def _group_arns(doc: dict[str, Any]) -> dict[str, str]:
    """Group name -> ARN from GroupDetailList (GAAD's GroupList only carries names)."""
    groups = doc.get("GroupDetailList")
    if not isinstance(groups, list):
        return {}
    return {
        group["GroupName"]: group["Arn"]
        for group in groups
        if isinstance(group, dict) and group.get("GroupName") and group.get("Arn")
    }


def _land_gaad(ctx: _Ctx, doc: dict[str, Any]) -> None:
    group_arns = _group_arns(doc)
    for user_ctx, user in ctx.entries(doc, "UserDetailList"):
        _land_user(user_ctx, user, group_arns)
    for group_ctx, group in ctx.entries(doc, "GroupDetailList"):
        _land_group(group_ctx, group)
    seen_profiles: set[tuple[str, str]] = set()
    for role_ctx, role in ctx.entries(doc, "RoleDetailList"):
        _land_role(role_ctx, role, seen_profiles)
    for policy_ctx, policy in ctx.entries(doc, "Policies"):
        policy_ctx.land("raw_iam_policies", _policy_row, policy)


# ---------------------------------------------------------------------------------------------
# IAM: credential report (CSV)


def _credential_value(ctx: _Ctx, column: pa.Field, raw: str | None) -> Any:
    if raw is None or raw in _CREDENTIAL_REPORT_NULLS:
        return None
    if column.type == pa.bool_():
        if raw in ("true", "false"):
            return raw == "true"
        ctx.reject(f"expected true/false, got {raw!r}", column.name)
        return None
    if column.type == _TS:
        return ctx.timestamp(raw, column.name)
    return raw


def _credential_row(ctx: _Ctx, line: dict[str, str | None]) -> Row:
    row: Row = {"account_id": ctx.account_id, "user": line["user"], "arn": line["arn"]}
    for column in SNAPSHOT_SCHEMAS["raw_credential_report"]:
        if column.name not in row:
            row[column.name] = _credential_value(ctx, column, line.get(column.name))
    return row


def _land_credential_report(ctx: _Ctx, text: str) -> None:
    reader = csv.DictReader(io.StringIO(text))
    try:
        lines = [(reader.line_num, line) for line in reader]
    except csv.Error as err:
        ctx.reject(f"invalid CSV: {err}")
        return
    missing = [name for name in ("user", "arn") if name not in (reader.fieldnames or [])]
    if missing:
        ctx.reject(f"not a credential report: no {', '.join(missing)} column")
        return
    for line_num, line in lines:
        ctx.at(f"line {line_num}").land("raw_credential_report", _credential_row, line)


# ---------------------------------------------------------------------------------------------
# compute and resource policies (per region / per bucket)


def _instance_row(ctx: _Ctx, region: str, instance: dict[str, Any]) -> Row:
    instance_id = instance["InstanceId"]
    arn = f"arn:{_partition(region)}:ec2:{region}:{ctx.account_id}:instance/{instance_id}"
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
        "name": _tag_value(instance.get("Tags"), "Name"),
        "tags_json": _json_text(instance.get("Tags")),
    }


def _land_instances(ctx: _Ctx, doc: dict[str, Any], region: str) -> None:
    for reservation_ctx, reservation in ctx.entries(doc, "Reservations"):
        if not isinstance(reservation, dict):
            reservation_ctx.reject("record is not a JSON object")
            continue
        for instance_ctx, instance in reservation_ctx.entries(reservation, "Instances"):
            instance_ctx.land("raw_ec2_instances", _instance_row, region, instance)


def _function_row(ctx: _Ctx, region: str, function: dict[str, Any]) -> Row:
    return {
        "account_id": ctx.account_id,
        "region": region,
        "function_name": function["FunctionName"],
        "function_arn": function["FunctionArn"],
        "role_arn": function.get("Role"),
        "runtime": function.get("Runtime"),
        "last_modified": ctx.timestamp(function.get("LastModified"), "LastModified"),
    }


def _land_functions(ctx: _Ctx, doc: dict[str, Any], region: str) -> None:
    for function_ctx, function in ctx.entries(doc, "Functions"):
        function_ctx.land("raw_lambda_functions", _function_row, region, function)


def _bucket_policy_row(ctx: _Ctx, bucket: str, doc: Any) -> Row | None:
    # The file is the decoded policy; `get-bucket-policy` output saved as is ({"Policy": "<json
    # text>"}) is accepted too.
    wrapped = isinstance(doc, dict) and doc.keys() == {"Policy"}
    document = ctx.document(doc["Policy"] if wrapped else doc, "Policy" if wrapped else None)
    if document is None:
        return None
    return {"account_id": ctx.account_id, "bucket": bucket, "document": document}


def _land_bucket_policy(ctx: _Ctx, doc: Any, bucket: str) -> None:
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
    ctx: _Ctx, doc: Any, region: str, kind: _ResourcePolicyKind, name: str
) -> Row | None:
    policy, where, named_arn = _unwrap_policy(doc)
    document = ctx.document(policy, where, required=True)
    if document is None:
        return None
    if "Statement" not in json.loads(document):
        ctx.reject("policy document has no Statement", where)
        return None
    resource = kind.arn_resource.format(name=name)
    arn = f"arn:{_partition(region)}:{kind.service}:{region}:{ctx.account_id}:{resource}"
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


def _land_resource_policy(
    ctx: _Ctx, doc: Any, region: str, kind: _ResourcePolicyKind, name: str
) -> None:
    ctx.land("raw_resource_policies", _resource_policy_row, doc, region, kind, name)


# ---------------------------------------------------------------------------------------------
# Organizations


def _organization_row(ctx: _Ctx, doc: dict[str, Any]) -> Row:
    org = doc["Organization"]
    return {
        "organization_id": org["Id"],
        "arn": org["Arn"],
        "management_account_id": org.get("MasterAccountId"),
        "feature_set": org.get("FeatureSet"),
    }


def _org_account_row(ctx: _Ctx, account: dict[str, Any]) -> Row:
    return {
        "account_id": account["Id"],
        "arn": account["Arn"],
        "name": account["Name"],
        "email": account.get("Email"),
        # `Status` is deprecated in favour of `State` (2025); newer CLIs may return only State.
        "status": account.get("Status") or account.get("State"),
        "joined_at": ctx.timestamp(account.get("JoinedTimestamp"), "JoinedTimestamp"),
    }


def _root_row(ctx: _Ctx, root: dict[str, Any]) -> Row:
    return {"root_id": root["Id"], "arn": root["Arn"], "name": root["Name"]}


def _parent_row(ctx: _Ctx, child_id: str, parent: dict[str, Any]) -> Row:
    return {"child_id": child_id, "parent_id": parent["Id"], "parent_type": parent["Type"]}


def _org_policy_row(ctx: _Ctx, doc: dict[str, Any]) -> Row:
    policy = doc["Policy"]
    summary = policy["PolicySummary"]
    return {
        "policy_id": summary["Id"],
        "arn": summary["Arn"],
        "name": summary["Name"],
        "type": summary["Type"],
        "aws_managed": summary.get("AwsManaged"),
        "document": ctx.document(policy.get("Content"), "Content", required=True),
    }


def _target_row(ctx: _Ctx, policy_id: str, target: dict[str, Any]) -> Row:
    return {
        "policy_id": policy_id,
        "target_id": target["TargetId"],
        "target_type": target["Type"],
        "target_name": target["Name"],
        "target_arn": target["Arn"],
    }


def _land_organization(ctx: _Ctx, doc: dict[str, Any]) -> None:
    ctx.at("Organization").land("raw_org_organization", _organization_row, doc)


def _land_accounts(ctx: _Ctx, doc: dict[str, Any]) -> None:
    for account_ctx, account in ctx.entries(doc, "Accounts"):
        account_ctx.land("raw_org_accounts", _org_account_row, account)


def _land_roots(ctx: _Ctx, doc: dict[str, Any]) -> None:
    for root_ctx, root in ctx.entries(doc, "Roots"):
        root_ctx.land("raw_org_roots", _root_row, root)


def _land_parents(ctx: _Ctx, doc: dict[str, Any], child_id: str) -> None:
    for parent_ctx, parent in ctx.entries(doc, "Parents"):
        parent_ctx.land("raw_org_parents", _parent_row, child_id, parent)


def _land_org_policy(ctx: _Ctx, doc: dict[str, Any]) -> None:
    ctx.at("Policy").land("raw_org_policies", _org_policy_row, doc)


def _land_targets(ctx: _Ctx, doc: dict[str, Any], policy_id: str) -> None:
    for target_ctx, target in ctx.entries(doc, "Targets"):
        target_ctx.land("raw_org_policy_targets", _target_row, policy_id, target)


# ---------------------------------------------------------------------------------------------
# files and folders


@dataclass(frozen=True)
class _Snapshot:
    """The snapshot folder being read, where its rows and quarantine entries go."""

    root: Path
    quarantine: Quarantine
    out: dict[str, list[Row]]

    def _open(self, path: Path, account_id: str | None) -> tuple[_Ctx, str] | None:
        """(context, text) of an existing file; None when absent or quarantined (not UTF-8)."""
        if not path.is_file():
            return None
        ctx = _Ctx(path.relative_to(self.root).as_posix(), self.quarantine, self.out, account_id)
        try:
            # utf-8-sig: files saved by Windows PowerShell start with a byte-order mark.
            return ctx, path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as err:
            ctx.reject(f"not UTF-8 text: {err}")
            return None

    def read_text(
        self, path: Path, account_id: str | None, land: Callable[..., None], *args: Any
    ) -> None:
        """`land(ctx, text, *args)` for the file at `path`, if there is one."""
        opened = self._open(path, account_id)
        if opened is not None:
            land(*opened, *args)

    def read_json(
        self,
        path: Path,
        account_id: str | None,
        land: Callable[..., None],
        *args: Any,
        object_only: bool = True,
    ) -> None:
        """`land(ctx, document, *args)` for the JSON file at `path`; invalid JSON is quarantined."""
        opened = self._open(path, account_id)
        if opened is None:
            return
        ctx, text = opened
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as err:
            ctx.reject(f"invalid JSON at line {err.lineno} col {err.colno}: {err.msg}")
            return
        if object_only and not isinstance(doc, dict):
            ctx.reject(f"expected a JSON object, got {type(doc).__name__}")
            return
        land(ctx, doc, *args)


def _subdirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def _json_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(".json"))


def _stem(path: Path) -> str:
    return path.name.removesuffix(".json")


def _read_account(snap: _Snapshot, account_dir: Path) -> None:
    account_id = account_dir.name
    iam = account_dir / "iam"
    snap.read_json(iam / _GAAD_FILE, account_id, _land_gaad)
    snap.read_text(iam / _CREDENTIAL_REPORT_FILE, account_id, _land_credential_report)
    for region_dir in _subdirs(account_dir):
        region = region_dir.name
        instances = region_dir / "ec2" / "describe-instances.json"
        snap.read_json(instances, account_id, _land_instances, region)
        functions = region_dir / "lambda" / "list-functions.json"
        snap.read_json(functions, account_id, _land_functions, region)
        for kind in RESOURCE_POLICY_KINDS:
            for path in _json_files(region_dir / kind.service / kind.folder):
                # File names are percent-encoded resource names (a secret `prod/db`: prod%2Fdb).
                name = unquote(_stem(path))
                snap.read_json(
                    path, account_id, _land_resource_policy, region, kind, name, object_only=False
                )
    for path in _json_files(account_dir / "s3" / "bucket-policies"):
        snap.read_json(path, account_id, _land_bucket_policy, _stem(path), object_only=False)


def _read_organization(snap: _Snapshot, org_dir: Path) -> None:
    snap.read_json(org_dir / "describe-organization.json", None, _land_organization)
    snap.read_json(org_dir / "list-accounts.json", None, _land_accounts)
    snap.read_json(org_dir / "list-roots.json", None, _land_roots)
    for path in _json_files(org_dir / "parents"):
        snap.read_json(path, None, _land_parents, _stem(path))
    for path in _json_files(org_dir / "policies"):
        snap.read_json(path, None, _land_org_policy)
    for path in _json_files(org_dir / "targets"):
        snap.read_json(path, None, _land_targets, _stem(path))


def read_snapshot(snapshot_dir: str | Path, quarantine: Quarantine) -> dict[str, pa.Table]:
    """Every table of SNAPSHOT_SCHEMAS (empty when there is no data) from one snapshot folder.

    Account folders are the 12-digit sub-folders; `organization/` is optional. Files missing from
    the layout land nothing; unknown files are ignored. Bad input goes to `quarantine`.
    """
    root = Path(snapshot_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"snapshot folder not found: {root}")
    snap = _Snapshot(root, quarantine, {name: [] for name in SNAPSHOT_SCHEMAS})
    for account_dir in _subdirs(root):
        if _ACCOUNT_DIR.match(account_dir.name):
            _read_account(snap, account_dir)
    _read_organization(snap, root / "organization")
    return {
        name: pa.Table.from_pylist(snap.out[name], schema=schema)
        for name, schema in SNAPSHOT_SCHEMAS.items()
    }
