"""Demo scenarios, plumbing: SCPs, the trail bucket, the CIEM collector, service-linked roles."""

from __future__ import annotations

from pipelines.demo.accounts import (
    DEV,
    MGMT,
    ORG_ID,
    OU_ID,
    PROD,
    ROOT_ID,
    SCP_FULL_ACCESS,
    SCP_GUARDRAILS,
    TRAIL_ARN,
    TRAIL_BUCKET,
)
from pipelines.demo.activity import ALL_DAYS, Activity, NearMiss
from pipelines.demo.compute import Instance
from pipelines.demo.policies import Scp, allow, customer_policy, deny, doc, trust_aws
from pipelines.demo.principals import Role, ec2_role, service_linked_role


def readonly_collector(*extra: dict) -> dict:
    """What the nightly collection calls in every account (and, with extra, in the management)."""
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


def ciem_readonly(account: str) -> Role:
    return Role(
        account,
        "ciem-readonly",
        "2026-03-02 08:05",
        "Tight: read-only snapshot role assumed nightly by mgmt ciem-collector; uses all of it.",
        trust_aws(f"arn:aws:iam::{MGMT}:role/ciem-collector"),
        inline=(("ciem-readonly", readonly_collector()),),
    )


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
ORGANIZATION_CALLS = (
    "organizations:DescribeOrganization",
    "organizations:ListAccounts",
    "organizations:ListRoots",
    "organizations:ListParents",
    "organizations:ListPolicies",
    "organizations:DescribePolicy",
    "organizations:ListTargetsForPolicy",
)

CUSTOMER_POLICIES = (
    customer_policy(
        MGMT,
        "CiemCollectorPolicy",
        "2026-03-02 08:00",
        readonly_collector(
            allow(
                "sts:AssumeRole",
                resource=(
                    f"arn:aws:iam::{PROD}:role/ciem-readonly",
                    f"arn:aws:iam::{DEV}:role/ciem-readonly",
                ),
                sid="AssumeMemberReadOnly",
            ),
            allow(*ORGANIZATION_CALLS, sid="OrganizationTree"),
        ),
        "Nightly CIEM collector: exactly the calls it makes",
    ),
)

SCPS = (
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

_CLOUDTRAIL = {"Service": "cloudtrail.amazonaws.com"}
_FROM_TRAIL = {"aws:SourceArn": TRAIL_ARN}
_TRAIL_WRITE = {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", **_FROM_TRAIL}}

BUCKET_POLICIES = {
    MGMT: {
        TRAIL_BUCKET: doc(
            allow("s3:GetBucketAcl", principal=_CLOUDTRAIL, resource=f"arn:aws:s3:::{TRAIL_BUCKET}",
                  sid="AWSCloudTrailAclCheck20150319", condition={"StringEquals": _FROM_TRAIL}),
            allow("s3:PutObject", principal=_CLOUDTRAIL,
                  resource=f"arn:aws:s3:::{TRAIL_BUCKET}/AWSLogs/{MGMT}/*",
                  sid="AWSCloudTrailWrite20150319", condition=_TRAIL_WRITE),
            allow("s3:PutObject", principal=_CLOUDTRAIL,
                  resource=f"arn:aws:s3:::{TRAIL_BUCKET}/AWSLogs/{ORG_ID}/*",
                  sid="AWSCloudTrailOrganizationWrite20150319", condition=_TRAIL_WRITE),
        )
    },
}  # fmt: skip

ROLES = (
    ec2_role(MGMT, "ciem-collector", "2026-03-02 08:00",
             "Tight EC2 role of the CIEM runner (instance ciem-runner); assumes ciem-readonly.",
             managed=("CiemCollectorPolicy",)),
    service_linked_role(MGMT, "organizations", "AWSServiceRoleForOrganizations",
                        "AWSOrganizationsServiceTrustPolicy", "2025-01-06 09:00",
                        "Service-linked; no events."),
    service_linked_role(MGMT, "sso", "AWSServiceRoleForSSO", "AWSSSOServiceRolePolicy",
                        "2025-01-20 11:55",
                        "Service-linked; no events (never inactive: service-linked roles are "
                        "exempt)."),
    service_linked_role(MGMT, "trustedadvisor", "AWSServiceRoleForTrustedAdvisor",
                        "AWSTrustedAdvisorServiceRolePolicy", "2025-01-06 09:05",
                        "Service-linked; daily sessions invoked by trustedadvisor.amazonaws.com."),
    ciem_readonly(PROD),
    service_linked_role(PROD, "elasticloadbalancing", "AWSServiceRoleForElasticLoadBalancing",
                        "AWSElasticLoadBalancingServiceRolePolicy", "2025-06-10 12:30",
                        "Service-linked; daily sessions invoked by "
                        "elasticloadbalancing.amazonaws.com."),
    service_linked_role(PROD, "sso", "AWSServiceRoleForSSO", "AWSSSOServiceRolePolicy",
                        "2025-01-20 11:55", "Service-linked; no events."),
    service_linked_role(PROD, "trustedadvisor", "AWSServiceRoleForTrustedAdvisor",
                        "AWSTrustedAdvisorServiceRolePolicy", "2025-01-06 09:35",
                        "Service-linked; daily sessions."),
    ciem_readonly(DEV),
    service_linked_role(DEV, "sso", "AWSServiceRoleForSSO", "AWSSSOServiceRolePolicy",
                        "2025-01-20 11:55", "Service-linked; no events."),
    service_linked_role(DEV, "trustedadvisor", "AWSServiceRoleForTrustedAdvisor",
                        "AWSTrustedAdvisorServiceRolePolicy", "2025-01-06 09:50",
                        "Service-linked; daily sessions."),
)  # fmt: skip

INSTANCES = (
    Instance(MGMT, "us-east-1", "ciem-runner", "ciem-collector", "running", "2026-03-02 08:15",
             scenario="Runs the nightly CIEM collection."),
)  # fmt: skip

_ADVISOR_CALLS = (
    "ec2:DescribeInstances",
    "ec2:DescribeSecurityGroups",
    "cloudtrail:DescribeTrails",
)

ACTIVITIES = (
    Activity("mgmt/ciem-collector", "ec2:ciem-runner", ALL_DAYS,
             (*ORGANIZATION_CALLS, *COLLECTOR_CALLS), hours=(2, 3), count=(1, 4)),
    Activity("prod/ciem-readonly", "assume:mgmt/ciem-collector", ALL_DAYS, COLLECTOR_CALLS,
             hours=(3, 4), count=(1, 4)),
    Activity("dev/ciem-readonly", "assume:mgmt/ciem-collector", ALL_DAYS, COLLECTOR_CALLS,
             hours=(4, 5), count=(1, 4)),
    Activity("mgmt/AWSServiceRoleForTrustedAdvisor", "slr:trustedadvisor", ALL_DAYS,
             _ADVISOR_CALLS, hours=(4, 6)),
    Activity("prod/AWSServiceRoleForElasticLoadBalancing", "slr:elasticloadbalancing", ALL_DAYS,
             ("ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"), hours=(0, 22)),
    Activity("prod/AWSServiceRoleForTrustedAdvisor", "slr:trustedadvisor", ALL_DAYS,
             _ADVISOR_CALLS, hours=(4, 6)),
    Activity("dev/AWSServiceRoleForTrustedAdvisor", "slr:trustedadvisor", ALL_DAYS,
             _ADVISOR_CALLS, hours=(4, 6)),
    # KMS rotating customer keys: AwsServiceEvents without an identity type
    Activity("mgmt", "service:kms", (10,), ("kms:RotateKey",), hours=(0, 1)),
    Activity("prod", "service:kms", (8,), ("kms:RotateKey@eu-west-1",), hours=(0, 1)),
    Activity("prod", "service:kms", (14,), ("kms:RotateKey",), hours=(0, 1)),
    Activity("dev", "service:kms", (16,), ("kms:RotateKey",), hours=(0, 1)),
)  # fmt: skip

NEAR_MISSES = (
    NearMiss("mgmt/ciem-collector", "large-permissions-gap",
             "Tight: every call of its policy, incl. sts:AssumeRole into ciem-readonly, runs "
             "nightly."),
    NearMiss("mgmt/ciem-collector", "can-assume-admin-role",
             "Assumes ciem-readonly, which is not admin."),
    NearMiss("prod/ciem-readonly", "cross-account-trust-without-external-id",
             "Trusts mgmt ciem-collector: an organization account (external ids are for third "
             "parties)."),
    NearMiss("prod/ciem-readonly", "trust-outside-organization",
             "Trusts mgmt ciem-collector, inside the organization."),
    NearMiss("mgmt/AWSServiceRoleForSSO", "inactive-identity",
             "Service-linked roles are exempt (no events at all)."),
    NearMiss("mgmt/AWSServiceRoleForOrganizations", "unused-role",
             "Service-linked roles are exempt (RoleLastUsed empty)."),
    NearMiss("prod/AWSServiceRoleForElasticLoadBalancing", "admin-iam-role",
             "Service-linked roles are never admin findings."),
)  # fmt: skip
