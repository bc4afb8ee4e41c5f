"""Runs SQL models on hand-written input rows in an in-memory DuckDB (input -> expected rows)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import duckdb
import pyarrow as pa

from pipelines.lib.lake_tables import lake_tables
from pipelines.lib.sql_models import SqlModel, discover_models, run_model
from pipelines.lib.warehouse import RunParams, set_run_params

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
    set_run_params(
        con, RunParams(as_of=as_of, window_days=window_days, gap_threshold=gap_threshold)
    )
    for model in _models_needed(targets):
        run_model(con, model)
    return con


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return con.execute(sql).fetchall()
