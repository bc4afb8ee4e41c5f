"""Decoding snapshot files (landing layer): bytes to text and JSON without losing a whole file to
one bad value.

- Text is decoded as UTF-8 with `surrogateescape`: a byte that is not UTF-8 (a Latin-1 `é` in a
  tag) becomes a lone surrogate (`\\udce9`) in that one string instead of making the whole file
  unreadable. `text_problem` finds it again, so the value holding it is quarantined by name (a
  replacement character could not be told apart from a real one, and would change a policy).
- JSON nested deeper than Python's decoder can go (`RecursionError`) is decoded again with every
  value below `MAX_DEPTH` levels replaced by the `TOO_DEEP` marker, so only the record holding it
  is quarantined.
- `value_problem` walks a decoded value without recursion and names the first string that is not
  text, the first number that is not finite (`NaN`, `Infinity`) and the first value nested too
  deep.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# No AWS document comes near this; a policy document is at most 10,240 characters and a real one
# nests about 6 levels.
MAX_DEPTH = 64
# Stands for a value nested deeper than MAX_DEPTH. It holds a lone surrogate below the range
# `surrogateescape` produces (\udc80-\udcff), so it can only come from here (or an adversarial
# `\udc00` escape, which is not text either).
TOO_DEEP = "\udc00ciem:nested-too-deep"
_NAMED_DEPTH = 8
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_SURROGATE = re.compile("[\ud800-\udfff]")


def decode_text(raw: bytes) -> str:
    """UTF-8 text; bytes that are not UTF-8 become lone surrogates (found by `text_problem`).

    A leading byte-order mark is dropped (files saved by Windows PowerShell start with one).
    """
    return raw.decode("utf-8-sig", errors="surrogateescape")


def text_problem(value: str) -> str | None:
    """Why `value` is not text that can land (a byte that is not UTF-8, a lone UTF-16 surrogate,
    the too-deep marker), else None."""
    found = _SURROGATE.search(value)
    if found is None:
        return None
    if TOO_DEEP in value:
        return f"nested deeper than {MAX_DEPTH} levels"
    code = ord(found.group())
    if 0xDC80 <= code <= 0xDCFF:
        return f"not UTF-8 text (byte 0x{code - 0xDC00:02X} at character {found.start()})"
    return f"not text (lone UTF-16 surrogate \\u{code:04x} at character {found.start()})"


def _path(parent: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else str(key)


def value_problem(value: Any, path: str = "") -> tuple[str, str] | None:
    """(path, reason) of the first part of a decoded JSON value that cannot land: a string (or
    object key) that is not text, a number that is not finite, or nesting deeper than MAX_DEPTH.
    None when the whole value is fine. Walks without recursion."""
    stack: list[tuple[str, Any, int]] = [(path, value, 0)]
    while stack:
        where, item, depth = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem is not None:
                return where, problem
        elif isinstance(item, float) and not math.isfinite(item):
            return where, f"not a finite number ({item})"
        elif isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                return where, f"nested deeper than {MAX_DEPTH} levels"
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            children = []
            for key, child in pairs:
                # Paths are named to _NAMED_DEPTH levels; deeper ones end in "…".
                named = _path(where, key) if depth < _NAMED_DEPTH else where.rstrip("…") + "…"
                if isinstance(key, str) and (problem := text_problem(key)) is not None:
                    return named, f"key {problem}"
                children.append((named, child, depth + 1))
            stack.extend(reversed(children))
    return None


def _flatten_deep(text: str) -> str:
    """`text` with every JSON value opening below MAX_DEPTH levels replaced by the TOO_DEEP
    marker (as a JSON string), so that Python's decoder can read the rest."""
    pieces: list[str] = []
    depth = 0
    start = 0  # where the text not yet copied begins
    cut = -1  # where the value being replaced begins, or -1
    for token in _TOKENS.finditer(text):
        kind = token.group()[0]
        if kind == '"':
            continue
        if kind in "[{":
            depth += 1
            if depth > MAX_DEPTH and cut < 0:
                cut = token.start()
        else:
            depth -= 1
            if cut >= 0 and depth == MAX_DEPTH:
                pieces += [text[start:cut], json.dumps(TOO_DEEP)]
                start, cut = token.end(), -1
    pieces.append(text[start:])
    return "".join(pieces)


def load_json(text: str) -> Any:
    """`json.loads(text)`; JSON nested deeper than the decoder can go is read with the values
    below MAX_DEPTH levels replaced by TOO_DEEP. Raises json.JSONDecodeError (a ValueError)."""
    try:
        return json.loads(text)
    except RecursionError:
        return json.loads(_flatten_deep(text))
