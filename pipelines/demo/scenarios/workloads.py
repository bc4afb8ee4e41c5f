"""Demo scenarios, compute: EC2 instance profiles and Lambda execution roles, tight and admin."""

from __future__ import annotations

from datetime import date

from pipelines.demo.accounts import DEV, PROD
from pipelines.demo.activity import ALL_DAYS, Activity, NearMiss
from pipelines.demo.compute import Function, Instance
from pipelines.demo.policies import allow, customer_policy, doc
from pipelines.demo.principals import ec2_role, lambda_role

CUSTOMER_POLICIES = (
    customer_policy(
        PROD,
        "WebAppRuntime",
        "2025-06-10 12:00",
        doc(
            allow(
                "ssm:GetParameter",
                "ssm:GetParameters",
                resource=f"arn:aws:ssm:*:{PROD}:parameter/web-app/*",
            ),
            allow("ssm:UpdateInstanceInformation"),
            allow("kms:Decrypt", resource=f"arn:aws:kms:*:{PROD}:key/*"),
            allow(
                "secretsmanager:GetSecretValue",
                resource=f"arn:aws:secretsmanager:*:{PROD}:secret:web-app/*",
            ),
            allow("s3:GetObject", resource="arn:aws:s3:::ciem-demo-prod-orders-data/*"),
        ),
        "Web tier runtime permissions",
    ),
    customer_policy(
        DEV,
        "AllButIamAndOrgs",
        "2025-07-07 16:00",
        doc(
            allow(
                "iam:*",
                "organizations:*",
                "account:*",
                not_action=True,
                sid="EverythingExceptIdentity",
            )
        ),
        "NotAction: everything except IAM, Organizations and Account",
    ),
)

ROLES = (
    ec2_role(PROD, "web-app-ec2-role", "2025-06-10 12:00",
             "Tight EC2 role of web-1 / web-2 (both regions); uses all of it daily.",
             managed=("WebAppRuntime",)),
    ec2_role(PROD, "batch-admin-ec2-role", "2025-09-01 10:00",
             "EC2 role with AdministratorAccess on batch-worker-1 (and terminated "
             "batch-worker-old).",
             managed=("AdministratorAccess",)),
    lambda_role(PROD, "orders-lambda-role", "2025-07-01 09:00",
                "Tight Lambda execution role (path /service-role/) of orders-api.",
                path="/service-role/",
                inline=(("orders-lambda-runtime", doc(
                    allow("logs:CreateLogStream", "logs:PutLogEvents",
                          resource=f"arn:aws:logs:us-east-1:{PROD}:log-group:/aws/lambda/"
                                   "orders-api:*"),
                    allow("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query",
                          resource=f"arn:aws:dynamodb:us-east-1:{PROD}:table/orders"),
                    allow("secretsmanager:GetSecretValue", "kms:Decrypt"))),)),
    lambda_role(PROD, "lambda-admin-exec", "2025-07-14 10:00",
                "Lambda execution role with AdministratorAccess (ops-automation; "
                "hotfix-admin-fn 11-20).",
                managed=("AdministratorAccess",)),
    ec2_role(DEV, "dev-ec2-role", "2025-04-15 10:00",
             "Tight EC2 role of dev-box-1 (running) and dev-box-2 (stopped).",
             inline=(("dev-ec2-ssm", doc(allow(
                 "ssm:UpdateInstanceInformation", "ssm:ListInstanceAssociations",
                 "ssm:GetParameter"))),)),
    lambda_role(DEV, "image-resize-lambda-role", "2025-05-05 09:00",
                "Tight Lambda role of image-resize (eu-west-1); KMS calls invokedBy "
                "s3.amazonaws.com.",
                path="/service-role/",
                inline=(("image-resize-runtime", doc(
                    allow("logs:CreateLogStream", "logs:PutLogEvents"),
                    allow("s3:GetObject", "s3:PutObject",
                          resource="arn:aws:s3:::ciem-demo-dev-artifacts/*"),
                    allow("kms:Decrypt", "kms:GenerateDataKey"))),)),
    lambda_role(DEV, "report-gen-lambda-role", "2025-07-07 16:00",
                "Lambda role with AllButIamAndOrgs (NotAction): broad but not admin.",
                managed=("AllButIamAndOrgs",)),
)  # fmt: skip

INSTANCES = (
    Instance(PROD, "us-east-1", "web-1", "web-app-ec2-role", "running", "2025-06-10 12:10",
             "m6i.large", "Web tier, tight role."),
    Instance(PROD, "us-east-1", "batch-worker-1", "batch-admin-ec2-role", "running",
             "2025-09-01 10:10", "c6i.xlarge", "Admin instance profile: admin-ec2-instance."),
    Instance(PROD, "us-east-1", "batch-worker-old", "batch-admin-ec2-role", "terminated",
             "2025-03-01 10:10", "c6i.xlarge", "Terminated: never an admin-ec2-instance."),
    Instance(PROD, "eu-west-1", "web-2", "web-app-ec2-role", "running", "2025-06-10 12:20",
             "m6i.large", "Web tier in eu-west-1, tight role."),
    Instance(PROD, "eu-west-1", "bastion-eu", None, "running", "2025-06-11 08:00", "t3.micro",
             "No instance profile."),
    Instance(DEV, "us-east-1", "dev-box-1", "dev-ec2-role", "running", "2025-04-15 10:10",
             scenario="Developer box, tight role."),
    Instance(DEV, "eu-west-1", "dev-box-2", "dev-ec2-role", "stopped", "2025-04-15 10:20",
             scenario="Stopped (not terminated) developer box."),
)  # fmt: skip

FUNCTIONS = (
    Function(PROD, "us-east-1", "orders-api", "orders-lambda-role", "python3.12",
             "2026-11-16 14:05:13", scenario="Tight execution role; code updated 11-09 and 11-16."),
    Function(PROD, "eu-west-1", "ops-automation", "lambda-admin-exec", "python3.12",
             "2026-07-14 10:30:00", scenario="Admin execution role: admin-lambda-function."),
    Function(PROD, "us-east-1", "hotfix-admin-fn", "lambda-admin-exec", "python3.12",
             "2026-11-20 03:12:41", first_snapshot=date(2026, 11, 20),
             scenario="Created 11-20 03:12 by ci-deployer with the admin role: new on 11-20."),
    Function(DEV, "us-east-1", "report-gen", "report-gen-lambda-role", "nodejs22.x",
             "2026-10-01 10:00:00", scenario="NotAction execution role (broad, not admin)."),
    Function(DEV, "eu-west-1", "image-resize", "image-resize-lambda-role", "python3.13",
             "2026-09-18 16:45:00", scenario="Tight execution role."),
)  # fmt: skip

_WEB_CALLS = ("ssm:UpdateInstanceInformation", "ssm:GetParameter", "ssm:GetParameters",
              "kms:Decrypt", "secretsmanager:GetSecretValue")  # fmt: skip

ACTIVITIES = (
    Activity("prod/web-app-ec2-role", "ec2:web-1", ALL_DAYS, _WEB_CALLS, hours=(0, 22),
             count=(2, 5)),
    Activity("prod/web-app-ec2-role", "ec2:web-2", ALL_DAYS, _WEB_CALLS, hours=(0, 22),
             region="eu-west-1", count=(2, 5)),
    Activity("prod/web-app-ec2-role", "ec2:web-1", (7, 14), ("ssm:GetParametersByPath",),
             error="AccessDeniedException"),
    Activity("prod/batch-admin-ec2-role", "ec2:batch-worker-1", ALL_DAYS,
             ("ec2:DescribeSnapshots", "ec2:DescribeVolumes", "s3:ListBuckets",
              "ssm:UpdateInstanceInformation"), hours=(1, 5)),
    Activity("prod/orders-lambda-role", "lambda:orders-api", ALL_DAYS,
             ("logs:CreateLogStream", "secretsmanager:GetSecretValue", "kms:Decrypt"),
             hours=(0, 22), count=(2, 4)),
    Activity("prod/lambda-admin-exec", "lambda:ops-automation", ALL_DAYS,
             ("logs:CreateLogStream", "ec2:DescribeSnapshots", "ec2:DescribeVolumes"),
             hours=(5, 7), region="eu-west-1"),
    Activity("prod/lambda-admin-exec", "lambda:hotfix-admin-fn", (20,),
             ("logs:CreateLogStream", "ec2:DescribeInstances", "iam:ListRoles"), hours=(9, 12)),
    Activity("dev/dev-ec2-role", "ec2:dev-box-1", ALL_DAYS,
             ("ssm:UpdateInstanceInformation", "ssm:ListInstanceAssociations", "ssm:GetParameter"),
             hours=(0, 22), count=(2, 4)),
    Activity("dev/image-resize-lambda-role", "lambda:image-resize", ALL_DAYS,
             ("logs:CreateLogStream",), hours=(6, 20), region="eu-west-1"),
    Activity("dev/image-resize-lambda-role", "lambda:image-resize", ALL_DAYS,
             ("kms:Decrypt", "kms:GenerateDataKey"), hours=(6, 20), region="eu-west-1",
             invoked_by="s3.amazonaws.com"),
    Activity("dev/report-gen-lambda-role", "lambda:report-gen", ALL_DAYS,
             ("logs:CreateLogStream", "athena:StartQueryExecution", "athena:GetQueryExecution",
              "s3:ListBuckets"), hours=(5, 6)),
)  # fmt: skip

NEAR_MISSES = (
    NearMiss("prod/web-app-ec2-role", "large-permissions-gap",
             "Tight: explicit actions, every observable one used daily (s3:GetObject is a data "
             "event)."),
    NearMiss("prod/batch-worker-old", "admin-ec2-instance",
             "Terminated instance, although its profile role is admin."),
    NearMiss("dev/report-gen-lambda-role", "admin-iam-role",
             "NotAction [iam:*, organizations:*, account:*] is broad, but not every action."),
    NearMiss("dev/report-gen-lambda-role", "privilege-escalation",
             "Everything but IAM: same as dana.dev, nothing in dev runs as admin."),
)  # fmt: skip
