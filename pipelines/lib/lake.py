"""The lake: where every landed and modelled table lives on disk (paths, atomic Parquet writes).

Layout under `<lake>`:
    parquet/<table>.parquet                          landed snapshot and reference tables
    parquet/raw_cloudtrail_events/day=YYYY-MM-DD/part-N.parquet  parts of one UTC day
    parquet/cloudtrail_manifest/day=YYYY-MM-DD/manifest.parquet  objects landed per day
    parquet/usage_daily/day=YYYY-MM-DD/data.parquet  usage per principal and action
    parquet/event_counts_daily/day=YYYY-MM-DD/data.parquet  events per name and mapping
    parquet/quarantine/<source>-<partition>.parquet  what landing refused, with reasons
    history/detections/as_of=YYYY-MM-DD.parquet      open detections of each run (timeline)
    notifications/as_of=YYYY-MM-DD/deliveries.parquet  what each run's notifications delivered
    marts/<table>.parquet                            result tables, exported after each model
    warehouse/ciem.duckdb                            DuckDB warehouse (rebuildable from the above)
    reports/explorer.html                            the explorer's static snapshot

Private by default: the lake holds every principal's permissions and every detection, so only
its owner may read it. Directories are created 0700 and files written 0600 whatever the umask
(`ciem` and the Dagster code location also set the process umask to 0o077, which covers the
files other libraries create: DuckDB's database, WAL and spill files, Dagster's storage), and
`Lake.at()` closes off an existing lake that an earlier version left world-readable (its root
becomes 0700, so nothing under it can be reached by another user).
"""

from __future__ import annotations

import fcntl
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

PRIVATE_UMASK = 0o077
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
# What a directory holds once `ciem` wrote to it: how Lake.at() knows a lake (it never changes
# the mode of a directory that is not one, e.g. `--lake ~` before the first run).
_LAKE_ENTRIES = ("parquet", "warehouse", "marts", "history", "reports")


def local_lake_folder(value: str) -> str:
    """`value` if it names a local folder. An object-store URL (`s3://bucket/prefix`) raises
    ValueError in one line instead of becoming a local folder named `s3:` (the lake on object
    storage is not built yet)."""
    scheme, sep, _ = value.partition("://")
    if sep and scheme.isalnum():
        raise ValueError(
            f"{value!r}: a lake on {scheme}:// is not supported yet; give a local folder"
        )
    return value


def set_private_umask() -> int:
    """Files and directories this process (and its children) creates are owner-only from now;
    returns the previous umask."""
    return os.umask(PRIVATE_UMASK)


def make_private_dirs(path: Path) -> Path:
    """`mkdir -p` where every directory created is 0700 (whatever the umask); an existing
    directory keeps its mode."""
    missing: list[Path] = []
    current = path
    while not current.is_dir():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:
            if not directory.is_dir():
                raise
            continue
        directory.chmod(PRIVATE_DIR_MODE)  # mkdir's mode is masked by the umask
    return path


def close_off(path: Path) -> None:
    """Make an existing directory of ours 0700 if group or others can reach it (a directory of
    another user, or one we may not change, is left as it is)."""
    try:
        st = path.stat()
        if st.st_uid == os.getuid() and st.st_mode & 0o077:
            path.chmod(PRIVATE_DIR_MODE)
    except OSError:
        pass


def replace_private(tmp: Path, path: Path) -> None:
    """Rename a finished temporary file onto `path`, owner-only (0600)."""
    tmp.chmod(PRIVATE_FILE_MODE)
    tmp.replace(path)


@dataclass(frozen=True)
class Lake:
    root: Path

    @classmethod
    def at(cls, root: str | os.PathLike[str]) -> Lake:
        """The lake at `root`; an existing lake that others can read is closed off (0700)."""
        lake = cls(Path(root).expanduser().resolve())
        if lake.root.is_dir() and (
            not any(lake.root.iterdir()) or any((lake.root / e).is_dir() for e in _LAKE_ENTRIES)
        ):
            close_off(lake.root)
        return lake

    @property
    def warehouse_path(self) -> Path:
        """The DuckDB file. In an existing lake its directory is made 0700 here, before DuckDB
        creates anything in it: the database, its WAL and `duckdb_tmp/` are out of other users'
        reach even if the process umask would make them readable. (A lake that does not exist
        yet is left alone: `ciem explorer --lake typo` says there is no warehouse.)"""
        directory = self.root / "warehouse"
        if directory.is_dir():
            close_off(directory)
        elif self.root.is_dir():
            make_private_dirs(directory)
        return directory / "ciem.duckdb"

    def day_warehouse_path(self, as_of: date) -> Path:
        """An as-of day's own warehouse: the models of that day, whatever else was built since;
        the newest day's is copied to `warehouse_path`."""
        return self.warehouse_path.parent / f"as_of={as_of.isoformat()}" / "ciem.duckdb"

    def table_path(self, name: str) -> Path:
        return self.root / "parquet" / f"{name}.parquet"

    def snapshot_table_path(self, name: str, as_of: date) -> Path:
        """A snapshot table as landed for one as-of day (from the snapshot that day uses)."""
        return self.root / "parquet" / name / f"as_of={as_of.isoformat()}.parquet"

    def snapshot_quarantine_path(self, as_of: date) -> Path:
        return self.root / "parquet" / "snapshot_quarantine" / f"as_of={as_of.isoformat()}.parquet"

    def snapshot_source_path(self, as_of: date) -> Path:
        """Which snapshot folder an as-of day's tables came from (written after them: its
        presence says the day's snapshot landed whole)."""
        return self.root / "parquet" / "snapshot_source" / f"as_of={as_of.isoformat()}.json"

    def cloudtrail_day_dir(self, day: date) -> Path:
        return self.root / "parquet" / "raw_cloudtrail_events" / f"day={day.isoformat()}"

    def cloudtrail_landed_path(self, day: date) -> Path:
        """Written once a CloudTrail day has landed (even a day without any file): the models
        of an as-of day check that every day of their window has."""
        return self.root / "parquet" / "cloudtrail_landed" / f"day={day.isoformat()}.json"

    def daily_path(self, table: str, day: date) -> Path:
        """A per-day aggregate of CloudTrail (usage_daily, event_counts_daily)."""
        return self.root / "parquet" / table / f"day={day.isoformat()}" / "data.parquet"

    def quarantine_path(self, source: str, partition: str) -> Path:
        return self.root / "parquet" / "quarantine" / f"{source}-{partition}.parquet"

    def history_path(self, as_of: date) -> Path:
        return self.root / "history" / "detections" / f"as_of={as_of.isoformat()}.parquet"

    def resource_history_path(self, as_of: date) -> Path:
        """The configuration items of one run (the timeline compares consecutive runs)."""
        return self.root / "history" / "resources" / f"as_of={as_of.isoformat()}.parquet"

    def mart_path(self, name: str) -> Path:
        return self.root / "marts" / f"{name}.parquet"

    def empty_path(self, name: str) -> Path:
        return self.root / "parquet" / "_empty" / f"{name}.parquet"


@contextmanager
def exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `lock_path` (created 0600 if need be) for the block; another
    process waits for it. For read-modify-write steps that two runs at once on one lake must
    take in turn (landing one CloudTrail day, a date's notification deliveries). Local
    filesystems only, as the lake is."""
    make_private_dirs(lock_path.parent)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def temp_path_for(path: Path) -> Path:
    """A unique temporary name beside `path`, renamed onto it once written (atomic replace);
    the folders it needs are created 0700."""
    make_private_dirs(path.parent)
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write atomically: a rerun replaces the file whole, a crash never leaves half a file, and
    a failed write (a full disk) leaves neither half a file nor its temporary file."""
    tmp = temp_path_for(path)
    try:
        pq.write_table(table, tmp, compression="zstd")
        replace_private(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno is None:
            raise
        # named by the file it was for, not the temporary name (`No space left on device: …`)
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
