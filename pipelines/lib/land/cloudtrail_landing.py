"""CloudTrail landing (landing layer): one UTC day of a source into the lake, incrementally.

A manifest per day records every object ingested (key, size, ETag or mtime, records, status).
A run reads only objects the manifest does not hold and appends them to the day as a new part
file; a file of day D that arrives after D was landed is added the same way. When an object
changed or disappeared, or on a full refresh, the whole day is rebuilt. Either way no record is
landed twice and none is lost.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.lib.lake import Lake, temp_path_for, write_parquet
from pipelines.lib.land.cloudtrail import CloudTrailSource, LogObject, object_tables
from pipelines.lib.land.cloudtrail_events import CLOUDTRAIL_EVENTS_SCHEMA
from pipelines.lib.land.quarantine import Quarantine, QuarantineEntry

log = logging.getLogger("ciem")

ROW_GROUP_ROWS = 64_000
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
    ROW_GROUP_ROWS and the largest file). Runs in a worker process or in process."""
    source = CloudTrailSource(location)
    quarantine = Quarantine(source="cloudtrail", partition=day.isoformat(), quiet=True)
    counts: dict[str, int] = {}
    pending: list[pa.Table] = []
    pending_rows = 0
    tmp = temp_path_for(path)
    with pq.ParquetWriter(tmp, CLOUDTRAIL_EVENTS_SCHEMA, compression="zstd") as writer:
        for obj in objects:
            counts[obj.key] = 0
            for table in object_tables(source, obj, day, quarantine):
                counts[obj.key] += table.num_rows
                if table.num_rows:
                    pending.append(table)
                    pending_rows += table.num_rows
                if pending_rows >= ROW_GROUP_ROWS:
                    writer.write_table(pa.concat_tables(pending))
                    pending, pending_rows = [], 0
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
    write_parquet(
        quarantine.to_table(), lake.quarantine_path("cloudtrail", f"{day.isoformat()}-{part}")
    )
    _write_manifest(lake, day, manifest, new, counts, quarantine, part)
    return DayLanding(day, mode, len(new), len(objects), sum(counts.values()), len(quarantine))


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
