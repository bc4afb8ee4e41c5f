"""CloudTrail reader (landing layer): one day of delivered log files -> one typed Arrow table."""

from __future__ import annotations

import gzip
import io
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import fsspec
import pyarrow as pa

from pipelines.lib.land.cloudtrail_events import (
    CLOUDTRAIL_EVENTS_SCHEMA,
    event_time,
    implausible_time,
    required_problem,
    to_row,
)
from pipelines.lib.land.cloudtrail_fast import decode_delivery_file
from pipelines.lib.land.cloudtrail_stream import (
    FAST_MAX_BYTES,
    MAX_FILE_MB_ENV,
    STREAM_MIN_BYTES,
    WHOLE_MAX_BYTES,
    Capped,
    FileTooLarge,
    Labelled,
    Text,
    max_file_bytes,
    read_up_to,
    stream_records,
    text_chunks,
    unwrap,
)
from pipelines.lib.land.quarantine import Quarantine

# <account>_CloudTrail_<region>_YYYYMMDDTHHMMZ_<unique>.json.gz, the S3 delivery file name.
# https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html
_DELIVERY_NAME = re.compile(r"^\d{12}_CloudTrail_[^_]+_(\d{4})(\d{2})(\d{2})T\d{4}Z_")
_FOUR_DIGITS, _TWO_DIGITS = re.compile(r"^\d{4}$"), re.compile(r"^\d{2}$")
_LOG_SUFFIXES = (".json.gz", ".json", ".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
_DIGEST_MARKER = "CloudTrail-Digest"


def _date_or_none(year: str, month: str, day: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _dir_day(parts: tuple[str, ...]) -> date | None:
    """The date of the last YYYY/MM/DD run of directory names in `parts`, if any."""
    for i in range(len(parts) - 3, -1, -1):
        y, m, d = parts[i : i + 3]
        if _FOUR_DIGITS.match(y) and _TWO_DIGITS.match(m) and _TWO_DIGITS.match(d):
            found = _date_or_none(y, m, d)
            if found is not None:
                return found
    return None


def file_day(path: str | Path) -> date | None:
    """Delivery day of a CloudTrail log file: from its delivery name, else its YYYY/MM/DD folder."""
    path = Path(path)
    match = _DELIVERY_NAME.match(path.name)
    if match:
        found = _date_or_none(*match.groups())
        if found is not None:
            return found
    return _dir_day(path.parent.parts)


def _is_log_file(name: str) -> bool:
    return name.endswith(_LOG_SUFFIXES) and _DIGEST_MARKER not in name


def _is_listed(info: dict[str, Any]) -> bool:
    """A listing entry that is a file, or that is neither a file nor a folder (fsspec's "other":
    a dangling or looping symlink, a FIFO): listed so that it is quarantined, not skipped."""
    return info["type"] != "directory"


@dataclass(frozen=True)
class LogObject:
    """One log file of a CloudTrail source, as the manifest records it."""

    key: str  # path relative to the source root, with '/' separators
    size: int
    version: str  # S3 ETag, or the local file's mtime (ns): a change means new content
    day: date | None  # delivery day from the name or folder; None = undated (exports)
    # False for a path named like a log file that is neither a file nor a folder (a dangling or
    # looping symlink, a FIFO, a socket): it is quarantined, never opened (a FIFO would block).
    regular: bool = True


class CloudTrailSource:
    """A local folder or an S3 prefix (`s3://bucket/prefix`, through s3fs) holding CloudTrail.

    The S3 delivery layout `AWSLogs/[o-orgid/]<account>/CloudTrail/<region>/YYYY/MM/DD/` is
    listed one day folder at a time (an organization trail holds millions of files); anything
    else under the root (flat folders of delivery files, exports as JSON arrays or JSON lines)
    is listed whole. The standard AWS configuration (profile, environment, AWS_ENDPOINT_URL)
    applies to S3.
    """

    def __init__(self, location: str | Path) -> None:
        self.location = str(location)
        self.fs, root = fsspec.core.url_to_fs(self.location)
        self.root = root.rstrip("/")
        self._day_prefixes: list[str] | None = None
        self._other: list[LogObject] | None = None

    @property
    def is_remote(self) -> bool:
        return "://" in self.location and not self.location.startswith("file://")

    def exists(self) -> bool:
        return bool(self.fs.isdir(self.root))

    def _rel(self, path: str) -> str:
        return path[len(self.root) + 1 :] if path.startswith(self.root + "/") else path

    def _object(self, info: dict[str, Any]) -> LogObject:
        rel = self._rel(info["name"])
        version = str(
            info.get("ETag") or info.get("etag") or info.get("mtime") or info.get("LastModified")
        )
        return LogObject(
            key=rel,
            size=int(info.get("size") or 0),
            version=version,
            day=file_day(rel),
            regular=info["type"] == "file",
        )

    def _dirs(self, path: str) -> list[str]:
        return sorted(e["name"] for e in self.fs.ls(path, detail=True) if e["type"] == "directory")

    def _scan(self) -> None:
        """Find the region folders of the delivery layout, and every file outside it."""
        day_prefixes: list[str] = []
        other: list[LogObject] = []
        for entry in self.fs.ls(self.root, detail=True):
            name = entry["name"].rstrip("/")
            base = name.rsplit("/", 1)[-1]
            if entry["type"] == "directory" and base == "AWSLogs":
                for owner in self._dirs(name):
                    accounts = (
                        self._dirs(owner) if owner.rsplit("/", 1)[-1].startswith("o-") else [owner]
                    )
                    for account in accounts:
                        trail = f"{account}/CloudTrail"
                        if self.fs.isdir(trail):
                            day_prefixes.extend(self._dirs(trail))
            elif entry["type"] == "directory":
                for info in self.fs.find(name, detail=True).values():
                    if _is_listed(info) and _is_log_file(info["name"]):
                        other.append(self._object(info))
            elif _is_log_file(base):
                other.append(self._object(entry))
        self._day_prefixes, self._other = day_prefixes, sorted(other, key=lambda o: o.key)

    def objects_for_day(self, day: date) -> list[LogObject]:
        """Delivery files of `day`, and undated files (which may hold events of any day)."""
        if self._day_prefixes is None or self._other is None:
            self._scan()
        assert self._day_prefixes is not None and self._other is not None
        found = [o for o in self._other if o.day in (day, None)]
        suffix = f"{day.year:04d}/{day.month:02d}/{day.day:02d}"
        for region in self._day_prefixes:
            folder = f"{region}/{suffix}"
            if not self.fs.isdir(folder):
                continue
            for info in self.fs.ls(folder, detail=True):
                if _is_listed(info) and _is_log_file(info["name"].rsplit("/", 1)[-1]):
                    found.append(self._object(info))
        return sorted(found, key=lambda o: o.key)

    def path(self, key: str) -> str:
        return key if key.startswith("/") else f"{self.root}/{key}"

    def read_bytes(self, key: str) -> bytes:
        return self.fs.cat_file(self.path(key))


def list_files_for_day(root: str | Path, day: date) -> list[Path]:
    """Every CloudTrail log file in a local folder whose delivery day is `day` (sorted paths).

    Undated files (exports without a delivery name) are not listed here; see
    `CloudTrailSource.objects_for_day`.
    """
    source = CloudTrailSource(Path(root).resolve())
    return [Path(source.root) / o.key for o in source.objects_for_day(day) if o.day is not None]


# ---------------------------------------------------------------------------------------------
# whole small files (stdlib) and the msgspec fast path


class _NeedsStream(Exception):
    """The whole-file parse met a problem the streaming reader confines to one record."""


def _json_lines(text: str, source_file: str, quarantine: Quarantine) -> list[tuple[str, Any]]:
    """JSON lines (one event per line, as other tools export them); bad lines are quarantined."""
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append((f"line {number}", json.loads(line)))
        except json.JSONDecodeError as exc:
            quarantine.add(
                source_file, f"invalid JSON at col {exc.colno}: {exc.msg}", f"line {number}"
            )
        except RecursionError:
            quarantine.add(source_file, "JSON nested too deeply", f"line {number}")
        except ValueError as exc:
            quarantine.add(source_file, f"invalid JSON value: {exc}", f"line {number}")
    return records


def _whole_records(
    data: bytes | bytearray, source_file: str, quarantine: Quarantine
) -> list[tuple[str, Any]] | None:
    """The records of a whole decompressed file, or None after quarantining it; raises
    _NeedsStream for a problem of one record (not UTF-8, nested too deeply, a huge number)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _NeedsStream from exc
    try:
        content = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and text.lstrip().startswith("{"):
            return _json_lines(text, source_file, quarantine)
        quarantine.add(source_file, f"invalid JSON at line {exc.lineno} col {exc.colno}: {exc.msg}")
        return None
    except (RecursionError, ValueError) as exc:
        raise _NeedsStream from exc
    if isinstance(content, dict) and isinstance(content.get("Records"), list):
        return [(f"Records[{i}]", r) for i, r in enumerate(content["Records"])]
    if isinstance(content, list):
        return [(f"[{i}]", r) for i, r in enumerate(content)]
    if isinstance(content, dict) and unwrap(content) is not None:
        return [("line 1", content)]
    quarantine.add(source_file, "not a CloudTrail log file: no Records array")
    return None


def _decompress(raw: bytes, source_file: str, quarantine: Quarantine) -> bytes | None:
    """gzip is recognised by its magic bytes; a `.gz` file without them is corrupt."""
    try:
        if raw[:2] != b"\x1f\x8b" and source_file.endswith(".gz"):
            raise OSError(f"Not a gzipped file ({raw[:2]!r})")
        return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    except (OSError, EOFError, zlib.error) as exc:
        quarantine.add(source_file, f"corrupt gzip: {exc}")
        return None


def parse_records(
    raw: bytes, source_file: str, quarantine: Quarantine
) -> list[tuple[str, Any]] | None:
    """The records of one file (in memory) with their labels, recognised by content, or None
    after quarantining the whole file: `{"Records": [...]}` (S3 delivery, gzip or not), a JSON
    array of events, or JSON lines. A problem in one record or line is left to the caller,
    except one that stops it being decoded (quarantined here). Landing streams instead
    (`object_tables`)."""
    data = _decompress(raw, source_file, quarantine)
    if data is None:
        return None
    try:
        return _whole_records(data, source_file, quarantine)
    except _NeedsStream:
        text = Text(text_chunks(io.BytesIO(data)))
        batches = stream_records(text, source_file, quarantine)
        return [(where, record) for batch in batches for _, where, record in batch]


def _good_rows(
    records: Iterator[Labelled] | list[Labelled],
    day: date,
    source_file: str,
    quarantine: Quarantine,
    undated: bool,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(label, row) of every good record; every other one is quarantined with its reason."""
    for index, where, raw_record in records:
        if not isinstance(raw_record, dict):
            quarantine.add(
                source_file, f"record is not a JSON object (got {type(raw_record).__name__})", where
            )
            continue
        record = unwrap(raw_record)
        if record is None:
            quarantine.add(source_file, "not a CloudTrail event: no eventName/eventSource", where)
            continue
        if "eventTime" not in record and isinstance(record.get("@timestamp"), str):
            # Logstash/ELK exports replace eventTime by @timestamp (the same instant).
            record = {**record, "eventTime": record["@timestamp"]}
        problem = required_problem(record)
        if problem is not None:
            quarantine.add(source_file, problem[1], where, problem[0])
            continue
        when = event_time(record["eventTime"]).date()
        if undated and when != day:
            continue  # an export's event of another day belongs to that day's partition
        implausible = implausible_time(record["eventTime"], day, undated)
        if implausible is not None:
            quarantine.add(source_file, implausible, where, "eventTime")
            continue
        try:
            yield where, to_row(record, day, source_file, index)
        except (RecursionError, ValueError, TypeError, OverflowError) as exc:
            quarantine.add(source_file, f"unreadable record: {type(exc).__name__}", where)


def _table(rows: list[tuple[str, dict[str, Any]]], source_file: str, q: Quarantine) -> pa.Table:
    """Rows as a table; a row Arrow refuses (e.g. a lone surrogate from a JSON \\udXXX escape)
    is quarantined alone."""
    try:
        return pa.Table.from_pylist([row for _, row in rows], schema=CLOUDTRAIL_EVENTS_SCHEMA)
    except (pa.ArrowException, ValueError, TypeError, UnicodeError, OverflowError):
        pass
    tables = []
    for where, row in rows:
        try:
            tables.append(pa.Table.from_pylist([row], schema=CLOUDTRAIL_EVENTS_SCHEMA))
        except (pa.ArrowException, ValueError, TypeError, UnicodeError, OverflowError) as exc:
            q.add(source_file, f"unrepresentable value: {type(exc).__name__}", where)
    return pa.concat_tables(tables) if tables else CLOUDTRAIL_EVENTS_SCHEMA.empty_table()


def _fast_table(data: bytes | bytearray, obj: LogObject, day: date) -> pa.Table | None:
    """The msgspec fast path for a whole delivery file (None: use the stdlib paths)."""
    return None if obj.day is None else decode_delivery_file(data, day, obj.key)


# ---------------------------------------------------------------------------------------------
# one object


def _whole_gzip_table(raw: Any, obj: LogObject, day: date, limit: int) -> pa.Table | None:
    """A small gzip delivery file decompressed in one call and decoded by the fast path: the
    common case, without the stream wrappers. None (the caller reads the file again the
    general way, which names any problem) unless it is one whole gzip member of at most
    `limit` bytes decompressed that the fast path decodes."""
    if obj.day is None:
        return None  # an undated file (an export) is never a delivery file
    decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
    try:
        data = decompressor.decompress(raw.read(), limit + 1)
    except zlib.error:
        return None
    if len(data) > limit or not decompressor.eof or decompressor.unused_data:
        return None
    return _fast_table(data, obj, day)


def _open(source: CloudTrailSource, obj: LogObject, quarantine: Quarantine) -> Any | None:
    if not obj.regular:
        quarantine.add(
            obj.key,
            "unreadable file: not a regular file (a dangling or looping symlink, a FIFO or a "
            "socket); not read",
        )
        return None
    try:
        return source.fs.open(source.path(obj.key), "rb")
    except OSError as exc:
        quarantine.add(obj.key, f"unreadable file: {exc}")
        return None


def _object_batches(
    source: CloudTrailSource, obj: LogObject, day: date, quarantine: Quarantine
) -> Iterator[pa.Table | list[Labelled]]:
    """The records of one object, never holding more than a bounded part of it: the file is
    decompressed incrementally and counted (past `max_file_bytes()` the rest is not read and
    the file is quarantined); a delivery file of at most FAST_MAX_BYTES decompressed is decoded
    whole by msgspec (a table), a small other file whole by the stdlib, anything else as a
    stream of records in batches. Bad files and records go to `quarantine`."""
    limit = max_file_bytes()
    raw = _open(source, obj, quarantine)
    if raw is None:
        return
    read = 0
    try:
        with raw:
            magic = raw.read(2)
            raw.seek(0)
            if magic != b"\x1f\x8b" and obj.key.endswith(".gz"):
                quarantine.add(obj.key, f"corrupt gzip: Not a gzipped file ({magic!r})")
                return
            whole = obj.size < STREAM_MIN_BYTES
            if whole and magic == b"\x1f\x8b":
                table = _whole_gzip_table(raw, obj, day, min(limit, FAST_MAX_BYTES))
                if table is not None:
                    yield table
                    return
                raw.seek(0)
            binary = gzip.GzipFile(fileobj=raw) if magic == b"\x1f\x8b" else raw
            stream = Capped(binary, limit)
            head = read_up_to(stream, FAST_MAX_BYTES + 1) if whole else bytearray()
            if whole and len(head) <= FAST_MAX_BYTES:
                table = _fast_table(head, obj, day)
                if table is not None:
                    yield table
                    return
                if len(head) <= WHOLE_MAX_BYTES:
                    try:
                        records = _whole_records(head, obj.key, quarantine)
                    except _NeedsStream:
                        pass
                    else:
                        yield [(i, w, r) for i, (w, r) in enumerate(records or [])]
                        return
            del head  # read again as a stream: never hold a large file's first part
            raw.seek(0)
            binary = gzip.GzipFile(fileobj=raw) if magic == b"\x1f\x8b" else raw
            text = Text(text_chunks(Capped(binary, limit)))
            for batch in stream_records(text, obj.key, quarantine):
                read += len(batch)
                yield batch
    except FileTooLarge:
        quarantine.add(
            obj.key,
            f"decompressed size over {limit >> 20} MB ({MAX_FILE_MB_ENV}): the "
            f"{read} records before that point landed, the rest not read",
        )
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        quarantine.add(obj.key, f"corrupt gzip: {exc}")
    except OSError as exc:
        quarantine.add(obj.key, f"unreadable file: {exc}")


def object_tables(
    source: CloudTrailSource, obj: LogObject, day: date, quarantine: Quarantine
) -> Iterator[pa.Table]:
    """The rows of one object as Arrow tables, a bounded batch at a time (`_object_batches`)."""
    for batch in _object_batches(source, obj, day, quarantine):
        if isinstance(batch, pa.Table):
            yield batch
        else:
            rows = list(_good_rows(batch, day, obj.key, quarantine, obj.day is None))
            yield _table(rows, obj.key, quarantine)


def record_labels(
    source: CloudTrailSource, obj: LogObject, day: date, indices: set[int]
) -> dict[int, str]:
    """Labels ('Records[3]', 'line 7') of records of one object, read again as landing did."""
    found: dict[int, str] = {}
    for batch in _object_batches(source, obj, day, Quarantine("cloudtrail", quiet=True)):
        if isinstance(batch, pa.Table):
            return {i: f"Records[{i}]" for i in indices}
        found.update((i, where) for i, where, _ in batch if i in indices)
    return found


def read_objects(
    source: CloudTrailSource, objects: list[LogObject], day: date, quarantine: Quarantine
) -> tuple[pa.Table, dict[str, int]]:
    """Parse the given objects of one day; returns the table and the record count per object."""
    tables = []
    counts: dict[str, int] = {}
    for obj in objects:
        counts[obj.key] = 0
        for table in object_tables(source, obj, day, quarantine):
            counts[obj.key] += table.num_rows
            tables.append(table)
    if not tables:
        return CLOUDTRAIL_EVENTS_SCHEMA.empty_table(), counts
    return pa.concat_tables(tables), counts


def read_events(
    files: list[Path], day: date, quarantine: Quarantine, root: Path | None = None
) -> pa.Table:
    """Parse local files of one day (paths relative to `root` name them; absolute otherwise)."""
    base = Path(root).resolve() if root is not None else None
    source = CloudTrailSource(base or Path.cwd())
    objects = []
    for path in map(Path, files):
        key = str(path.resolve())
        if base is not None and path.resolve().is_relative_to(base):
            key = path.resolve().relative_to(base).as_posix()
        elif base is None:
            key = str(path)
        objects.append(LogObject(key=key, size=0, version="", day=file_day(path) or day))
    return read_objects(source, objects, day, quarantine)[0]
