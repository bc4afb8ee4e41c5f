"""Collect layer: writing snapshot files atomically, formatted like `aws ... --output json`."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

# ---------------------------------------------------------------------------------------------
# writing files (atomic, formatted like `aws ... --output json`)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        # botocore parses AWS timestamps as aware datetimes; the CLI prints them ISO 8601.
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value)


def cli_json(doc: dict[str, Any]) -> str:
    """A response as `aws ... --output json` prints it: indent 4, no ResponseMetadata."""
    body = {key: value for key, value in doc.items() if key != "ResponseMetadata"}
    return json.dumps(body, indent=4, ensure_ascii=False, default=_json_default) + "\n"


def write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically: a temporary file in the same folder, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, doc: dict[str, Any]) -> None:
    write_bytes(path, cli_json(doc).encode("utf-8"))


def write_policy_text(path: Path, policy: str) -> None:
    """A resource policy as `--query Policy --output text` prints it (the JSON text verbatim)."""
    write_bytes(path, (policy.rstrip("\n") + "\n").encode("utf-8"))


def safe_file_name(name: str) -> str:
    """A resource name usable as a file name: percent-encoded except letters, digits, `_.-~`.

    Bucket, queue, topic and function names and key ids are unchanged; a secret named
    `prod/db` becomes `prod%2Fdb`.
    """
    return quote(name, safe="")
