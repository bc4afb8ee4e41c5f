"""The SQL models as one subsettable Dagster step (`sql_models`, as dagster-dbt runs dbt models):
only the selection runs, on one connection, in topological order; a failing model is named, its
downstream models are skipped, and what succeeded is still recorded."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from pipelines.definitions import defs
from pipelines.defs.lake_tables import lake_tables
from pipelines.defs.models import WINDOW_CHECK, build_sql_models
from pipelines.defs.partitions import run_days
from pipelines.defs.resources import CiemSettings
from pipelines.defs.schedules import FRESHNESS_CHECK
from pipelines.lib.lake import Lake
from pipelines.lib.warehouse.connection import connect
from pipelines.lib.warehouse.sql_models import discover_audits, discover_models, topological_order

DAYS = run_days(date(2026, 11, 20), 15)
AS_OF = "2026-11-20"
MODELS = {
    # file: sql (staging < intermediate < marts; names chosen so that alphabetical order is not
    # a topological one)
    "staging/stg_a.sql": "-- stg_a\n-- grain: n\nselect 1 as n union all select 2",
    "intermediate/int_b.sql": "-- fails\nselect n, error('boom') as x from stg_a",
    "intermediate/int_a_after_b.sql": "-- reads int_b\nselect * from int_b",
    "intermediate/int_c.sql": "-- doubles stg_a\nselect n * 2 as n from stg_a",
    "marts/aa_mart.sql": "-- a mart over int_c\nselect sum(n) as total from int_c",
    "audits/int_c__positive.sql": "-- every n is positive\nselect * from int_c where n <= 0",
}


@pytest.fixture
def sql_dir(tmp_path: Path) -> Path:
    root = tmp_path / "sql"
    for name, sql in MODELS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(sql + "\n")
    return root


def _step(sql_dir: Path) -> dg.AssetsDefinition:
    models = discover_models(sql_dir, external=lake_tables())
    return build_sql_models(models, discover_audits(sql_dir), DAYS, name="test_models")


def _settings(tmp_path: Path) -> CiemSettings:
    return CiemSettings(
        snapshot_dir=str(tmp_path / "snapshot"),
        cloudtrail_dir=str(tmp_path / "cloudtrail"),
        lake_dir=str(tmp_path / "lake"),
    )


def _materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {
        e.asset_key.to_user_string()
        for e in result.get_asset_materialization_events()
        if e.asset_key is not None
    }


def test_models_run_in_topological_order(sql_dir: Path) -> None:
    models = topological_order(discover_models(sql_dir, external=lake_tables()))
    names = [m.name for m in models]
    assert names == ["stg_a", "int_b", "int_a_after_b", "int_c", "aa_mart"]
    for model in models:
        assert all(names.index(dep) < names.index(model.name) for dep in model.deps)


def test_a_circle_of_models_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "sql" / "intermediate"
    root.mkdir(parents=True)
    (root / "int_x.sql").write_text("select * from int_y\n")
    (root / "int_y.sql").write_text("select * from int_x\n")
    with pytest.raises(ValueError, match=r"circle: \['int_x', 'int_y'\]"):
        topological_order(discover_models(tmp_path / "sql"))


def test_a_failing_model_is_named_its_downstream_skipped_and_the_rest_recorded(
    sql_dir: Path, tmp_path: Path
) -> None:
    step = _step(sql_dir)
    result = dg.materialize(
        [step], resources={"ciem": _settings(tmp_path)}, raise_on_error=False, partition_key=AS_OF
    )
    assert not result.success
    assert _materialized(result) == {"stg_a", "int_c", "aa_mart"}
    [failure] = result.get_step_failure_events()
    message = failure.step_failure_data.error.cause.message
    assert "model int_b failed: Invalid Input Error: boom" in message
    assert "skipped 1 downstream: int_a_after_b" in message
    checks = {(c.check_name, c.passed) for c in result.get_asset_check_evaluations()}
    # The models read neither the snapshot nor CloudTrail: nothing of the window is missing.
    assert checks == {("positive", True), (WINDOW_CHECK, True)}
    with connect(Lake.at(tmp_path / "lake"), read_only=True) as con:
        assert con.execute("select total from aa_mart").fetchall() == [(6,)]
    assert (tmp_path / "lake" / "marts" / "aa_mart.parquet").is_file()


def test_only_the_selected_models_run(sql_dir: Path, tmp_path: Path) -> None:
    step = _step(sql_dir)
    resources = {"ciem": _settings(tmp_path)}
    first = dg.materialize(
        [step], selection=["stg_a", "int_c"], resources=resources, partition_key=AS_OF
    )
    assert _materialized(first) == {"stg_a", "int_c"}
    assert {c.check_name for c in first.get_asset_check_evaluations()} == {"positive", WINDOW_CHECK}
    # One model alone, from the tables the last run left in the warehouse (same as-of day).
    second = dg.materialize([step], selection=["aa_mart"], resources=resources, partition_key=AS_OF)
    assert _materialized(second) == {"aa_mart"}
    assert second.get_asset_check_evaluations() == []


def test_every_sql_model_of_the_code_location_runs_in_one_step() -> None:
    graph = defs.resolve_asset_graph()
    models = {m.name for m in discover_models(external=lake_tables())}
    nodes = {graph.get(dg.AssetKey(name)).assets_def.node_def.name for name in models}
    assert nodes == {"sql_models"}
    audits = {(a.model, a.name) for a in discover_audits()}
    step_checks = {("int_usage_in_window", WINDOW_CHECK)}  # the window's blocking check
    python_checks = {("notifications", "delivered")}  # pipelines/defs/notifications.py
    # pipelines/defs/schedules.py: the newest as-of day landed and modelled, evaluated by a sensor
    freshness = {("raw_iam_users", FRESHNESS_CHECK), ("detections", FRESHNESS_CHECK)}
    assert {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys} == (
        audits | step_checks | python_checks | freshness
    )


def test_ciem_prints_the_failed_model_in_one_line(sql_dir: Path, tmp_path: Path) -> None:
    from pipelines.cli.options import CiemError
    from pipelines.cli.pipeline import _materialize

    with pytest.raises(CiemError) as raised:
        _materialize([_step(sql_dir)], resources={"ciem": _settings(tmp_path)}, partition_key=AS_OF)
    assert str(raised.value) == (
        "model int_b failed: Invalid Input Error: boom; skipped 1 downstream: int_a_after_b"
    )


def test_a_check_that_cannot_run_fails_saying_why_and_the_step_goes_on(
    sql_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An audit that fails to run (here its query raises; on ten adversarial accounts, the grain
    audit of effective_permissions ran out of memory) is a failed check with its error, named by
    `ciem`, instead of failing the whole step unnamed with every model of the run after it."""
    from pipelines.cli.pipeline import _materialize

    for name in ("intermediate/int_b.sql", "intermediate/int_a_after_b.sql"):
        (sql_dir / name).unlink()
    (sql_dir / "audits" / "int_c__runs.sql").write_text(
        "-- raises\nselect * from int_c where error('audit boom') is not null\n"
    )
    step = _step(sql_dir)
    result = dg.materialize([step], resources={"ciem": _settings(tmp_path)}, partition_key=AS_OF)
    assert result.success
    assert _materialized(result) == {"stg_a", "int_c", "aa_mart"}
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert {n: c.passed for n, c in checks.items()} == {
        "positive": True,
        "runs": False,
        WINDOW_CHECK: True,
    }
    assert checks["runs"].metadata["error"].value == "Invalid Input Error: audit boom"
    with caplog.at_level("WARNING", logger="ciem"):
        _materialize([_step(sql_dir)], resources={"ciem": _settings(tmp_path)}, partition_key=AS_OF)
    assert "✗ check int_c:runs could not run: Invalid Input Error: audit boom" in caplog.messages


def test_an_audit_per_bucket_needs_a_model_built_per_bucket(sql_dir: Path) -> None:
    """A per-bucket audit of a model built whole would run over the whole model once per bucket
    (and its rows counted as many times): refused when the definitions load, as is a partition
    the runner does not know."""
    audit = sql_dir / "audits" / "int_c__per_bucket.sql"
    audit.write_text("-- partition: principal_bucket\nselect * from int_c where false\n")
    with pytest.raises(
        ValueError,
        match=r"^the audit int_c__per_bucket runs per principal_bucket, which int_c is not "
        r"partitioned by$",
    ):
        _step(sql_dir)
    audit.write_text("-- partition: account_id\nselect * from int_c where false\n")
    with pytest.raises(ValueError, match=r"int_c__per_bucket.sql: unknown partition 'account_id'$"):
        discover_audits(sql_dir)


def test_a_model_partitioned_by_an_unknown_key_is_refused(sql_dir: Path) -> None:
    model = sql_dir / "intermediate" / "int_c.sql"
    model.write_text("-- partition: account_id\n" + model.read_text())
    with pytest.raises(ValueError, match=r"int_c.sql: unknown partition 'account_id'$"):
        discover_models(sql_dir, external=lake_tables())


def test_a_model_file_name_that_is_no_plain_identifier_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "sql" / "staging"
    root.mkdir(parents=True)
    (root / "stg_ok.sql").write_text("select 1 as n\n")
    (root / "stg_x; drop table y.sql").write_text("select 1 as n\n")
    with pytest.raises(ValueError, match=r"lower-case SQL identifiers: \['stg_x; drop table y'\]"):
        discover_models(tmp_path / "sql")
