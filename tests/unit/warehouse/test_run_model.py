"""run_model: a model's table or view is replaced whatever kind it was before, and the row
count it reports is the table's."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.warehouse.sql_models import SqlModel, discover_models, run_model


def _model(materialized: str, sql: str, layer: str = "intermediate") -> SqlModel:
    return SqlModel(
        name="int_things",
        layer=layer,
        path=Path("sql/intermediate/int_things.sql"),
        sql=sql,
        description="",
        grain=None,
        materialized=materialized,
    )


def _kind(con: duckdb.DuckDBPyConnection) -> str:
    [(kind,)] = con.execute(
        "select table_type from information_schema.tables where table_name = 'int_things'"
    ).fetchall()
    return kind


def test_a_model_switches_between_table_and_view_and_counts_its_rows() -> None:
    con = duckdb.connect()
    table = _model("table", "select * from range(3) as t(n)")
    view = _model("view", "select * from range(5) as t(n)")
    assert run_model(con, table) == 3
    assert _kind(con) == "BASE TABLE"
    assert run_model(con, view) is None  # an intermediate view is not counted
    assert _kind(con) == "VIEW"
    assert con.execute("select count(*) from int_things").fetchall() == [(5,)]
    assert run_model(con, replace(view, layer="marts")) == 5  # a mart view is
    assert run_model(con, replace(table, sql="select * from range(4) as t(n)")) == 4
    assert _kind(con) == "BASE TABLE"
    assert con.execute("select count(*) from int_things").fetchall() == [(4,)]


def test_a_failing_model_raises_its_own_error() -> None:
    """Not the catalog's complaint about the kind it replaces (the view is dropped, as it was
    before the table's statement ran)."""
    con = duckdb.connect()
    run_model(con, _model("view", "select 1 as n"))
    with pytest.raises(duckdb.CatalogException, match="no_such_table"):
        run_model(con, _model("table", "select * from no_such_table"))
    tables = "select count(*) from information_schema.tables where table_name = 'int_things'"
    assert con.execute(tables).fetchall() == [(0,)]
    with pytest.raises(duckdb.CatalogException, match="no_such_table"):
        run_model(con, _model("view", "select * from no_such_table"))


def _optimizers(con: duckdb.DuckDBPyConnection) -> str:
    [(value,)] = con.execute("select current_setting('disabled_optimizers')").fetchall()
    return value


def test_disabled_optimizers_hold_while_the_model_is_built_and_are_restored_after() -> None:
    """`-- disabled_optimizers:` is in force for the model's own statement (the model reads the
    setting into its rows) and the connection's setting is back afterwards, also when the
    model fails."""
    con = duckdb.connect()
    con.execute("set disabled_optimizers = 'top_n'")
    reads = "select current_setting('disabled_optimizers') as during"
    model = replace(_model("table", reads), disabled_optimizers="build_side_probe_side")
    run_model(con, model)
    [(during,)] = con.execute("select during from int_things").fetchall()
    assert set(during.split(",")) == {"top_n", "build_side_probe_side"}
    assert _optimizers(con) == "top_n"
    with pytest.raises(duckdb.CatalogException, match="no_such_table"):
        run_model(con, replace(model, sql="select * from no_such_table"))
    assert _optimizers(con) == "top_n"
    with pytest.raises(duckdb.ParserException, match="no_such_optimizer"):
        run_model(con, replace(model, disabled_optimizers="no_such_optimizer"))
    assert _optimizers(con) == "top_n"


def test_disabled_optimizers_is_read_from_the_header_and_refused_on_a_view(
    tmp_path: Path,
) -> None:
    layer = tmp_path / "intermediate"
    layer.mkdir()
    (layer / "int_things.sql").write_text(
        "-- int_things\n-- Things.\n-- grain: n\n"
        "-- disabled_optimizers: build_side_probe_side, top_n\nselect 1 as n\n"
    )
    [model] = discover_models(tmp_path)
    assert model.disabled_optimizers == "build_side_probe_side, top_n"
    assert model.description == "Things."
    (layer / "int_things.sql").write_text(
        "-- int_things\n-- materialized: view\n-- disabled_optimizers: top_n\nselect 1 as n\n"
    )
    with pytest.raises(ValueError, match="not a view"):
        discover_models(tmp_path)
    (layer / "int_things.sql").write_text(
        "-- int_things\n-- disabled_optimizers: top_n; drop table x\nselect 1 as n\n"
    )
    with pytest.raises(ValueError, match="disabled_optimizers"):
        discover_models(tmp_path)
