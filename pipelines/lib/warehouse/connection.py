"""Warehouse layer: the DuckDB file the SQL models build, lake Parquet exposed as views."""

from __future__ import annotations

import fcntl
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines.lib.lake import Lake, make_private_dirs, write_parquet

log = logging.getLogger("ciem")


@dataclass(frozen=True)
class LakeTable:
    """A table that Python landing code writes as Parquet and SQL models read through a view."""

    name: str
    schema: pa.Schema
    glob: str  # relative to the lake root ("" = none)
    # The part landed per as-of day (`{as_of}` in the path): the view reads the run's day only.
    as_of_path: str = ""

    def sources(self, lake: Lake, as_of: date | None) -> list[str]:
        """The Parquet files (or globs) the view reads, for the run's as-of day."""
        found = []
        if self.glob and any(lake.root.glob(self.glob)):
            found.append(f"{lake.root}/{self.glob}")
        if self.as_of_path and as_of is not None:
            path = lake.root / self.as_of_path.format(as_of=as_of.isoformat())
            if path.exists():
                found.append(str(path))
        return found


@dataclass(frozen=True)
class RunParams:
    """What a run is about: the as-of date and the usage window ending on it (inclusive), and
    the thresholds of the rules: `unused_days` (a credential or role not used for that many days
    is unused), `key_rotation_days` (an access key older than that is due for rotation) and
    `max_hops` (the longest privilege-escalation path searched, privilege_escalation_paths)."""

    as_of: date
    window_days: int = 15
    gap_threshold: float = 0.4
    unused_days: int = 90
    key_rotation_days: int = 90
    max_hops: int = 5

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
_MEMORY_SIZE = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


class SettingError(ValueError):
    """A setting that is not what it must be (said in one line, naming the setting)."""


def memory_limit() -> str:
    """`CIEM_DUCKDB_MEMORY_LIMIT`, checked: a size such as `1GB` or `512MiB`, nothing else."""
    if not _MEMORY_SIZE.match(MEMORY_LIMIT.strip()):
        raise SettingError(
            f"CIEM_DUCKDB_MEMORY_LIMIT={MEMORY_LIMIT!r} is not a memory size (e.g. 1GB, 512MiB)"
        )
    return MEMORY_LIMIT.strip()


def quote_literal(value: str) -> str:
    """A SQL string literal of `value` (quotes doubled), for the few statements that take no
    parameters (`create view … read_parquet('…')`, `copy … to '…'`)."""
    return "'" + value.replace("'", "''") + "'"


def open_database(
    path: Path, read_only: bool = False, lake_root: Path | None = None, fsync: bool = True
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the project's settings passed as configuration, never pasted
    into SQL. `lake_root` confines it: files outside that folder cannot be read or written,
    and no extension can be installed or loaded (DuckDB's `allowed_directories` with
    `enable_external_access = false`, then the configuration is locked). `fsync=False`: no
    commit waits for the disk (DuckDB's `fsync_mode = none`), for a file that is thrown away
    unless it is completed (the build copy, made durable once by `building_warehouse`)."""
    config = {
        "memory_limit": memory_limit(),
        "temp_directory": str(path.parent / "duckdb_tmp"),
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    if not fsync:
        config["fsync_mode"] = "none"
    con = duckdb.connect(str(path), read_only=read_only, config=config)
    # Days are UTC days: casts of timestamptz to date must not depend on the machine's zone.
    con.execute("set TimeZone = 'UTC'")
    if lake_root is not None:
        con.execute("set allowed_directories = ?", [[str(lake_root)]])
        con.execute("set enable_external_access = false")
        con.execute("set lock_configuration = true")
    return con


@contextmanager
def connect(
    lake: Lake, read_only: bool = False, timeout_s: float = 60.0, allow_files: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse; waits while another process holds the write lock.

    A read-only connection reads the lake's files only (no other file, no extension install),
    unless `allow_files` (`ciem query --allow-files`)."""
    path = lake.warehouse_path
    if read_only and not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}: run `ciem run` or `ciem demo` first")
    path.parent.mkdir(parents=True, exist_ok=True)
    confine = lake.root if read_only and not allow_files else None
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            con = open_database(path, read_only, confine)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    try:
        yield con
    finally:
        con.close()


@contextmanager
def building_warehouse(lake: Lake, path: Path | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A write connection to a copy of the warehouse, which replaces the warehouse with one
    rename when the block ends normally (the model step catches a failing model, so what
    succeeded is published); an exception out of the block publishes nothing.

    A reader that holds `ciem.duckdb` open (a dashboard's read-only connection, the `duckdb`
    CLI) never blocks the build, keeps the file it opened, and sees the new results when it
    reconnects; it never sees a half-built warehouse. Two runs at once each publish a whole
    warehouse (the last rename wins). A crash or a kill leaves the old warehouse as it was.
    `path`: another warehouse file than the lake's (an as-of day's own).

    A damaged warehouse (truncated, overwritten, a block whose checksum fails) is not copied
    on: the build starts from an empty file, said in one line, and the models rebuild it from
    the lake (the lake views, the history included, are registered on every run).

    The copy's commits do not wait for the disk (a model is a commit: on an empty account the
    models' step was mostly fsync): a crash loses the copy anyway. The finished file is written
    to disk once, before the rename that publishes it."""
    path = path or lake.warehouse_path
    make_private_dirs(path.parent)
    _remove_abandoned_builds(path)
    building = path.with_name(f".{path.name}.{uuid.uuid4().hex}.building")
    if path.exists():
        shutil.copyfile(path, building)
    con = _open_copy(path, building)
    published = False
    try:
        yield con
        con.execute("checkpoint")
        con.close()
        _fsync(building)
        # A write-ahead log of an older writer must not be replayed into the new file.
        path.with_name(path.name + ".wal").unlink(missing_ok=True)
        building.replace(path)
        published = True
    finally:
        if not published:
            con.close()
            building.unlink(missing_ok=True)
            building.with_name(building.name + ".wal").unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    """Wait until the file's content is on disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_day_warehouse(lake: Lake, as_of: date) -> None:
    """Make an as-of day's warehouse the lake's (`ciem.duckdb`): a copy renamed into place, so a
    reader keeps the file it opened and sees the new one when it reconnects."""
    path = lake.warehouse_path
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.publishing")
    try:
        shutil.copyfile(lake.day_warehouse_path(as_of), tmp)
        path.with_name(path.name + ".wal").unlink(missing_ok=True)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def prune_day_warehouses(lake: Lake, keep: int) -> None:
    """Keep the warehouses of the `keep` newest as-of days (an older day is rebuilt if asked)."""
    days = sorted(lake.root.glob("warehouse/as_of=*/ciem.duckdb"))
    for path in days[:-keep] if keep else days:
        shutil.rmtree(path.parent, ignore_errors=True)


ABANDONED_AFTER_S = 3600  # a build copy nobody holds open and untouched this long was killed


def _remove_abandoned_builds(path: Path) -> None:
    """Delete the build copies of runs that were killed (`kill -9`, a lost machine) before they
    could clean up: a copy is abandoned when no process holds DuckDB's lock on it and it has
    not changed for an hour (a run still copying the warehouse holds no lock yet, but its copy
    is fresh)."""
    now = time.time()
    for stale in path.parent.glob(f".{path.name}.*.building"):
        try:
            if now - stale.stat().st_mtime < ABANDONED_AFTER_S:
                continue
            with stale.open("r+b") as f:
                fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)  # fails while DuckDB holds it
                fcntl.lockf(f, fcntl.LOCK_UN)
        except OSError:
            continue
        stale.unlink(missing_ok=True)
        stale.with_name(stale.name + ".wal").unlink(missing_ok=True)
        log.info(f"removed {stale.name}, the build copy of a run that was killed")


def _open_copy(path: Path, building: Path) -> duckdb.DuckDBPyConnection:
    """Open the copy of the warehouse to build on; a copy DuckDB cannot open or whose catalog
    it cannot read is replaced by an empty database."""
    con: duckdb.DuckDBPyConnection | None = None
    try:
        con = open_database(building, fsync=False)
        con.execute("select count(*) from duckdb_tables()").fetchall()
        return con
    except duckdb.Error as exc:
        if con is not None:
            con.close()
        reason = str(exc).strip().splitlines()[0]
        log.warning(f"warehouse {path} is damaged ({reason}); building a new one from the lake")
        building.unlink(missing_ok=True)
        building.with_name(building.name + ".wal").unlink(missing_ok=True)
        return open_database(building, fsync=False)


def register_lake_views(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    tables: Mapping[str, LakeTable],
    as_of: date | None = None,
) -> None:
    """(Re)create one view per lake table over its Parquet files for the as-of day (or an empty
    typed file)."""
    for table in tables.values():
        sources = table.sources(lake, as_of)
        if not sources:
            empty = lake.empty_path(table.name)
            write_parquet(table.schema.empty_table(), empty)
            sources = [str(empty)]
        listed = ", ".join(quote_literal(s) for s in sources)
        con.execute(
            f"create or replace view {table.name} as "  # noqa: S608 (table names from the lake registry; the paths are quoted)
            f"select * from read_parquet([{listed}], union_by_name = true)"
        )


def set_run_params(con: duckdb.DuckDBPyConnection, params: RunParams) -> None:
    """`run_params`: one row that every model reads for the as-of date, window and thresholds. A
    table of the warehouse (not a temporary one): a model's transform reads it on a cursor of its
    own, and `ciem explain` reads the as-of date of the run that built the warehouse."""
    con.execute(
        """
        create or replace table run_params as
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
            ?::integer as key_rotation_days,
            ?::integer as max_hops
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
            params.max_hops,
        ],
    )
