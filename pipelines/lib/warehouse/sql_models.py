"""Model layer: discovers `sql/<layer>/<model>.sql` files and runs them in the DuckDB warehouse.

One model per file; the file stem is the table name and the Dagster asset name. A model's
dependencies are the model and lake table names its SQL mentions (comments stripped). The header
comment (lines starting with `--` before the first statement) is the model's description; a line
`-- grain: ...` states its grain and `-- materialized: view` makes it a view instead of a table.

The placeholder `{{ detection_rules }}` expands to `select * from det_a union all by name select *
from det_b ...` over every rule model in `sql/detections/`, so adding a rule is adding its file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

import duckdb

SQL_DIR = Path(__file__).resolve().parents[3] / "sql"
LAYERS = ("staging", "intermediate", "detections", "marts")

_IDENT = re.compile(r"\b([a-z_][a-z0-9_]*)\b")
_LINE_COMMENT = re.compile(r"--[^\n]*")
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_STRING = re.compile(r"'(?:[^']|'')*'")
DETECTION_RULES_PLACEHOLDER = "{{ detection_rules }}"
MODEL_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")  # a file stem is a table name in SQL


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

    @property
    def is_mart(self) -> bool:
        return self.layer == "marts"


def _header(sql: str) -> list[str]:
    lines = []
    for line in sql.splitlines():
        stripped = line.strip()
        if not stripped.startswith("--"):
            break
        lines.append(stripped.removeprefix("--").strip())
    return lines


def referenced_names(sql: str, known: Iterable[str]) -> set[str]:
    """Names of known tables that the SQL mentions outside comments and string literals."""
    body = _STRING.sub("''", _BLOCK_COMMENT.sub(" ", _LINE_COMMENT.sub(" ", sql.lower())))
    return set(_IDENT.findall(body)) & set(known)


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
            if k.strip() in {"grain", "materialized"}
        }
        description = "\n".join(
            h for h in header if not h.startswith(("grain:", "materialized:")) and h != path.stem
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
            )
        )
    return models


def run_model(con: duckdb.DuckDBPyConnection, model: SqlModel) -> int:
    """(Re)build one model; returns its row count."""
    body = model.sql.strip().rstrip(";")
    kind = "view" if model.materialized == "view" else "table"
    existing = next(
        iter(
            con.execute(
                "select table_type from information_schema.tables where table_name = ?",
                [model.name],
            ).fetchall()
        ),
        None,
    )
    # A model may switch between table and view; drop the other kind first.
    if existing and (existing[0] == "VIEW") != (kind == "view"):
        con.execute(f"drop {'view' if existing[0] == 'VIEW' else 'table'} {model.name}")
    con.execute(f"create or replace {kind} {model.name} as\n{body}")
    return con.execute(f"select count(*) from {model.name}").fetchall()[0][0]  # noqa: S608 (model names are checked identifiers (MODEL_NAME))


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
    failure a warning instead of an error."""

    model: str
    name: str
    sql: str
    description: str
    warn_only: bool


def discover_audits(sql_dir: Path = SQL_DIR) -> list[Audit]:
    audits = []
    for path in sorted((sql_dir / "audits").glob("*__*.sql")):
        model, _, name = path.stem.partition("__")
        sql = path.read_text()
        header = [h.removeprefix("--").strip() for h in sql.splitlines() if h.startswith("--")]
        audits.append(
            Audit(
                model=model,
                name=name,
                sql=sql,
                description="\n".join(h for h in header if not h.startswith("severity:")),
                warn_only="severity: warn" in header,
            )
        )
    return audits


def run_audit(
    con: duckdb.DuckDBPyConnection, audit: Audit
) -> tuple[list[str], list[tuple[object, ...]]]:
    """(columns, offending rows) of one audit."""
    relation = con.sql(audit.sql)
    return relation.columns, relation.fetchall()
