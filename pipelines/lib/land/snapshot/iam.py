"""IAM files of a snapshot (landing layer): get-account-authorization-details.json (users, groups,
roles, managed policies, attachments, inline policies, instance profiles) and the credential
report CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

import pyarrow as pa

from pipelines.lib.land.snapshot.context import (
    CREDENTIAL_REPORT_NULLS,
    Ctx,
    Seen,
    arn_partition,
    boundary_arn,
)
from pipelines.lib.land.snapshot.grammar import IDENTITY, TRUST
from pipelines.lib.land.snapshot.schemas import SNAPSHOT_SCHEMAS, TS, Row

# ---------------------------------------------------------------------------------------------
# IAM: get-account-authorization-details


def _user_row(ctx: Ctx, user: dict[str, Any]) -> Row:
    return {
        "account_id": ctx.account_id,
        "user_name": user["UserName"],
        "user_id": user["UserId"],
        "arn": user["Arn"],
        "path": user.get("Path"),
        "create_date": ctx.timestamp(user.get("CreateDate"), "CreateDate"),
        "password_last_used": ctx.timestamp(user.get("PasswordLastUsed"), "PasswordLastUsed"),
        "permissions_boundary_arn": boundary_arn(user),
        "tags_json": ctx.tags(user.get("Tags")),
    }


def _group_row(ctx: Ctx, group: dict[str, Any]) -> Row:
    return {
        "account_id": ctx.account_id,
        "group_name": group["GroupName"],
        "group_id": group["GroupId"],
        "arn": group["Arn"],
        "path": group.get("Path"),
        "create_date": ctx.timestamp(group.get("CreateDate"), "CreateDate"),
    }


def _role_row(ctx: Ctx, role: dict[str, Any]) -> Row:
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
        "assume_role_policy_document": ctx.document(trust, "AssumeRolePolicyDocument", TRUST),
        "permissions_boundary_arn": boundary_arn(role),
        "role_last_used_at": ctx.timestamp(
            last_used.get("LastUsedDate"), "RoleLastUsed.LastUsedDate"
        ),
        "role_last_used_region": last_used.get("Region"),
        # Service-linked roles live under /aws-service-role/ and are exempt from SCPs.
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html
        "is_service_linked": isinstance(path, str) and path.startswith("/aws-service-role/"),
        "tags_json": ctx.tags(role.get("Tags")),
    }


def _default_version_document(ctx: Ctx, policy: dict[str, Any]) -> str | None:
    """The document of the version with IsDefaultVersion true (the one IAM evaluates)."""
    for index, version in enumerate(policy.get("PolicyVersionList") or []):
        if version.get("IsDefaultVersion") is True:
            where = f"PolicyVersionList[{index}].Document"
            return ctx.document(version.get("Document"), where, IDENTITY, required=True)
    ctx.reject("no policy version with IsDefaultVersion true", "PolicyVersionList")
    return None


def _policy_row(ctx: Ctx, policy: dict[str, Any]) -> Row:
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


def _membership_row(ctx: Ctx, user_arn: str, group_name: str, group_arns: dict[str, str]) -> Row:
    # GroupList holds group names; a group missing from GroupDetailList gets the ARN IAM would
    # give it at path "/".
    group_arn = group_arns.get(group_name)
    if group_arn is None:
        group_arn = f"arn:{arn_partition(user_arn)}:iam::{ctx.account_id}:group/{group_name}"
    return {"account_id": ctx.account_id, "user_arn": user_arn, "group_arn": group_arn}


def _attachment_row(
    ctx: Ctx, principal_arn: str, principal_type: str, attachment: dict[str, Any]
) -> Row:
    return {
        "account_id": ctx.account_id,
        "principal_arn": principal_arn,
        "principal_type": principal_type,
        "policy_arn": attachment["PolicyArn"],
    }


def _inline_row(
    ctx: Ctx, principal_arn: str, principal_type: str, policy: dict[str, Any], where: str
) -> Row | None:
    name = policy["PolicyName"]
    document = ctx.document(policy["PolicyDocument"], f"{where}.PolicyDocument", IDENTITY)
    if document is None:
        return None
    return {
        "account_id": ctx.account_id,
        "principal_arn": principal_arn,
        "principal_type": principal_type,
        "policy_name": name,
        "document": document,
    }


def _instance_profile_row(ctx: Ctx, role_arn: str, profile: dict[str, Any]) -> Row:
    # GAAD lists each instance profile under the role it holds (a profile holds at most one role).
    return {
        "account_id": ctx.account_id,
        "instance_profile_name": profile["InstanceProfileName"],
        "instance_profile_id": profile["InstanceProfileId"],
        "arn": profile["Arn"],
        "role_arn": role_arn,
    }


def _land_principal_policies(
    ctx: Ctx, principal_arn: str, principal_type: str, doc: dict[str, Any], inline_key: str
) -> None:
    attached = Seen("PolicyArn")
    for index, attachment in enumerate(doc.get("AttachedManagedPolicies") or []):
        prefix = f"AttachedManagedPolicies[{index}]."
        if attached.repeated(ctx, attachment, prefix[:-1], prefix[:-1]):
            continue
        ctx.land(
            "raw_iam_policy_attachments",
            _attachment_row,
            principal_arn,
            principal_type,
            attachment,
            field_prefix=prefix,
        )
    inline = Seen("PolicyName")
    for index, policy in enumerate(doc.get(inline_key) or []):
        where = f"{inline_key}[{index}]"
        if inline.repeated(ctx, policy, where, where):
            continue
        ctx.land(
            "raw_iam_inline_policies",
            _inline_row,
            principal_arn,
            principal_type,
            policy,
            where,
            field_prefix=f"{where}.",
        )


def _land_user(ctx: Ctx, user: dict[str, Any], group_arns: dict[str, str]) -> None:
    row = ctx.land("raw_iam_users", _user_row, user)
    if row is None:
        return
    groups = Seen()
    for index, group_name in enumerate(user.get("GroupList") or []):
        if groups.repeated(ctx, group_name, f"GroupList[{index}]", f"GroupList[{index}]"):
            continue
        ctx.land(
            "raw_iam_group_memberships",
            _membership_row,
            row["arn"],
            group_name,
            group_arns,
            field_prefix=f"GroupList[{index}].",
        )
    _land_principal_policies(ctx, row["arn"], "user", user, "UserPolicyList")


def _land_group(ctx: Ctx, group: dict[str, Any]) -> None:
    row = ctx.land("raw_iam_groups", _group_row, group)
    if row is not None:
        _land_principal_policies(ctx, row["arn"], "group", group, "GroupPolicyList")


def _land_role(ctx: Ctx, role: dict[str, Any], seen_profiles: set[tuple[str, str]]) -> None:
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
    arns: dict[str, str] = {}
    for group in groups:
        if isinstance(group, dict) and group.get("GroupName") and group.get("Arn"):
            arns.setdefault(group["GroupName"], group["Arn"])  # a repeated group: the first
    return arns


def land_gaad(ctx: Ctx, doc: dict[str, Any]) -> None:
    # A record repeated under its ARN (pages merged twice) lands once. The ARN, not the id, is
    # the key: it keys every row downstream, and hand-written dumps (IAMSpy's) reuse one id.
    group_arns = _group_arns(doc)
    users = ctx.entries(doc, "UserDetailList", Seen("Arn"), subject="Arn")
    for user_ctx, user in users:
        _land_user(user_ctx, user, group_arns)
    groups = ctx.entries(doc, "GroupDetailList", Seen("Arn"), subject="Arn")
    for group_ctx, group in groups:
        _land_group(group_ctx, group)
    seen_profiles: set[tuple[str, str]] = set()
    roles = ctx.entries(doc, "RoleDetailList", Seen("Arn"), subject="Arn")
    for role_ctx, role in roles:
        _land_role(role_ctx, role, seen_profiles)
    policies = ctx.entries(doc, "Policies", Seen("Arn"), subject="Arn")
    for policy_ctx, policy in policies:
        policy_ctx.land("raw_iam_policies", _policy_row, policy)


# ---------------------------------------------------------------------------------------------
# IAM: credential report (CSV)


def _credential_value(ctx: Ctx, column: pa.Field, raw: str | None) -> Any:
    if raw is None or raw in CREDENTIAL_REPORT_NULLS:
        return None
    if column.type == pa.bool_():
        if raw in ("true", "false"):
            return raw == "true"
        ctx.reject(f"expected true/false, got {raw!r}", column.name)
        return None
    if column.type == TS:
        return ctx.timestamp(raw, column.name)
    return raw


def _credential_row(ctx: Ctx, line: dict[str, str | None]) -> Row:
    row: Row = {"account_id": ctx.account_id, "user": line["user"], "arn": line["arn"]}
    for column in SNAPSHOT_SCHEMAS["raw_credential_report"]:
        if column.name not in row:
            row[column.name] = _credential_value(ctx, column, line.get(column.name))
    return row


def land_credential_report(ctx: Ctx, text: str) -> None:
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
    seen = Seen("arn")
    width = len(reader.fieldnames or [])
    for line_num, line in lines:
        line_ctx = ctx.at(f"line {line_num}").about(line.get("arn"))
        # A line with fewer or more fields than the header cannot be read column by column (its
        # values would land in the wrong columns, or as missing): the line is refused whole.
        fields = width - sum(v is None for k, v in line.items() if k is not None)
        fields += len(line.get(None) or [])  # the values past the header (DictReader restkey)
        if fields != width:
            line_ctx.reject(f"expected {width} fields as in the header, got {fields}")
            continue
        if not seen.repeated(line_ctx, line, line_ctx.record or ""):
            line_ctx.land("raw_credential_report", _credential_row, line)
