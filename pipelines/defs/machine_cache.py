"""This machine's copies of reference tables that depend only on installed packages and code
(never on a lake): built once per machine, a new lake copies the file."""

import logging
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.lib.lake import (
    cache_base,
    make_private_dirs,
    write_atomic,
    write_parquet,
)

log = logging.getLogger("ciem")


def machine_copy(name: str, inputs: str) -> Path:
    """Where this machine keeps the table `name` built from `inputs` (a fingerprint of
    everything it is built from: package versions, files, the builder's code)."""
    return cache_base() / "_reference" / f"{name}-{inputs[:32]}.parquet"


def read_machine_copy(copy: Path) -> pa.Table | None:
    """The copy, read whole (None if there is none, or it is damaged: then it is built again)."""
    if not copy.is_file():
        return None
    try:
        # One thread: a table this small reads several times faster than through Arrow's pool.
        return pq.ParquetFile(copy).read(use_threads=False)
    except (OSError, pa.ArrowException) as err:
        log.warning(f"{copy} is unreadable ({err}); building it again")
        return None


def keep_machine_copy(table: pa.Table, copy: Path) -> None:
    """Keep a build for the next new lake (a cache: a failure only costs that lake a build)."""
    try:
        make_private_dirs(copy.parent)
        write_parquet(table, copy)
    except OSError as err:
        log.info(f"{copy.name}: not kept in {copy.parent} ({err.strerror or err})")


def copy_file(source: Path, path: Path) -> None:
    """`source` copied to `path` atomically (as `write_parquet` writes a file): the file, not
    its table encoded again."""
    write_atomic(path, lambda tmp: shutil.copyfile(source, tmp))
