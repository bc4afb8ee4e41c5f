"""`-- partition: target_part`: a model built once per part of the escalation search's targets.
The runner tells each part which it is (the SQL variables `ciem_part`, `ciem_parts`), makes as
many parts as the live edges ask for, publishes them as one view, and never lets a principal
bucket's model see only one of them."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.lib.warehouse.sql_models import (
    PARTITIONS_TABLE,
    SqlModel,
    discover_audits,
    discover_models,
    run_model,
    target_parts,
)

TARGETS = SqlModel(
    name="int_targets",
    layer="intermediate",
    path=Path("sql/intermediate/int_targets.sql"),
    sql=(
        "select n, getvariable('ciem_part') as part, getvariable('ciem_parts') as parts "
        "from range(10) as t(n) where n % getvariable('ciem_parts') = getvariable('ciem_part')"
    ),
    description="",
    grain=None,
    materialized="table",
    partition="target_part",
)
BUCKETED = SqlModel(
    name="int_bucketed",
    layer="intermediate",
    path=Path("sql/intermediate/int_bucketed.sql"),
    sql="select b.principal_bucket, count(*) as targets from int_targets, "
    "(select distinct principal_bucket from int_principal_policy_sets) as b group by all",
    description="",
    grain=None,
    materialized="table",
    partition="principal_bucket",
)


def _warehouse(live_edges: int) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"create table int_privesc_live_edges as select * from range({live_edges:d})")
    con.execute(
        "create table int_principal_policy_sets as "
        "select 'arn:' || n as principal_arn, n % 3 as principal_bucket from range(9) as t(n)"
    )
    return con


@pytest.mark.parametrize("parts_dir", [False, True])
def test_each_part_is_told_which_it_is_and_the_view_holds_them_all(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, parts_dir: bool
) -> None:
    monkeypatch.setenv("CIEM_EDGES_PER_TARGET_PART", "3")
    con = _warehouse(live_edges=10)  # ⌈10 / 3⌉ = 4 parts
    assert target_parts(con) == 4
    assert run_model(con, TARGETS, tmp_path if parts_dir else None) == 10
    got = con.execute("select n, part, parts from int_targets order by n").fetchall()
    assert got == [(n, n % 4, 4) for n in range(10)]
    if parts_dir:
        assert sorted(p.name for p in (tmp_path / "int_targets").iterdir()) == [
            f"part-00{p}.parquet" for p in range(4)
        ]
    # the variables are gone after it, and the parts are no principal bucket's
    unset = "select getvariable('ciem_part'), getvariable('ciem_parts')"
    assert con.execute(unset).fetchall() == [(None, None)]
    assert con.execute(f"select model from {PARTITIONS_TABLE}").fetchall() == []
    # a model built per principal bucket afterwards reads every part (not one bucket's)
    run_model(con, BUCKETED, tmp_path if parts_dir else None)
    assert con.execute("select * from int_bucketed order by 1").fetchall() == [
        (b, 10) for b in range(3)
    ]


def test_fewer_parts_after_fewer_edges_leaves_no_stale_part(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CIEM_EDGES_PER_TARGET_PART", "2")
    con = _warehouse(live_edges=7)
    run_model(con, TARGETS)
    con.execute("create or replace table int_privesc_live_edges as select * from range(0)")
    assert target_parts(con) == 1  # at least one part, even without an edge
    assert run_model(con, TARGETS) == 10
    tables = "select table_name from duckdb_tables() where table_name like 'int_targets__p%'"
    assert con.execute(tables).fetchall() == [("int_targets__p000",)]


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_a_bad_edges_per_part_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CIEM_EDGES_PER_TARGET_PART", value)
    with pytest.raises(ValueError, match="CIEM_EDGES_PER_TARGET_PART must be a positive integer"):
        run_model(_warehouse(live_edges=1), TARGETS)


@pytest.mark.parametrize(
    ("folder", "partition", "refused"),
    [
        ("audits", "principal_bucket", False),
        ("audits", "target_part", True),  # an audit is checked per bucket, or whole
        ("intermediate", "target_part", False),
        ("intermediate", "by_account", True),
    ],
)
def test_an_audit_runs_per_bucket_only_and_a_model_names_a_known_partition(
    tmp_path: Path, folder: str, partition: str, refused: bool
) -> None:
    (tmp_path / folder).mkdir()
    name = "int_targets__x" if folder == "audits" else "int_targets"
    (tmp_path / folder / f"{name}.sql").write_text(
        f"-- {name}\n-- partition: {partition}\nselect 1 as n where false\n"
    )
    discover = discover_audits if folder == "audits" else discover_models
    if refused:
        with pytest.raises(ValueError, match=f"unknown partition '{partition}'"):
            discover(tmp_path)
    else:
        assert [found.partition for found in discover(tmp_path)] == [partition]
