"""Demo evaluation: the rules, their thresholds and the shapes of expected detections and gaps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from pipelines.demo.accounts import SNAPSHOT_DATES, trail_time, ts
from pipelines.demo.evaluator import Catalog
from pipelines.demo.last_used import LastUsed

WINDOW_DAYS = 15
# A tight principal uses >= 80 % of its observable grant, a broad one < 20 %: nothing near 40 %.
GAP_THRESHOLD = 0.40
UNAMBIGUOUS_MARGIN = 0.20
UNUSED_DAYS = 90  # unused-role / -password / -access-key, access-key-not-rotated
UNUSED_MARGIN = timedelta(days=7)  # no 90-day fact closer than this to either run's cutoff
BLAST_SERVICES = 5  # large-blast-radius: write / permissions-management on "*" in >= 5 services

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
    "cloudtrail-coverage-gap",
)
# Written on the scenarios (User/Role.expect) instead of re-derived: whether a principal is one
# step from admin depends on the escalation method catalog; everything else is re-derived.
DECLARED_RULES = ("privilege-escalation",)
# The generator refuses a demo that lost one of its promised scenarios.
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


def normalise(value: str) -> str:
    """A table time ('2026-07-02 22:41') or a trail time, as a trail time."""
    return value if "T" in value else trail_time(ts(value))


@dataclass(frozen=True)
class RunContext:
    """What the rules of one pipeline run (as-of date) read."""

    as_of: date
    events: list[dict]
    last_used: LastUsed
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
