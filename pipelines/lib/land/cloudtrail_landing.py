"""CloudTrail landing (landing layer): one UTC day of a source into the lake, incrementally.

A manifest per day records every object ingested (key, size, ETag or mtime, records, status)
and the part file it landed in, with that file's size and SHA-256. A run reads only objects the
manifest does not hold and appends them to the day as a new part file; a file of day D that
arrives after D was landed is added the same way. When an object changed, or on a full
refresh, the whole day is rebuilt. Either way no record is landed twice and none is lost.

The lake heals itself: before a day is read again its parts are verified against the manifest,
and a missing or damaged part (truncated, overwritten, unreadable) lands the day again from the
source, said in one line. An object the source no longer holds (expired by a lifecycle rule)
keeps what it landed; if its part is damaged too, the object is quarantined as lost with the
reason, the rest of the day is kept, and the run goes on (`_verify_day`).

CloudTrail may deliver an event more than once (the same file under two names, an event
redelivered in a later file): a day holds each `eventID` once. Rows of a new part whose eventID
is already in the day (an earlier part, or earlier in the new part by source file and record
index) are dropped before the manifest records the part; events without an eventID are kept.
An event redelivered on another day lands in that day too: the daily aggregates count it in the
earliest of two consecutive days (`sql/daily/`).
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines.lib.lake import (
    Lake,
    exclusive,
    temp_path_for,
    use_system_allocator,
    write_parquet,
)
from pipelines.lib.land.cloudtrail import (
    CloudTrailSource,
    LogObject,
    object_tables,
    record_labels,
)
from pipelines.lib.land.cloudtrail_events import CLOUDTRAIL_EVENTS_SCHEMA
from pipelines.lib.land.quarantine import QUARANTINE_SCHEMA, Quarantine, QuarantineEntry

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
        # The part file holding the object's records, its size and SHA-256 when the manifest was
        # written: what a run verifies before it reads the day (manifests written before these
        # columns read them as null, and their parts are checked for a readable footer only).
        pa.field("part_file", pa.string()),
        pa.field("part_size", pa.int64()),
        pa.field("part_sha256", pa.string()),
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
    repair: str | None = None  # a damaged or missing part found, and what was done (one line)


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
    read again by this run, so the parts must go (no record landed twice). So do the
    temporary files of a part it was killed writing (no other run writes the day: the day's
    lock is held)."""
    for path in _day_dir(lake, day).glob(".part-*.tmp"):
        path.unlink(missing_ok=True)
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
    tmp = temp_path_for(path)
    try:
        counts = _stream_part(source, objects, day, quarantine, tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk leaves no temporary file behind
        raise
    tmp.replace(path)
    return counts, quarantine.entries


def _stream_part(
    source: CloudTrailSource,
    objects: list[LogObject],
    day: date,
    quarantine: Quarantine,
    tmp: Path,
) -> dict[str, int]:
    counts: dict[str, int] = {}
    pending: list[pa.Table] = []
    pending_rows = pending_bytes = 0
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
    return counts


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
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=context, initializer=use_system_allocator
            )
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
    files: dict[str, str],
) -> dict[str, int]:
    """Parse the new objects of a day into `<part>-wK.parquet` files, in worker processes
    when there are enough of them (decompressing and decoding JSON is CPU-bound); `files`
    receives the part file of each object."""
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
    for i, (chunk_counts, entries) in enumerate(results):
        counts.update(chunk_counts)
        quarantine.extend(entries)
        for key in chunk_counts:
            files[key] = f"{part.name}-w{i}.parquet"
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
    if not old_parts and not _has_repeated_ids(new_parts):
        return []  # the common case (a day landed whole): nothing to rank, nothing dropped
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


def _has_repeated_ids(parts: list[Path]) -> bool:
    """Whether any eventID occurs twice across `parts` (their event_id columns only)."""
    ids = pa.chunked_array(
        [pq.read_table(p, columns=["event_id"]).column("event_id") for p in parts],
        type=pa.string(),
    ).drop_null()
    return pc.count_distinct(ids).as_py() != len(ids)


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
    """Land one UTC day of `source` into `lake` (see the module docstring). Two runs landing
    the same day take it in turn (a lock beside the day's manifest): the second finds the day
    landed, and neither takes the other's new part for a crashed run's."""
    with exclusive(manifest_path(lake, day).with_name(".lock")):
        return _land_day(source, lake, day, full_refresh, pool)


def _land_day(
    source: CloudTrailSource,
    lake: Lake,
    day: date,
    full_refresh: bool,
    pool: WorkerPool | None,
) -> DayLanding:
    objects = source.objects_for_day(day)
    try:
        manifest = _read_manifest(lake, day)
    except (OSError, pa.ArrowException) as exc:
        # Without its manifest nothing of the day can be vouched for: the day is landed again.
        reason = str(exc).strip().splitlines()[0]
        repair = f"{day}: the manifest is damaged ({reason}); landing the day again from the source"
        if not objects:
            repair += " (which holds nothing for the day: its landed events are dropped)"
        log.warning(f"  {repair}")
        _clear_day(lake, day)
        manifest, rebuild = MANIFEST_SCHEMA.empty_table(), True
    else:
        _drop_orphan_parts(lake, day, set(manifest.column("part").to_pylist()))
        manifest, repair, rebuild = _verify_day(lake, day, manifest, objects, full_refresh)
    landed_keys = set(manifest.column("object_key").to_pylist())
    if rebuild or full_refresh or not _day_dir(lake, day).exists():
        _clear_day(lake, day)
        manifest, landed_keys, mode = MANIFEST_SCHEMA.empty_table(), set(), "rebuilt"
    else:
        mode = "appended"
    new = [o for o in objects if o.key not in landed_keys]
    if not new and mode == "appended":
        return DayLanding(day, "unchanged", 0, len(objects), 0, 0, repair=repair)
    part = _next_part(lake, day, manifest)
    quarantine = Quarantine(source="cloudtrail", partition=day.isoformat())
    part_path = _day_dir(lake, day) / part
    files: dict[str, str] = {}
    if pool is None:
        with WorkerPool() as own_pool:
            counts = _land_objects(source, new, day, part_path, quarantine, own_pool, files)
    else:
        counts = _land_objects(source, new, day, part_path, quarantine, pool, files)
    duplicates = _quarantine_duplicates(source, lake, day, part, new, counts, quarantine)
    write_parquet(
        quarantine.to_table(), lake.quarantine_path("cloudtrail", f"{day.isoformat()}-{part}")
    )
    _write_manifest(lake, day, manifest, new, counts, quarantine, part, files)
    return DayLanding(
        day,
        mode,
        len(new),
        len(objects),
        sum(counts.values()),
        len(quarantine),
        duplicates,
        repair,
    )


def _next_part(lake: Lake, day: date, manifest: pa.Table) -> str:
    """The next part name of the day: one more than any recorded or present (a part dropped
    as damaged leaves a gap; its number is never reused)."""
    names = set(manifest.column("part").to_pylist())
    names |= {p.name[: len("part-00000")] for p in _day_dir(lake, day).glob("part-*.parquet")}
    numbers = [int(n[len("part-") :]) for n in names if n[len("part-") :].isdigit()]
    return f"part-{max(numbers, default=-1) + 1:05d}"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _part_problem(path: Path, size: int | None, sha256: str | None) -> str | None:
    """What is wrong with a landed part, or None: missing, another size or checksum than the
    manifest recorded, or (a part recorded before checksums) not a readable Parquet file."""
    if not path.exists():
        return "missing"
    actual = path.stat().st_size
    if size is not None and actual != size:
        return f"{actual:,} bytes, the manifest recorded {size:,}"
    if sha256 is not None:
        return None if file_sha256(path) == sha256 else "checksum differs from the manifest"
    try:
        pq.read_metadata(path)
    except (OSError, pa.ArrowException) as exc:
        return f"unreadable ({str(exc).strip().splitlines()[0]})"
    return None


def _recorded_parts(lake: Lake, day: date, manifest: pa.Table) -> dict[str, tuple]:
    """Every part file the manifest vouches for: {file name: (size, sha256, its rows' indices)};
    rows written before checksums name their part only, so each of its files is checked
    (size and checksum unknown)."""
    parts: dict[str, tuple[int | None, str | None, list[int]]] = {}
    legacy: dict[str, list[int]] = {}
    rows = zip(
        manifest.column("part").to_pylist(),
        manifest.column("part_file").to_pylist(),
        manifest.column("part_size").to_pylist(),
        manifest.column("part_sha256").to_pylist(),
        strict=True,
    )
    for i, (part, name, size, sha) in enumerate(rows):
        if name is None:
            legacy.setdefault(part, []).append(i)
        else:
            parts.setdefault(name, (size, sha, []))[2].append(i)
    for part, indices in legacy.items():
        for path in sorted(_day_dir(lake, day).glob(f"{part}-w*.parquet")) or [
            _day_dir(lake, day) / f"{part}-w0.parquet"
        ]:
            parts.setdefault(path.name, (None, None, []))[2].extend(indices)
    return parts


def _verify_day(
    lake: Lake,
    day: date,
    manifest: pa.Table,
    objects: list[LogObject],
    full_refresh: bool,
) -> tuple[pa.Table, str | None, bool]:
    """Check what the manifest holds for the day against its part files and the source, before
    the day is read again. Returns (the manifest to go on with, a one-line account of any
    repair, whether the whole day must be landed again).

    - A part that is missing or damaged (another size or checksum than recorded, an unreadable
      footer) and an object that changed in the source since it was landed (same key, another
      size or version) make the day be landed again from the source.
    - If the source no longer holds some objects of the day (a bucket's lifecycle rule expired
      them), landing the whole day again would lose what they landed: only the parts to redo
      are dropped, the objects of those parts the source still holds are landed again, each
      one it no longer holds is quarantined as lost, and the rest of the day is kept. An
      object gone from the source whose part is sound keeps what it landed (the lake is the
      durable copy; `--full-refresh` makes the day exactly what the source holds now)."""
    if full_refresh or not manifest.num_rows:
        return manifest, None, False
    keys = manifest.column("object_key").to_pylist()
    sizes = manifest.column("size").to_pylist()
    versions = manifest.column("version").to_pylist()
    current = {(o.key, o.size, o.version) for o in objects}
    current_keys = {o.key for o in objects}
    parts = _recorded_parts(lake, day, manifest)
    redo: dict[str, str] = {}  # part file -> why it must be landed again
    for name, (size, sha, _) in parts.items():
        problem = _part_problem(_day_dir(lake, day) / name, size, sha)
        if problem is not None:
            redo[name] = f"damaged: {problem}" if problem != "missing" else "missing"
    # A part's quarantine file is read by the `quarantine` table as the part is by the events:
    # an unreadable one is landed again with its part.
    for path in lake.quarantine_path("cloudtrail", day.isoformat()).parent.glob(
        f"cloudtrail-{day.isoformat()}-part-*.parquet"
    ):
        problem = _part_problem(path, None, None)
        prefix = path.stem.removeprefix(f"cloudtrail-{day.isoformat()}-")
        for name in parts:
            if problem is not None and name.startswith(prefix) and name not in redo:
                redo[name] = f"its quarantine file is damaged: {problem}"
    changed = {
        i
        for i, k in enumerate(keys)
        if k in current_keys and (k, sizes[i], versions[i]) not in current
    }
    for name, (_, _, indices) in parts.items():
        if name not in redo and changed.intersection(indices):
            redo[name] = "an object it was landed from changed in the source"
    if not redo:
        return manifest, None, False
    what = "; ".join(f"{name} {why}" for name, why in sorted(redo.items()))
    gone = {i for i, k in enumerate(keys) if k not in current_keys}
    if not gone:
        if all(why.startswith("an object") for why in redo.values()):
            log.info(f"  {day}: {len(changed)} object(s) changed since landed; rebuilding the day")
            return manifest, None, True
        repair = f"{day}: {what}; landing the day again from the source"
        log.warning(f"  {repair}")
        return manifest, repair, True
    bad_rows = {i for name in redo for i in parts[name][2]}
    for name, (_, _, indices) in parts.items():  # parts recorded before part_file: all or none
        if name not in redo and bad_rows.intersection(indices):
            redo[name] = "shares its manifest rows with a dropped part"
    lost = sorted(bad_rows & gone, key=lambda i: keys[i])
    records = manifest.column("records").to_pylist()
    repair = (
        f"{day}: {what}; landing it again from the source (the day also holds objects the "
        "source no longer has: kept)"
    )
    if lost:
        repair = (
            f"{day}: {what}; {len(lost)} of its objects are no longer in the source: "
            f"{sum(records[i] for i in lost):,} record(s) quarantined as lost, the rest of the day "
            "kept and landed again where the source still has it"
        )
    log.warning(f"  {repair}")
    quarantine = Quarantine(source="cloudtrail", partition=day.isoformat(), quiet=True)
    for i in lost:
        quarantine.add(
            keys[i],
            f"lost: {records[i]} record(s) landed in a part that had to be dropped ({what}), and "
            "the object is no longer in the source to land again",
        )
    for name in redo:
        (_day_dir(lake, day) / name).unlink(missing_ok=True)
    relanded = {keys[i] for i in bad_rows - gone}
    for part in {name[: len("part-00000")] for name in redo}:
        _forget_quarantined(
            lake.quarantine_path("cloudtrail", f"{day.isoformat()}-{part}"), relanded
        )
    lost_path = lake.quarantine_path("cloudtrail", f"{day.isoformat()}-lost")
    if lost:
        earlier = [pq.read_table(lost_path, schema=QUARANTINE_SCHEMA)] if lost_path.exists() else []
        write_parquet(pa.concat_tables([*earlier, quarantine.to_table()]), lost_path)
    keep = [i for i in range(manifest.num_rows) if i not in bad_rows]
    kept = manifest.take(pa.array(keep, type=pa.int64()))
    write_parquet(kept, manifest_path(lake, day))
    return kept, repair, False


def _forget_quarantined(path: Path, keys: set[str]) -> None:
    """Drop a part's quarantine entries about objects that are landed again (the new part
    quarantines them again; nothing is named twice)."""
    if not path.exists() or not keys:
        return
    try:
        table = pq.read_table(path, schema=QUARANTINE_SCHEMA)
    except (OSError, pa.ArrowException):  # damaged: what it named is landed again or lost
        path.unlink()
        return
    keep = [f not in keys for f in table.column("file").to_pylist()]
    write_parquet(table.filter(pa.array(keep, type=pa.bool_())), path)


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
    files: dict[str, str],
) -> None:
    whole_file_problems = {e.file for e in quarantine.entries if e.record is None}
    now = datetime.now(UTC)
    # Size and checksum of each new part file as it is now (after duplicates were dropped).
    checked = {
        name: (path.stat().st_size, file_sha256(path))
        for name in set(files.values())
        if (path := _day_dir(lake, day) / name).exists()
    }
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
                "part_file": files.get(o.key),
                "part_size": checked.get(files.get(o.key, ""), (None, None))[0],
                "part_sha256": checked.get(files.get(o.key, ""), (None, None))[1],
            }
            for o in new
        ],
        schema=MANIFEST_SCHEMA,
    )
    write_parquet(pa.concat_tables([manifest, rows]), manifest_path(lake, day))
