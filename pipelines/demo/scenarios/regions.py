"""Demo scenarios: a region-restriction SCP on the Workloads OU that exempts one break-glass role
by `aws:PrincipalArn` (issue 12). Everyone else under the OU may use regional services only in the
demo's regions: their answers stay conditional on `aws:RequestedRegion`, and `ciem explain
--context aws:RequestedRegion=…` is exact; the exempt role's are not conditional at all.
The Deny names global services in NotAction, as AWS's example does
(https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_examples_general.html#example-scp-deny-region).
"""

from __future__ import annotations

from pipelines.demo.accounts import OU_ID, PROD, REGIONS
from pipelines.demo.policies import Scp, doc

SCP_REGION_RESTRICTION = "p-regionrestrict"
# The role the Deny exempts: the incident responders' admin role (trust.py), break-glass access.
BREAK_GLASS_ROLE = "incident-admin-role"
BREAK_GLASS_ARN = f"arn:aws:iam::{PROD}:role/{BREAK_GLASS_ROLE}"
# Global services (their calls go to us-east-1 whatever the caller's region) and the
# region-independent calls the example lists.
GLOBAL_ACTIONS = (
    "a4b:*",
    "acm:*",
    "aws-marketplace-management:*",
    "aws-marketplace:*",
    "aws-portal:*",
    "budgets:*",
    "ce:*",
    "chime:*",
    "cloudfront:*",
    "config:*",
    "cur:*",
    "directconnect:*",
    "ec2:DescribeRegions",
    "ec2:DescribeTransitGateways",
    "ec2:DescribeVpnGateways",
    "fms:*",
    "globalaccelerator:*",
    "health:*",
    "iam:*",
    "importexport:*",
    "kms:*",
    "mobileanalytics:*",
    "networkmanager:*",
    "organizations:*",
    "pricing:*",
    "route53:*",
    "route53domains:*",
    "s3:GetAccountPublic*",
    "s3:ListAllMyBuckets",
    "s3:PutAccountPublic*",
    "shield:*",
    "sts:*",
    "support:*",
    "trustedadvisor:*",
    "waf-regional:*",
    "waf:*",
    "wafv2:*",
    "wellarchitected:*",
)


def region_restriction_scp() -> Scp:
    """Deny NotAction [global services] on * unless the region is one of the demo's, for every
    principal but the break-glass role."""
    statement = {
        "Sid": "DenyAllOutsideDemoRegions",
        "Effect": "Deny",
        "NotAction": list(GLOBAL_ACTIONS),
        "Resource": "*",
        "Condition": {
            "StringNotEquals": {"aws:RequestedRegion": list(REGIONS)},
            "ArnNotLike": {"aws:PrincipalArn": [f"arn:aws:iam::*:role/{BREAK_GLASS_ROLE}"]},
        },
    }
    return Scp(
        SCP_REGION_RESTRICTION,
        "RegionRestriction",
        f"Regional services only in {', '.join(REGIONS)}, except for the break-glass role",
        False,
        doc(statement),
        (OU_ID,),
    )


SCPS = (region_restriction_scp(),)
