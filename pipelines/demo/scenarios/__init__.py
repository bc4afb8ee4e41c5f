"""Demo scenarios registry: the scenario families, in order, assembled into the demo's tables."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from pipelines.demo.accounts import ACCOUNT_NAMES, principal_key
from pipelines.demo.scenarios import (
    admins,
    baseline,
    credentials,
    escalation,
    order,
    regions,
    resource_policies,
    trust,
    usage,
    workloads,
)
from pipelines.demo.tables import Tables

# Each family module declares its rows together: CUSTOMER_POLICIES, USERS, GROUPS, ROLES, ROOTS,
# INSTANCES, FUNCTIONS, BUCKET_POLICIES, SCPS, ACTIVITIES and NEAR_MISSES (those it has). A new
# scenario touches one family module (order.py pins the committed demo's order; rows it does not
# name come after, in family order); a new family is one more entry here.
FAMILIES: tuple[ModuleType, ...] = (
    baseline,  # SCPs, the org trail's bucket, the CIEM collector, service-linked roles, KMS
    admins,  # admin users, groups and roles, and the ones that only look like admin
    workloads,  # EC2 instance profiles and Lambda execution roles
    usage,  # permission gaps, Identity Center, idle and new principals
    credentials,  # passwords, MFA, access keys, root users
    trust,  # trust policies: outside accounts, OIDC, a wildcard, roles naming a user
    escalation,  # one step from admin
    resource_policies,  # S3 bucket policies
    regions,  # a region-restriction SCP that exempts a break-glass role (issue 12)
)


def _rows(table: str) -> tuple[Any, ...]:
    return tuple(row for family in FAMILIES for row in getattr(family, table, ()))


def _buckets() -> dict[str, dict[str, dict]]:
    """Every family's bucket policies per account, accounts in organization order."""
    merged: dict[str, dict[str, dict]] = {account: {} for account in ACCOUNT_NAMES}
    for family in FAMILIES:
        for account, buckets in getattr(family, "BUCKET_POLICIES", {}).items():
            if twice := merged[account].keys() & buckets.keys():
                raise ValueError(f"bucket policies declared twice: {sorted(twice)}")
            merged[account].update(buckets)
    return {account: buckets for account, buckets in merged.items() if buckets}


def _named(row: Any) -> str:
    return principal_key(row.account, row.name)


TABLES = Tables(
    customer_policies=_rows("CUSTOMER_POLICIES"),
    users=order.pinned(_rows("USERS"), order.USERS, _named),
    groups=order.pinned(_rows("GROUPS"), order.GROUPS, _named),
    roles=order.pinned(_rows("ROLES"), order.ROLES, _named),
    roots=tuple(sorted(_rows("ROOTS"), key=lambda r: list(ACCOUNT_NAMES).index(r.account))),
    instances=order.pinned(_rows("INSTANCES"), order.INSTANCES, _named),
    functions=order.pinned(_rows("FUNCTIONS"), order.FUNCTIONS, _named),
    bucket_policies=_buckets(),
    scps=_rows("SCPS"),
    activities=order.pinned(_rows("ACTIVITIES"), order.ACTIVITIES, lambda a: a.actor),
    near_misses=order.pinned(_rows("NEAR_MISSES"), order.NEAR_MISSES, lambda n: n[:2]),
)
