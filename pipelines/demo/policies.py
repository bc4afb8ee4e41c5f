"""Demo builders: IAM policy documents, trust policies, customer-managed policies and SCPs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipelines.demo.accounts import GITHUB_SUB, OIDC_HOST, fake_hex

Principal = str | dict[str, Any]


def _one_or_list(values: tuple[str, ...]) -> str | list[str]:
    return values[0] if len(values) == 1 else list(values)


def allow(
    *actions: str,
    resource: str | tuple[str, ...] | list[str] | None = "*",
    sid: str | None = None,
    condition: dict | None = None,
    not_action: bool = False,
    principal: Principal | None = None,
) -> dict:
    """An Allow statement; with principal= a resource or trust policy's (resource=None: none)."""
    return _statement("Allow", actions, resource, sid, condition, not_action, principal)


def deny(
    *actions: str,
    resource: str | tuple[str, ...] | list[str] | None = "*",
    sid: str | None = None,
    condition: dict | None = None,
    principal: Principal | None = None,
) -> dict:
    return _statement("Deny", actions, resource, sid, condition, False, principal)


def _statement(
    effect: str,
    actions: tuple[str, ...],
    resource: str | tuple[str, ...] | list[str] | None,
    sid: str | None,
    condition: dict | None,
    not_action: bool,
    principal: Principal | None,
) -> dict:
    statement: dict[str, Any] = {"Sid": sid} if sid else {}
    statement["Effect"] = effect
    if principal is not None:
        statement["Principal"] = principal
    statement["NotAction" if not_action else "Action"] = _one_or_list(actions)
    if resource is not None:
        statement["Resource"] = resource if isinstance(resource, str) else list(resource)
    if condition:
        statement["Condition"] = condition
    return statement


def doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


ADMIN_INLINE = doc(allow("*"))  # what Organizations puts in OrganizationAccountAccessRole

# ---- trust policies -----------------------------------------------------------------------------


def _trust(principal: Principal, *actions: str, condition: dict | None = None) -> dict:
    return doc(allow(*actions, resource=None, principal=principal, condition=condition))


def trust_service(service: str) -> dict:
    return _trust({"Service": service}, "sts:AssumeRole")


def trust_aws(arn: str) -> dict:
    return _trust({"AWS": arn}, "sts:AssumeRole")


def trust_external_id(arn: str, external_id: str) -> dict:
    return _trust(
        {"AWS": arn},
        "sts:AssumeRole",
        condition={"StringEquals": {"sts:ExternalId": external_id}},
    )


def trust_oidc(account: str, sub: str | None = GITHUB_SUB) -> dict:
    """GitHub Actions OIDC trust; sub=None leaves only the audience check (any repository)."""
    condition: dict[str, dict] = {"StringEquals": {f"{OIDC_HOST}:aud": "sts.amazonaws.com"}}
    if sub:
        condition["StringLike"] = {f"{OIDC_HOST}:sub": sub}
    provider = f"arn:aws:iam::{account}:oidc-provider/{OIDC_HOST}"
    return _trust({"Federated": provider}, "sts:AssumeRoleWithWebIdentity", condition=condition)


def saml_provider(account: str) -> str:
    return (
        f"arn:aws:iam::{account}:saml-provider/AWSSSO_{fake_hex('sso' + account, 16)}_DO_NOT_DELETE"
    )


def trust_sso(account: str) -> dict:
    return _trust(
        {"Federated": saml_provider(account)},
        "sts:AssumeRoleWithSAML",
        "sts:TagSession",
        condition={"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
    )


def sso_role(permission_set: str, account: str) -> str:
    return f"AWSReservedSSO_{permission_set}_{fake_hex(permission_set + account, 16)}"


# ---- bucket policies -----------------------------------------------------------------------------


def bucket_arns(bucket: str) -> list[str]:
    return [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]


def deny_insecure(bucket: str) -> dict:
    return deny(
        "s3:*",
        principal="*",
        resource=bucket_arns(bucket),
        sid="DenyInsecureTransport",
        condition={"Bool": {"aws:SecureTransport": "false"}},
    )


# ---- managed policies and SCPs -------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerPolicy:
    account: str
    name: str
    versions: tuple[tuple[str, dict], ...]  # (created, document) for v1, v2, ...
    default: int  # 1-based version number that is the default
    description: str = ""


def customer_policy(
    account: str, name: str, created: str, document: dict, why: str
) -> CustomerPolicy:
    """A customer-managed policy with a single version (v1, the default)."""
    return CustomerPolicy(account, name, ((created, document),), 1, why)


@dataclass(frozen=True)
class Scp:
    id: str
    name: str
    description: str
    aws_managed: bool
    document: dict
    targets: tuple[str, ...]  # root, OU or account ids
