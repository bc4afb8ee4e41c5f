"""AWS's special cases for `ciem explain` (serve layer): requests AWS refuses or grants whatever
the policies say. Each rule names the AWS page it follows."""

from __future__ import annotations

from pipelines.lib.serve.statements import Identity

# Actions that change a role's permissions, trust or existence.
ROLE_CHANGE_ACTIONS = frozenset(
    {
        "iam:attachrolepolicy",
        "iam:detachrolepolicy",
        "iam:putrolepolicy",
        "iam:deleterolepolicy",
        "iam:updateassumerolepolicy",
        "iam:putrolepermissionsboundary",
        "iam:deleterolepermissionsboundary",
        "iam:deleterole",
        "iam:updaterole",
    }
)
# The KMS actions that create, repoint or delete an alias.
KMS_ALIAS_ACTIONS = frozenset({"kms:createalias", "kms:updatealias", "kms:deletealias"})
SSO_ROLE_PATH = ":role/aws-reserved/sso.amazonaws.com/"
SERVICE_LINKED_ROLE_PATH = ":role/aws-service-role/"


def is_sso_role(arn: str, identity: Identity | None) -> bool:
    return SSO_ROLE_PATH in arn or bool(identity and identity.is_sso_reserved)


def is_service_linked_role(arn: str, identity: Identity | None) -> bool:
    return SERVICE_LINKED_ROLE_PATH in arn or bool(identity and identity.is_service_linked)


def aws_refusal(action: str, resource: str | None, target: Identity | None) -> str | None:
    """Why AWS refuses `action` on `resource` whatever the policies allow, or None.

    `target`: the snapshot's user or role whose ARN is `resource`, if any. `action` lower case."""
    if resource is None:
        return None
    if action in ROLE_CHANGE_ACTIONS and is_sso_role(resource, target):
        # IAM Identity Center owns the roles of its permission sets: they cannot be modified or
        # deleted in IAM (https://docs.aws.amazon.com/singlesignon/latest/userguide/referencingpermissionsets.html).
        return "IAM Identity Center roles (/aws-reserved/sso.amazonaws.com/) cannot be modified"
    if action in ROLE_CHANGE_ACTIONS and is_service_linked_role(resource, target):
        # A service-linked role's trust and permissions are the service's; it is deleted only
        # through the service (iam:DeleteServiceLinkedRole)
        # (https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html).
        return "a service-linked role's policies and trust cannot be changed in IAM"
    if action in KMS_ALIAS_ACTIONS and ":alias/aws/" in resource and resource.startswith("arn:"):
        # "The alias/aws/ prefix is reserved for AWS managed keys"
        # (https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html).
        return "aliases under alias/aws/ are reserved for AWS managed keys"
    return None


def is_aws_managed_policy(arn: str) -> bool:
    """`arn:aws:iam::aws:policy/…`: AWS-managed policies belong to no account of the snapshot
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html#aws-managed-policies):
    reading them needs only the caller's identity policy."""
    parts = arn.split(":", 5)
    return len(parts) == 6 and parts[2] == "iam" and parts[4] == "aws"
