"""Demo scenarios, admins: admin users, groups and roles, and ones that only look like admin."""

from __future__ import annotations

from datetime import date

from pipelines.demo.accounts import DEV, MGMT, PROD
from pipelines.demo.activity import ONLY_1120, WEEKDAYS, Activity, NearMiss
from pipelines.demo.policies import allow, customer_policy, deny, doc
from pipelines.demo.principals import Group, User, org_access_role

CUSTOMER_POLICIES = (
    customer_policy(PROD, "S3CloudWatchBoundary", "2025-08-19 09:00",
                    doc(allow("s3:*", "cloudwatch:*", sid="BoundaryS3AndMetrics")),
                    "Permissions boundary: S3 and CloudWatch only"),
    customer_policy(DEV, "DenyOrgAndAccount", "2025-02-20 10:00",
                    doc(deny("organizations:*", "account:*", sid="NoOrgChanges")),
                    "Explicit Deny of Organizations and Account actions"),
)  # fmt: skip

USERS = (
    User(MGMT, "alice.admin", "2025-02-03 09:10",
         "Platform admin through group Admins; console (MFA) + access key; uses a sliver of admin.",
         groups=("Admins",), console=True, mfa=True, access_key=True,
         tags=(("team", "platform"),)),
    User(MGMT, "break-glass", "2025-01-06 10:00",
         "Emergency admin (AdministratorAccess attached); last console sign-in 2026-07-02.",
         managed=("AdministratorAccess",), console=True, mfa=True,
         tags=(("purpose", "break-glass"),),
         password_used_before="2026-07-02 22:41"),  # noqa: S106 - a date, not a password
    User(PROD, "contractor-temp", "2026-09-15 09:00",
         "Tight inline observability policy; AdministratorAccess attached only in the 11-19 "
         "snapshot (attached 11-18, detached 11-19 15:30).",
         inline=(("contractor-observability", doc(allow(
             "cloudwatch:DescribeAlarms", "cloudwatch:GetMetricData",
             "logs:DescribeLogGroups", "ec2:DescribeInstances"))),),
         console=True, mfa=True, tags=(("contract-end", "2026-12-31"),),
         only_in_snapshot=(date(2026, 11, 19), "AdministratorAccess")),
    User(PROD, "s3-boundary-admin", "2025-08-19 09:00",
         "AdministratorAccess capped by boundary S3CloudWatchBoundary (s3:*, cloudwatch:*).",
         managed=("AdministratorAccess",), boundary="S3CloudWatchBoundary", access_key=True),
    User(DEV, "platform-lead", "2025-02-20 10:00",
         "AdministratorAccess minus an unconditional Deny of organizations:* and account:* "
         "(not admin, but iam:* is one step from it).",
         managed=("AdministratorAccess", "DenyOrgAndAccount"), console=True, mfa=True,
         access_key=True, expect=("privilege-escalation",)),
    User(DEV, "sandbox-owner", "2025-10-01 16:00",
         "Inline policy Action * on Resource *; access key only.",
         inline=(("sandbox-full-access", doc(allow("*"))),), access_key=True),
)  # fmt: skip

GROUPS = (
    Group(MGMT, "Admins", "2025-01-06 10:05", "AdministratorAccess; member alice.admin.",
          managed=("AdministratorAccess",)),
)  # fmt: skip

ROLES = (
    org_access_role(PROD, None,
                    "Admin (inline */*) trusting the management account; alice.admin uses it."),
    org_access_role(DEV, ("2026-07-28 13:05", "us-east-1"),
                    "Admin (inline */*) trusting the management account; last used 2026-07-28."),
)  # fmt: skip

ACTIVITIES = (
    Activity("mgmt/alice.admin", "console", WEEKDAYS,
             ("iam:ListUsers", "organizations:ListAccounts", "ec2:DescribeInstances",
              "cloudtrail:LookupEvents", "s3:ListBuckets")),
    Activity("prod/OrganizationAccountAccessRole", "assume:mgmt/alice.admin",
             (3, 10, 12, 17, 19),
             ("iam:ListUsers", "iam:GetUser", "ec2:DescribeInstances",
              "lambda:ListFunctions20150331")),
    # the one change between the snapshots: contractor-temp is admin from 11-18 to 11-19
    Activity("prod/OrganizationAccountAccessRole", "assume:mgmt/alice.admin", (18,),
             ("iam:AttachUserPolicy",), at="16:40:05", count=(1, 1)),
    Activity("prod/OrganizationAccountAccessRole", "assume:mgmt/alice.admin", (19,),
             ("iam:DetachUserPolicy",), at="15:30:10", count=(1, 1)),
    Activity("prod/contractor-temp", "console", WEEKDAYS,
             ("monitoring:DescribeAlarms", "monitoring:GetMetricData", "logs:DescribeLogGroups",
              "ec2:DescribeInstances")),
    Activity("prod/contractor-temp", "console", (19,), ("iam:ListRoles", "iam:ListUsers"),
             at="10:02:00"),
    Activity("prod/contractor-temp", "console", (20,), ("iam:ListUsers",), at="10:05:00",
             error="AccessDenied"),
    Activity("prod/s3-boundary-admin", "key", WEEKDAYS,
             ("s3:ListBuckets", "s3:GetBucketPolicy", "s3:GetBucketLocation",
              "monitoring:GetMetricData")),
    Activity("prod/s3-boundary-admin", "key", (5, 13), ("iam:ListUsers",), error="AccessDenied",
             why="boundary"),
    Activity("dev/platform-lead", "console", (2, 4, 6, 9, 11, 13, 16, 18, 20),
             ("iam:ListRoles", "ec2:DescribeVpcs", "cloudtrail:DescribeTrails")),
    Activity("dev/platform-lead", "console", (11,), ("organizations:DescribeOrganization",),
             error="AccessDeniedException", why="deny"),
    Activity("dev/sandbox-owner", "key", WEEKDAYS,
             ("sts:GetCallerIdentity", "ec2:DescribeInstances@eu-west-1", "s3:ListBuckets")),
    Activity("dev/sandbox-owner", "key", (6,), ("cloudtrail:DeleteTrail",),
             error="AccessDeniedException", why="scp"),
)  # fmt: skip

NEAR_MISSES = (
    NearMiss("mgmt/alice.admin", "inactive-admin", "Admin, but active in the window."),
    NearMiss("prod/contractor-temp", "admin-iam-user",
             "AdministratorAccess was detached on 11-19 15:30 (it does fire on 11-19).",
             runs=ONLY_1120),
    NearMiss("prod/s3-boundary-admin", "admin-iam-user",
             "AdministratorAccess is capped by the boundary S3CloudWatchBoundary (s3:*, "
             "cloudwatch:*)."),
    NearMiss("prod/s3-boundary-admin", "large-blast-radius",
             "AdministratorAccess capped by its boundary to 2 services (s3, cloudwatch)."),
    NearMiss("dev/platform-lead", "admin-iam-user",
             "An unconditional Deny of organizations:* and account:* on \"*\" removes part of "
             "admin."),
    NearMiss("dev/sandbox-owner", "console-user-without-mfa",
             "No MFA, but no console password either (access key only)."),
)  # fmt: skip
