"""What the models step records for each model: a table's row count, preview and column schema,
and for an intermediate view only its column schema. Reading even a few rows of a view may
compute it whole (int_statement_actions_expanded, statements x catalog, ran out of memory there on
10 adversarial accounts), so a view is never read by the step."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb

from pipelines.defs.models import _build_model
from pipelines.lib.lake import Lake
from pipelines.lib.warehouse.sql_models import SqlModel


def _model(tmp_path: Path, name: str, sql: str, materialized: str) -> SqlModel:
    return SqlModel(
        name=name,
        layer="intermediate",
        path=tmp_path / f"{name}.sql",
        sql=sql,
        description="",
        grain=None,
        materialized=materialized,
    )


def test_a_view_is_described_but_never_read(tmp_path: Path) -> None:
    con = duckdb.connect()
    # reading any row of this view fails: the step must not read it
    view = _model(
        tmp_path, "int_costly", "select error('read')::varchar as action, 1::integer as n", "view"
    )
    metadata = _build_model(con, Lake.at(tmp_path / "lake"), view)
    schema = metadata["dagster/column_schema"]
    assert isinstance(schema, dg.TableSchema)
    assert [(c.name, c.type) for c in schema.columns] == [("action", "VARCHAR"), ("n", "INTEGER")]
    assert set(metadata) == {"dagster/column_schema"}


def test_a_table_is_counted_and_previewed(tmp_path: Path) -> None:
    con = duckdb.connect()
    table = _model(tmp_path, "int_small", "select range::integer as n from range(7)", "table")
    metadata = _build_model(con, Lake.at(tmp_path / "lake"), table)
    assert metadata["dagster/row_count"] == 7
    assert set(metadata) == {"dagster/column_schema", "dagster/row_count", "preview"}
