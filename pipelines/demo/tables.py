"""Demo builders: the organization as tables (what the scenarios declare) and lookups over them."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

from pipelines.demo.accounts import ALIASES, principal_key
from pipelines.demo.activity import Activity, NearMiss
from pipelines.demo.compute import Function, Instance
from pipelines.demo.policies import CustomerPolicy, Scp
from pipelines.demo.principals import Group, Role, RootUser, User
from pipelines.demo.reference import aws_managed


@dataclass(frozen=True)
class Tables:
    """Every table of the demo organization, in the order the generator consumes them."""

    customer_policies: tuple[CustomerPolicy, ...]
    users: tuple[User, ...]
    groups: tuple[Group, ...]
    roles: tuple[Role, ...]
    roots: tuple[RootUser, ...]
    instances: tuple[Instance, ...]
    functions: tuple[Function, ...]
    bucket_policies: dict[str, dict[str, dict]]  # account -> bucket -> policy document
    scps: tuple[Scp, ...]
    activities: tuple[Activity, ...]  # in trail order: the random stream follows it
    near_misses: tuple[NearMiss, ...]

    # -- lookups ------------------------------------------------------------------------------
    @functools.cached_property
    def users_by_key(self) -> dict[str, User]:
        return {principal_key(u.account, u.name): u for u in self.users}

    @functools.cached_property
    def roles_by_key(self) -> dict[str, Role]:
        return {principal_key(r.account, r.name): r for r in self.roles}

    @functools.cached_property
    def groups_by_key(self) -> dict[str, Group]:
        return {principal_key(g.account, g.name): g for g in self.groups}

    @functools.cached_property
    def roots_by_account(self) -> dict[str, RootUser]:
        return {r.account: r for r in self.roots}

    @functools.cached_property
    def customer_by_key(self) -> dict[tuple[str, str], CustomerPolicy]:
        return {(p.account, p.name): p for p in self.customer_policies}

    @functools.cached_property
    def instances_by_name(self) -> dict[str, Instance]:
        return {i.name: i for i in self.instances}

    @functools.cached_property
    def functions_by_name(self) -> dict[str, Function]:
        return {f.name: f for f in self.functions}

    def root(self, alias: str) -> RootUser:
        return self.roots_by_account[ALIASES[alias]]

    def role_by_name(self, account: str, name: str) -> Role:
        return self.roles_by_key[principal_key(account, name)]

    def group_by_name(self, account: str, name: str) -> Group:
        return self.groups_by_key[principal_key(account, name)]

    def first_via(self, actor: str) -> str:
        """How an actor's first activity acts (how it acts when it assumes a role)."""
        return next(a.via for a in self.activities if a.actor == actor)

    def managed_arn(self, account: str, name: str) -> str:
        if (account, name) in self.customer_by_key:
            return f"arn:aws:iam::{account}:policy/{name}"
        return aws_managed()[name]["arn"]

    def managed_document(self, account: str, name: str) -> dict:
        if (account, name) in self.customer_by_key:
            policy = self.customer_by_key[(account, name)]
            return policy.versions[policy.default - 1][1]
        return aws_managed()[name]["document"]

    def functions_in(self, snapshot: date) -> list[Function]:
        return [
            f for f in self.functions if f.first_snapshot is None or f.first_snapshot <= snapshot
        ]
