"""Demo scenarios, escalation: one step from admin by policy versions, PassRole or function code."""

from __future__ import annotations

from pipelines.demo.accounts import DEV, PROD
from pipelines.demo.activity import WEEKDAYS, Activity, NearMiss
from pipelines.demo.policies import CustomerPolicy, allow, customer_policy, doc, trust_service
from pipelines.demo.principals import Role, SecondKey, User

_CODEBUILD = trust_service("codebuild.amazonaws.com")

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
)  # fmt: skip
