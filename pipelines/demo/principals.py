"""Demo builders: IAM users, groups, roles and root users, and the recurring role shapes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pipelines.demo.accounts import ACCOUNT_CREATED, MGMT, fake_id
from pipelines.demo.policies import ADMIN_INLINE, sso_role, trust_aws, trust_service, trust_sso

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
    # Written ground truth for the rules the evaluator does not re-derive (escalation).
    expect: tuple[str, ...] = ()
    # A managed policy attached in one snapshot only: the deliberate change between snapshots.
    only_in_snapshot: tuple[date, str] | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account}:user/{self.name}"

    @property
    def id(self) -> str:
        return fake_id("AIDA", self.arn)

    @property
    def key_id(self) -> str:
        return fake_id("AKIA", "key1" + self.arn, 16)

    def managed_in(self, snapshot: date) -> tuple[str, ...]:
        """The managed policies attached in a snapshot (with a snapshot-only one)."""
        extra = self.only_in_snapshot
        return (*self.managed, extra[1]) if extra and extra[0] == snapshot else self.managed


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
    boundary: str | None = None  # a customer-managed policy of its account

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account}:role{self.path}{self.name}"

    @property
    def id(self) -> str:
        return fake_id("AROA", self.arn)

    @property
    def service_linked(self) -> bool:
        return self.path.startswith("/aws-service-role/")


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


# ---- recurring role shapes ----------------------------------------------------------------------


def ec2_role(
    account: str,
    name: str,
    created: str,
    scenario: str,
    managed: tuple[str, ...] = (),
    inline: Inline = (),
) -> Role:
    """An EC2 role with its instance profile (named like the role, the console default)."""
    trust = trust_service("ec2.amazonaws.com")
    return Role(
        account,
        name,
        created,
        scenario,
        trust,
        managed=managed,
        inline=inline,
        instance_profile=True,
    )


def lambda_role(
    account: str,
    name: str,
    created: str,
    scenario: str,
    managed: tuple[str, ...] = (),
    inline: Inline = (),
    path: str = "/",
) -> Role:
    """A Lambda execution role."""
    trust = trust_service("lambda.amazonaws.com")
    return Role(account, name, created, scenario, trust, path=path, managed=managed, inline=inline)


def service_linked_role(
    account: str, service: str, name: str, policy: str, created: str, scenario: str
) -> Role:
    return Role(
        account,
        name,
        created,
        scenario,
        trust_service(f"{service}.amazonaws.com"),
        path=f"/aws-service-role/{service}.amazonaws.com/",
        managed=(policy,),
    )


def sso_permission_set(
    account: str, permission_set: str, managed: tuple[str, ...], scenario: str
) -> Role:
    """The role IAM Identity Center provisions for a permission set in an account."""
    return Role(
        account,
        sso_role(permission_set, account),
        "2025-01-20 12:00",
        scenario,
        trust_sso(account),
        path="/aws-reserved/sso.amazonaws.com/",
        managed=managed,
    )


def org_access_role(account: str, used_before: tuple[str, str] | None, scenario: str) -> Role:
    """OrganizationAccountAccessRole: admin, trusting the management account (as created)."""
    return Role(
        account,
        "OrganizationAccountAccessRole",
        ACCOUNT_CREATED[account],
        scenario,
        trust_aws(f"arn:aws:iam::{MGMT}:root"),
        inline=(("AdministratorAccess", ADMIN_INLINE),),
        used_before=used_before,
    )
