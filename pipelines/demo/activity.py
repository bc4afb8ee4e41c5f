"""Demo builders: activities (who calls what, on which days of November 2026) and near misses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from pipelines.demo.accounts import HOME, SNAPSHOT_DATES, TRAIL_DAYS, TRAIL_FIRST_DAY

ALL_DAYS = tuple(range(1, TRAIL_DAYS + 1))
WEEKDAYS = tuple(d for d in ALL_DAYS if TRAIL_FIRST_DAY.replace(day=d).weekday() < 5)
BOTH_RUNS = SNAPSHOT_DATES
ONLY_1120 = (date(2026, 11, 20),)


@dataclass(frozen=True)
class Activity:
    """One principal's sessions: on each day, one session making every call 1..n times.

    via: 'key' (IAM user access key) | 'console' (ConsoleLogin, then console calls) |
    'ec2:<instance>' | 'lambda:<function>' | 'assume:<alias>/<caller>' (sts:AssumeRole by a
    principal) | 'oidc[:<sub>]' (GitHub; the token's subject, GITHUB_SUB unless given) |
    'saml:<user>' (IAM Identity Center) | 'external' (account 999999999999) | 'root' (console
    sign-in of the account's root user; actor is an account alias) | 'slr:<service>'
    (service-linked role session) | 'service:<service>' (a type-less AwsServiceEvent; actor is
    then just an account alias).
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


class NearMiss(NamedTuple):
    """A principal (or bucket, instance) the pipeline must NOT flag for a rule, and why."""

    subject: str  # '<alias>/<name>'
    rule: str
    why: str
    runs: tuple[date, ...] = BOTH_RUNS  # the runs it must stay silent in
