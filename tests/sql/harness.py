"""Runs SQL models on hand-written input rows in an in-memory DuckDB (input -> expected rows)."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import date
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
) -> duckdb.DuckDBPyConnection:
    """Load every lake table (given rows, else empty) and build the target models and their deps."""
    unknown = set(inputs) - set(LAKE_TABLES)
    if unknown:
        raise KeyError(f"not lake tables: {sorted(unknown)}")
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    for name, table in LAKE_TABLES.items():
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
    )
    set_run_params(con, params)
    for model in _models_needed(targets):
        run_model(con, model)
    return con


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
    }
