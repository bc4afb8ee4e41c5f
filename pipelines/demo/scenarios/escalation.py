"""Demo scenarios, escalation: one step from admin by policy versions, PassRole or function code,
and multi-hop paths (an assume-role chain across accounts, a role that writes a policy into a
user whose key it can create, a role that rewrites an admin function's code), each beside a near
miss that a boundary or a scoped Deny breaks."""

from __future__ import annotations

from pipelines.demo.accounts import DEV, PROD
from pipelines.demo.activity import ALL_DAYS, WEEKDAYS, Activity, NearMiss
from pipelines.demo.policies import (
    CustomerPolicy,
    allow,
    customer_policy,
    deny,
    doc,
    trust_aws,
    trust_service,
)
from pipelines.demo.principals import Role, SecondKey, User

_CODEBUILD = trust_service("codebuild.amazonaws.com")
_RELEASE_ADMIN = f"arn:aws:iam::{PROD}:role/release-admin-role"
_SVC_USERS = f"arn:aws:iam::{PROD}:user/svc-*"
_OPS_AUTOMATION = f"arn:aws:lambda:eu-west-1:{PROD}:function:ops-automation"
_ORDERS_API = f"arn:aws:lambda:us-east-1:{PROD}:function:orders-api"

CUSTOMER_POLICIES = (
    CustomerPolicy(
        PROD,
        "DeployLambdaPolicy",
        (
            ("2026-02-10 11:00", doc(allow("lambda:*"), allow("iam:PassRole"))),
            (
                "2026-06-22 15:30",
                doc(
                    allow(
                        "lambda:CreateFunction",
                        "lambda:UpdateFunctionCode",
                        "lambda:UpdateFunctionConfiguration",
                        "lambda:GetFunction",
                        "lambda:GetFunctionConfiguration",
                        "lambda:ListFunctions",
                        sid="DeployFunctions",
                    ),
                    allow(
                        "iam:PassRole",
                        resource=f"arn:aws:iam::{PROD}:role/*",
                        sid="PassExecutionRoles",
                        condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
                    ),
                ),
            ),
        ),
        2,  # v1 (lambda:*) is kept but not the default: readers must take the default version
        "CI deploys Lambda functions (v2 narrowed v1's lambda:*)",
    ),
    customer_policy(
        DEV,
        "PolicyAutomation",
        "2025-12-01 10:00",
        doc(
            allow(
                "iam:CreatePolicyVersion",
                "iam:DeletePolicyVersion",
                "iam:GetPolicyVersion",
                "iam:ListPolicyVersions",
                sid="ManagePolicyVersions",
            )
        ),
        "Policy-as-code bot: rolls out new versions of customer-managed policies",
    ),
    customer_policy(
        DEV,
        "QaHopBoundary",
        "2026-10-12 09:00",
        doc(allow("s3:*", "cloudwatch:*", sid="S3AndMetricsOnly")),
        "Permissions boundary of qa-hop-role: no sts:AssumeRole",
    ),
)

USERS = (
    User(PROD, "ci-deployer", "2026-02-10 11:00",
         "Tight CI user: DeployLambdaPolicy v2 (default; v1 was lambda:*); key rotated 10-05 "
         "(old key 2 inactive); can rewrite admin Lambda ops-automation (UpdateFunctionCode).",
         managed=("DeployLambdaPolicy",), access_key=True, key_rotated="2026-10-05 09:00",
         second_key=SecondKey(False, "2026-02-10 11:05", ("2026-10-05 08:40", "us-east-1",
                                                          "lambda")),
         expect=("privilege-escalation",)),
    User(DEV, "policy-bot", "2025-12-01 10:00",
         "Policy-as-code bot (access key): iam:CreatePolicyVersion on * in its own managed "
         "policy PolicyAutomation; uses all of it.",
         managed=("PolicyAutomation",), access_key=True, expect=("privilege-escalation",)),
    # Multi-hop paths (privilege_escalation_paths), each with its near miss.
    User(DEV, "build-runner", "2026-10-12 09:00",
         "CI user (access key): assume build-hop-role, which assumes prod release-admin-role "
         "(admin): two steps across accounts.",
         inline=(("assume-build-hop", doc(allow(
             "sts:AssumeRole", resource=f"arn:aws:iam::{DEV}:role/build-hop-role"))),),
         access_key=True, expect=("privilege-escalation",)),
    User(DEV, "qa-runner", "2026-10-12 09:00",
         "Near miss of build-runner: its hop role qa-hop-role has a boundary without "
         "sts:AssumeRole.",
         inline=(("assume-qa-hop", doc(allow(
             "sts:AssumeRole", resource=f"arn:aws:iam::{DEV}:role/qa-hop-role"))),),
         access_key=True),
    User(PROD, "helpdesk-bot", "2026-10-12 09:00",
         "Helpdesk automation (access key): assume user-admin-role, which attaches a policy to "
         "svc-reporting and creates its access key: two steps.",
         inline=(("assume-user-admin", doc(allow(
             "sts:AssumeRole",
             resource=(f"arn:aws:iam::{PROD}:role/user-admin-role",
                       f"arn:aws:iam::{PROD}:role/support-tools-role")))),),
         access_key=True, expect=("privilege-escalation",)),
    User(PROD, "svc-reporting", "2026-10-12 09:00",
         "Service user (one access key) that user-admin-role can take over.",
         inline=(("reporting-read", doc(allow("s3:GetObject", resource="arn:aws:s3:::*/*"))),),
         access_key=True),
    User(PROD, "lambda-dev", "2026-10-12 09:00",
         "Developer (access key): assume function-editor-role, which rewrites ops-automation "
         "(runs as lambda-admin-exec): two steps.",
         inline=(("assume-editors", doc(allow(
             "sts:AssumeRole",
             resource=(f"arn:aws:iam::{PROD}:role/function-editor-role",
                       f"arn:aws:iam::{PROD}:role/orders-editor-role")))),),
         access_key=True, expect=("privilege-escalation",)),
)  # fmt: skip

ROLES = (
    Role(PROD, "release-automation-role", "2025-05-20 10:00",
         "CodeBuild role never used (RoleLastUsed empty): iam:PassRole on * + "
         "lambda:CreateFunction + lambda:InvokeFunction (can run code as lambda-admin-exec).",
         _CODEBUILD,
         inline=(("release-lambda", doc(
             allow("iam:PassRole", sid="PassAnyRole"),
             allow("lambda:CreateFunction", "lambda:InvokeFunction", "lambda:GetFunction",
                   sid="ManageFunctions"))),),
         expect=("privilege-escalation",)),
    Role(PROD, "orders-deploy-role", "2026-10-01 10:00",
         "CodeBuild role created 10-01, never used: PassRole only on orders-lambda-role + "
         "CreateFunction/InvokeFunction on orders-* (cannot reach an admin role).",
         _CODEBUILD,
         inline=(("orders-deploy", doc(
             allow("iam:PassRole",
                   resource=f"arn:aws:iam::{PROD}:role/service-role/orders-lambda-role",
                   sid="PassOrdersRole"),
             allow("lambda:CreateFunction", "lambda:InvokeFunction", "lambda:GetFunction",
                   resource=f"arn:aws:lambda:us-east-1:{PROD}:function:orders-*",
                   sid="OrdersFunctions"))),)),
    # Multi-hop paths, continued.
    Role(DEV, "build-hop-role", "2026-10-12 09:00",
         "Hop of build-runner: may assume prod release-admin-role (one step; "
         "can-assume-admin-role too).",
         trust_aws(f"arn:aws:iam::{DEV}:user/build-runner"),
         inline=(("assume-release-admin", doc(allow("sts:AssumeRole", resource=_RELEASE_ADMIN))),),
         expect=("privilege-escalation",)),
    Role(DEV, "qa-hop-role", "2026-10-12 09:00",
         "Near miss: the same grant as build-hop-role, but its boundary QaHopBoundary has no "
         "sts:AssumeRole.",
         trust_aws(f"arn:aws:iam::{DEV}:user/qa-runner"),
         inline=(("assume-release-admin", doc(allow("sts:AssumeRole", resource=_RELEASE_ADMIN))),),
         boundary="QaHopBoundary"),
    Role(PROD, "release-admin-role", "2026-10-12 09:00",
         "Admin role trusted by dev build-hop-role and qa-hop-role.",
         {"Version": "2012-10-17", "Statement": [{
             "Effect": "Allow", "Action": "sts:AssumeRole",
             "Principal": {"AWS": [f"arn:aws:iam::{DEV}:role/build-hop-role",
                                   f"arn:aws:iam::{DEV}:role/qa-hop-role"]}}]},
         managed=("AdministratorAccess",)),
    Role(PROD, "user-admin-role", "2026-10-12 09:00",
         "Attaches policies to and creates keys for svc-* users: makes svc-reporting admin and "
         "acts as it (one step).",
         trust_aws(f"arn:aws:iam::{PROD}:user/helpdesk-bot"),
         inline=(("manage-service-users", doc(
             allow("iam:AttachUserPolicy", "iam:CreateAccessKey", resource=_SVC_USERS,
                   sid="ManageServiceUsers"))),),
         expect=("privilege-escalation",)),
    Role(PROD, "support-tools-role", "2026-10-12 09:00",
         "Near miss of user-admin-role: the same grant, but a Deny of iam:AttachUserPolicy on "
         "svc-reporting.",
         trust_aws(f"arn:aws:iam::{PROD}:user/helpdesk-bot"),
         inline=(("manage-service-users", doc(
             allow("iam:AttachUserPolicy", "iam:CreateAccessKey", resource=_SVC_USERS,
                   sid="ManageServiceUsers"),
             deny("iam:AttachUserPolicy", resource=f"arn:aws:iam::{PROD}:user/svc-reporting",
                  sid="NotReporting"))),)),
    Role(PROD, "function-editor-role", "2026-10-12 09:00",
         "lambda:* on ops-automation (runs as lambda-admin-exec): rewrites its code in one "
         "step; only reads it.",
         trust_aws(f"arn:aws:iam::{PROD}:user/lambda-dev"),
         inline=(("edit-ops-automation", doc(
             allow("lambda:*", resource=_OPS_AUTOMATION, sid="EditOpsAutomation"))),),
         expect=("privilege-escalation",)),
    Role(PROD, "orders-editor-role", "2026-10-12 09:00",
         "Near miss: lambda:* only on orders-api (runs as orders-lambda-role, not admin), "
         "though lambda-admin-exec trusts Lambda; only reads it.",
         trust_aws(f"arn:aws:iam::{PROD}:user/lambda-dev"),
         inline=(("edit-orders-api", doc(
             allow("lambda:*", resource=_ORDERS_API, sid="EditOrdersApi"))),)),
)  # fmt: skip

ACTIVITIES = (
    Activity("prod/ci-deployer", "key", WEEKDAYS,
             ("sts:GetCallerIdentity", "lambda:ListFunctions20150331",
              "lambda:GetFunction20150331v2", "lambda:GetFunctionConfiguration20150331v2"),
             hours=(9, 17)),
    Activity("prod/ci-deployer", "key", (9, 16),
             ("lambda:UpdateFunctionCode20150331v2",
              "lambda:UpdateFunctionConfiguration20150331v2"),
             at="14:05:12", count=(1, 1)),
    # creates hotfix-admin-fn with the admin role lambda-admin-exec: new in the 11-20 snapshot
    Activity("prod/ci-deployer", "key", (20,), ("lambda:CreateFunction20150331",),
             at="03:12:41", count=(1, 1)),
    Activity("prod/ci-deployer", "key", (12,), ("lambda:DeleteFunction20150331",),
             error="AccessDeniedException"),
    Activity("dev/policy-bot", "key", WEEKDAYS,
             ("iam:ListPolicyVersions", "iam:GetPolicyVersion"), hours=(6, 7)),
    Activity("dev/policy-bot", "key", (4, 11, 18),
             ("iam:CreatePolicyVersion", "iam:DeletePolicyVersion"), hours=(7, 8), count=(1, 1)),
    # The multi-hop principals do their jobs (none walks its escalation path).
    Activity("dev/build-runner", "key", WEEKDAYS, ("sts:GetCallerIdentity",), hours=(6, 7)),
    Activity("dev/build-hop-role", "assume:dev/build-runner", WEEKDAYS,
             ("sts:GetCallerIdentity",), hours=(7, 8)),
    Activity("prod/release-admin-role", "assume:dev/build-hop-role", (10, 17),
             ("lambda:ListFunctions20150331", "iam:ListRoles"), hours=(8, 9)),
    Activity("dev/qa-runner", "key", WEEKDAYS, ("sts:GetCallerIdentity",), hours=(6, 7)),
    Activity("dev/qa-hop-role", "assume:dev/qa-runner", WEEKDAYS,
             ("s3:ListBuckets",), hours=(7, 8)),
    Activity("prod/helpdesk-bot", "key", WEEKDAYS, ("sts:GetCallerIdentity",), hours=(9, 10)),
    Activity("prod/user-admin-role", "assume:prod/helpdesk-bot", (5, 12, 19),
             ("iam:AttachUserPolicy", "iam:CreateAccessKey"), hours=(10, 11), count=(1, 1)),
    Activity("prod/support-tools-role", "assume:prod/helpdesk-bot", (6, 13),
             ("iam:AttachUserPolicy", "iam:CreateAccessKey"), hours=(10, 11), count=(1, 1)),
    Activity("prod/svc-reporting", "key", ALL_DAYS, ("sts:GetCallerIdentity",), hours=(1, 2)),
    Activity("prod/function-editor-role", "assume:prod/lambda-dev", (4, 11, 18),
             ("lambda:GetFunction20150331v2@eu-west-1",), hours=(14, 15), count=(1, 1)),
    Activity("prod/orders-editor-role", "assume:prod/lambda-dev", (3, 10, 17),
             ("lambda:GetFunction20150331v2",), hours=(14, 15), count=(1, 1)),
    Activity("prod/lambda-dev", "key", WEEKDAYS, ("sts:GetCallerIdentity",), hours=(9, 17)),
)  # fmt: skip

NEAR_MISSES = (
    NearMiss("prod/ci-deployer", "large-permissions-gap",
             "Tight: DeployLambdaPolicy v2 is the default (v1's lambda:* must be ignored); "
             "CreateFunction is unused in the 11-19 window only (1 of 6)."),
    NearMiss("prod/ci-deployer", "unused-access-key",
             "Key 1 is used daily; key 2 is old but inactive."),
    NearMiss("prod/ci-deployer", "access-key-not-rotated",
             "Key 1 rotated 2026-10-05; the old key 2 is inactive."),
    NearMiss("prod/orders-deploy-role", "unused-role",
             "Never used, but created 2026-10-01: younger than 90 days (it is inactive-identity)."),
    NearMiss("prod/orders-deploy-role", "privilege-escalation",
             "iam:PassRole only on orders-lambda-role, which is not admin."),
    NearMiss("dev/qa-runner", "privilege-escalation",
             "Its hop qa-hop-role cannot assume release-admin-role: boundary without "
             "sts:AssumeRole."),
    NearMiss("dev/qa-hop-role", "privilege-escalation",
             "sts:AssumeRole on release-admin-role, outside its boundary QaHopBoundary."),
    NearMiss("prod/support-tools-role", "privilege-escalation",
             "Can create svc-reporting's key, but a Deny stops it attaching a policy to it."),
    NearMiss("prod/orders-editor-role", "privilege-escalation",
             "lambda:* (UpdateFunctionCode) only on orders-api, which runs as a non-admin role."),
)  # fmt: skip
