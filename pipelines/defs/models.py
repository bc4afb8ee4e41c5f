"""Model assets: one Dagster asset per `sql/<layer>/<model>.sql` and the detection and resource
history, all executed in one subsettable step (`sql_models`) on a copy of the warehouse that
replaces it at the end; plus the suppressions file."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa

from pipelines.defs.lake_tables import (
    DETECTION_HISTORY_SCHEMA,
    RESOURCE_CONFIG_HISTORY_SCHEMA,
    lake_tables,
)
from pipelines.defs.landing import preview, report
from pipelines.defs.resources import CiemSettings
from pipelines.lib.findings.suppressions import load_suppressions, resolve_path
from pipelines.lib.lake import Lake, temp_path_for, write_parquet
from pipelines.lib.warehouse.connection import (
    RunParams,
    building_warehouse,
    quote_literal,
    register_lake_views,
    set_run_params,
)
from pipelines.lib.warehouse.sql_models import (
    Audit,
    SqlModel,
    discover_audits,
    discover_models,
    run_audit,
    run_model,
    topological_order,
)

LAKE_TABLES = lake_tables()
# Lake tables written by other assets under another name; () = written by earlier runs only.
PRODUCED_BY: dict[str, tuple[str, ...]] = {
    "raw_quarantine": ("raw_cloudtrail_events", "raw_iam_users"),
    "earlier_detection_history": (),
    "earlier_resource_config_history": (),
}


def _dep_keys(model: SqlModel) -> list[str]:
    keys: set[str] = set()
    for dep in model.deps:
        keys.update(PRODUCED_BY.get(dep, (dep,)))
    return sorted(keys)


def _column_schema(con: duckdb.DuckDBPyConnection, name: str) -> dg.TableSchema:
    rows = con.execute(f"describe {name}").fetchall()
    return dg.TableSchema(columns=[dg.TableColumn(r[0], r[1]) for r in rows])


def _spec(model: SqlModel) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=model.name,
        group_name=model.layer,
        deps=_dep_keys(model),
        description=model.description or None,
        kinds={"duckdb", "sql"},
        metadata={"sql_file": f"sql/{model.layer}/{model.name}.sql", "grain": model.grain or ""},
        # A model whose upstream model failed is skipped, and its downstream assets with it.
        skippable=True,
    )


def _build_model(con: duckdb.DuckDBPyConnection, lake: Lake, model: SqlModel) -> dict[str, object]:
    """(Re)build one model on the step's connection; its materialization metadata."""
    started = time.monotonic()
    rows = run_model(con, model)
    head = con.sql(f"select * from {model.name} limit 5").to_arrow_table()  # noqa: S608 (model names are checked identifiers (MODEL_NAME); paths quoted)
    metadata: dict[str, object] = {
        "dagster/row_count": rows,
        "dagster/column_schema": _column_schema(con, model.name),
        "preview": preview(pa.table(head)),
    }
    if model.is_mart:
        path = lake.mart_path(model.name)
        # DuckDB writes the file itself (within its memory limit, no Arrow copy).
        tmp = temp_path_for(path)
        con.execute(
            f"copy (select * from {model.name}) to {quote_literal(str(tmp))} "  # noqa: S608 (model names are checked identifiers (MODEL_NAME); paths quoted)
            "(format parquet, compression zstd)"
        )
        tmp.replace(path)
        metadata["parquet"] = str(path)
    report(model.name, rows, started)
    return metadata


def _check_result(con: duckdb.DuckDBPyConnection, audit: Audit) -> dg.AssetCheckResult:
    columns, offending = run_audit(con, audit)
    return dg.AssetCheckResult(
        asset_key=audit.model,
        check_name=audit.name,
        passed=not offending,
        severity=dg.AssetCheckSeverity.WARN if audit.warn_only else dg.AssetCheckSeverity.ERROR,
        metadata={
            "offending_rows": len(offending),
            "sample": dg.MetadataValue.json(
                [dict(zip(columns, map(str, r), strict=True)) for r in offending[:5]]
            ),
        },
    )


class ModelsFailed(Exception):
    """Some selected models failed; the message names each one and the models skipped after it."""


@dataclass(frozen=True)
class PythonModel:
    """A model of the step written in Python: it appends this run's rows to a lake table that
    SQL models read (the history the timeline compares), on the step's connection."""

    name: str
    deps: tuple[str, ...]
    description: str
    build: Callable[[duckdb.DuckDBPyConnection, Lake, RunParams], pa.Table]
    layer: str = "detections"


def _append_history(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    values: dict[str, object],
    schema: pa.Schema,
    path: Path,
) -> pa.Table:
    """This run's rows of a history table, from `sql` on the step's connection, written to the
    as-of date's file (a rerun of the date replaces it)."""
    table = con.sql(sql, params=values).to_arrow_table().cast(schema)
    write_parquet(table, path)
    return table


def _detection_history(con: duckdb.DuckDBPyConnection, lake: Lake, params: RunParams) -> pa.Table:
    sql = """
        select
            d.as_of, d.detection_id, d.rule_id, d.severity, d.resource_arn,
            d.resource_type, d.account_id, d.title, d.evidence,
            $recorded_at::timestamptz as recorded_at,
            d.principal_arn, d.suggested_policy, d.suggested_policy_verification,
            s.reason as suppression_reason, s.expires_at as suppression_expires_at
        from int_detections_current as d
        left join int_suppression_matches as s
            on s.detection_id = d.detection_id and s.is_applied
        order by d.detection_id
    """
    values = {"recorded_at": datetime.now(UTC)}
    path = lake.history_path(params.as_of)
    return _append_history(con, sql, values, DETECTION_HISTORY_SCHEMA, path)


def _resource_config_history(
    con: duckdb.DuckDBPyConnection, lake: Lake, params: RunParams
) -> pa.Table:
    sql = """
        select
            $as_of::date as as_of, c.resource_arn, c.resource_type, c.account_id,
            c.config_type, c.config_key, c.fingerprint, c.details,
            $recorded_at::timestamptz as recorded_at
        from int_resource_config_current as c
        order by c.resource_arn, c.config_type, c.config_key
    """
    values = {"as_of": params.as_of, "recorded_at": datetime.now(UTC)}
    path = lake.resource_history_path(params.as_of)
    return _append_history(con, sql, values, RESOURCE_CONFIG_HISTORY_SCHEMA, path)


HISTORY_MODELS = (
    PythonModel(
        "detection_history",
        ("int_detections_current", "int_suppression_matches"),
        "The detections of this run, appended to the lake per as-of date (a rerun of the same "
        "date replaces its file), each with the suppression that applied to it in this run (if "
        "any). `detections` and `detection_timeline` are derived from this history, so the "
        "warehouse can be rebuilt from the lake at any time.",
        _detection_history,
    ),
    PythonModel(
        "resource_config_history",
        ("int_resource_config_current",),
        "The configuration items of this run's snapshot that explain detections (policies "
        "attached, trust policies, boundaries, group memberships, access keys, compute roles), "
        "appended to the lake per as-of date as `history/resources/as_of=YYYY-MM-DD.parquet`. "
        "The timeline compares consecutive runs, and the history survives a rebuilt warehouse.",
        _resource_config_history,
    ),
)


def _python_spec(model: PythonModel) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=model.name,
        group_name=model.layer,
        deps=list(model.deps),
        description=model.description,
        kinds={"parquet"},
        skippable=True,
    )


def _run_python_model(
    con: duckdb.DuckDBPyConnection, lake: Lake, params: RunParams, model: PythonModel
) -> dict[str, object]:
    started = time.monotonic()
    table = model.build(con, lake, params)
    # The view over the lake table now sees this run's file (it was empty on a new lake).
    register_lake_views(con, lake, {model.name: LAKE_TABLES[model.name]})
    report(model.name, table.num_rows, started, f"(as of {params.as_of})")
    return {"dagster/row_count": table.num_rows, "as_of": params.as_of.isoformat()}


def build_sql_models(
    models: list[SqlModel],
    audits: list[Audit],
    name: str = "sql_models",
    python_models: tuple[PythonModel, ...] = (),
) -> dg.AssetsDefinition:
    """Every SQL model as its own asset (lineage, description, row count, column schema and its
    audits as asset checks), executed as one subsettable step on one DuckDB connection, the way
    dagster-dbt runs dbt models: the lake views and run parameters are set once, the selected
    models run in topological order, each result is reported as soon as it is built, a failed
    model's downstream models are skipped, and the step fails at the end naming what failed.

    The step builds a copy of the warehouse and swaps it in with one rename at the end, so a
    reader (a dashboard, the `duckdb` CLI) never blocks it and never sees it half-done.
    `python_models` (the history the timeline reads) run at their place in the order."""
    ordered = topological_order([*models, *python_models])
    by_model: dict[str, list[Audit]] = {}
    for audit in audits:
        by_model.setdefault(audit.model, []).append(audit)
    check_specs = [
        dg.AssetCheckSpec(a.name, asset=a.model, description=a.description, blocking=False)
        for a in audits
    ]

    @dg.multi_asset(
        name=name,
        specs=[_spec(m) if isinstance(m, SqlModel) else _python_spec(m) for m in ordered],
        check_specs=check_specs,
        can_subset=True,
    )
    def _sql_models(context: dg.AssetExecutionContext, ciem: CiemSettings):
        selected = {key.to_user_string() for key in context.selected_asset_keys}
        checks = {
            (key.asset_key.to_user_string(), key.name) for key in context.selected_asset_check_keys
        }
        lake = ciem.lake
        params = ciem.run_params(context)
        failed: dict[str, str] = {}
        skipped: dict[str, str] = {}  # model -> the failed or skipped model it reads
        with building_warehouse(lake) as con:
            register_lake_views(con, lake, LAKE_TABLES)
            set_run_params(con, params)
            for model in ordered:
                if model.name not in selected:
                    continue
                broken = next((d for d in model.deps if d in failed or d in skipped), None)
                if broken is not None:
                    skipped[model.name] = broken
                    continue
                try:
                    if isinstance(model, SqlModel):
                        metadata = _build_model(con, lake, model)
                    else:
                        metadata = _run_python_model(con, lake, params, model)
                except (duckdb.Error, OSError, pa.ArrowException) as exc:
                    failed[model.name] = str(exc).strip().splitlines()[0]
                    context.log.error(f"model {model.name} failed: {failed[model.name]}")
                    continue
                yield dg.MaterializeResult(asset_key=model.name, metadata=metadata)
                for audit in by_model.get(model.name, []):
                    if (model.name, audit.name) in checks:
                        yield _check_result(con, audit)
        if failed:
            lines = [f"model {n} failed: {message}" for n, message in failed.items()]
            if skipped:
                lines.append(f"skipped {len(skipped)} downstream: {', '.join(sorted(skipped))}")
            raise ModelsFailed("; ".join(lines))

    return _sql_models


SQL_MODELS = discover_models(external=LAKE_TABLES)
sql_models = build_sql_models(SQL_MODELS, discover_audits(), python_models=HISTORY_MODELS)


@dg.asset(group_name="reference", kinds={"parquet"})
def ref_suppressions(ciem: CiemSettings) -> dg.MaterializeResult:
    """Suppressions as code: the entries of the suppressions YAML file (`CIEM_SUPPRESSIONS` /
    `ciem run --suppressions FILE`, default `suppressions.yaml` in the working directory if
    present): rule, resource glob, reason, expiry. An invalid file fails this asset with the file,
    entry and field named."""
    started = time.monotonic()
    path = resolve_path(ciem.suppressions_file)
    table = load_suppressions(path)
    write_parquet(table, ciem.lake.table_path("ref_suppressions"))
    report("ref_suppressions", table.num_rows, started, f"({path or 'no suppressions file'})")
    return dg.MaterializeResult(
        metadata={"dagster/row_count": table.num_rows, "file": str(path or "")}
    )
