"""Demo builders: the reference data the demo reads (AWS-managed policies, event-to-action CSVs)."""

from __future__ import annotations

import csv
import functools
import json
import re
from pathlib import Path

from pipelines.demo.accounts import fake_id
from pipelines.demo.policies import allow, doc

REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE_DIR = REPO_ROOT / "data" / "reference"
AWS_MANAGED_FILE = REFERENCE_DIR / "aws-managed-policies.json"

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


def read_reference(name: str) -> list[dict[str, str]]:
    with (REFERENCE_DIR / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


# ---- event source -> IAM prefix, date-suffixed event names (as the pipeline maps them) ---------

DATE_SUFFIX = re.compile(r"\d{8}(v\d+)?$")


@functools.cache
def _aliases() -> dict[str, str]:
    return {r["event_source"]: r["iam_prefix"] for r in read_reference("eventsource_aliases.csv")}


def iam_prefix(event_source: str) -> str:
    return _aliases().get(event_source, event_source.split(".", 1)[0])


def strip_suffix(event_name: str) -> str:
    return DATE_SUFFIX.sub("", event_name)
