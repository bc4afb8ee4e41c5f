"""Demo builders, bottom layer: accounts, dates and fake ids (the demo makes the flow's inputs)."""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import UTC, date, datetime

SEED = 20261120

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
TRAIL_BUCKET = f"ciem-demo-org-trail-{MGMT}"
TRAIL_ARN = f"arn:aws:cloudtrail:us-east-1:{MGMT}:trail/org-trail"

SCP_FULL_ACCESS = "p-FullAWSAccess"
SCP_GUARDRAILS = "p-denyguardrails"
OIDC_HOST = "token.actions.githubusercontent.com"
# The subject a GitHub OIDC trust pins, and the one its workflow's token carries by default.
GITHUB_SUB = "repo:ciem-demo/orders-api:ref:refs/heads/main"


def ts(text: str) -> datetime:
    """'2026-03-01 10:00' (UTC) -> aware datetime."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def cli_time(moment: datetime) -> str:
    """The AWS CLI's rendering of API timestamps: 2026-03-01T10:00:00+00:00."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def trail_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_trail(value: str) -> datetime:
    """CloudTrail's eventTime (2026-11-05T10:00:00Z) -> aware datetime."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def fake_id(prefix: str, key: str, length: int = 17) -> str:
    """Canonical-looking IAM unique id (AIDA/AROA/AGPA/ANPA/AIPA/AKIA + base32), stable per key."""
    digest = base64.b32encode(hashlib.sha256(key.encode()).digest()).decode()
    return prefix + digest[:length]


def fake_hex(key: str, length: int) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:length]


def fake_uuid(key: str) -> str:
    return str(uuid.UUID(hex=fake_hex(key, 32), version=4))


def alias_of(account: str) -> str:
    """'mgmt' / 'prod' / 'dev' of an organization account id."""
    return next(a for a, acct in ALIASES.items() if acct == account)


def principal_key(account: str, name: str) -> str:
    """'<alias>/<name>': how the tables, the README and the near misses name a principal."""
    return f"{alias_of(account)}/{name}"
