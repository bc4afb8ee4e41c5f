"""Demo writers: each account's get-account-authorization-details (snapshot documents)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import Any, Protocol, TypeVar

from pipelines.demo.accounts import cli_time, fake_id, parse_trail, ts
from pipelines.demo.last_used import LastUsed
from pipelines.demo.principals import Inline, Role, User
from pipelines.demo.reference import aws_managed
from pipelines.demo.scenarios import TABLES


class _Named(Protocol):
    @property
    def account(self) -> str: ...

    @property
    def name(self) -> str: ...


T = TypeVar("T", bound=_Named)


def _tags(tags: tuple[tuple[str, str], ...]) -> list[dict]:
    return [{"Key": k, "Value": v} for k, v in tags]


def _attached(account: str, names: Iterable[str]) -> list[dict]:
    return [{"PolicyName": n, "PolicyArn": TABLES.managed_arn(account, n)} for n in names]


def _inline(items: Inline) -> list[dict]:
    return [{"PolicyName": name, "PolicyDocument": document} for name, document in items]


def _role_core(role: Role) -> dict:
    return {
        "Path": role.path,
        "RoleName": role.name,
        "RoleId": role.id,
        "Arn": role.arn,
        "CreateDate": cli_time(ts(role.created)),
        "AssumeRolePolicyDocument": role.trust,
    }


def _instance_profile(role: Role) -> dict:
    arn = f"arn:aws:iam::{role.account}:instance-profile/{role.name}"
    return {
        "Path": "/",
        "InstanceProfileName": role.name,
        "InstanceProfileId": fake_id("AIPA", arn),
        "Arn": arn,
        "CreateDate": cli_time(ts(role.created)),
        "Roles": [_role_core(role)],
    }


def authorization_details(account: str, snapshot: date, last_used: LastUsed) -> dict:
    """aws iam get-account-authorization-details of an account in a snapshot."""
    attachments: Counter[str] = Counter()
    boundaries: Counter[str] = Counter()
    users = []
    for user in _by_name(TABLES.users, account):
        managed = user.managed_in(snapshot)
        attachments.update(managed)
        if user.boundary:
            boundaries[user.boundary] += 1
        users.append(_user_entry(user, managed))
    groups = []
    for group in _by_name(TABLES.groups, account):
        attachments.update(group.managed)
        groups.append(
            {
                "Path": "/",
                "GroupName": group.name,
                "GroupId": fake_id("AGPA", group.arn),
                "Arn": group.arn,
                "CreateDate": cli_time(ts(group.created)),
                "GroupPolicyList": _inline(group.inline),
                "AttachedManagedPolicies": _attached(account, group.managed),
            }
        )
    roles = []
    for role in _by_name(TABLES.roles, account):
        attachments.update(role.managed)
        if role.boundary:
            boundaries[role.boundary] += 1
        roles.append(_role_entry(role, last_used))
    return {
        "UserDetailList": users,
        "GroupDetailList": groups,
        "RoleDetailList": roles,
        "Policies": _policies(account, attachments, boundaries),
    }


def _by_name(rows: Iterable[T], account: str) -> list[T]:
    return sorted((r for r in rows if r.account == account), key=lambda r: r.name)


def _user_entry(user: User, managed: tuple[str, ...]) -> dict:
    entry: dict[str, Any] = {
        "Path": "/",
        "UserName": user.name,
        "UserId": user.id,
        "Arn": user.arn,
        "CreateDate": cli_time(ts(user.created)),
    }
    if user.inline:  # AWS omits UserPolicyList when a user has no inline policy
        entry["UserPolicyList"] = _inline(user.inline)
    entry["GroupList"] = list(user.groups)
    entry["AttachedManagedPolicies"] = _attached(user.account, managed)
    if user.boundary:
        entry["PermissionsBoundary"] = {
            "PermissionsBoundaryType": "Policy",
            "PermissionsBoundaryArn": TABLES.managed_arn(user.account, user.boundary),
        }
    entry["Tags"] = _tags(user.tags)
    return entry


def _role_entry(role: Role, last_used: LastUsed) -> dict:
    entry = _role_core(role)
    entry["InstanceProfileList"] = [_instance_profile(role)] if role.instance_profile else []
    entry["RolePolicyList"] = _inline(role.inline)
    entry["AttachedManagedPolicies"] = _attached(role.account, role.managed)
    if role.boundary:
        entry["PermissionsBoundary"] = {
            "PermissionsBoundaryType": "Policy",
            "PermissionsBoundaryArn": TABLES.managed_arn(role.account, role.boundary),
        }
    entry["Tags"] = _tags(role.tags)
    seen = last_used.get(role.arn, {}).get("role")
    if seen:
        entry["RoleLastUsed"] = {"LastUsedDate": cli_time(parse_trail(seen[0])), "Region": seen[1]}
    elif role.used_before:
        when, region = role.used_before
        entry["RoleLastUsed"] = {"LastUsedDate": cli_time(ts(when)), "Region": region}
    else:
        entry["RoleLastUsed"] = {}
    return entry


def _policies(account: str, attachments: Counter[str], boundaries: Counter[str]) -> list[dict]:
    """The account's customer-managed policies, then the AWS-managed ones it uses, by name."""
    result = []
    for policy in _by_name(TABLES.customer_policies, account):
        arn = TABLES.managed_arn(account, policy.name)
        versions = [
            _version(document, f"v{number}", number == policy.default, cli_time(ts(created)))
            for number, (created, document) in enumerate(policy.versions, start=1)
        ]
        versions.sort(key=lambda v: not v["IsDefaultVersion"])  # AWS lists the default first
        created, updated = policy.versions[0][0], policy.versions[-1][0]
        entry = _policy_entry(policy.name, fake_id("ANPA", arn), arn, "/", f"v{policy.default}")
        entry |= _usage(policy.name, attachments, boundaries)
        entry |= {"CreateDate": cli_time(ts(created)), "UpdateDate": cli_time(ts(updated))}
        result.append(entry | {"PolicyVersionList": versions})
    in_use = {n for n in (*attachments, *boundaries) if (account, n) not in TABLES.customer_by_key}
    for name in sorted(in_use):
        policy = aws_managed()[name]
        default = policy["default_version_id"]
        entry = _policy_entry(name, policy["policy_id"], policy["arn"], policy["path"], default)
        entry |= _usage(name, attachments, boundaries)
        entry |= {"CreateDate": policy["create_date"], "UpdateDate": policy["update_date"]}
        version = _version(policy["document"], default, True, policy["update_date"])
        result.append(entry | {"PolicyVersionList": [version]})
    return result


def _policy_entry(name: str, policy_id: str, arn: str, path: str, default: str) -> dict:
    return {
        "PolicyName": name,
        "PolicyId": policy_id,
        "Arn": arn,
        "Path": path,
        "DefaultVersionId": default,
    }


def _usage(name: str, attachments: Counter[str], boundaries: Counter[str]) -> dict:
    return {
        "AttachmentCount": attachments[name],
        "PermissionsBoundaryUsageCount": boundaries[name],
        "IsAttachable": True,
    }


def _version(document: dict, version: str, default: bool, created: str) -> dict:
    return {
        "Document": document,
        "VersionId": version,
        "IsDefaultVersion": default,
        "CreateDate": created,
    }
