"""Table-by-table differences between the warehouses of two lakes (issue 11: the same result tables
before and after a change of the execution).

    .venv/bin/python bench/compare_lakes.py LAKE_A LAKE_B [--tables t1,t2]

Every table and view of `LAKE_x/warehouse/ciem.duckdb` (schema main; the parts of partitioned
models and the runner's bookkeeping aside) is read in full, without the columns that record when
a run happened (`recorded_at`, `ingested_at`, `quarantined_at`, … see RUN_TIME_COLUMNS) or where
the input was read from (INPUT_LOCATION_COLUMNS), and compared as multisets: `except all` both
ways. Prints one line per table (rows in A, rows in B, rows only in A, rows only in B) and exits 1
when some table differs, is missing on one side, or has other columns.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

import duckdb

# Columns that say when a run (not the data) happened.
RUN_TIME_COLUMNS = re.compile(
    r"^(recorded|ingested|quarantined|landed|collected|generated|built)_at$"
)
# Columns that depend on where the input was read from, per table: a local CloudTrail object's
# `version` is its file's modification time (another checkout, another value).
INPUT_LOCATION_COLUMNS = {"cloudtrail_manifest": {"version"}}
# Tables of the runner, not results: parts of partitioned models and their list.
SKIP_TABLES = re.compile(r"__p\d{3}$|^ciem_model_partitions$")


def tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Table and view names of schema main, each with its compared columns (in order)."""
    names = [
        n
        for (n,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main' "
            "order by table_name"
        ).fetchall()
        if not SKIP_TABLES.search(n)
    ]
    return {
        n: [
            c
            for (c,) in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'main' and table_name = ? order by ordinal_position",
                [n],
            ).fetchall()
            if not RUN_TIME_COLUMNS.match(c) and c not in INPUT_LOCATION_COLUMNS.get(n, set())
        ]
        for n in names
    }


def _export(lake: Path, names: dict[str, list[str]], out: Path) -> None:
    with duckdb.connect(str(lake / "warehouse" / "ciem.duckdb"), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        for name, columns in names.items():
            cols = ", ".join(f'"{c}"' for c in columns)
            target = str(out / f"{name}.parquet").replace("'", "''")
            con.execute(f"copy (select {cols} from {name}) to '{target}' (format parquet)")


def compare(lake_a: Path, lake_b: Path, only: set[str] | None = None) -> list[str]:
    """One report line per table; a line starting with `DIFF` or `MISSING` is a difference."""
    schemas = []
    for lake in (lake_a, lake_b):
        with duckdb.connect(str(lake / "warehouse" / "ciem.duckdb"), read_only=True) as con:
            schemas.append(tables(con))
    a, b = schemas
    names = sorted(set(a) | set(b))
    if only:
        names = [n for n in names if n in only]
    lines = []
    common = {}
    for n in names:
        if n not in a or n not in b:
            lines.append(f"MISSING {n}: only in {'A' if n in a else 'B'}")
        elif a[n] != b[n]:
            lines.append(f"DIFF    {n}: columns differ: {a[n]} vs {b[n]}")
        else:
            common[n] = a[n]
    with tempfile.TemporaryDirectory() as tmp:
        da, db = Path(tmp) / "a", Path(tmp) / "b"
        da.mkdir()
        db.mkdir()
        _export(lake_a, common, da)
        _export(lake_b, common, db)
        con = duckdb.connect()
        for n in common:
            fa, fb = str(da / f"{n}.parquet"), str(db / f"{n}.parquet")
            [(rows_a, rows_b, only_a, only_b)] = con.execute(
                """
                select
                    (select count(*) from read_parquet($a)),
                    (select count(*) from read_parquet($b)),
                    (select count(*) from (
                        select * from read_parquet($a) except all select * from read_parquet($b))),
                    (select count(*) from (
                        select * from read_parquet($b) except all select * from read_parquet($a)))
                """,
                {"a": fa, "b": fb},
            ).fetchall()
            tag = "same   " if only_a == only_b == 0 else "DIFF   "
            lines.append(
                f"{tag} {n}: {rows_a} rows vs {rows_b}; only in A {only_a}, only in B {only_b}"
            )
    return sorted(lines, key=lambda line: line.split()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lake_a", type=Path)
    parser.add_argument("lake_b", type=Path)
    parser.add_argument("--tables", help="compare only these tables (comma-separated)")
    args = parser.parse_args()
    only = set(args.tables.split(",")) if args.tables else None
    lines = compare(args.lake_a, args.lake_b, only)
    print("\n".join(lines))
    differing = [line for line in lines if not line.startswith("same")]
    print(f"{len(lines) - len(differing)} tables the same, {len(differing)} differ")
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
