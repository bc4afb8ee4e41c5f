"""Runs SQL models on hand-written input rows in an in-memory DuckDB (input -> expected rows)."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

import duckdb
import pyarrow as pa

from pipelines.defs.lake_tables import lake_tables
from pipelines.lib.warehouse.connection import RunParams, set_run_params
from pipelines.lib.warehouse.sql_models import SqlModel, discover_models, run_model

LAKE_TABLES = lake_tables()
MODELS = {m.name: m for m in discover_models(external=LAKE_TABLES)}

# A small catalog for model tests: realistic names, few enough to list expected rows by hand.
SMALL_CATALOG = [
    ("s3:GetObject", "Read"),
    ("s3:PutObject", "Write"),
    ("s3:ListBucket", "List"),
    ("s3:ListAllMyBuckets", "List"),
    ("iam:PassRole", "Write"),
    ("iam:CreateUser", "Write"),
    ("ec2:RunInstances", "Write"),
    ("lambda:CreateFunction", "Write"),
    ("cloudwatch:PutMetricData", "Write"),
]

# The catalog's action keys as the models spell them: every action `*` expands to.
SMALL_CATALOG_ACTIONS = frozenset(name.lower() for name, _ in SMALL_CATALOG)


def catalog_rows(actions: Iterable[tuple[str, str]] = SMALL_CATALOG) -> list[dict[str, Any]]:
    return [
        {
            "action": name.lower(),
            "action_name": name,
            "service": name.split(":")[0].lower(),
            "access_level": level,
            "access_level_detail": level,
            "description": None,
            "catalog_version": "test-catalog",
        }
        for name, level in actions
    ]


def _models_needed(targets: Iterable[str]) -> list[SqlModel]:
    order: list[SqlModel] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen or name not in MODELS:
            return
        seen.add(name)
        for dep in MODELS[name].deps:
            visit(dep)
        order.append(MODELS[name])

    for target in targets:
        visit(target)
    return order


def build(
    inputs: Mapping[str, list[dict[str, Any]]],
    targets: Iterable[str],
    as_of: date = date(2026, 11, 20),
    window_days: int = 15,
    gap_threshold: float = 0.4,
    unused_days: int = 90,
    key_rotation_days: int = 90,
    max_hops: int = 5,
    memory_limit: str | None = None,
) -> duckdb.DuckDBPyConnection:
    """Load every lake table (given rows, else empty) and build the target models and their deps
    (with DuckDB's `memory_limit`, when given: a model that holds too much fails)."""
    unknown = set(inputs) - set(LAKE_TABLES)
    if unknown:
        raise KeyError(f"not lake tables: {sorted(unknown)}")
    if "cloudtrail_deliveries_daily" not in inputs:
        deliveries = full_coverage(inputs, as_of, window_days)
        inputs = {**inputs, "cloudtrail_deliveries_daily": deliveries}
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    if memory_limit:
        con.execute(f"set memory_limit = '{memory_limit}'")
    first_by_glob: dict[tuple[str, str], str] = {}
    for name, table in LAKE_TABLES.items():
        files = (table.glob, table.as_of_path)
        if files in first_by_glob and name not in inputs:
            # Another name for the same lake files (`earlier_detection_history`): the same rows.
            con.execute(f"create view {name} as select * from {first_by_glob[files]}")
            continue
        first_by_glob.setdefault(files, name)
        rows = inputs.get(name, catalog_rows() if name == "ref_iam_actions" else [])
        arrow = pa.Table.from_pylist(
            [{f.name: r.get(f.name) for f in table.schema} for r in rows], schema=table.schema
        )
        con.register(f"_{name}", arrow)
        con.execute(f"create table {name} as select * from _{name}")
        con.unregister(f"_{name}")
    params = RunParams(
        as_of=as_of,
        window_days=window_days,
        gap_threshold=gap_threshold,
        unused_days=unused_days,
        key_rotation_days=key_rotation_days,
        max_hops=max_hops,
    )
    set_run_params(con, params)
    for model in _models_needed(targets):
        run_model(con, model)
    return con


def full_coverage(
    inputs: Mapping[str, list[dict[str, Any]]], as_of: date, window_days: int
) -> list[dict[str, Any]]:
    """`cloudtrail_deliveries_daily` rows of a trail that delivered every day of the window, in
    us-east-1 and every region the inputs name, for every account they name: what a model test
    that does not say otherwise assumes (cloudtrail_coverage `covered`, no `cloudtrail_gap`)."""
    accounts: set[str] = set()
    regions = {"us-east-1"}
    for table in inputs.values():
        for row in table:
            if row.get("account_id"):
                accounts.add(row["account_id"])
                if row.get("region"):
                    regions.add(row["region"])
    return [
        {
            "day": date.fromordinal(as_of.toordinal() - offset),
            "account_id": account,
            "region": region,
            "delivery_hour": 12,
            "files": 1,
            "quarantined_files": 0,
            "records": 1,
        }
        for account in sorted(accounts)
        for region in sorted(regions)
        for offset in range(window_days)
    ]


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return con.execute(sql).fetchall()


@functools.cache
def event_map_rows() -> tuple[dict[str, Any], ...]:
    """The real event->action map (built once per test session)."""
    from pipelines.lib.reference.event_map import build_event_action_map

    return tuple(build_event_action_map().to_pylist())


def daily(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Run the daily models (sql/daily/) on the given CloudTrail rows, as one partition would;
    returns rows for the lake tables `usage_daily` and `event_counts_daily`."""
    from pipelines.lib.land.cloudtrail_events import CLOUDTRAIL_EVENTS_SCHEMA
    from pipelines.lib.land.cloudtrail_landing import MANIFEST_SCHEMA
    from pipelines.lib.reference.csvs import load_reference
    from pipelines.lib.reference.event_map import EVENT_ACTION_MAP_SCHEMA
    from pipelines.lib.warehouse.daily import DAILY_MODELS, DAILY_SCHEMAS, daily_model

    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    inputs = {
        "day_events": pa.Table.from_pylist(
            [{f.name: e.get(f.name) for f in CLOUDTRAIL_EVENTS_SCHEMA} for e in events],
            schema=CLOUDTRAIL_EVENTS_SCHEMA,
        ),
        "day_manifest": MANIFEST_SCHEMA.empty_table(),
        "ref_error_codes": load_reference("ref_error_codes"),
        "ref_event_action_map": pa.Table.from_pylist(
            list(event_map_rows()), schema=EVENT_ACTION_MAP_SCHEMA
        ),
    }
    for name, table in inputs.items():
        con.register(name, table)
    return {
        name: con.sql(daily_model(name).sql).to_arrow_table().cast(DAILY_SCHEMAS[name]).to_pylist()
        for name in DAILY_MODELS
        if name != "cloudtrail_deliveries_daily"  # no manifest: `build` assumes full coverage
    }


# --- input rows ----------------------------------------------------------------------------------
# Builders for the raw_* rows the model tests feed `build`, in the shapes the snapshot reader lands
# them. Keys a builder leaves out land as null; `**extra` sets or overrides any column.

ACCT = "111111111111"  # the account every builder defaults to
CREATED = datetime(2025, 1, 1, tzinfo=UTC)  # when every principal was created, by default


def policy_json(statements: list[dict[str, Any]] | dict[str, Any]) -> str:
    """A policy document as the snapshot stores it: JSON text around `Statement`."""
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def user_arn(name: str, account: str = ACCT) -> str:
    return f"arn:aws:iam::{account}:user/{name}"


def role_arn(name: str, account: str = ACCT, path: str = "/") -> str:
    return f"arn:aws:iam::{account}:role{path}{name}"


def _principal_type(arn: str) -> str:
    """`user`, `role` or `group`, from an IAM ARN."""
    return arn.split(":")[5].split("/")[0]


def iam_user(name: str, account: str = ACCT, **extra: Any) -> dict[str, Any]:
    """A `raw_iam_users` row."""
    return {
        "account_id": account,
        "user_name": name,
        "user_id": "AIDA" + name.upper().replace("-", ""),
        "arn": user_arn(name, account),
        "path": "/",
        "create_date": CREATED,
        **extra,
    }


def iam_role(
    name: str,
    trust: list[dict[str, Any]] | dict[str, Any] | None = None,
    account: str = ACCT,
    path: str = "/",
    **extra: Any,
) -> dict[str, Any]:
    """A `raw_iam_roles` row; `trust` is the Statement of its trust policy."""
    return {
        "account_id": account,
        "role_name": name,
        "role_id": "AROA" + name.upper().replace("-", ""),
        "arn": role_arn(name, account, path),
        "path": path,
        "create_date": CREATED,
        "is_service_linked": path.startswith("/aws-service-role/"),
        "assume_role_policy_document": None if trust is None else policy_json(trust),
        **extra,
    }


def iam_group(name: str, account: str = ACCT, **extra: Any) -> dict[str, Any]:
    """A `raw_iam_groups` row."""
    return {
        "account_id": account,
        "group_name": name,
        "group_id": "AGPA" + name.upper().replace("-", ""),
        "arn": f"arn:aws:iam::{account}:group/{name}",
        "path": "/",
        "create_date": CREATED,
        **extra,
    }


def inline_policy(
    principal_arn: str, statements: list[dict[str, Any]] | dict[str, Any], name: str = "p"
) -> dict[str, Any]:
    """A `raw_iam_inline_policies` row of the user, role or group `principal_arn`."""
    return {
        "account_id": principal_arn.split(":")[4],
        "principal_arn": principal_arn,
        "principal_type": _principal_type(principal_arn),
        "policy_name": name,
        "document": policy_json(statements),
    }


def managed_policy(
    policy_arn: str, statements: list[dict[str, Any]] | dict[str, Any], account: str = ACCT
) -> dict[str, Any]:
    """A `raw_iam_policies` row named by the last part of its ARN, as listed in `account`."""
    name = policy_arn.rsplit("/", 1)[1]
    return {
        "account_id": account,
        "policy_arn": policy_arn,
        "policy_name": name,
        "policy_id": "ANPA" + name.upper(),
        "path": "/",
        "is_aws_managed": ":aws:policy/" in policy_arn,
        "document": policy_json(statements),
    }


def attachment(principal_arn: str, policy_arn: str) -> dict[str, Any]:
    """A `raw_iam_policy_attachments` row."""
    return {
        "account_id": principal_arn.split(":")[4],
        "principal_arn": principal_arn,
        "principal_type": _principal_type(principal_arn),
        "policy_arn": policy_arn,
    }


def bucket_policy(
    bucket: str, statements: list[dict[str, Any]], account: str = ACCT
) -> dict[str, Any]:
    """A `raw_s3_bucket_policies` row."""
    return {"account_id": account, "bucket": bucket, "document": policy_json(statements)}


def org_accounts(*accounts: str, org_id: str = "o-1", management: str = ACCT) -> list[dict]:
    """`raw_org_accounts` rows, each account named by its id."""
    return [
        {
            "account_id": a,
            "arn": f"arn:aws:organizations::{management}:account/{org_id}/{a}",
            "name": a,
        }
        for a in accounts
    ]


def organization(org_id: str = "o-1", management: str = ACCT) -> list[dict[str, Any]]:
    """The one `raw_org_organization` row."""
    return [
        {
            "organization_id": org_id,
            "arn": f"arn:aws:organizations::{management}:organization/{org_id}",
            "management_account_id": management,
            "feature_set": "ALL",
        }
    ]


@functools.cache
def _reference(name: str) -> tuple[dict[str, Any], ...]:
    from pipelines.lib.reference.csvs import load_reference

    return tuple(load_reference(name).to_pylist())


def reference_rows(name: str) -> list[dict[str, Any]]:
    """The rows of a shipped reference table (ref_oidc_providers, ref_detection_rules, ...)."""
    return list(_reference(name))


# --- reading rule output ------------------------------------------------------------------------


# The columns that say what a detection is about, in a rule model's order.
DETECTION_COLUMNS = "rule_id, resource_arn, resource_type, account_id, principal_arn, title"


def fired(
    con: duckdb.DuckDBPyConnection, *rule_models: str, columns: str = "rule_id, resource_arn"
) -> set[tuple[Any, ...]]:
    """The set of `columns` rows of the given detection models together."""
    return set(rows(con, " union all ".join(f"select {columns} from {m}" for m in rule_models)))


def evidence_of(
    con: duckdb.DuckDBPyConnection, rule_model: str, resource_arn: str
) -> dict[str, Any]:
    """The evidence of the one detection of `rule_model` on `resource_arn`."""
    sql = f"select evidence from {rule_model} where resource_arn = ?"
    got = con.execute(sql, [resource_arn]).fetchall()
    assert len(got) == 1
    return json.loads(got[0][0])
