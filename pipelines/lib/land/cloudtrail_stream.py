"""CloudTrail as a stream (landing layer): what one file may cost whatever its size or compression
ratio (decompressed bytes capped, one record at a time), and the JSON records of a `{"Records":
[...]}` file, an array or JSON lines read one at a time, each bad record named."""

from __future__ import annotations

import codecs
import io
import json
import os
import re
from collections.abc import Iterator
from typing import Any, NamedTuple

from pipelines.lib.land.quarantine import Quarantine

# ---------------------------------------------------------------------------------------------
# limits: what one file may cost, whatever its size or compression ratio

MAX_FILE_MB_ENV = "CIEM_CLOUDTRAIL_MAX_FILE_MB"
DEFAULT_MAX_FILE_MB = 1024
# A delivery file up to this size (decompressed) is decoded whole by msgspec (fast path); a larger
# one, or one whose compressed size reaches STREAM_MIN_BYTES, is read as a stream of records.
FAST_MAX_BYTES = 32 * 1024 * 1024
# A file up to this size (decompressed) that the fast path does not take (exports, JSON lines, bad
# records) is parsed whole by the stdlib, which names a broken file's line and column.
WHOLE_MAX_BYTES = 4 * 1024 * 1024
STREAM_MIN_BYTES = 64 * 1024 * 1024
MAX_RECORD_CHARS = 16 * 1024 * 1024  # a larger record is quarantined, skipped, never held
STREAM_BATCH_RECORDS, STREAM_BATCH_CHARS = 20_000, 4 * 1024 * 1024
_CHUNK_CHARS = 1 << 20


def max_file_bytes() -> int:
    """The largest decompressed size of one file (`CIEM_CLOUDTRAIL_MAX_FILE_MB`, default 1024)."""
    value = os.environ.get(MAX_FILE_MB_ENV, "")
    mb = float(value) if value.replace(".", "", 1).isdigit() else 0
    return int((mb or DEFAULT_MAX_FILE_MB) * 1024 * 1024)


class FileTooLarge(Exception):  # a file decompressed past `max_file_bytes()`
    pass


class Capped(io.RawIOBase):
    """The decompressed bytes of a file, counted; past `limit` reading raises FileTooLarge."""

    def __init__(self, stream: Any, limit: int) -> None:
        self._stream, self.limit, self.count = stream, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.count += size
        if self.count > self.limit:
            raise FileTooLarge(self.count)
        return size


def read_up_to(stream: Any, size: int) -> bytearray:
    data = bytearray()
    while len(data) < size and (block := stream.read(min(size - len(data), _CHUNK_CHARS))):
        data += block
    return data


def text_chunks(stream: Any) -> Iterator[str]:
    """Text a chunk at a time; bytes not UTF-8 become lone surrogates, found per record."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")("surrogateescape")
    while block := stream.read(_CHUNK_CHARS):
        yield decoder.decode(block)
    yield decoder.decode(b"", final=True)


# ---------------------------------------------------------------------------------------------
# a stream of JSON records, one at a time


_SEPARATORS = re.compile(r"[^ \t\r\n,]")
_WHITESPACE = re.compile(r"[^ \t\r\n\ufeff]")
_STRUCTURAL = re.compile(r'["{}\[\]]')
_SCALAR_END = re.compile(r"[,\]}\s]")
_RECORDS_KEY = re.compile(r'\{\s*"Records"\s*:\s*\[')
_NEWLINE = re.compile("\n")
_SURROGATE = re.compile("[\udc80-\udcff]")
_DECODER = json.JSONDecoder()


class _Problem(NamedTuple):
    reason: str
    fatal: bool  # the rest of the file cannot be read past it


def _too_large() -> _Problem:
    return _Problem(f"record larger than {MAX_RECORD_CHARS >> 20} MB", fatal=False)


class Text:
    """Decoded text read a chunk at a time, with a cursor. Memory: the current record (at most
    MAX_RECORD_CHARS, twice while growing) and one chunk; never the file."""

    def __init__(self, chunks: Iterator[str]) -> None:
        self._chunks = chunks
        self.buffer, self.pos, self.eof = "", 0, False
        self.lines = False  # count lines (JSON lines labels); off, it costs a scan of the text
        self._line = 1  # line number of buffer[0]
        self._surrogates = False  # a byte that is not UTF-8 was seen: check each record since

    def line_at(self, pos: int) -> int:
        return self._line + self.buffer.count("\n", 0, pos)

    def more(self, at_least: int = 1) -> bool:
        """Drop what was consumed and append at least `at_least` more chars; False at the end."""
        if self.lines:
            self._line += self.buffer.count("\n", 0, self.pos)
        parts, got = [self.buffer[self.pos :]], 0
        while got < at_least:
            chunk = next(self._chunks, None)
            if chunk is None:
                self.eof = True
                break
            if not self._surrogates and not chunk.isascii():
                self._surrogates = _SURROGATE.search(chunk) is not None
            parts.append(chunk)
            got += len(chunk)
        self.buffer, self.pos = (
            (parts[1] if len(parts) == 2 and not parts[0] else "".join(parts)),
            0,
        )
        return got > 0

    def skip(self, pattern: re.Pattern[str]) -> bool:
        """Advance to the next char matching `pattern`; False at the end of the stream."""
        while True:
            found = pattern.search(self.buffer, self.pos)
            if found is not None:
                self.pos = found.start()
                return True
            self.pos = len(self.buffer)
            if not self.more():
                return False

    def decode(self) -> tuple[Any, int, _Problem | None]:
        """The JSON value at the cursor and its length (the cursor moves past it), or a problem:
        a value too large or too deep is skipped without being decoded (not fatal); invalid JSON
        is fatal (where the next record starts is unknown)."""
        while True:
            start = self.pos
            try:
                value, end = _DECODER.raw_decode(self.buffer, start)
            except json.JSONDecodeError as exc:
                near_end = exc.pos >= len(self.buffer) - 6 or exc.msg.startswith("Unterminated")
                if self.eof or not near_end:
                    return None, 0, _Problem(f"invalid JSON: {exc.msg}", fatal=True)
                size = len(self.buffer) - start
                if size > MAX_RECORD_CHARS:
                    return self._skipped(_too_large().reason)
                self.more(at_least=max(size, _CHUNK_CHARS))  # doubles: linear, not quadratic
                continue
            except RecursionError:
                return self._skipped("JSON nested too deeply")
            except ValueError as exc:  # e.g. an integer of more than 4300 digits
                return self._skipped(f"invalid JSON value: {exc}")
            self.pos = end
            return self._checked(value, start, end)

    def _checked(self, value: Any, start: int, end: int) -> tuple[Any, int, _Problem | None]:
        if end - start > MAX_RECORD_CHARS:
            return None, 0, _too_large()
        bad = self._surrogates and _SURROGATE.search(self.buffer, start, end)
        if bad:
            byte = ord(bad.group()) - 0xDC00
            return None, 0, _Problem(f"not UTF-8 text: byte 0x{byte:02x}", fatal=False)
        return value, end - start, None

    def line_value(self) -> tuple[Any, int, _Problem | None]:
        """The JSON value of the line at the cursor (JSON lines: a broken line never runs into
        the next); the cursor moves to the end of the line."""
        while (end := self.buffer.find("\n", self.pos)) < 0 and not self.eof:
            if len(self.buffer) - self.pos > MAX_RECORD_CHARS:
                self.skip(_NEWLINE)
                return None, 0, _too_large()
            self.more(at_least=max(len(self.buffer) - self.pos, _CHUNK_CHARS))
        end = len(self.buffer) if end < 0 else end
        start, self.pos = self.pos, end
        try:
            value = json.loads(self.buffer[start:end])
        except json.JSONDecodeError as exc:
            return None, 0, _Problem(f"invalid JSON at col {exc.colno}: {exc.msg}", False)
        except RecursionError:
            return None, 0, _Problem("JSON nested too deeply", False)
        except ValueError as exc:
            return None, 0, _Problem(f"invalid JSON value: {exc}", False)
        return self._checked(value, start, end)

    def _skipped(self, reason: str) -> tuple[Any, int, _Problem]:
        if self.skip_value():
            return None, 0, _Problem(reason, fatal=False)
        return None, 0, _Problem(f"{reason}; truncated", fatal=True)

    def skip_value(self) -> bool:
        """Move past the value at the cursor, scanning its structure (iteratively, whatever the
        depth) without decoding or keeping it; False if the stream ends first."""
        if self.buffer[self.pos] not in '{["':
            return self.skip(_SCALAR_END)
        depth, in_string = 0, False
        while True:
            buffer = self.buffer
            if in_string:  # str.find runs at memory speed through a huge string
                quote = buffer.find('"', self.pos)
                escape = buffer.find("\\", self.pos, len(buffer) if quote < 0 else quote)
                if escape >= 0 and escape + 1 < len(buffer):
                    self.pos = escape + 2
                elif quote >= 0 and escape < 0:
                    self.pos, in_string = quote + 1, False
                    if depth == 0:
                        return True
                else:
                    self.pos = escape if escape >= 0 else len(buffer)
                    if not self.more():
                        return False
                continue
            found = _STRUCTURAL.search(buffer, self.pos)
            if found is None:
                self.pos = len(buffer)
                if not self.more():
                    return False
                continue
            char, self.pos = found.group(), found.end()
            if char == '"':
                in_string = True
            elif char in "{[":
                depth += 1
            else:
                depth -= 1
                if depth <= 0:
                    return True


Labelled = tuple[int, str, Any]  # (record index, label such as 'Records[3]', record)


def stream_records(
    text: Text, source_file: str, quarantine: Quarantine
) -> Iterator[list[Labelled]]:
    """Batches of records of a `{"Records": [...]}` file, a JSON array or JSON lines, decoded
    one at a time; an undecodable record is quarantined and skipped (invalid JSON ends the file)."""
    text.lines = True  # until the format is known
    if not text.skip(_WHITESPACE):
        quarantine.add(source_file, "not a CloudTrail log file: no Records array")
        return
    while len(text.buffer) - text.pos < 64 and text.more():
        pass
    first = text.buffer[text.pos]
    records_key = _RECORDS_KEY.match(text.buffer, text.pos)
    text.lines = first == "{" and records_key is None
    if records_key is not None:
        text.pos = records_key.end()
        yield from _array_records(text, source_file, quarantine, "Records")
    elif first == "[":
        text.pos += 1
        yield from _array_records(text, source_file, quarantine, "")
    elif first == "{":
        yield from _value_records(text, source_file, quarantine)
    else:
        quarantine.add(source_file, "not a CloudTrail log file: no Records array")


def _batches(items: Iterator[tuple[Labelled, int]]) -> Iterator[list[Labelled]]:
    batch: list[Labelled] = []
    chars = 0
    for item, size in items:
        batch.append(item)
        chars += size
        if len(batch) >= STREAM_BATCH_RECORDS or chars >= STREAM_BATCH_CHARS:
            yield batch
            batch, chars = [], 0
    if batch:
        yield batch


def _array_records(
    text: Text, source_file: str, quarantine: Quarantine, name: str
) -> Iterator[list[Labelled]]:
    def items() -> Iterator[tuple[Labelled, int]]:
        index = 0
        while True:
            where = f"{name}[{index}]"
            if not text.skip(_SEPARATORS):
                quarantine.add(source_file, f"truncated JSON after {index} records", where)
                return
            if text.buffer[text.pos] == "]":
                return
            value, size, problem = text.decode()
            if problem is not None:
                quarantine.add(source_file, problem.reason, where)
                if problem.fatal:
                    return
            else:
                yield (index, where, value), size
            index += 1

    yield from _batches(items())


def _value_records(
    text: Text, source_file: str, quarantine: Quarantine
) -> Iterator[list[Labelled]]:
    """JSON values one after another: JSON lines, or one object (an event, an export wrapper,
    or a `{"Records": [...]}` whose Records is not its first key, up to MAX_RECORD_CHARS)."""

    def items() -> Iterator[tuple[Labelled, int]]:
        index = 0
        values = 0
        one_line = False  # the first value fit on its line: JSON lines, read a line at a time
        held: tuple[Labelled, int] | None = None  # a first value that is no event
        while text.skip(_WHITESPACE):
            line = text.line_at(text.pos)
            where = f"line {line}"
            start = text.pos
            value, size, problem = text.line_value() if one_line else text.decode()
            values += 1
            if values == 1 and problem is None:
                one_line = "\n" not in text.buffer[start : text.pos]
            if problem is not None:
                if problem.fatal and values == 1:
                    quarantine.add(source_file, f"invalid JSON at line {line}: {problem.reason}")
                    return
                quarantine.add(source_file, problem.reason, where)
                if problem.fatal and not text.skip(_NEWLINE):  # resume at the next line
                    return
                index += 1
                continue
            if held is not None:
                yield held
                held = None
            if isinstance(value, dict) and isinstance(value.get("Records"), list):
                for i, record in enumerate(value["Records"]):
                    yield (index, f"Records[{i}]", record), size // max(len(value["Records"]), 1)
                    index += 1
                continue
            item = (index, where, value), size
            index += 1
            if values == 1 and not (isinstance(value, dict) and unwrap(value) is not None):
                held = item
            else:
                yield item
        if held is not None:
            if values == 1:
                quarantine.add(source_file, "not a CloudTrail log file: no Records array")
            else:
                yield held

    yield from _batches(items())


def unwrap(record: dict[str, Any]) -> dict[str, Any] | None:
    """The CloudTrail event in a record: itself, or the `event` object of an export wrapper
    (`{"source_file": ..., "event": {...}}`); None if it holds none."""
    if "eventName" in record or "eventSource" in record:
        return record
    inner = record.get("event")
    if isinstance(inner, dict) and ("eventName" in inner or "eventSource" in inner):
        return inner
    return None
