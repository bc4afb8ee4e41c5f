"""Demo scenarios, trust: outside accounts, GitHub OIDC, a wildcard, trusts naming a principal."""

from __future__ import annotations

from pipelines.demo.accounts import DEV, EXTERNAL, GITHUB_SUB, MGMT, PROD
from pipelines.demo.activity import WEEKDAYS, Activity, NearMiss
from pipelines.demo.policies import (
    allow,
    customer_policy,
    doc,
    trust_aws,
    trust_external_id,
    trust_oidc,
)
from pipelines.demo.principals import Group, Role, User

PARTNER_EXTERNAL_ID = "ciem-demo-7f3a9c2e"
# The subject GitHub puts in the web-images workflow's token (its role's trust does not check it).
WEB_IMAGES_SUB = "repo:ciem-demo/web-images:ref:refs/heads/main"

CUSTOMER_POLICIES = (
    customer_policy(
        PROD,
        "GitHubDeployPolicy",
        "2025-11-03 10:00",
        doc(
            allow(
                "cloudformation:DescribeStacks",
                "cloudformation:CreateChangeSet",
                "cloudformation:DescribeChangeSet",
                "cloudformation:ExecuteChangeSet",
                "cloudformation:GetTemplate",
                resource=f"arn:aws:cloudformation:*:{PROD}:stack/orders-api/*",
            ),
            allow("s3:PutObject", resource="arn:aws:s3:::ciem-demo-prod-artifacts/*"),
            allow("iam:PassRole", resource=f"arn:aws:iam::{PROD}:role/cfn-exec-*"),
        ),
        "GitHub Actions deploys the orders-api stack",
    ),
)

USERS = (
    User(MGMT, "support-engineer", "2025-11-10 09:00",
         "Tight support user (console, MFA) allowed sts:AssumeRole on every account's "
         "OrganizationAccountAccessRole (admin, trusts the management account); uses it.",
         inline=(("support-access", doc(
             allow("support:DescribeCases", "health:DescribeEvents", sid="SupportRead"),
             allow("sts:AssumeRole",
                   resource="arn:aws:iam::*:role/OrganizationAccountAccessRole",
                   sid="AssumeMemberAdmin"))),),
         console=True, mfa=True),
    User(PROD, "ops-oncall", "2025-06-02 07:45",
         "Console user WITHOUT MFA; group Operators (EC2 + CloudWatch full access).",
         groups=("Operators",), console=True, mfa=False),
)  # fmt: skip

GROUPS = (
    Group(PROD, "Operators", "2025-06-02 07:40", "AmazonEC2FullAccess + CloudWatchFullAccess.",
          managed=("AmazonEC2FullAccess", "CloudWatchFullAccess")),
)  # fmt: skip

ROLES = (
    Role(PROD, "incident-admin-role", "2025-06-02 08:00",
         "Admin role whose trust names user ops-oncall directly (same account): ops-oncall can "
         "assume it without any sts:AssumeRole in its own policies; last used 2026-10-30.",
         trust_aws(f"arn:aws:iam::{PROD}:user/ops-oncall"), managed=("AdministratorAccess",),
         used_before=("2026-10-30 03:12", "us-east-1")),
    Role(PROD, "vendor-audit-role", "2025-10-20 15:00",
         "Cross-account: trusts 999999999999:root with no sts:ExternalId; SecurityAudit.",
         trust_aws(f"arn:aws:iam::{EXTERNAL}:root"), managed=("SecurityAudit",)),
    Role(PROD, "github-actions-deploy", "2025-11-03 10:00",
         "Tight GitHub Actions OIDC role (sub condition); deploys orders-api on weekdays.",
         trust_oidc(PROD), managed=("GitHubDeployPolicy",)),
    Role(PROD, "github-images-push", "2026-03-16 10:00",
         "Tight GitHub Actions OIDC role whose trust checks only aud (any repository can "
         "assume it); pushes web images to ECR on weekdays.",
         trust_oidc(PROD, sub=None),
         inline=(("ecr-push", doc(
             allow("ecr:GetAuthorizationToken"),
             allow("ecr:PutImage", "ecr:DescribeImages",
                   resource=f"arn:aws:ecr:us-east-1:{PROD}:repository/web-images"))),)),
    Role(PROD, "partner-billing-role", "2025-10-20 15:30",
         "Cross-account: trusts 999999999999:root WITH an sts:ExternalId; tight Cost Explorer "
         "read used by the partner weekly.",
         trust_external_id(f"arn:aws:iam::{EXTERNAL}:root", PARTNER_EXTERNAL_ID),
         inline=(("partner-billing-read", doc(allow(
             "ce:GetCostAndUsage", "ce:GetDimensionValues"))),)),
    Role(DEV, "shared-debug-role", "2026-11-13 17:20",
         "Created 11-13 (inside both windows) for a quick test: trust Principal {\"AWS\": \"*\"}"
         " without condition; log read only; never used.",
         trust_aws("*"),
         inline=(("debug-logs-read", doc(allow(
             "logs:GetLogEvents", "logs:FilterLogEvents",
             resource=f"arn:aws:logs:*:{DEV}:log-group:/aws/lambda/*"))),)),
)  # fmt: skip

ACTIVITIES = (
    Activity("prod/ops-oncall", "console", WEEKDAYS,
             ("ec2:DescribeInstances", "ec2:DescribeInstanceStatus", "monitoring:DescribeAlarms",
              "monitoring:GetMetricData")),
    Activity("prod/ops-oncall", "console", (11,), ("ec2:RebootInstances",), count=(1, 1)),
    Activity("mgmt/support-engineer", "console", WEEKDAYS,
             ("support:DescribeCases", "health:DescribeEvents")),
    # OrganizationAccountAccessRole trusts the management account only: the partner is refused
    Activity("prod/OrganizationAccountAccessRole", "external", (13,), (),
             error="AccessDenied"),
    Activity("prod/OrganizationAccountAccessRole", "assume:mgmt/support-engineer", (6, 13),
             ("ec2:DescribeInstances",)),
    Activity("prod/vendor-audit-role", "external", (2, 5, 9, 12, 16, 19),
             ("iam:GetAccountAuthorizationDetails", "ec2:DescribeSecurityGroups",
              "s3:ListBuckets", "s3:GetBucketAcl"), hours=(13, 15)),
    Activity("prod/partner-billing-role", "external", (3, 10, 17),
             ("ce:GetCostAndUsage", "ce:GetDimensionValues"), hours=(14, 16)),
    Activity("prod/github-actions-deploy", "oidc", WEEKDAYS,
             ("cloudformation:DescribeStacks", "cloudformation:GetTemplate",
              "cloudformation:CreateChangeSet", "cloudformation:DescribeChangeSet",
              "cloudformation:ExecuteChangeSet"), hours=(10, 17), count=(1, 2)),
    Activity("prod/github-images-push", f"oidc:{WEB_IMAGES_SUB}", WEEKDAYS,
             ("ecr:GetAuthorizationToken", "ecr:DescribeImages", "ecr:PutImage"),
             hours=(10, 17), count=(1, 2)),
)  # fmt: skip

NEAR_MISSES = (
    NearMiss("prod/partner-billing-role", "cross-account-trust-without-external-id",
             "Its trust of 999999999999 requires sts:ExternalId (it is "
             "trust-outside-organization)."),
    NearMiss("prod/github-actions-deploy", "large-permissions-gap",
             "Tight; active through AssumeRoleWithWebIdentity sessions "
             "(the WebIdentityUser credits nobody)."),
    NearMiss("prod/github-actions-deploy", "oidc-trust-without-subject",
             f"Its GitHub trust pins sub to {GITHUB_SUB}."),
    NearMiss("prod/github-actions-deploy", "privilege-escalation",
             "iam:PassRole only on cfn-exec-* (no such role) and no cloudformation:CreateStack."),
    NearMiss("dev/shared-debug-role", "trust-outside-organization",
             "Principal * names no account (trust-wildcard-principal reports it)."),
)  # fmt: skip
