"""Model layer: discovers `sql/<layer>/<model>.sql` files and runs them in the DuckDB warehouse.

One model per file; the file stem is the table name and the Dagster asset name. A model's
dependencies are the model and lake table names its SQL mentions (comments stripped). The header
comment (lines starting with `--` before the first statement) is the model's description; a line
`-- grain: ...` states its grain and `-- materialized: view` makes it a view instead of a table.

`-- partition: principal_bucket` makes a model run once per bucket of policy sets
(`int_principal_policy_sets.principal_bucket`), so that its memory depends on a bucket, not on the
organization: for bucket b, `int_principal_policy_sets` and every partitioned model built before
are shadowed by temporary views of their bucket-b rows, the model's query runs and its rows are
stored as part b (a Parquet file under `parts_dir/<model>/`, or a table `<model>__pNNN` without
one); the model itself is a view over its parts.

`-- partition: target_part` makes a model run once per part of the escalation search's targets,
for what holds (principal, target) pairs of the whole organization (int_privesc_next_steps): the
runner sets the SQL variables `ciem_part` and `ciem_parts` and the model keeps the targets whose
number modulo `ciem_parts` is `ciem_part`. The parts are ⌈rows of int_privesc_live_edges /
`CIEM_EDGES_PER_TARGET_PART`⌉ (default EDGES_PER_TARGET_PART), stored like buckets' parts; nothing
is shadowed, and the model's parts are not a bucket's (a bucketed model reads them all).

`-- transform: pipelines.lib.warehouse.<module>:<function>` passes the model's rows through a
Python function (Arrow record batches in and out, a batch at a time) before they are stored: for
what only Python decides (the condition evaluator, whose verdicts the SQL models then join).

`-- disabled_optimizers: <name>[, <name>...]` turns those DuckDB optimizers off while the model
is built (and restores the setting after it: DuckDB holds it per database, not per cursor, so a
transform's reading cursor sees it too): for a model whose joins must build
their hash tables on the side the SQL names, where the estimates of a bucket's rows are far
below what it reads (int_principal_graph_class_edges). Not for a view, which runs later.

The placeholder `{{ detection_rules }}` expands to `select * from det_a union all by name select *
from det_b ...` over every rule model in `sql/detections/`, so adding a rule is adding its file.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import uuid
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

import duckdb
import pyarrow as pa

from pipelines.lib.warehouse.connection import quote_literal

SQL_DIR = Path(__file__).resolve().parents[3] / "sql"
LAYERS = ("staging", "intermediate", "detections", "marts")

_IDENT = re.compile(r"\b([a-z_][a-z0-9_]*)\b")
_LINE_COMMENT = re.compile(r"--[^\n]*")
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_STRING = re.compile(r"'(?:[^']|'')*'")
DETECTION_RULES_PLACEHOLDER = "{{ detection_rules }}"
MODEL_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")  # a file stem is a table name in SQL
PRINCIPAL_BUCKET = "principal_bucket"
BUCKETED_SETS = "int_principal_policy_sets"  # the table that assigns each policy set its bucket
# Policy sets per bucket: a bucket of sets that all hold `*` is about 22,000 actions per set in
# the evaluation models, so the default keeps a bucket's largest query within DuckDB's memory.
SETS_PER_BUCKET = 250
TARGET_PART = "target_part"
TARGET_PART_EDGES = "int_privesc_live_edges"  # the edges whose number sets the target parts
# Edges a shortest path takes per target part. A part holds its (principal, target) pairs, about
# as many as its edges where paths are one step: forty adversarial accounts (3.8 M such edges
# and pairs) are four parts of about 380 MiB each, unconstrained (one would be 1.2 GiB).
EDGES_PER_TARGET_PART = 1_000_000
PARTITIONS_TABLE = "ciem_model_partitions"  # partitioned models built: name, buckets, parts
# A `-- transform:` function lives in the warehouse layer (imports point down the flow).
TRANSFORM = re.compile(r"^pipelines\.lib\.warehouse\.[a-z_][a-z0-9_]*:[a-z_][a-z0-9_]*$")
TRANSFORM_BATCH_ROWS = 50_000
OPTIMIZERS = re.compile(r"^[a-z_]+(\s*,\s*[a-z_]+)*$")  # `-- disabled_optimizers:` names


@dataclass(frozen=True)
class SqlModel:
    name: str
    layer: str
    path: Path
    sql: str
    description: str
    grain: str | None
    materialized: str  # 'table' | 'view'
    deps: tuple[str, ...] = field(default=())
    partition: str | None = None  # 'principal_bucket' or 'target_part': built in parts (above)
    transform: str | None = None  # 'module:function' its rows pass through (see above)
    disabled_optimizers: str | None = None  # DuckDB optimizers off while it is built (see above)

    @property
    def is_mart(self) -> bool:
        return self.layer == "marts"


_HEADER_KEYS = ("grain", "materialized", "partition", "transform", "disabled_optimizers")


def _header(sql: str) -> list[str]:
    lines = []
    for line in sql.splitlines():
        stripped = line.strip()
        if not stripped.startswith("--"):
            break
        lines.append(stripped.removeprefix("--").strip())
    return lines


def strip_sql(sql: str) -> str:
    """The SQL in lower case, its comments blanked and its string literals emptied (`''`)."""
    return _STRING.sub("''", _BLOCK_COMMENT.sub(" ", _LINE_COMMENT.sub(" ", sql.lower())))


def referenced_names(sql: str, known: Iterable[str]) -> set[str]:
    """Names of known tables that the SQL mentions outside comments and string literals."""
    return set(_IDENT.findall(strip_sql(sql))) & set(known)


def discover_models(
    sql_dir: Path = SQL_DIR, external: Iterable[str] = (), layers: Iterable[str] = LAYERS
) -> list[SqlModel]:
    """All models under sql_dir, each with its dependencies among models and external tables.

    `sql/daily/` holds per-partition models (pipelines.lib.warehouse.daily), run outside the
    warehouse.
    """
    wanted = set(layers)
    paths = sorted(p for p in sql_dir.glob("*/*.sql") if p.parent.name in wanted)
    names = [p.stem for p in paths]
    bad = [n for n in names if not MODEL_NAME.match(n)]
    if bad:
        # The name becomes a table name in SQL: a plain lower-case identifier, nothing else.
        raise ValueError(f"model file names must be lower-case SQL identifiers: {sorted(bad)}")
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"model names must be unique across layers: {sorted(duplicates)}")
    known = set(names) | set(external)
    # model names are checked identifiers (MODEL_NAME)
    rules = [p.stem for p in paths if p.parent.name == "detections"]
    rule_union = "\n    union all by name\n    ".join(f"select * from {r}" for r in rules)  # noqa: S608
    models = []
    for path in paths:
        sql = path.read_text()
        if DETECTION_RULES_PLACEHOLDER in sql:
            if not rule_union:
                raise ValueError(f"{path}: {DETECTION_RULES_PLACEHOLDER} but no rule models")
            sql = sql.replace(DETECTION_RULES_PLACEHOLDER, rule_union)
        header = _header(sql)
        meta = {
            k.strip(): v.strip()
            for k, _, v in (h.partition(":") for h in header)
            if k.strip() in _HEADER_KEYS
        }
        _check_partition(path, meta.get("partition"))
        if "transform" in meta and (
            not TRANSFORM.match(meta["transform"]) or "partition" in meta or "materialized" in meta
        ):
            raise ValueError(f"{path}: a transform is a warehouse function of a table model")
        if "disabled_optimizers" in meta and (
            not OPTIMIZERS.match(meta["disabled_optimizers"]) or meta.get("materialized") == "view"
        ):
            raise ValueError(
                f"{path}: disabled_optimizers names DuckDB optimizers (comma-separated) of a "
                "model that is built (not a view)"
            )
        description = "\n".join(
            h
            for h in header
            if not h.startswith(tuple(f"{k}:" for k in _HEADER_KEYS)) and h != path.stem
        ).strip()
        models.append(
            SqlModel(
                name=path.stem,
                layer=path.parent.name,
                path=path,
                sql=sql,
                description=description,
                grain=meta.get("grain"),
                materialized=meta.get("materialized", "table"),
                deps=tuple(sorted(referenced_names(sql, known) - {path.stem})),
                partition=meta.get("partition"),
                transform=meta.get("transform"),
                disabled_optimizers=meta.get("disabled_optimizers"),
            )
        )
    return models


def _positive_int_setting(name: str, default: int) -> int:
    """The environment variable `name` as a positive integer, else `default` when unset."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{name} must be a positive integer, not {value!r}")
    return int(value)


def sets_per_bucket() -> int:
    """Policy sets per principal bucket: `CIEM_SETS_PER_BUCKET`, else SETS_PER_BUCKET."""
    return _positive_int_setting("CIEM_SETS_PER_BUCKET", SETS_PER_BUCKET)


def edges_per_target_part() -> int:
    """Escalation edges per target part: `CIEM_EDGES_PER_TARGET_PART`, else the default."""
    return _positive_int_setting("CIEM_EDGES_PER_TARGET_PART", EDGES_PER_TARGET_PART)


def target_parts(con: duckdb.DuckDBPyConnection) -> int:
    """How many target parts a `-- partition: target_part` model is built in (at least 1)."""
    [(edges,)] = con.execute(f"select count(*) from {TARGET_PART_EDGES}").fetchall()  # noqa: S608 (a constant name)
    return max(1, -(-int(edges) // edges_per_target_part()))


def _existing_kind(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    row = con.execute(
        "select table_type from information_schema.tables "
        "where table_schema = 'main' and table_name = ?",
        [name],
    ).fetchone()
    return None if row is None else ("view" if row[0] == "VIEW" else "table")


def _replace(con: duckdb.DuckDBPyConnection, name: str, kind: str, body: str) -> int | None:
    """Create or replace the table or view `name`; a table's row count (DuckDB returns it)."""
    create = f"create or replace {kind} {name} as\n{body}"
    try:
        result = con.execute(create).fetchall()
    except duckdb.CatalogException:
        # A model may switch between table and view: the other kind is dropped, then created.
        # (Looked up only then: the catalog query cost more than most models on an empty
        # account.)
        existing = _existing_kind(con, name)
        if existing is None or existing == kind:
            raise
        con.execute(f"drop {existing} {name}")
        result = con.execute(create).fetchall()
    return int(result[0][0]) if kind == "table" else None


def run_model(
    con: duckdb.DuckDBPyConnection, model: SqlModel, parts_dir: Path | None = None
) -> int | None:
    """(Re)build one model; returns its row count (None for a view that is not a mart: such a
    view can be costly to count, e.g. int_statement_actions_expanded).

    A partitioned model (`-- partition: principal_bucket`) stores its parts as Parquet files
    under `parts_dir/<model>/` when given, else as tables of the connection."""
    con.execute(f"set variable ciem_sets_per_bucket = {sets_per_bucket():d}")
    with _optimizers_disabled(con, model.disabled_optimizers):
        return _run(con, model, parts_dir)


@contextmanager
def _optimizers_disabled(con: duckdb.DuckDBPyConnection, names: str | None) -> Iterator[None]:
    """Within the block, DuckDB's optimizers `names` are off too (a model's
    `-- disabled_optimizers:`); the setting held before (DuckDB's is global to the database) is
    restored after it."""
    if names is None:
        yield
        return
    [(before,)] = con.execute("select current_setting('disabled_optimizers')").fetchall()
    wanted = ", ".join(n for n in [before, names] if n)
    con.execute(f"set disabled_optimizers = {quote_literal(wanted)}")
    try:
        yield
    finally:
        con.execute(f"set disabled_optimizers = {quote_literal(before)}")


def _run(con: duckdb.DuckDBPyConnection, model: SqlModel, parts_dir: Path | None) -> int | None:
    if model.partition is not None:
        return _run_partitioned(con, model, parts_dir)
    body = model.sql.strip().rstrip(";")
    if model.transform is not None:
        return _run_transformed(con, model, body)
    kind = "view" if model.materialized == "view" else "table"
    rows = _replace(con, model.name, kind, body)
    if kind == "view" and not model.is_mart:
        return None
    if rows is not None:
        return rows
    return con.execute(f"select count(*) from {model.name}").fetchall()[0][0]  # noqa: S608 (model names are checked identifiers (MODEL_NAME))


def _run_transformed(con: duckdb.DuckDBPyConnection, model: SqlModel, body: str) -> int:
    """The model's rows through its transform, a batch at a time (memory: one batch), stored as
    the table `model.name` (built aside and swapped in, so a failure leaves the old one)."""
    module, _, function = (model.transform or "").partition(":")
    transform = getattr(importlib.import_module(module), function)
    building = f"{model.name}__building"
    # The query streams on a cursor of its own while the batches are written on `con`.
    reader = con.cursor().sql(body).to_arrow_reader(TRANSFORM_BATCH_ROWS)
    rows = 0
    try:
        first = transform(pa.RecordBatch.from_pylist([], schema=reader.schema))
        con.register("_ciem_transform_batch", pa.Table.from_batches([first]))
        con.execute(f"create or replace table {building} as select * from _ciem_transform_batch")  # noqa: S608 (a checked identifier)
        for batch in reader:
            out = transform(batch)
            con.register("_ciem_transform_batch", pa.Table.from_batches([out]))
            con.execute(f"insert into {building} select * from _ciem_transform_batch")  # noqa: S608 (a checked identifier)
            rows += out.num_rows
    finally:
        con.unregister("_ciem_transform_batch")
        reader.close()
    if _existing_kind(con, model.name) == "view":
        con.execute(f"drop view {model.name}")
    con.execute(f"drop table if exists {model.name}")
    con.execute(f"alter table {building} rename to {model.name}")
    return rows


def principal_buckets(con: duckdb.DuckDBPyConnection) -> int:
    """How many principal buckets int_principal_policy_sets assigns (at least 1)."""
    [(top,)] = con.execute(
        f"select max({PRINCIPAL_BUCKET}) from main.{BUCKETED_SETS}"  # noqa: S608 (constant names)
    ).fetchall()
    return 1 if top is None else int(top) + 1


def _built_partitions(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int, str]]:
    """(model, buckets, part source with `{bucket}`) of every partitioned model built."""
    con.execute(
        f"create table if not exists {PARTITIONS_TABLE} "
        "(model varchar primary key, buckets integer, part_source varchar)"
    )
    return con.execute(f"select * from {PARTITIONS_TABLE} order by model").fetchall()  # noqa: S608 (constant name)


def _main_schema(con: duckdb.DuckDBPyConnection) -> str:
    """The database's `main` schema, named in full: `main` alone would name the temporary
    catalog's schema where a temporary view of the same name shadows the table."""
    [(database,)] = con.execute("select current_database()").fetchall()
    return '"' + database.replace('"', '""') + '".main'


def model_parts(con: duckdb.DuckDBPyConnection, model: str) -> list[str]:
    """The relations (FROM-clause text) holding each principal bucket's part of `model` as
    built, in bucket order; [] when `model` was not built per bucket (or by an older ciem).
    Read-only: the warehouse may be open read-only (the explorer)."""
    try:
        rows = con.execute(
            f"select buckets, part_source from main.{PARTITIONS_TABLE} where model = ?",  # noqa: S608 (constant name)
            [model],
        ).fetchall()
    except duckdb.CatalogException:
        return []
    if not rows:
        return []
    [(buckets, source)] = rows
    main = _main_schema(con)
    return [
        source.replace("{bucket}", f"{bucket:03d}").replace("{main}", main)
        for bucket in range(buckets)
    ]


@contextmanager
def _bucket_shadows(
    con: duckdb.DuckDBPyConnection, reader: str, bucket: int, buckets: int
) -> Iterator[None]:
    """Within the block, temporary views of bucket `bucket` over the bucketed sets and every
    partitioned model built (but `reader`'s own, being built); dropped when it ends."""
    shadows = [BUCKETED_SETS]
    try:
        main = _main_schema(con)
        con.execute(
            f"create or replace temp view {BUCKETED_SETS} as select * from {main}.{BUCKETED_SETS} "  # noqa: S608 (constant names)
            f"where {PRINCIPAL_BUCKET} = {bucket:d}"
        )
        for name, built, source in _built_partitions(con):
            if name == reader:
                continue
            shadows.append(name)
            if built != buckets:
                # Only an error when read: `reader` may not need this (stale) model at all.
                message = quote_literal(
                    f"{name} was built for {built} principal buckets, {reader} for {buckets}: "
                    f"materialize {name} again"
                )
                con.execute(
                    f"create or replace temp view {name} as "  # noqa: S608 (checked identifiers, quoted message)
                    f"select * from {main}.{name} where error({message}) is null"
                )
            else:
                part = source.replace("{bucket}", f"{bucket:03d}").replace("{main}", main)
                con.execute(f"create or replace temp view {name} as select * from {part}")  # noqa: S608 (part sources are written by _run_partitioned)
        yield
    finally:
        for name in shadows:
            con.execute(f"drop view if exists temp.{name}")


@contextmanager
def _part_variables(con: duckdb.DuckDBPyConnection, part: int, parts: int) -> Iterator[None]:
    """Within the block, the SQL variables `ciem_part` and `ciem_parts` say which target part
    is being built; unset when it ends."""
    try:
        con.execute(f"set variable ciem_part = {part:d}")
        con.execute(f"set variable ciem_parts = {parts:d}")
        yield
    finally:
        con.execute("reset variable ciem_part")
        con.execute("reset variable ciem_parts")


_NOT_HIVE = "hive_partitioning = false"


def _run_partitioned(
    con: duckdb.DuckDBPyConnection, model: SqlModel, parts_dir: Path | None
) -> int:
    body = model.sql.strip().rstrip(";")
    by_bucket = model.partition == PRINCIPAL_BUCKET
    buckets = principal_buckets(con) if by_bucket else target_parts(con)

    def part_context(part: int) -> AbstractContextManager[None]:
        if by_bucket:
            return _bucket_shadows(con, model.name, part, buckets)
        return _part_variables(con, part, buckets)

    _built_partitions(con)
    con.execute(f"delete from {PARTITIONS_TABLE} where model = ?", [model.name])  # noqa: S608 (constant name)
    rows = 0
    building = None
    if parts_dir is not None:
        final_dir = parts_dir / model.name
        building = parts_dir / f".{model.name}.{uuid.uuid4().hex}.building"
        building.mkdir(parents=True)
    try:
        for bucket in range(buckets):
            with part_context(bucket):
                if building is not None:
                    path = building / f"part-{bucket:03d}.parquet"
                    [(written,)] = con.execute(
                        f"copy ({body}) to {quote_literal(str(path))} "
                        "(format parquet, compression zstd)"
                    ).fetchall()
                    rows += int(written)
                else:
                    part = f"{model.name}__p{bucket:03d}"
                    con.execute(f"create or replace table {part} as\n{body}")
                    rows += con.execute(f"select count(*) from {part}").fetchall()[0][0]  # noqa: S608 (checked identifiers)
        if building is not None:
            # Publish the new parts in one rename (the old ones are removed after it).
            old = parts_dir / f".{model.name}.{uuid.uuid4().hex}.old"
            if final_dir.exists():
                final_dir.rename(old)
            building.rename(final_dir)
            building = None
            shutil.rmtree(old, ignore_errors=True)
            # not hive: the parts live under `as_of=YYYY-MM-DD/`, which would add a column `as_of`
            part = quote_literal(str(final_dir / "part-{bucket}.parquet"))
            source = f"read_parquet({part}, {_NOT_HIVE})"
            parts = quote_literal(str(final_dir / "part-*.parquet"))
            union = f"select * from read_parquet({parts}, {_NOT_HIVE})"  # noqa: S608 (a quoted path)
        else:
            # a table per bucket; parts of an earlier build with more buckets go
            parts = [f"{model.name}__p{b:03d}" for b in range(buckets)]
            stale = con.execute(
                "select table_name from information_schema.tables where table_schema = 'main' "
                "and starts_with(table_name, ?) and not list_contains(?, table_name)",
                [f"{model.name}__p", parts],
            ).fetchall()
            for (name,) in stale:
                con.execute(f"drop table {name}")
            source = f"{{main}}.{model.name}__p{{bucket}}"
            union = "\nunion all\n".join(
                f"select * from {model.name}__p{b:03d}"  # noqa: S608 (checked identifiers)
                for b in range(buckets)
            )
        _replace(con, model.name, "view", union)
        if by_bucket:  # its buckets shadow it in later bucketed models (a target part does not)
            con.execute(
                f"insert into {PARTITIONS_TABLE} values (?, ?, ?)",  # noqa: S608 (constant name)
                [model.name, buckets, source],
            )
    finally:
        if building is not None:
            shutil.rmtree(building, ignore_errors=True)
    return rows


class Model(Protocol):
    """What the ordering needs of a model (a SQL model, or a Python one of the model step)."""

    @property
    def name(self) -> str: ...
    @property
    def layer(self) -> str: ...
    @property
    def deps(self) -> tuple[str, ...]: ...


M = TypeVar("M", bound=Model)


def topological_order(models: Iterable[M]) -> list[M]:
    """The models so that each comes after every model it reads (ties: layer order, then name).

    Raises ValueError on a cycle, naming the models in it."""
    by_name = {m.name: m for m in models}
    waiting = {m.name: {d for d in m.deps if d in by_name} for m in by_name.values()}
    rank = {layer: i for i, layer in enumerate(LAYERS)}

    def key(name: str) -> tuple[int, str]:
        return rank.get(by_name[name].layer, len(rank)), name

    ordered: list[M] = []
    ready = sorted((n for n, deps in waiting.items() if not deps), key=key)
    while ready:
        name = ready.pop(0)
        ordered.append(by_name[name])
        del waiting[name]
        freed = [n for n, deps in waiting.items() if name in deps and deps == {name}]
        for deps in waiting.values():
            deps.discard(name)
        ready = sorted([*ready, *freed], key=key)
    if waiting:
        raise ValueError(f"the models read each other in a circle: {sorted(waiting)}")
    return ordered


@dataclass(frozen=True)
class Audit:
    """`sql/audits/<model>__<name>.sql`: a query returning the offending rows of `model`
    (zero rows = pass). Its header comment is the description; `-- severity: warn` makes a
    failure a warning instead of an error. `-- partition: principal_bucket` (on a partitioned
    model) runs it once per principal bucket, over that bucket's rows of the partitioned models
    and of int_principal_policy_sets, as the model was built: for a check that holds when it holds
    in every bucket (a grain with the principal in it), in a bucket's memory."""

    model: str
    name: str
    sql: str
    description: str
    warn_only: bool
    partition: str | None = None


def _check_partition(
    path: Path, partition: str | None, known: tuple[str, ...] = (PRINCIPAL_BUCKET, TARGET_PART)
) -> None:
    """A model's `-- partition:` header names a partition there is (an audit's: the bucket)."""
    if partition is not None and partition not in known:
        raise ValueError(f"{path}: unknown partition {partition!r}")


def discover_audits(sql_dir: Path = SQL_DIR) -> list[Audit]:
    audits = []
    for path in sorted((sql_dir / "audits").glob("*__*.sql")):
        model, _, name = path.stem.partition("__")
        sql = path.read_text()
        header = [h.removeprefix("--").strip() for h in sql.splitlines() if h.startswith("--")]
        partition = next(
            (h.partition(":")[2].strip() for h in header if h.startswith("partition:")), None
        )
        _check_partition(path, partition, (PRINCIPAL_BUCKET,))
        audits.append(
            Audit(
                model=model,
                name=name,
                sql=sql,
                description="\n".join(
                    h for h in header if not h.startswith(("severity:", "partition:"))
                ),
                warn_only="severity: warn" in header,
                partition=partition,
            )
        )
    return audits


def run_audit(
    con: duckdb.DuckDBPyConnection, audit: Audit
) -> tuple[list[str], list[tuple[object, ...]]]:
    """(columns, offending rows) of one audit; a partitioned one's rows of every bucket."""
    if audit.partition is None:
        relation = con.sql(audit.sql)
        return relation.columns, relation.fetchall()
    buckets = principal_buckets(con)
    columns: list[str] = []
    offending: list[tuple[object, ...]] = []
    for bucket in range(buckets):
        with _bucket_shadows(con, f"the audit {audit.model}__{audit.name}", bucket, buckets):
            relation = con.sql(audit.sql)
            columns = relation.columns
            offending += relation.fetchall()
    return columns, offending
