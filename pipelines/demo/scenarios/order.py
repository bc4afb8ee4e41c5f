"""Demo scenarios: the order the committed demo consumes its tables in (the trail, the README)."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

from pipelines.demo.scenarios.usage import (
    SSO_ADMIN_MGMT,
    SSO_ADMIN_PROD,
    SSO_READONLY_DEV,
    SSO_READONLY_PROD,
)

T = TypeVar("T")

# The generator draws every random id and time from one seeded stream, activity after activity,
# and the README lists principals, compute and near misses in table order. The lists below pin
# the order of the committed data/demo (the families declare their rows in an order that reads
# well). A row they do not name comes after the pinned ones, in family order: a new scenario needs
# no entry here, and appending keeps every earlier event of the trail as it is.

USERS = (
    "mgmt/alice.admin", "mgmt/break-glass", "mgmt/billing-viewer", "mgmt/carol.audit",
    "mgmt/support-engineer",
    "prod/contractor-temp", "prod/ci-deployer", "prod/ops-oncall", "prod/s3-boundary-admin",
    "dev/dana.dev", "dev/platform-lead", "dev/sandbox-owner", "dev/legacy-backup",
    "dev/intern-2026", "dev/metrics-reader", "dev/policy-bot",
)  # fmt: skip

GROUPS = ("mgmt/Admins", "mgmt/Auditors", "prod/Operators", "dev/Developers")

ROLES = (
    "mgmt/ciem-collector", SSO_ADMIN_MGMT, "mgmt/AWSServiceRoleForOrganizations",
    "mgmt/AWSServiceRoleForSSO", "mgmt/AWSServiceRoleForTrustedAdvisor",
    "prod/OrganizationAccountAccessRole", "prod/ciem-readonly", "prod/web-app-ec2-role",
    "prod/batch-admin-ec2-role", "prod/orders-lambda-role", "prod/lambda-admin-exec",
    "prod/incident-admin-role", "prod/vendor-audit-role", "prod/github-actions-deploy",
    "prod/github-images-push", "prod/partner-billing-role", "prod/release-automation-role",
    "prod/orders-deploy-role", SSO_ADMIN_PROD, SSO_READONLY_PROD, "prod/legacy-etl-role",
    "prod/new-analytics-role", "prod/AWSServiceRoleForElasticLoadBalancing",
    "prod/AWSServiceRoleForSSO", "prod/AWSServiceRoleForTrustedAdvisor",
    "dev/OrganizationAccountAccessRole", "dev/ciem-readonly", "dev/dev-ec2-role",
    "dev/image-resize-lambda-role", "dev/report-gen-lambda-role", "dev/data-migration-role",
    "dev/quarterly-report-role", SSO_READONLY_DEV, "dev/shared-debug-role",
    "dev/AWSServiceRoleForSSO", "dev/AWSServiceRoleForTrustedAdvisor",
)  # fmt: skip

INSTANCES = (
    "mgmt/ciem-runner", "prod/web-1", "prod/batch-worker-1", "prod/batch-worker-old",
    "prod/web-2", "prod/bastion-eu", "dev/dev-box-1", "dev/dev-box-2",
)  # fmt: skip

FUNCTIONS = (
    "prod/orders-api", "prod/ops-automation", "prod/hotfix-admin-fn", "dev/report-gen",
    "dev/image-resize",
)  # fmt: skip

# One entry per activity, by actor: an actor named n times takes its first n activities.
ACTIVITIES = (
    # -- management account
    "mgmt/alice.admin", "mgmt/billing-viewer", "mgmt/carol.audit", "mgmt/carol.audit",
    "mgmt/ciem-collector", SSO_ADMIN_MGMT, "mgmt/AWSServiceRoleForTrustedAdvisor", "mgmt",
    # -- prod account
    "prod/ciem-readonly",
    "prod/OrganizationAccountAccessRole", "prod/OrganizationAccountAccessRole",
    "prod/OrganizationAccountAccessRole", "prod/OrganizationAccountAccessRole",
    "prod/contractor-temp", "prod/contractor-temp", "prod/contractor-temp",
    "prod/ci-deployer", "prod/ci-deployer", "prod/ci-deployer", "prod/ci-deployer",
    "prod/ops-oncall", "prod/ops-oncall", "prod/s3-boundary-admin", "prod/s3-boundary-admin",
    "prod/web-app-ec2-role", "prod/web-app-ec2-role", "prod/web-app-ec2-role",
    "prod/batch-admin-ec2-role", "prod/orders-lambda-role",
    "prod/lambda-admin-exec", "prod/lambda-admin-exec",
    "prod/vendor-audit-role", "prod/github-actions-deploy", SSO_ADMIN_PROD,
    "prod/new-analytics-role", "prod/AWSServiceRoleForElasticLoadBalancing",
    "prod/AWSServiceRoleForTrustedAdvisor", "prod", "prod",
    # -- dev account
    "dev/ciem-readonly", "dev/dana.dev", "dev/dana.dev", "dev/dana.dev",
    "dev/data-migration-role", "dev/platform-lead", "dev/platform-lead",
    "dev/quarterly-report-role", "dev/sandbox-owner", "dev/sandbox-owner",
    "dev/metrics-reader", "dev/metrics-reader", "dev/metrics-reader", "dev/dev-ec2-role",
    "dev/image-resize-lambda-role", "dev/image-resize-lambda-role",
    "dev/report-gen-lambda-role", SSO_READONLY_DEV, "dev/AWSServiceRoleForTrustedAdvisor", "dev",
    # -- added with the credential / trust / escalation rules (last: earlier events stay put)
    "mgmt/support-engineer", "prod/OrganizationAccountAccessRole",
    "prod/partner-billing-role", "prod/github-images-push", "dev/policy-bot", "dev/policy-bot",
    "dev",
)  # fmt: skip

NEAR_MISSES = (
    ("prod/s3-boundary-admin", "admin-iam-user"),
    ("dev/platform-lead", "admin-iam-user"),
    ("dev/report-gen-lambda-role", "admin-iam-role"),
    ("prod/contractor-temp", "admin-iam-user"),
    ("prod/web-app-ec2-role", "large-permissions-gap"),
    ("prod/ci-deployer", "large-permissions-gap"),
    ("prod/github-actions-deploy", "large-permissions-gap"),
    ("mgmt/ciem-collector", "large-permissions-gap"),
    ("dev/metrics-reader", "large-permissions-gap"),
    ("dev/quarterly-report-role", "large-permissions-gap"),
    ("dev/intern-2026", "inactive-identity"),
    ("prod/new-analytics-role", "large-permissions-gap"),
    ("mgmt/AWSServiceRoleForSSO", "inactive-identity"),
    ("prod/AWSServiceRoleForElasticLoadBalancing", "admin-iam-role"),
    ("prod/batch-worker-old", "admin-ec2-instance"),
    # -- the credential / trust / escalation / resource rules
    ("mgmt/alice.admin", "inactive-admin"),
    (SSO_READONLY_PROD, "inactive-admin"),
    ("dev/data-migration-role", "unused-role"),
    ("prod/orders-deploy-role", "unused-role"),
    ("mgmt/AWSServiceRoleForOrganizations", "unused-role"),
    ("dev/intern-2026", "unused-password"),
    ("dev/intern-2026", "unused-access-key"),
    ("prod/ci-deployer", "unused-access-key"),
    ("prod/ci-deployer", "access-key-not-rotated"),
    ("dev/sandbox-owner", "console-user-without-mfa"),
    ("mgmt/root", "root-account-used"),
    ("prod/root", "root-access-key-present"),
    ("dev/shared-debug-role", "trust-outside-organization"),
    ("prod/partner-billing-role", "cross-account-trust-without-external-id"),
    ("prod/new-analytics-role", "cross-account-trust-without-external-id"),
    ("prod/ciem-readonly", "cross-account-trust-without-external-id"),
    ("prod/ciem-readonly", "trust-outside-organization"),
    ("prod/github-actions-deploy", "oidc-trust-without-subject"),
    ("prod/github-actions-deploy", "privilege-escalation"),
    ("prod/orders-deploy-role", "privilege-escalation"),
    ("dev/dana.dev", "privilege-escalation"),
    ("dev/report-gen-lambda-role", "privilege-escalation"),
    ("mgmt/ciem-collector", "can-assume-admin-role"),
    ("dev/dana.dev", "can-assume-admin-role"),
    ("prod/s3-boundary-admin", "large-blast-radius"),
    ("mgmt/carol.audit", "large-blast-radius"),
    ("dev/ciem-demo-dev-artifacts", "public-resource-policy"),
    ("prod/ciem-demo-prod-alb-logs", "public-resource-policy"),
    ("dev/ciem-demo-dev-artifacts", "cross-account-resource-policy"),
    ("prod/ciem-demo-prod-public-assets", "cross-account-resource-policy"),
)


def pinned(
    rows: Iterable[T], order: Iterable[Hashable], key: Callable[[T], Hashable]
) -> tuple[T, ...]:
    """The rows whose key the order names, in its order, then the others as they came.

    A key named n times takes the first n rows with that key; naming a key more often than the
    families declare it is an error (a renamed or removed row must leave the order too).
    """
    rows = tuple(rows)
    waiting: dict[Hashable, deque[int]] = defaultdict(deque)
    for index, row in enumerate(rows):
        waiting[key(row)].append(index)
    taken: list[int] = []
    for name in order:
        if not waiting[name]:
            raise ValueError(f"the committed order names {name!r}, which no scenario declares")
        taken.append(waiting[name].popleft())
    rest = sorted(set(range(len(rows))) - set(taken))
    return tuple(rows[i] for i in (*taken, *rest))
