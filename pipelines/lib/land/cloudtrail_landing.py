"""CloudTrail landing (landing layer): one UTC day of a source into the lake, incrementally.

A manifest per day records every object ingested (key, size, ETag or mtime, records, status).
A run reads only objects the manifest does not hold and appends them to the day as a new part
file; a file of day D that arrives after D was landed is added the same way. When an object
changed or disappeared, or on a full refresh, the whole day is rebuilt. Either way no record is
landed twice and none is lost.

CloudTrail may deliver an event more than once (the same file under two names, an event
redelivered in a later file): a day holds each `eventID` once. Rows of a new part whose eventID
is already in the day (an earlier part, or earlier in the new part by source file and record
index) are dropped before the manifest records the part; events without an eventID are kept.
An event redelivered on another day lands in that day too: the daily aggregates count it in the
earliest of two consecutive days (`sql/daily/`).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.lib.lake import Lake, temp_path_for, write_parquet
from pipelines.lib.land.cloudtrail import (
    CloudTrailSource,
    LogObject,
    object_tables,
    record_labels,
)
from pipelines.lib.land.cloudtrail_events import CLOUDTRAIL_EVENTS_SCHEMA
from pipelines.lib.land.quarantine import Quarantine, QuarantineEntry

log = logging.getLogger("ciem")

ROW_GROUP_ROWS = 64_000
ROW_GROUP_BYTES = 32 * 1024 * 1024  # a row group is written at whichever limit comes first
# Below this much compressed input in a day, parsing in process beats shipping it to workers.
PARALLEL_MIN_BYTES = 4 * 1024 * 1024
DEFAULT_WORKERS = min(2, os.cpu_count() or 1)

MANIFEST_SCHEMA = pa.schema(
    [
        pa.field("day", pa.date32(), nullable=False),
        pa.field("object_key", pa.string(), nullable=False),  # relative to the source root
        pa.field("size", pa.int64(), nullable=False),
        pa.field("version", pa.string(), nullable=False),  # ETag (S3) or mtime (local)
        pa.field("records", pa.int64(), nullable=False),  # records landed for this day
        pa.field("status", pa.string(), nullable=False),  # 'ingested' | 'quarantined'
        pa.field("part", pa.string(), nullable=False),  # the part file it landed in
        pa.field("ingested_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)


@dataclass(frozen=True)
class DayLanding:
    day: date
    mode: str  # 'unchanged' | 'appended' | 'rebuilt'
    objects_read: int
    objects_total: int
    records: int  # records landed by this run
    quarantined: int
    duplicates: int = 0  # records not landed: their eventID was already in the day


def _day_dir(lake: Lake, day: date) -> Path:
    return lake.cloudtrail_day_dir(day)


def manifest_path(lake: Lake, day: date) -> Path:
    return (
        lake.root
        / "parquet"
        / "cloudtrail_manifest"
        / f"day={day.isoformat()}"
        / "manifest.parquet"
    )


def _read_manifest(lake: Lake, day: date) -> pa.Table:
    path = manifest_path(lake, day)
    return (
        pq.read_table(path, schema=MANIFEST_SCHEMA)
        if path.exists()
        else MANIFEST_SCHEMA.empty_table()
    )


def _clear_day(lake: Lake, day: date) -> None:
    for path in _day_dir(lake, day).glob("*.parquet"):
        path.unlink()
    for path in (lake.root / "parquet" / "quarantine").glob(
        f"cloudtrail-{day.isoformat()}*.parquet"
    ):
        path.unlink()
    manifest_path(lake, day).unlink(missing_ok=True)


def _drop_orphan_parts(lake: Lake, day: date, recorded: set[str]) -> None:
    """Parts a crashed run wrote without recording them in the manifest: their objects are
    read again by this run, so the parts must go (no record landed twice)."""
    for path in _day_dir(lake, day).glob("part-*.parquet"):
        part = path.stem[: len("part-00000")]
        if part not in recorded:
            path.unlink()
            lake.quarantine_path("cloudtrail", f"{day.isoformat()}-{part}").unlink(missing_ok=True)


def _write_part(
    location: str, objects: list[LogObject], day: date, path: Path
) -> tuple[dict[str, int], list[QuarantineEntry]]:
    """Parse `objects` into one Parquet file, streamed in row groups (memory stays bounded by
    ROW_GROUP_ROWS / ROW_GROUP_BYTES, whatever the files). Runs in a worker or in process."""
    source = CloudTrailSource(location)
    quarantine = Quarantine(source="cloudtrail", partition=day.isoformat(), quiet=True)
    counts: dict[str, int] = {}
    pending: list[pa.Table] = []
    pending_rows = pending_bytes = 0
    tmp = temp_path_for(path)
    with pq.ParquetWriter(tmp, CLOUDTRAIL_EVENTS_SCHEMA, compression="zstd") as writer:
        for obj in objects:
            counts[obj.key] = 0
            for table in object_tables(source, obj, day, quarantine):
                counts[obj.key] += table.num_rows
                if table.num_rows:
                    pending.append(table)
                    pending_rows += table.num_rows
                    pending_bytes += table.nbytes
                if pending_rows >= ROW_GROUP_ROWS or pending_bytes >= ROW_GROUP_BYTES:
                    writer.write_table(pa.concat_tables(pending))
                    pending, pending_rows, pending_bytes = [], 0, 0
        if pending:
            writer.write_table(pa.concat_tables(pending))
    tmp.replace(path)
    return counts, quarantine.entries


def _balanced(objects: list[LogObject], workers: int) -> list[list[LogObject]]:
    """Split objects into `workers` lists of similar total size (largest first, greedy)."""
    chunks: list[list[LogObject]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for obj in sorted(objects, key=lambda o: (-o.size, o.key)):
        i = loads.index(min(loads))
        chunks[i].append(obj)
        loads[i] += max(obj.size, 1)
    return [sorted(c, key=lambda o: o.key) for c in chunks if c]


class WorkerPool:
    """Worker processes for CPU-bound parsing, started on first use and shared by every day of
    a landing run (starting them costs about a second)."""

    def __init__(self, workers: int = DEFAULT_WORKERS) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def get(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        return self._pool

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown()


def _land_objects(
    source: CloudTrailSource,
    objects: list[LogObject],
    day: date,
    part: Path,
    quarantine: Quarantine,
    pool: WorkerPool,
) -> dict[str, int]:
    """Parse the new objects of a day into `<part>-wK.parquet` files, in worker processes
    when there are enough of them (decompressing and decoding JSON is CPU-bound)."""
    big_enough = sum(o.size for o in objects) >= PARALLEL_MIN_BYTES
    chunks = _balanced(objects, pool.workers if big_enough else 1)
    if len(chunks) <= 1:
        results = [_write_part(source.location, objects, day, Path(f"{part}-w0.parquet"))]
    else:
        futures = [
            pool.get().submit(
                _write_part, source.location, chunk, day, Path(f"{part}-w{i}.parquet")
            )
            for i, chunk in enumerate(chunks)
        ]
        results = [f.result() for f in futures]
    counts: dict[str, int] = {}
    for chunk_counts, entries in results:
        counts.update(chunk_counts)
        quarantine.extend(entries)
    return counts


# Rows of the new parts whose eventID an earlier row of the new parts holds (and, with the
# old-parts clause, any an older part of the day holds).
_DUPLICATES = (
    "create temp table dropped as "
    "select filename, source_file, record_index, event_id from ("
    "  select filename, source_file, record_index, event_id, row_number() over ("
    "    partition by event_id order by source_file, record_index, filename) as n"
    "  from read_parquet($new, filename = true) where event_id is not null"
    ") where n > 1"
)
_DUPLICATES_OF_OLD = (
    _DUPLICATES + " or event_id in (select event_id from read_parquet($old))"  # noqa: S608 (constant texts; paths are parameters)
)


def _drop_duplicates(day_dir: Path, new_parts: list[Path]) -> list[tuple[str, int, str]]:
    """Drop from `new_parts` the rows whose eventID is already in the day: in an older part, or
    earlier in the new parts (by source file, record index). Returns (source file, record
    index, eventID) of the rows dropped. DuckDB finds them from the event_id columns (spilling
    to disk if it must); a part is rewritten only if it holds a duplicate. File paths are
    query parameters, never SQL text."""
    import duckdb  # here, not at the top: worker processes never need it (~40 MB each)

    new_parts = [p for p in new_parts if p.exists()]
    if not new_parts:
        return []
    old_parts = sorted(set(day_dir.glob("*.parquet")) - set(new_parts))
    files = {"new": [str(p) for p in new_parts], "old": [str(p) for p in old_parts]}
    with duckdb.connect() as con:
        if old_parts:
            con.execute(_DUPLICATES_OF_OLD, files)
        else:
            con.execute(_DUPLICATES, {"new": files["new"]})
        dropped = con.execute(
            "select source_file, record_index, event_id from dropped order by all"
        ).fetchall()
        affected = con.execute("select distinct filename from dropped").fetchall()
        for (name,) in affected:
            _rewrite_without(con, Path(name))
    return dropped


def _rewrite_without(con: Any, part: Path) -> None:
    """Rewrite one part without its rows in the `dropped` temp table, batch by batch."""
    reader = con.sql(
        "select * exclude (filename) from read_parquet($part, filename = true) as e "
        "where not exists (select 1 from dropped as d where d.filename = e.filename "
        "and d.source_file = e.source_file and d.record_index = e.record_index) "
        "order by source_file, record_index",
        params={"part": str(part)},
    ).to_arrow_reader(ROW_GROUP_ROWS)
    tmp = temp_path_for(part)
    with pq.ParquetWriter(tmp, CLOUDTRAIL_EVENTS_SCHEMA, compression="zstd") as writer:
        for batch in reader:
            writer.write_table(pa.Table.from_batches([batch]).cast(CLOUDTRAIL_EVENTS_SCHEMA))
    tmp.replace(part)


def land_day(
    source: CloudTrailSource,
    lake: Lake,
    day: date,
    full_refresh: bool = False,
    pool: WorkerPool | None = None,
) -> DayLanding:
    """Land one UTC day of `source` into `lake` (see the module docstring)."""
    objects = source.objects_for_day(day)
    manifest = _read_manifest(lake, day)
    _drop_orphan_parts(lake, day, set(manifest.column("part").to_pylist()))
    seen = {
        (k, s, v)
        for k, s, v in zip(
            manifest.column("object_key").to_pylist(),
            manifest.column("size").to_pylist(),
            manifest.column("version").to_pylist(),
            strict=True,
        )
    }
    current = {(o.key, o.size, o.version) for o in objects}
    landed_keys = {k for k, _, _ in seen}
    stale = seen - current  # changed or vanished since it was landed
    if full_refresh or stale or not _day_dir(lake, day).exists():
        if stale and not full_refresh:
            log.info(f"  {day}: {len(stale)} object(s) changed or vanished; rebuilding the day")
        _clear_day(lake, day)
        manifest, landed_keys, mode = MANIFEST_SCHEMA.empty_table(), set(), "rebuilt"
    else:
        mode = "appended"
    new = [o for o in objects if o.key not in landed_keys]
    if not new and mode == "appended":
        return DayLanding(day, "unchanged", 0, len(objects), 0, 0)
    part = f"part-{len(set(manifest.column('part').to_pylist())):05d}"
    quarantine = Quarantine(source="cloudtrail", partition=day.isoformat())
    part_path = _day_dir(lake, day) / part
    if pool is None:
        with WorkerPool() as own_pool:
            counts = _land_objects(source, new, day, part_path, quarantine, own_pool)
    else:
        counts = _land_objects(source, new, day, part_path, quarantine, pool)
    duplicates = _quarantine_duplicates(source, lake, day, part, new, counts, quarantine)
    write_parquet(
        quarantine.to_table(), lake.quarantine_path("cloudtrail", f"{day.isoformat()}-{part}")
    )
    _write_manifest(lake, day, manifest, new, counts, quarantine, part)
    return DayLanding(
        day, mode, len(new), len(objects), sum(counts.values()), len(quarantine), duplicates
    )


def _quarantine_duplicates(
    source: CloudTrailSource,
    lake: Lake,
    day: date,
    part: str,
    new: list[LogObject],
    counts: dict[str, int],
    quarantine: Quarantine,
) -> int:
    """Drop the new part's events already in the day (`_drop_duplicates`); each one goes to the
    quarantine named by file and record, so every record is landed or quarantined."""
    new_parts = sorted(_day_dir(lake, day).glob(f"{part}-w*.parquet"))
    dropped = _drop_duplicates(_day_dir(lake, day), new_parts)
    by_file: dict[str, list[tuple[int, str]]] = {}
    for key, index, event_id in dropped:
        by_file.setdefault(key, []).append((index, event_id))
    objects = {o.key: o for o in new}
    for key, rows in by_file.items():
        counts[key] = counts.get(key, 0) - len(rows)
        labels = record_labels(source, objects[key], day, {i for i, _ in rows})
        for index, event_id in rows:
            reason = f"duplicate eventID {event_id!r}: already landed for this day, counted once"
            quarantine.add(key, reason, labels.get(index, f"record {index}"), "eventID")
    if dropped:
        log.info(f"  {day}: {len(dropped)} duplicate event(s) (an eventID already landed)")
    return len(dropped)


def _write_manifest(
    lake: Lake,
    day: date,
    manifest: pa.Table,
    new: list[LogObject],
    counts: dict[str, int],
    quarantine: Quarantine,
    part: str,
) -> None:
    whole_file_problems = {e.file for e in quarantine.entries if e.record is None}
    now = datetime.now(UTC)
    rows = pa.Table.from_pylist(
        [
            {
                "day": day,
                "object_key": o.key,
                "size": o.size,
                "version": o.version,
                "records": counts.get(o.key, 0),
                "status": "quarantined" if o.key in whole_file_problems else "ingested",
                "part": part,
                "ingested_at": now,
            }
            for o in new
        ],
        schema=MANIFEST_SCHEMA,
    )
    write_parquet(pa.concat_tables([manifest, rows]), manifest_path(lake, day))
