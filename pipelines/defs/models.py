"""Model assets: one Dagster asset per `sql/<layer>/<model>.sql` and the detection and resource
history, all executed in one subsettable step (`sql_models`) on a copy of the warehouse that
replaces it at the end; plus the suppressions file."""

import logging
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa

from pipelines.defs.lake_tables import (
    DETECTION_HISTORY_SCHEMA,
    RESOURCE_CONFIG_HISTORY_SCHEMA,
    lake_tables,
)
from pipelines.defs.landing import UPSTREAM_CHANGED, preview, report
from pipelines.defs.partitions import Days
from pipelines.defs.resources import CiemSettings
from pipelines.lib.findings.suppressions import load_suppressions, resolve_path
from pipelines.lib.lake import Lake, exclusive, temp_path_for, write_parquet
from pipelines.lib.land.snapshot import SNAPSHOT_SCHEMAS
from pipelines.lib.warehouse.connection import (
    RunParams,
    building_warehouse,
    prune_day_warehouses,
    publish_day_warehouse,
    quote_literal,
    register_lake_views,
    set_run_params,
)
from pipelines.lib.warehouse.daily import DAILY_MODELS
from pipelines.lib.warehouse.sql_models import (
    Audit,
    SqlModel,
    discover_audits,
    discover_models,
    run_audit,
    run_model,
    topological_order,
)

log = logging.getLogger("ciem")

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


def _column_schema(relation: duckdb.DuckDBPyRelation) -> dg.TableSchema:
    """The columns and DuckDB types of a relation (as `describe` names them)."""
    columns = zip(relation.columns, relation.types, strict=True)
    return dg.TableSchema(columns=[dg.TableColumn(name, str(type_)) for name, type_ in columns])


def _spec(model: SqlModel, days: Days) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=model.name,
        group_name=model.layer,
        deps=_deps(_dep_keys(model), days),
        automation_condition=UPSTREAM_CHANGED,
        description=model.description or None,
        kinds={"duckdb", "sql"},
        metadata={"sql_file": f"sql/{model.layer}/{model.name}.sql", "grain": model.grain or ""},
        # A model whose upstream model failed is skipped, and its downstream assets with it.
        skippable=True,
    )


def _build_model(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    model: SqlModel,
    write_mart: bool = True,
    parts_dir: Path | None = None,
) -> dict[str, object]:
    """(Re)build one model on the step's connection; its materialization metadata. A mart is
    also written to the lake's `marts/` unless the day is older than the published one."""
    started = time.monotonic()
    # Partitioned models (`-- partition: principal_bucket`) store their parts as Parquet beside
    # the as-of day's warehouse (its views read them); a published mart's parts are copied to
    # marts/<model>/ as well.
    parts_dir = parts_dir or lake.warehouse_path.parent / "parts"
    published = model.is_mart and write_mart
    rows = run_model(con, model, parts_dir)
    # One query for the preview and the column schema (its relation knows the types, without
    # running it).
    relation = con.sql(f"select * from {model.name} limit 5")  # noqa: S608 (model names are checked identifiers (MODEL_NAME))
    metadata: dict[str, object] = {"dagster/column_schema": _column_schema(relation)}
    if rows is not None:
        metadata["preview"] = preview(pa.table(relation.to_arrow_table()))
        metadata["dagster/row_count"] = rows
    # An intermediate view is neither counted (see run_model) nor previewed: reading even 5 of
    # its rows may compute it whole (int_statement_actions_expanded ran out of memory there on
    # 10 adversarial accounts).
    if published and model.partition is not None:
        target = lake.root / "marts" / model.name
        _replace_folder(parts_dir / model.name, target)
        lake.mart_path(model.name).unlink(missing_ok=True)  # the one-file layout of before
        metadata["parquet"] = str(target)
    elif published:
        path = lake.mart_path(model.name)
        # DuckDB writes the file itself (within its memory limit, no Arrow copy).
        tmp = temp_path_for(path)
        con.execute(
            f"copy (select * from {model.name}) to {quote_literal(str(tmp))} "  # noqa: S608 (model names are checked identifiers (MODEL_NAME); paths quoted)
            "(format parquet, compression zstd)"
        )
        tmp.replace(path)
        metadata["parquet"] = str(path)
    report(model.name, rows or 0, started, "(view)" if rows is None else "")
    return metadata


def _replace_folder(source: Path, target: Path) -> None:
    """`target` becomes a copy of the folder `source`, swapped in by renames (a reader of the
    old folder never sees it half-written)."""
    tmp = temp_path_for(target)
    shutil.copytree(source, tmp)
    old = target.with_name(f".{target.name}.{uuid.uuid4().hex}.old")
    if target.exists():
        target.rename(old)
    tmp.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def _check_result(con: duckdb.DuckDBPyConnection, audit: Audit) -> dg.AssetCheckResult:
    """The audit's check; one that cannot run (out of memory, a bad query) is a failed check
    saying why (`error`), and the step goes on: its model was built."""
    severity = dg.AssetCheckSeverity.WARN if audit.warn_only else dg.AssetCheckSeverity.ERROR
    try:
        columns, offending = run_audit(con, audit)
    except (duckdb.Error, OSError, pa.ArrowException) as exc:
        return dg.AssetCheckResult(
            asset_key=audit.model,
            check_name=audit.name,
            passed=False,
            severity=severity,
            metadata={"error": str(exc).strip().splitlines()[0]},
        )
    return dg.AssetCheckResult(
        asset_key=audit.model,
        check_name=audit.name,
        passed=not offending,
        severity=severity,
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
    output: Callable[[Lake, date], Path]  # the file it writes for an as-of day
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
        Lake.history_path,
    ),
    PythonModel(
        "resource_config_history",
        ("int_resource_config_current",),
        "The configuration items of this run's snapshot that explain detections (policies "
        "attached, trust policies, boundaries, group memberships, access keys, compute roles), "
        "appended to the lake per as-of date as `history/resources/as_of=YYYY-MM-DD.parquet`. "
        "The timeline compares consecutive runs, and the history survives a rebuilt warehouse.",
        _resource_config_history,
        Lake.resource_history_path,
    ),
)


# Lake tables landed per as-of day from its snapshot.
SNAPSHOT_TABLES = frozenset({*SNAPSHOT_SCHEMAS, "raw_quarantine"})


def _deps(keys: list[str] | tuple[str, ...], days: Days) -> list[dg.AssetDep]:
    """A model's dependencies; those on CloudTrail days go through the window's mapping (raw
    events through the longer look-back of credential use)."""
    mappings = dict.fromkeys(DAILY_MODELS, days.window)
    mappings["raw_cloudtrail_events"] = days.lookback
    return [dg.AssetDep(key, partition_mapping=mappings.get(key)) for key in keys]


def _python_spec(model: PythonModel, days: Days) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=model.name,
        group_name=model.layer,
        deps=_deps(model.deps, days),
        description=model.description,
        kinds={"parquet"},
        skippable=True,
        automation_condition=UPSTREAM_CHANGED,
    )


def _run_python_model(
    con: duckdb.DuckDBPyConnection, lake: Lake, params: RunParams, model: PythonModel
) -> dict[str, object]:
    started = time.monotonic()
    table = model.build(con, lake, params)
    # The view over the lake table now sees this run's file (it was empty on a new lake).
    register_lake_views(con, lake, {model.name: LAKE_TABLES[model.name]}, params.as_of)
    report(model.name, table.num_rows, started, f"(as of {params.as_of})")
    return {"dagster/row_count": table.num_rows, "as_of": params.as_of.isoformat()}


class InputsMissing(Exception):
    """An as-of day's inputs were never landed: the message names them and how to land them."""


def missing_inputs(lake: Lake, as_of: date, days: Days, reads: set[str]) -> list[str]:
    """What the selected models read for an as-of day and is not in the lake: the day's
    snapshot, and the CloudTrail days of its window (from the first CloudTrail partition on)
    that never landed or whose daily aggregates were never built. Answering without them would
    call every permission of that time "unused". `reads`: the lake tables the models read."""
    problems = []
    if reads & SNAPSHOT_TABLES and not lake.snapshot_source_path(as_of).exists():
        problems.append(f"the snapshot for as-of {as_of} (materialize iam_snapshot for {as_of})")
    window = _days_to(as_of, days.window_days, days.first_cloudtrail)
    if "raw_cloudtrail_events" in reads:
        lookback = _days_to(as_of, max(days.window_days, days.lookback_days), days.first_cloudtrail)
        missing = [d for d in lookback if not lake.cloudtrail_landed_path(d).exists()]
        if missing:
            problems.append(
                f"{len(missing)} CloudTrail day(s) of the window never landed: "
                f"{_day_ranges(missing)} (materialize raw_cloudtrail_events for them)"
            )
    aggregates = sorted(reads & set(DAILY_MODELS))
    missing = [d for d in window if not all(lake.daily_path(n, d).exists() for n in aggregates)]
    if missing:
        problems.append(
            f"the daily aggregates of {len(missing)} CloudTrail day(s) were never built: "
            f"{_day_ranges(missing)} (materialize {' and '.join(aggregates)} for them)"
        )
    return problems


def _days_to(as_of: date, count: int, first: date) -> list[date]:
    """The `count` days ending on `as_of`, from `first` on."""
    days_ = (as_of - timedelta(days=i) for i in range(count))
    return sorted(d for d in days_ if d >= first)


def _day_ranges(days_: list[date]) -> str:
    """2026-11-06..2026-11-08, 2026-11-12: consecutive days written as ranges."""
    ranges: list[list[date]] = []
    for day in sorted(days_):
        if ranges and (day - ranges[-1][-1]).days == 1:
            ranges[-1].append(day)
        else:
            ranges.append([day])
    return ", ".join(f"{r[0]}..{r[-1]}" if len(r) > 1 else r[0].isoformat() for r in ranges)


WINDOW_CHECK = "window_inputs_landed"
# The newest as-of days whose own warehouse is kept (an older one is rebuilt if asked for).
KEEP_DAY_WAREHOUSES = 3


def _tables_in(path: Path) -> set[str]:
    """The tables of a warehouse file (none if it does not exist or cannot be read)."""
    if not path.exists():
        return set()
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            rows = con.execute(
                "select table_name from information_schema.tables where table_schema = 'main'"
            ).fetchall()
    except duckdb.Error:
        return set()
    return {r[0] for r in rows}


def build_sql_models(
    models: list[SqlModel],
    audits: list[Audit],
    days: Days,
    name: str = "sql_models",
    python_models: tuple[PythonModel, ...] = (),
) -> dg.AssetsDefinition:
    """Every SQL model as its own asset (lineage, description, row count, column schema and its
    audits as asset checks), executed as one subsettable step on one DuckDB connection, the way
    dagster-dbt runs dbt models: the lake views and run parameters are set once, the selected
    models run in topological order, each result is reported as soon as it is built, a failed
    model's downstream models are skipped, and the step fails at the end naming what failed.

    Partitioned by as-of day; a range of days (a backfill) is built day by day in date order,
    each with its own snapshot and window, and the tables end as of the newest day built. An
    as-of day whose snapshot or window CloudTrail days were never landed fails with one line
    naming them (the blocking check `window_inputs_landed` shows it on the asset page).

    The step builds a copy of the warehouse and swaps it in with one rename at the end, so a
    reader (a dashboard, the `duckdb` CLI) never blocks it and never sees it half-done.
    `python_models` (the history the timeline reads) run at their place in the order."""
    ordered = topological_order([*models, *python_models])
    by_model: dict[str, list[Audit]] = {}
    partitions = {m.name: m.partition for m in models}
    for audit in audits:
        by_model.setdefault(audit.model, []).append(audit)
        if audit.partition is not None and partitions.get(audit.model) != audit.partition:
            raise ValueError(
                f"the audit {audit.model}__{audit.name} runs per {audit.partition}, "
                f"which {audit.model} is not partitioned by"
            )
    names = [m.name for m in ordered]
    # The window's check sits on the model that reads the window's usage (else the first one).
    first_model = "int_usage_in_window" if "int_usage_in_window" in names else names[0]
    check_specs = [
        dg.AssetCheckSpec(a.name, asset=a.model, description=a.description, blocking=False)
        for a in audits
    ] + [
        dg.AssetCheckSpec(
            WINDOW_CHECK,
            asset=first_model,
            description="The as-of day's snapshot and every CloudTrail day of its window are "
            "landed (otherwise the models would call unobserved permissions unused).",
            blocking=True,
        )
    ]

    def _missing_upstream(lake: Lake, as_of: date, names: set[str]) -> set[str]:
        """The models `names` read (directly or not) that the day does not hold yet."""
        tables = _tables_in(lake.day_warehouse_path(as_of))
        python = {m.name: m for m in python_models}
        return {
            name
            for name in _with_ancestors(names, ordered)
            if (name not in python and name not in tables)
            or (name in python and not python[name].output(lake, as_of).exists())
        }

    def spec(model: SqlModel | PythonModel) -> dg.AssetSpec:
        if isinstance(model, PythonModel):
            return _python_spec(model, days)
        return _spec(model, days)

    @dg.multi_asset(
        name=name,
        specs=[spec(m) for m in ordered],
        check_specs=check_specs,
        can_subset=True,
        partitions_def=days.as_of_days,
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def _sql_models(context: dg.AssetExecutionContext, ciem: CiemSettings):
        selected = {key.to_user_string() for key in context.selected_asset_keys}
        checks = {
            (key.asset_key.to_user_string(), key.name) for key in context.selected_asset_check_keys
        }
        lake = ciem.lake
        as_of_days = sorted(date.fromisoformat(k) for k in context.partition_keys)
        published = lake_published_as_of(lake)
        # Each as-of day has its own warehouse (`warehouse/as_of=D/`), so the models of a day
        # only ever read tables of that day, whichever subset a run builds. The selected models
        # are built, with any model they read that the day's warehouse does not hold yet.
        builds = {
            as_of: selected | _missing_upstream(lake, as_of, selected) for as_of in as_of_days
        }
        problems = {}
        for as_of, build in builds.items():
            reads = {dep for model in ordered if model.name in build for dep in model.deps}
            if found := missing_inputs(lake, as_of, days, reads):
                problems[as_of] = found
        if (first_model, WINDOW_CHECK) in checks:
            yield dg.AssetCheckResult(
                asset_key=first_model,
                check_name=WINDOW_CHECK,
                passed=not problems,
                metadata={
                    "as_of_days": f"{as_of_days[0]}..{as_of_days[-1]}",
                    "missing": dg.MetadataValue.json(
                        {d.isoformat(): found for d, found in problems.items()}
                    ),
                },
            )
        if problems:
            as_of, found = next(iter(problems.items()))
            more = f" (and {len(problems) - 1} more as-of day(s))" if len(problems) > 1 else ""
            raise InputsMissing(f"as-of {as_of} cannot be answered: {'; '.join(found)}{more}")
        failed: dict[str, str] = {}
        skipped: dict[str, str] = {}  # model -> the failed or skipped model it reads
        for as_of in as_of_days:
            # The lake's marts follow the newest day; an older day rebuilt later leaves them.
            newest = published is None or as_of >= published
            day_parts = lake.day_warehouse_path(as_of).parent / "parts"
            # Two runs of one as-of day at once take turns (its warehouse and parts folders).
            day_lock = lake.day_warehouse_path(as_of).parent / "build.lock"
            with (
                exclusive(day_lock),
                building_warehouse(lake, lake.day_warehouse_path(as_of)) as con,
            ):
                params = ciem.run_params(as_of)
                register_lake_views(con, lake, LAKE_TABLES, as_of)
                set_run_params(con, params)
                if len(as_of_days) > 1:
                    log.info(f"as of {as_of}:")
                for model in ordered:
                    if model.name not in builds[as_of]:
                        continue
                    broken = next((d for d in model.deps if d in failed or d in skipped), None)
                    if broken is not None:
                        skipped[model.name] = broken
                        continue
                    try:
                        if isinstance(model, SqlModel):
                            metadata = _build_model(
                                con, lake, model, write_mart=newest, parts_dir=day_parts
                            )
                        else:
                            metadata = _run_python_model(con, lake, params, model)
                    except (duckdb.Error, OSError, pa.ArrowException) as exc:
                        failed[model.name] = str(exc).strip().splitlines()[0]
                        context.log.error(f"model {model.name} failed: {failed[model.name]}")
                        continue
                    if as_of != as_of_days[-1] or model.name not in selected:
                        continue
                    yield dg.MaterializeResult(asset_key=model.name, metadata=metadata)
                    for audit in by_model.get(model.name, []):
                        if (model.name, audit.name) in checks:
                            yield _check_result(con, audit)
                con.execute(
                    "create or replace table warehouse_as_of as select ?::date as as_of", [as_of]
                )
            if newest:
                publish_day_warehouse(lake, as_of)
            if failed:
                break
        prune_day_warehouses(lake, keep=KEEP_DAY_WAREHOUSES)
        if failed:
            lines = [f"model {n} failed: {message}" for n, message in failed.items()]
            if skipped:
                lines.append(f"skipped {len(skipped)} downstream: {', '.join(sorted(skipped))}")
            raise ModelsFailed("; ".join(lines))

    return _sql_models


def _with_ancestors(names: set[str], ordered: list[SqlModel | PythonModel]) -> set[str]:
    """`names` and every model of the step they read, directly or not."""
    deps = {m.name: m.deps for m in ordered}
    found = set(names)
    for model in reversed(ordered):
        if model.name in found:
            found.update(d for d in deps[model.name] if d in deps)
    return found


def lake_published_as_of(lake: Lake) -> date | None:
    """The as-of day of the tables in the warehouse (`warehouse_as_of`, written with them)."""
    path = lake.warehouse_path
    if not path.exists():
        return None
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            row = con.execute("select max(as_of) from warehouse_as_of").fetchone()
    except duckdb.Error:  # a warehouse of an older release, or none yet
        return None
    return row[0] if row else None


SQL_MODELS = discover_models(external=LAKE_TABLES)


def build_models(days: Days) -> dg.AssetsDefinition:
    """The code location's models step for its days."""
    return build_sql_models(SQL_MODELS, discover_audits(), days, python_models=HISTORY_MODELS)


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
