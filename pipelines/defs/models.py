"""Model assets: one Dagster asset per `sql/<layer>/<model>.sql`, plus the detection history."""

import time
from datetime import UTC, datetime

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
from pipelines.lib.lake import temp_path_for, write_parquet
from pipelines.lib.warehouse.connection import connect, register_lake_views, set_run_params
from pipelines.lib.warehouse.sql_models import SqlModel, discover_models, run_model

LAKE_TABLES = lake_tables()
# Lake tables written by landing assets under another name.
PRODUCED_BY = {"raw_quarantine": ("raw_cloudtrail_events", "raw_iam_users")}


def _dep_keys(model: SqlModel) -> list[str]:
    keys: set[str] = set()
    for dep in model.deps:
        keys.update(PRODUCED_BY.get(dep, (dep,)))
    return sorted(keys)


def _column_schema(con: duckdb.DuckDBPyConnection, name: str) -> dg.TableSchema:
    rows = con.execute(f"describe {name}").fetchall()
    return dg.TableSchema(columns=[dg.TableColumn(r[0], r[1]) for r in rows])


def build_sql_asset(model: SqlModel) -> dg.AssetsDefinition:
    @dg.asset(
        name=model.name,
        group_name=model.layer,
        deps=_dep_keys(model),
        description=model.description or None,
        kinds={"duckdb", "sql"},
        metadata={"sql_file": f"sql/{model.layer}/{model.name}.sql", "grain": model.grain or ""},
    )
    def _sql_asset(context: dg.AssetExecutionContext, ciem: CiemSettings) -> dg.MaterializeResult:
        started = time.monotonic()
        lake = ciem.lake
        with connect(lake) as con:
            register_lake_views(con, lake, LAKE_TABLES)
            set_run_params(con, ciem.run_params(context))
            rows = run_model(con, model)
            head = con.sql(f"select * from {model.name} limit 5").to_arrow_table()
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
                    f"copy (select * from {model.name}) to '{tmp}' "
                    "(format parquet, compression zstd)"
                )
                tmp.replace(path)
                metadata["parquet"] = str(path)
        report(model.name, rows, started)
        return dg.MaterializeResult(metadata=metadata)

    return _sql_asset


SQL_MODELS = discover_models(external=LAKE_TABLES)
sql_assets = [build_sql_asset(m) for m in SQL_MODELS]


@dg.asset(
    group_name="detections",
    deps=["int_detections_current", "int_suppression_matches"],
    kinds={"parquet"},
)
def detection_history(
    context: dg.AssetExecutionContext, ciem: CiemSettings
) -> dg.MaterializeResult:
    """The detections of this run, appended to the lake per as-of date (a rerun of the same
    date replaces its file), each with the suppression that applied to it in this run (if any).
    `detections` and `detection_timeline` are derived from this history, so the warehouse can be
    rebuilt from the lake at any time."""
    started = time.monotonic()
    params = ciem.run_params(context)
    lake = ciem.lake
    with connect(lake) as con:
        table = con.sql(
            """
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
            """,
            params={"recorded_at": datetime.now(UTC)},
        ).to_arrow_table()
    table = table.cast(DETECTION_HISTORY_SCHEMA)
    write_parquet(table, lake.history_path(params.as_of))
    report("detection_history", table.num_rows, started, f"(as of {params.as_of})")
    return dg.MaterializeResult(
        metadata={"dagster/row_count": table.num_rows, "as_of": params.as_of.isoformat()}
    )


@dg.asset(group_name="detections", deps=["int_resource_config_current"], kinds={"parquet"})
def resource_config_history(
    context: dg.AssetExecutionContext, ciem: CiemSettings
) -> dg.MaterializeResult:
    """The configuration items of this run's snapshot that explain detections (policies
    attached, trust policies, boundaries, group memberships, access keys, compute roles), appended
    to the lake per as-of date as `history/resources/as_of=YYYY-MM-DD.parquet`. The timeline
    compares consecutive runs, and the history survives a rebuilt warehouse."""
    started = time.monotonic()
    params = ciem.run_params(context)
    lake = ciem.lake
    with connect(lake) as con:
        table = con.sql(
            """
            select
                $as_of::date as as_of, c.resource_arn, c.resource_type, c.account_id,
                c.config_type, c.config_key, c.fingerprint, c.details,
                $recorded_at::timestamptz as recorded_at
            from int_resource_config_current as c
            order by c.resource_arn, c.config_type, c.config_key
            """,
            params={"as_of": params.as_of, "recorded_at": datetime.now(UTC)},
        ).to_arrow_table()
    table = table.cast(RESOURCE_CONFIG_HISTORY_SCHEMA)
    path = lake.root / "history" / "resources" / f"as_of={params.as_of.isoformat()}.parquet"
    write_parquet(table, path)
    report("resource_config_history", table.num_rows, started, f"(as of {params.as_of})")
    return dg.MaterializeResult(
        metadata={"dagster/row_count": table.num_rows, "as_of": params.as_of.isoformat()}
    )


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
