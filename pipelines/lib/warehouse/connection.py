"""Warehouse layer: the DuckDB file the SQL models build, lake Parquet exposed as views."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import pyarrow as pa

from pipelines.lib.lake import Lake, write_parquet


@dataclass(frozen=True)
class LakeTable:
    """A table that Python landing code writes as Parquet and SQL models read through a view."""

    name: str
    schema: pa.Schema
    glob: str  # relative to the lake root


@dataclass(frozen=True)
class RunParams:
    """What a run is about: the as-of date and the usage window ending on it (inclusive), and
    the thresholds of the rules: `unused_days` (a credential or role not used for that many days
    is unused) and `key_rotation_days` (an access key older than that is due for rotation)."""

    as_of: date
    window_days: int = 15
    gap_threshold: float = 0.4
    unused_days: int = 90
    key_rotation_days: int = 90

    @property
    def window_start(self) -> date:
        return self.as_of - timedelta(days=self.window_days - 1)

    @property
    def unused_since(self) -> date:
        """First day of the `unused_days` UTC days ending on the as-of date (inclusive)."""
        return self.as_of - timedelta(days=self.unused_days - 1)

    def window_dates(self) -> list[date]:
        return [self.window_start + timedelta(days=i) for i in range(self.window_days)]


# DuckDB's own default is 80% of the machine's memory, and its buffer pool grows to it before
# anything spills: the large evaluation models and marts (millions of rows with list columns)
# then peak at several GiB. A fixed limit makes them spill to `<lake>/warehouse/duckdb_tmp`
# instead (measured on the 10,000-principal benchmark, bench/bench_evaluation.py). Memory that
# leaves DuckDB (Arrow tables handed to Python) is not counted in it.
MEMORY_LIMIT = os.environ.get("CIEM_DUCKDB_MEMORY_LIMIT", "1GB")


@contextmanager
def connect(
    lake: Lake, read_only: bool = False, timeout_s: float = 60.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse; waits while another process holds the write lock."""
    path = lake.warehouse_path
    if read_only and not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}: run `ciem run` or `ciem demo` first")
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    # Days are UTC days: casts of timestamptz to date must not depend on the machine's zone.
    con.execute("set TimeZone = 'UTC'")
    con.execute(f"set memory_limit = '{MEMORY_LIMIT}'")
    con.execute(f"set temp_directory = '{path.parent / 'duckdb_tmp'}'")
    try:
        yield con
    finally:
        con.close()


def register_lake_views(
    con: duckdb.DuckDBPyConnection, lake: Lake, tables: Mapping[str, LakeTable]
) -> None:
    """(Re)create one view per lake table over its Parquet files (or an empty typed file)."""
    for table in tables.values():
        files = sorted(lake.root.glob(table.glob))
        if files:
            source = f"{lake.root}/{table.glob}"
        else:
            empty = lake.empty_path(table.name)
            write_parquet(table.schema.empty_table(), empty)
            source = str(empty)
        con.execute(
            f"create or replace view {table.name} as "
            f"select * from read_parquet('{source}', union_by_name = true)"
        )


def set_run_params(con: duckdb.DuckDBPyConnection, params: RunParams) -> None:
    """`run_params`: one row that every model reads for the as-of date, window and thresholds."""
    con.execute(
        """
        create or replace temp table run_params as
        select
            ?::date as as_of,
            ?::integer as window_days,
            ?::date as window_start,
            ?::date as window_end,
            ?::timestamptz as window_start_at,
            ?::timestamptz as window_end_at,
            ?::double as gap_threshold,
            ?::integer as unused_days,
            ?::timestamptz as unused_since_at,
            ?::integer as key_rotation_days
        """,
        [
            params.as_of,
            params.window_days,
            params.window_start,
            params.as_of,
            f"{params.window_start.isoformat()} 00:00:00+00",
            f"{(params.as_of + timedelta(days=1)).isoformat()} 00:00:00+00",
            params.gap_threshold,
            params.unused_days,
            f"{params.unused_since.isoformat()} 00:00:00+00",
            params.key_rotation_days,
        ],
    )
