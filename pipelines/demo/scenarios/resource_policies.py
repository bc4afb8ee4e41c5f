"""Demo scenarios, resource policies: S3 bucket policies, public, cross-account or fenced."""

from __future__ import annotations

from pipelines.demo.accounts import DEV, EXTERNAL, ORG_ID, PROD
from pipelines.demo.activity import NearMiss
from pipelines.demo.policies import allow, bucket_arns, deny_insecure, doc

_ORDERS = "ciem-demo-prod-orders-data"
_ARTIFACTS = "ciem-demo-dev-artifacts"
_PUBLIC = "ciem-demo-prod-public-assets"
_PARTNER = f"arn:aws:iam::{EXTERNAL}:root"
_IMAGE_RESIZE = f"arn:aws:iam::{DEV}:role/service-role/image-resize-lambda-role"

BUCKET_POLICIES = {
    PROD: {
        _ORDERS: doc(
            allow("s3:GetObject", "s3:ListBucket", principal={"AWS": _PARTNER},
                  resource=bucket_arns(_ORDERS), sid="PartnerReadAccess"),
            deny_insecure(_ORDERS),
        ),
        "ciem-demo-prod-alb-logs": doc(
            allow("s3:PutObject",
                  principal={"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
                  resource=f"arn:aws:s3:::ciem-demo-prod-alb-logs/AWSLogs/{PROD}/*",
                  sid="AWSLogDeliveryWrite"),
        ),
        _PUBLIC: doc(
            allow("s3:GetObject", principal="*", resource=f"arn:aws:s3:::{_PUBLIC}/*",
                  sid="PublicReadGetObject"),
        ),
    },
    DEV: {
        _ARTIFACTS: doc(
            allow("s3:GetObject", principal="*", resource=f"arn:aws:s3:::{_ARTIFACTS}/builds/*",
                  sid="OrganizationReadBuilds",
                  condition={"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}),
            allow("s3:GetObject", "s3:PutObject", principal={"AWS": _IMAGE_RESIZE},
                  resource=f"arn:aws:s3:::{_ARTIFACTS}/*", sid="ImageResizeReadWrite"),
            deny_insecure(_ARTIFACTS),
        )
    },
}  # fmt: skip

NEAR_MISSES = (
    NearMiss("dev/ciem-demo-dev-artifacts", "public-resource-policy",
             "Principal * only with aws:PrincipalOrgID of the organization; the other * is a "
             "Deny."),
    NearMiss("dev/ciem-demo-dev-artifacts", "cross-account-resource-policy",
             "Grants a role of its own account."),
    NearMiss("prod/ciem-demo-prod-alb-logs", "public-resource-policy",
             "A service principal (ELB log delivery), not anyone."),
    NearMiss("prod/ciem-demo-prod-public-assets", "cross-account-resource-policy",
             "Principal * names no account (public-resource-policy reports it)."),
)  # fmt: skip
