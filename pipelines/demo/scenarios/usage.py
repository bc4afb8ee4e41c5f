"""Demo scenarios, gaps and usage: broad and tight principals, Identity Center, idle, new."""

from __future__ import annotations

from pipelines.demo.accounts import DEV, MGMT, PROD
from pipelines.demo.activity import WEEKDAYS, Activity, NearMiss
from pipelines.demo.policies import (
    allow,
    customer_policy,
    deny,
    doc,
    sso_role,
    trust_aws,
    trust_service,
)
from pipelines.demo.principals import Group, Role, User, sso_permission_set

SSO_ADMIN_MGMT = f"mgmt/{sso_role('AdministratorAccess', MGMT)}"
SSO_ADMIN_PROD = f"prod/{sso_role('AdministratorAccess', PROD)}"
SSO_READONLY_PROD = f"prod/{sso_role('ReadOnly', PROD)}"
SSO_READONLY_DEV = f"dev/{sso_role('ReadOnly', DEV)}"
JORDAN = "saml:jordan@ciem-demo.example"
SAM = "saml:sam@ciem-demo.example"
_READ_ONLY = ("AmazonS3ReadOnlyAccess", "AmazonVPCReadOnlyAccess", "IAMReadOnlyAccess")

CUSTOMER_POLICIES = (
    customer_policy(
        DEV,
        "DevGuardrails",
        "2025-04-01 09:00",
        doc(
            deny(
                "kms:ScheduleKeyDeletion",
                "ec2:DeleteVpc",
                "ec2:DeleteFlowLogs",
                "logs:DeleteLogGroup",
                sid="DenyDestructiveChanges",
            )
        ),
        "Explicit Deny of destructive actions for developers",
    ),
)

USERS = (
    User(MGMT, "billing-viewer", "2025-05-12 14:00",
         "Tight: inline Cost Explorer read; console (MFA) on weekdays; uses all of it.",
         inline=(("billing-readonly", doc(allow(
             "ce:GetCostAndUsage", "ce:GetCostForecast", "ce:GetDimensionValues"))),),
         console=True, mfa=True),
    User(MGMT, "carol.audit", "2025-03-17 08:30",
         "Auditor through group Auditors (SecurityAudit + inline); broad, lightly used; "
         "her access key was never used.",
         groups=("Auditors",), console=True, mfa=True, access_key=True),
    User(DEV, "dana.dev", "2025-04-07 10:20",
         "Developer through group Developers (PowerUserAccess + DevGuardrails deny + inline).",
         groups=("Developers",), console=True, mfa=True, access_key=True),
)  # fmt: skip

GROUPS = (
    Group(MGMT, "Auditors", "2025-03-17 08:00", "SecurityAudit + inline Access Analyzer read.",
          managed=("SecurityAudit",),
          inline=(("auditors-access-analyzer", doc(allow(
              "access-analyzer:ListAnalyzers", "access-analyzer:ListFindings"))),)),
    Group(DEV, "Developers", "2025-04-01 09:00",
          "PowerUserAccess (NotAction) + DevGuardrails (Deny) + inline IAM read.",
          managed=("PowerUserAccess", "DevGuardrails"),
          inline=(("developers-iam-read", doc(allow("iam:Get*", "iam:List*"))),)),
)  # fmt: skip

ROLES = (
    sso_permission_set(MGMT, "AdministratorAccess", ("AdministratorAccess",),
                       "IAM Identity Center admin permission set; used by jordan@ on some "
                       "weekdays."),
    sso_permission_set(PROD, "AdministratorAccess", ("AdministratorAccess",),
                       "IAM Identity Center admin permission set; used by jordan@ on some "
                       "weekdays."),
    sso_permission_set(PROD, "ReadOnly", _READ_ONLY,
                       "IAM Identity Center read-only permission set; nobody used it "
                       "(RoleLastUsed empty)."),
    sso_permission_set(DEV, "ReadOnly", _READ_ONLY,
                       "IAM Identity Center read-only permission set; used by sam@ on some "
                       "weekdays."),
    Role(PROD, "legacy-etl-role", "2024-04-22 09:00",
         "Glue role never assumed (RoleLastUsed empty); S3 full access + inline glue:*.",
         trust_service("glue.amazonaws.com"), managed=("AmazonS3FullAccess",),
         inline=(("legacy-etl-glue", doc(allow("glue:*"))),)),
    Role(PROD, "new-analytics-role", "2026-11-12 14:20",
         "Created 11-12 (inside both windows); broad; assumed by the SSO admin from 11-13.",
         trust_aws(f"arn:aws:iam::{PROD}:root"), managed=("AmazonS3ReadOnlyAccess",),
         inline=(("athena-queries", doc(allow("athena:*", "glue:Get*"))),)),
    Role(DEV, "data-migration-role", "2025-12-01 10:00",
         "Assumed by dana.dev on 11-02 and 11-03 only (before both windows); RDS + S3 full.",
         trust_aws(f"arn:aws:iam::{DEV}:root"),
         managed=("AmazonRDSFullAccess", "AmazonS3FullAccess")),
    Role(DEV, "quarterly-report-role", "2025-12-15 10:00",
         "Tight; assumed by platform-lead 11-02..11-05 only: active on 11-19, inactive on 11-20.",
         trust_aws(f"arn:aws:iam::{DEV}:root"),
         inline=(("quarterly-report", doc(allow(
             "ce:GetCostAndUsage", "ce:GetDimensionValues", "s3:ListAllMyBuckets",
             "s3:PutObject"))),)),
)  # fmt: skip

ACTIVITIES = (
    Activity("mgmt/billing-viewer", "console", WEEKDAYS,
             ("ce:GetCostAndUsage", "ce:GetCostForecast", "ce:GetDimensionValues")),
    Activity("mgmt/carol.audit", "console", WEEKDAYS,
             ("access-analyzer:ListAnalyzers", "access-analyzer:ListFindings",
              "guardduty:ListDetectors", "config:DescribeConfigRules",
              "cloudtrail:DescribeTrails")),
    Activity("mgmt/carol.audit", "console", (4, 12, 18), ("secretsmanager:GetSecretValue",),
             error="AccessDeniedException"),
    Activity("dev/dana.dev", "console", WEEKDAYS,
             ("ec2:DescribeInstances", "lambda:ListFunctions20150331", "logs:DescribeLogGroups",
              "cloudformation:DescribeStacks", "s3:ListBuckets")),
    Activity("dev/dana.dev", "console", (10,), ("kms:ScheduleKeyDeletion",),
             error="AccessDeniedException", why="deny"),
    Activity("dev/dana.dev", "console", (17,), ("cloudtrail:StopLogging",),
             error="AccessDeniedException", why="scp"),
    Activity(SSO_ADMIN_MGMT, JORDAN, (2, 4, 9, 11, 16, 18, 20),
             ("organizations:ListAccounts", "organizations:DescribeOrganization",
              "sso:ListInstances", "iam:ListRoles", "cloudtrail:DescribeTrails")),
    Activity(SSO_ADMIN_PROD, JORDAN, (3, 6, 10, 13, 17, 19),
             ("ec2:DescribeInstances", "iam:ListRoles", "cloudtrail:LookupEvents",
              "s3:ListBuckets")),
    Activity(SSO_READONLY_DEV, SAM, (2, 5, 9, 12, 16, 19),
             ("ec2:DescribeVpcs", "s3:ListBuckets", "iam:ListRoles")),
    Activity("prod/new-analytics-role", f"assume:{SSO_ADMIN_PROD}", (13, 16, 17, 18, 19, 20),
             ("s3:ListBuckets", "athena:StartQueryExecution", "athena:GetQueryExecution")),
    Activity("dev/data-migration-role", "assume:dev/dana.dev", (2, 3),
             ("rds:DescribeDBInstances", "rds:CreateDBSnapshot", "s3:ListBuckets")),
    Activity("dev/quarterly-report-role", "assume:dev/platform-lead", (2, 3, 4, 5),
             ("ce:GetCostAndUsage", "ce:GetDimensionValues", "s3:ListBuckets"), hours=(9, 11)),
)  # fmt: skip

NEAR_MISSES = (
    NearMiss("mgmt/carol.audit", "large-blast-radius",
             "SecurityAudit spans hundreds of services, but read / list only."),
    NearMiss("dev/dana.dev", "privilege-escalation",
             "PowerUserAccess: lambda:UpdateFunctionCode, ssm:SendCommand, ... but no function, "
             "instance or service role in dev is admin, and no iam:PassRole."),
    NearMiss("dev/dana.dev", "can-assume-admin-role",
             "sts:AssumeRole on *, but no admin role trusts the dev account."),
    NearMiss(SSO_READONLY_PROD, "inactive-admin", "Inactive, but not admin."),
    NearMiss("prod/new-analytics-role", "large-permissions-gap",
             "Created 2026-11-12, after both window starts (broad, lightly used: would fire "
             "otherwise)."),
    NearMiss("prod/new-analytics-role", "cross-account-trust-without-external-id",
             "Trusts the root of its own account."),
    NearMiss("dev/data-migration-role", "unused-role",
             "Inactive in the 15-day window (last used 11-03), but used within 90 days."),
    NearMiss("dev/quarterly-report-role", "large-permissions-gap",
             "Active on 11-05 only, inside the 11-19 window, and used all 3 observable actions "
             "then."),
)  # fmt: skip
