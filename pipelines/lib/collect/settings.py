"""Collect layer: the collector's settings (role name, workers, client retries, regions)."""

from __future__ import annotations

from collections.abc import Callable

import boto3
from botocore.config import Config

# defined beside, for importers that do not load boto3
from pipelines.lib.collect.defaults import DEFAULT_ROLE_NAME as DEFAULT_ROLE_NAME
from pipelines.lib.collect.defaults import DEFAULT_WORKERS as DEFAULT_WORKERS

# Region for regional calls made before any region is chosen (DescribeRegions) when the AWS
# configuration names none; global services (IAM, Organizations) ignore it.
FALLBACK_REGION = "us-east-1"
ROLE_SESSION_NAME = "ciem-collector"
# Throttling and transient errors are retried with backoff by botocore itself; "adaptive" also
# rate-limits the client once AWS starts throttling.
# https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html
CLIENT_CONFIG = Config(
    retries={"mode": "adaptive", "max_attempts": 10}, user_agent_extra="ciem-collector"
)
# Organizations policy types whose documents the evaluation logic uses.
ORG_POLICY_LABELS = {"SERVICE_CONTROL_POLICY": "SCPs", "RESOURCE_CONTROL_POLICY": "RCPs"}
ORG_POLICY_TYPES = tuple(ORG_POLICY_LABELS)
# describe-regions OptInStatus values of regions an account can call.
ENABLED_OPT_IN = frozenset({"opt-in-not-required", "opted-in"})
# Error codes that mean "this region is not enabled for this account / these credentials".
REGION_DISABLED_CODES = frozenset(
    {"AuthFailure", "UnrecognizedClientException", "InvalidClientTokenId", "OptInRequired"}
)
# The first call (who am I?) fails fast on a wrong endpoint or missing credentials.
IDENTITY_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 2},
    connect_timeout=10,
    user_agent_extra="ciem-collector",
)
CREDENTIAL_REPORT_TIMEOUT_S = 300.0

SessionFactory = Callable[..., boto3.Session]
