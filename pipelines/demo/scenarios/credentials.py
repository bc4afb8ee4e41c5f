"""Demo scenarios, credentials: passwords, MFA, access keys, root users (credential report)."""

from __future__ import annotations

from pipelines.demo.accounts import DEV, MGMT, PROD
from pipelines.demo.activity import ALL_DAYS, Activity, NearMiss
from pipelines.demo.policies import allow, customer_policy, doc
from pipelines.demo.principals import RootUser, SecondKey, User

CUSTOMER_POLICIES = (
    customer_policy(
        DEV,
        "LegacyBackupPolicy",
        "2024-02-12 13:00",
        doc(
            allow(
                "s3:ListBucket",
                "s3:GetObject",
                "s3:PutObject",
                "glacier:UploadArchive",
                "glacier:InitiateJob",
            )
        ),
        "Old backup script",
    ),
)

USERS = (
    User(DEV, "legacy-backup", "2024-02-12 13:00",
         "Unused for months: access key last used 2026-06-14, no event in 20 days; console "
         "password (no MFA) never used.",
         managed=("LegacyBackupPolicy",), console=True, mfa=False, access_key=True,
         key_used_before=("2026-06-14 02:17", "us-east-1", "s3")),
    User(DEV, "intern-2026", "2026-11-15 09:30",
         "Created inside both windows (11-15), never signed in, access key never used; group "
         "Developers; no MFA.",
         groups=("Developers",), console=True, mfa=False, access_key=True),
    User(DEV, "metrics-reader", "2025-09-09 12:00",
         "Tight inline CloudWatch read; access key; tries PutMetricAlarm (AccessDenied); a "
         "forgotten second key (active) was never used.",
         inline=(("metrics-read", doc(allow(
             "cloudwatch:GetMetricData", "cloudwatch:ListMetrics", "cloudwatch:DescribeAlarms"))),),
         access_key=True, second_key=SecondKey(True, "2025-09-09 12:10")),
)  # fmt: skip

ROOTS = (
    RootUser(MGMT, "MFA; last console sign-in 2026-08-14, before both windows.", mfa=True,
             password_used_before="2026-08-14T09:12:37+00:00"),  # noqa: S106 - a date
    RootUser(PROD, "No MFA, no sign-in on record; an old access key, deactivated in 2025.",
             mfa=False, key=SecondKey(False, "2025-01-06 10:00",
                                      ("2025-02-03 11:20", "us-east-1", "iam"))),
    RootUser(DEV, "No MFA; signs in on 11-10 and creates an access key (in the trail).",
             mfa=False),
)  # fmt: skip

ACTIVITIES = (
    Activity("dev/metrics-reader", "key", ALL_DAYS,
             ("monitoring:GetMetricData", "monitoring:ListMetrics", "monitoring:DescribeAlarms"),
             hours=(0, 22), count=(2, 4)),
    Activity("dev/metrics-reader", "key", (3, 11, 18), ("monitoring:PutMetricAlarm",),
             error="AccessDenied"),
    Activity("dev/metrics-reader", "key", (8, 15), ("ec2:DescribeInstances",),
             error="Client.UnauthorizedOperation"),
    Activity("dev", "root", (10,), ("iam:CreateAccessKey", "iam:GetAccountSummary"),
             at="10:14:00", count=(1, 1)),
)  # fmt: skip

NEAR_MISSES = (
    NearMiss("dev/intern-2026", "inactive-identity",
             "Created 2026-11-15, after both window starts."),
    NearMiss("dev/intern-2026", "unused-password",
             "Password never used, but the user was created 11-15 (younger than 90 days)."),
    NearMiss("dev/intern-2026", "unused-access-key",
             "Key never used, but created 11-15 (younger than 90 days)."),
    NearMiss("dev/metrics-reader", "large-permissions-gap",
             "Tight; its AccessDenied attempts (PutMetricAlarm, DescribeInstances) are not use."),
    NearMiss("mgmt/root", "root-account-used",
             "Last root sign-in 2026-08-14, before both windows."),
    NearMiss("prod/root", "root-access-key-present",
             "Its only access key was deactivated in 2025."),
)  # fmt: skip
