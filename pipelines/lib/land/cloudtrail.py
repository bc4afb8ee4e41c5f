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
    required_problem,
    to_row,
)
from pipelines.lib.land.cloudtrail_fast import decode_delivery_file
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


@dataclass(frozen=True)
class LogObject:
    """One log file of a CloudTrail source, as the manifest records it."""

    key: str  # path relative to the source root, with '/' separators
    size: int
    version: str  # S3 ETag, or the local file's mtime (ns): a change means new content
    day: date | None  # delivery day from the name or folder; None = undated (exports)


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
            key=rel, size=int(info.get("size") or 0), version=version, day=file_day(rel)
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
                    if info["type"] == "file" and _is_log_file(info["name"]):
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
                if info["type"] == "file" and _is_log_file(info["name"].rsplit("/", 1)[-1]):
                    found.append(self._object(info))
        return sorted(found, key=lambda o: o.key)

    def read_bytes(self, key: str) -> bytes:
        return self.fs.cat_file(key if key.startswith("/") else f"{self.root}/{key}")


def list_files_for_day(root: str | Path, day: date) -> list[Path]:
    """Every CloudTrail log file in a local folder whose delivery day is `day` (sorted paths).

    Undated files (exports without a delivery name) are not listed here; see
    `CloudTrailSource.objects_for_day`.
    """
    source = CloudTrailSource(Path(root).resolve())
    return [Path(source.root) / o.key for o in source.objects_for_day(day) if o.day is not None]


# ---------------------------------------------------------------------------------------------
# files


def _decompress(raw: bytes, source_file: str, quarantine: Quarantine) -> bytes | None:
    """gzip is recognised by its magic bytes; a `.gz` file without them is corrupt."""
    if raw[:2] != b"\x1f\x8b":
        if source_file.endswith(".gz"):
            quarantine.add(source_file, f"corrupt gzip: Not a gzipped file ({raw[:2]!r})")
            return None
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        quarantine.add(source_file, f"corrupt gzip: {exc}")
        return None


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
    return records


def parse_records(
    raw: bytes, source_file: str, quarantine: Quarantine
) -> list[tuple[str, Any]] | None:
    """The records of one file with their labels, recognised by content, or None after
    quarantining the whole file: `{"Records": [...]}` (S3 delivery, gzip or not), a JSON array
    of events, or JSON lines. A problem in one record or line is left to the caller."""
    data = _decompress(raw, source_file, quarantine)
    if data is None:
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        quarantine.add(source_file, f"invalid JSON: not UTF-8 text: {exc}")
        return None
    try:
        content = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and text.lstrip().startswith("{"):
            return _json_lines(text, source_file, quarantine)
        quarantine.add(source_file, f"invalid JSON at line {exc.lineno} col {exc.colno}: {exc.msg}")
        return None
    if isinstance(content, dict) and isinstance(content.get("Records"), list):
        return [(f"Records[{i}]", r) for i, r in enumerate(content["Records"])]
    if isinstance(content, list):
        return [(f"[{i}]", r) for i, r in enumerate(content)]
    if isinstance(content, dict) and _unwrap(content) is not None:
        return [("line 1", content)]
    quarantine.add(source_file, "not a CloudTrail log file: no Records array")
    return None


def _unwrap(record: dict[str, Any]) -> dict[str, Any] | None:
    """The CloudTrail event in a record: itself, or the `event` object of an export wrapper
    (`{"source_file": ..., "event": {...}}`); None if it holds none."""
    if "eventName" in record or "eventSource" in record:
        return record
    inner = record.get("event")
    if isinstance(inner, dict) and ("eventName" in inner or "eventSource" in inner):
        return inner
    return None


def _good_rows(
    records: list[tuple[str, Any]],
    day: date,
    source_file: str,
    quarantine: Quarantine,
    undated: bool,
    start: int = 0,
) -> Iterator[dict[str, Any]]:
    for index, (where, raw_record) in enumerate(records, start=start):
        if not isinstance(raw_record, dict):
            quarantine.add(
                source_file, f"record is not a JSON object (got {type(raw_record).__name__})", where
            )
            continue
        record = _unwrap(raw_record)
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
        if undated and event_time(record["eventTime"]).date() != day:
            continue  # an export's event of another day belongs to that day's partition
        yield to_row(record, day, source_file, index)


def _fast_table(raw: bytes, obj: LogObject, day: date) -> pa.Table | None:
    """The msgspec fast path for delivery files (None: use the stdlib path)."""
    if obj.day is None:
        return None  # exports (arrays, JSON lines) are filtered per record by the slow path
    try:
        data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    except (OSError, EOFError, zlib.error):
        return None
    return decode_delivery_file(data, day, obj.key)


# A file this large (compressed) is parsed as a stream of records, in batches, instead of whole:
# CloudTrail files are usually a few MB, but data-event trails and exports can reach hundreds.
STREAM_MIN_BYTES = 64 * 1024 * 1024
STREAM_BATCH_RECORDS = 20_000
_CHUNK_CHARS = 1 << 20


def _stream_records(
    fh: Any, source_file: str, quarantine: Quarantine
) -> Iterator[list[tuple[str, Any]]]:
    """Batches of (label, record) from a `{"Records": [...]}` or `[...]` text stream, decoding
    one record at a time (memory: one batch and one chunk). A truncated or malformed stream is
    quarantined from the point where it breaks; the records before it are kept."""
    decoder = json.JSONDecoder()
    buffer, pos, eof = "", 0, False

    def more() -> bool:
        nonlocal buffer, pos, eof
        chunk = fh.read(_CHUNK_CHARS)
        if not chunk:
            eof = True
            return False
        buffer, pos = buffer[pos:] + chunk, 0
        return True

    while "[" not in buffer[pos:] and more():
        pass
    head = buffer[: buffer.find("[")] if "[" in buffer else buffer
    if "[" not in buffer or not (head.strip() == "" or '"Records"' in head):
        quarantine.add(source_file, "not a CloudTrail log file: no Records array")
        return
    pos = buffer.find("[") + 1
    batch: list[tuple[str, Any]] = []
    index = 0
    while True:
        while True:  # skip separators, reading more when the buffer runs dry
            while pos < len(buffer) and buffer[pos] in " \t\r\n,":
                pos += 1
            if pos < len(buffer) or not more():
                break
        if pos >= len(buffer):
            quarantine.add(
                source_file, f"truncated JSON after {index} records", f"Records[{index}]"
            )
            break
        if buffer[pos] == "]":
            break
        try:
            record, end = decoder.raw_decode(buffer, pos)
        except json.JSONDecodeError as exc:
            if not eof and more():
                continue
            quarantine.add(source_file, f"invalid JSON: {exc.msg}", f"Records[{index}]")
            break
        batch.append((f"Records[{index}]", record))
        index, pos = index + 1, end
        if len(batch) >= STREAM_BATCH_RECORDS:
            yield batch
            batch = []
    if batch:
        yield batch


def _streamed_tables(
    source: CloudTrailSource, obj: LogObject, day: date, quarantine: Quarantine
) -> Iterator[pa.Table]:
    path = obj.key if obj.key.startswith("/") else f"{source.root}/{obj.key}"
    with source.fs.open(path, "rb") as raw:
        binary = gzip.GzipFile(fileobj=raw) if raw.read(2) == b"\x1f\x8b" else raw
        raw.seek(0)
        text = io.TextIOWrapper(binary, encoding="utf-8-sig")
        try:
            offset = 0
            for batch in _stream_records(text, obj.key, quarantine):
                rows = list(
                    _good_rows(batch, day, obj.key, quarantine, obj.day is None, start=offset)
                )
                offset += len(batch)
                yield pa.Table.from_pylist(rows, schema=CLOUDTRAIL_EVENTS_SCHEMA)
        except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
            quarantine.add(obj.key, f"corrupt or unreadable stream: {exc}")


def object_tables(
    source: CloudTrailSource, obj: LogObject, day: date, quarantine: Quarantine
) -> Iterator[pa.Table]:
    """The rows of one object as Arrow tables: one for an ordinary file, a batch at a time for
    a file over STREAM_MIN_BYTES. Bad files and records go to `quarantine`."""
    if obj.size >= STREAM_MIN_BYTES:
        yield from _streamed_tables(source, obj, day, quarantine)
        return
    try:
        raw = source.read_bytes(obj.key)
    except OSError as exc:
        quarantine.add(obj.key, f"unreadable file: {exc}")
        return
    table = _fast_table(raw, obj, day)
    if table is not None:
        yield table
        return
    records = parse_records(raw, obj.key, quarantine)
    del raw
    if records is not None:
        rows = list(_good_rows(records, day, obj.key, quarantine, undated=obj.day is None))
        yield pa.Table.from_pylist(rows, schema=CLOUDTRAIL_EVENTS_SCHEMA)


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
