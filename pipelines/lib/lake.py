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

A lake on S3 (`s3://bucket/prefix`, through s3fs and the standard AWS configuration,
`AWS_ENDPOINT_URL` included) has the same layout in the bucket. Every reader and writer works on
a local copy of it, the cache (`$CIEM_LAKE_CACHE/<bucket>/<prefix>`, by default under
`$XDG_CACHE_HOME/ciem/`): a run takes the lake's lease lock in the bucket, brings the cache up
to date (`pull`: only objects whose ETag changed), works locally exactly as on a local lake
(atomic renames, `exclusive` locks, DuckDB), then uploads what changed (`push`) and releases the
lock. The bucket holds every folder above and the published `warehouse/ciem.duckdb`; the as-of
days' warehouses, DuckDB's spill files and the lock files stay in the cache, which can be deleted
at any time (the next command rebuilds it from the bucket).

Private by default: the lake holds every principal's permissions and every detection, so only
its owner may read it. Directories are created 0700 and files written 0600 whatever the umask
(`ciem` and the Dagster code location also set the process umask to 0o077, which covers the
files other libraries create: DuckDB's database, WAL and spill files, Dagster's storage), and
`Lake.at()` closes off an existing lake that an earlier version left world-readable (its root
becomes 0700, so nothing under it can be reached by another user).
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

log = logging.getLogger("ciem")

PRIVATE_UMASK = 0o077
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
# What a directory holds once `ciem` wrote to it: how Lake.at() knows a lake (it never changes
# the mode of a directory that is not one, e.g. `--lake ~` before the first run).
_LAKE_ENTRIES = ("parquet", "warehouse", "marts", "history", "reports")


_S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def lake_location(value: str) -> str:
    """`value` if a lake can live there: a local folder, or `s3://bucket[/prefix]`. Anything else
    that looks like a URL (`gs://…`, `http://…`, `s3://` without a bucket) raises ValueError in
    one line, instead of becoming a local folder named `gs:`."""
    scheme, sep, rest = value.partition("://")
    if not sep or not scheme.isalnum():
        return value
    if scheme != "s3":
        raise ValueError(
            f"{value!r}: a lake is a local folder or s3://bucket/prefix, not a {scheme}:// URL"
        )
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise ValueError(f"{value!r}: no bucket in the lake URL; give s3://bucket/prefix")
    if not _S3_BUCKET.match(bucket) or ".." in bucket:
        raise ValueError(f"{value!r}: {bucket!r} is not an S3 bucket name")
    if any(part in (".", "..") for part in prefix.split("/")):
        raise ValueError(f"{value!r}: the prefix may not hold '.' or '..' folders")
    return value


def is_s3_url(value: str | os.PathLike[str]) -> bool:
    return isinstance(value, str) and value.startswith("s3://")


def lake_cache_folder(bucket: str, prefix: str) -> Path:
    """The local cache of the lake `s3://bucket/prefix`: `$CIEM_LAKE_CACHE/<bucket>/<prefix>`,
    by default `$XDG_CACHE_HOME/ciem/` (`~/.cache/ciem/`). A lake at the bucket's root caches
    in `<bucket>/_root`, so that it never holds another lake's cache."""
    return cache_base() / bucket / (prefix or "_root")


def cache_base() -> Path:
    """This machine's cache of ciem: `$CIEM_LAKE_CACHE`, by default `$XDG_CACHE_HOME/ciem/`
    (`~/.cache/ciem/`). Bucket caches are its sub-folders; what is not a bucket's lives in a
    folder whose name starts with `_` (no bucket name does)."""
    base = os.environ.get("CIEM_LAKE_CACHE")
    if not base:
        base = Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache").expanduser() / "ciem"
    return Path(base).expanduser().resolve()


def set_private_umask() -> int:
    """Files and directories this process (and its children) creates are owner-only from now;
    returns the previous umask."""
    return os.umask(PRIVATE_UMASK)


def use_system_allocator() -> None:
    """Arrow allocates from the C library's allocator in this process from now on (memory
    allocated before is still freed to its own pool), unless ARROW_DEFAULT_MEMORY_POOL says.

    Arrow's wheels allocate from their own mimalloc pool, which keeps what it freed for later. A
    process landing CloudTrail builds and drops one row group after another, and the pool grew
    about 55 MiB past the C library's allocator, which was also faster: four days of
    `bench/bench_cloudtrail.py`'s events landed in one process, twice each, took 8.0-9.0 s at
    252-263 MiB peak RSS with mimalloc, 6.8-7.5 s at 201-204 MiB with the system allocator. Every
    entry point calls this, as it sets the umask: the `ciem` command, the code location, and the
    step and parsing processes they start."""
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())


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
    root: Path  # the lake's folder; for a lake on S3, its local cache
    url: str = ""  # s3://bucket/prefix of a lake on S3 ("" for a local lake)

    @classmethod
    def at(cls, root: str | os.PathLike[str]) -> Lake:
        """The lake at `root` (a folder, or `s3://bucket/prefix`: then its local cache); an
        existing lake that others can read is closed off (0700)."""
        if is_s3_url(root):
            bucket, prefix = s3_bucket_prefix(lake_location(str(root)))
            cache = make_private_dirs(lake_cache_folder(bucket, prefix))
            return cls(cache, url=f"s3://{bucket}/{prefix}".rstrip("/"))
        lake_location(str(root))
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

    @property
    def location(self) -> str:
        """Where the lake is, as the user gave it: its folder or its s3:// URL."""
        return self.url or str(self.root)

    def pull(self) -> SyncResult:
        """A lake on S3: bring the local cache up to date with the bucket (nothing for a local
        lake). Readers (`ciem query`, `ciem explain`, …) call it before they open the cache."""
        return _S3Mirror(self).pull() if self.url else SyncResult()

    @contextmanager
    def synced(self) -> Iterator[None]:
        """A block that writes the lake. On S3: hold the lake's lease lock, pull, run the block,
        push what changed (also after a failure: what succeeded is kept), release the lock. A
        local lake needs none of it."""
        if not self.url:
            yield
            return
        mirror = _S3Mirror(self)
        with _LeaseLock(mirror.fs, mirror.key("ciem.lock"), self.url) as lock:
            mirror.pull()
            try:
                yield
            finally:
                lock.check()  # never upload under a lock that another run holds now
                mirror.push()


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
    """Write atomically (`write_atomic`)."""
    write_atomic(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """`write(tmp)` writes a temporary file beside `path`, renamed onto it: a rerun replaces the
    file whole, a crash never leaves half a file, and a failed write (a full disk) leaves
    neither half a file nor its temporary file."""
    tmp = temp_path_for(path)
    try:
        write(tmp)
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


# ---- the lake on S3: the local cache kept in step with the bucket ---------------------------

# What of a lake lives in the bucket: the folders a run writes, and the published warehouse (so
# that any machine can query the results). The as-of days' warehouses, DuckDB's spill files,
# build copies, temporary files and lock files (names starting with a dot) stay in the cache.
SYNCED_FOLDERS = ("parquet", "history", "notifications", "marts", "reports")
SYNCED_FILES = ("warehouse/ciem.duckdb",)
_SYNC_DIR = ".ciem-sync"  # in the cache: what was last pulled or pushed, and its lock
# How long the lease lock holds without being renewed (the holder renews it every quarter of
# that); a run that dies leaves a lock that others may take once its lease ran out.
LOCK_LEASE_S = float(os.environ.get("CIEM_LAKE_LOCK_LEASE_S", "120"))


def s3_bucket_prefix(url: str) -> tuple[str, str]:
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    return bucket, "/".join(part for part in prefix.split("/") if part)


@dataclass
class SyncResult:
    """What one pull or push moved (relative paths in the lake)."""

    copied: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


class LakeSyncError(RuntimeError):
    """The bucket could not be read or written: one line naming the lake and the reason."""


def _md5(path: Path) -> str:
    digest = hashlib.md5()  # noqa: S324 (compared with S3's ETag, which is an MD5)
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _S3Mirror:
    """The local cache of a lake on S3 and its state (`.ciem-sync/state.json`: per file the
    ETag of the object and the size and mtime of the local copy when they were last equal)."""

    def __init__(self, lake: Lake) -> None:
        import s3fs

        self.lake = lake
        self.bucket, self.prefix = s3_bucket_prefix(lake.url)
        # A new instance with no listing cache: another machine may have written since.
        self.fs = s3fs.S3FileSystem(skip_instance_cache=True, use_listings_cache=False)
        self.state_path = lake.root / _SYNC_DIR / "state.json"

    def key(self, rel: str) -> str:
        return "/".join(p for p in (self.bucket, self.prefix, rel) if p)

    def _load(self) -> dict[str, list]:
        try:
            return json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return {}  # no state (or a damaged one): every file is compared afresh

    def _save(self, state: dict[str, list]) -> None:
        tmp = temp_path_for(self.state_path)
        tmp.write_text(json.dumps(state, sort_keys=True))
        replace_private(tmp, self.state_path)

    def _remote(self) -> dict[str, str]:
        """Relative path -> ETag of every object of the lake in the bucket."""
        found: dict[str, str] = {}
        base = self.key("")
        for folder in SYNCED_FOLDERS:
            for name, info in self.fs.find(self.key(folder), detail=True).items():
                if info.get("type") == "file":
                    found[name[len(base) + 1 :]] = info["ETag"]
        for rel in SYNCED_FILES:
            with suppress(FileNotFoundError):
                found[rel] = self.fs.info(self.key(rel))["ETag"]
        return found

    def _local(self) -> dict[str, os.stat_result]:
        found = {}
        for folder in SYNCED_FOLDERS:
            for path in (self.lake.root / folder).rglob("*"):
                rel = path.relative_to(self.lake.root)
                if any(part.startswith(".") for part in rel.parts) or not path.is_file():
                    continue
                found[rel.as_posix()] = path.stat()
        for rel in SYNCED_FILES:
            path = self.lake.root / rel
            if path.is_file():
                found[rel] = path.stat()
        return found

    def _failed(self, exc: Exception, doing: str) -> LakeSyncError:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return LakeSyncError(f"lake {self.lake.url}: cannot {doing}: {reason}")

    def pull(self) -> SyncResult:
        """Download the objects that changed in the bucket since the cache last saw them, and
        delete the local copies of objects deleted there. A file changed locally and not pushed
        yet is kept unless the bucket changed it too (the bucket wins)."""
        result = SyncResult()
        with exclusive(self.lake.root / _SYNC_DIR / ".lock"):
            state = self._load()
            try:
                remote = self._remote()
                for rel, etag in sorted(remote.items()):
                    path = self.lake.root / rel
                    known = state.get(rel)
                    if known and known[0] == etag and path.is_file():
                        continue
                    if path.is_file() and etag.strip('"') == _md5(path):
                        pass  # e.g. a cache rebuilt from scratch over the same files
                    else:
                        tmp = temp_path_for(path)
                        try:
                            self.fs.get_file(self.key(rel), str(tmp))
                            if rel in SYNCED_FILES:  # the warehouse
                                repoint_views(tmp, self.lake.root)
                            replace_private(tmp, path)
                        finally:
                            tmp.unlink(missing_ok=True)
                        result.copied.append(rel)
                    st = path.stat()
                    state[rel] = [etag, st.st_size, st.st_mtime_ns]
            except (OSError, ValueError) as exc:
                raise self._failed(exc, "read the bucket") from exc
            finally:
                self._save(state)
            for rel in sorted(set(state) - set(remote)):
                (self.lake.root / rel).unlink(missing_ok=True)
                del state[rel]
                result.deleted.append(rel)
            self._save(state)
        if result.copied or result.deleted:
            log.info(
                f"lake {self.lake.url}: {len(result.copied)} file(s) downloaded, "
                f"{len(result.deleted)} deleted in the local cache {self.lake.root}"
            )
        return result

    def push(self) -> SyncResult:
        """Upload the local files that changed since the last pull or push (a file rewritten
        with the same bytes is not uploaded again), and delete in the bucket what was deleted
        locally."""
        result = SyncResult()
        with exclusive(self.lake.root / _SYNC_DIR / ".lock"):
            state = self._load()
            try:
                local = self._local()
                for rel, st in sorted(local.items()):
                    known = state.get(rel)
                    if known and known[1:] == [st.st_size, st.st_mtime_ns]:
                        continue
                    path = self.lake.root / rel
                    if not (known and known[0].strip('"') == _md5(path)):
                        self.fs.put_file(str(path), self.key(rel))
                        known = [self.fs.info(self.key(rel))["ETag"]]
                        result.copied.append(rel)
                    state[rel] = [known[0], st.st_size, st.st_mtime_ns]
                for rel in sorted(set(state) - set(local)):
                    with suppress(FileNotFoundError):
                        self.fs.rm_file(self.key(rel))
                    del state[rel]
                    result.deleted.append(rel)
            except (OSError, ValueError) as exc:
                raise self._failed(exc, "write the bucket") from exc
            finally:
                self._save(state)
        if result.copied or result.deleted:
            log.info(
                f"lake {self.lake.url}: {len(result.copied)} file(s) uploaded, "
                f"{len(result.deleted)} deleted"
            )
        return result


_VIEW_ROOT = re.compile(r"'([^']+?)/(?:" + "|".join(SYNCED_FOLDERS) + r")/")


def repoint_views(warehouse: Path, root: Path) -> None:
    """A warehouse built on another machine has views over the Parquet files of that machine's
    lake folder (absolute paths): point them at the same files under `root`."""
    import duckdb

    with duckdb.connect(str(warehouse)) as con:
        views = con.execute(
            "select sql from duckdb_views() where not internal and schema_name = 'main'"
        ).fetchall()
        for (sql,) in views:
            roots = {m.group(1) for m in _VIEW_ROOT.finditer(sql)} - {str(root)}
            if not roots:
                continue
            for old in roots:
                sql = sql.replace(f"'{old}/", f"'{root}/")
            con.execute(sql.replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1))
        con.execute("checkpoint")


def _precondition_failed(exc: OSError) -> bool:
    """s3fs's error for a conditional request that did not hold (HTTP 412, or 409 when two
    conditional writes raced)."""
    cause = getattr(exc, "__cause__", None)
    code = getattr(cause, "response", {}).get("Error", {}).get("Code", "")
    return isinstance(exc, FileExistsError) or code in {
        "PreconditionFailed",
        "ConditionalRequestConflict",
        "412",
        "409",
    }


class LakeLockLost(RuntimeError):
    """Another run took the lake's lock after this run's lease ran out."""


class _LeaseLock:
    """An exclusive lock on a lake on S3: the object `<prefix>/ciem.lock`, created only if
    absent (`If-None-Match: *`), holding its owner and the end of its lease. The holder renews
    the lease (`If-Match` its ETag) every quarter of `LOCK_LEASE_S`; a waiter polls, and takes
    over a lock whose lease ran out (a run that was killed) by deleting it with `If-Match`, so
    two waiters never both take it. Relies on the clocks of the machines agreeing to within
    the lease."""

    def __init__(self, fs: object, key: str, url: str) -> None:
        self.fs = fs
        self.bucket, _, self.key = key.partition("/")
        self.url = url
        self.etag = ""
        self.lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.owner = f"{socket.gethostname()} pid {os.getpid()} {uuid.uuid4().hex[:8]}"

    def _body(self) -> bytes:
        return json.dumps({"owner": self.owner, "expires_at": time.time() + LOCK_LEASE_S}).encode()

    def _call(self, method: str, **kwargs: object) -> dict:
        return self.fs.call_s3(method, Bucket=self.bucket, Key=self.key, **kwargs)  # type: ignore[attr-defined]

    def _read(self) -> tuple[str, bytes]:
        """The lock object's ETag and body, of one and the same version."""
        from fsspec.asyn import sync

        async def get() -> tuple[str, bytes]:
            held = await self.fs._call_s3("get_object", Bucket=self.bucket, Key=self.key)  # type: ignore[attr-defined]
            async with held["Body"] as body:
                return held["ETag"], await body.read()

        return sync(self.fs.loop, get)  # type: ignore[attr-defined]

    def __enter__(self) -> _LeaseLock:
        waiting_for = None
        while True:
            try:
                self.etag = self._call("put_object", Body=self._body(), IfNoneMatch="*")["ETag"]
                break
            except OSError as exc:
                if not _precondition_failed(exc):
                    raise LakeSyncError(f"lake {self.url}: cannot take its lock: {exc}") from exc
            try:
                etag, body = self._read()
                holder = json.loads(body)
            except (OSError, ValueError):
                continue  # released (or being written) meanwhile: try again
            if holder.get("expires_at", 0) < time.time():
                try:
                    self._call("delete_object", IfMatch=etag)
                    log.warning(
                        f"lake {self.url}: took over the lock of {holder.get('owner')}, "
                        "whose lease ran out (a run that was killed)"
                    )
                except OSError:
                    pass  # renewed or taken by another waiter meanwhile
                continue
            if holder.get("owner") != waiting_for:
                waiting_for = holder.get("owner")
                log.info(f"lake {self.url}: waiting for the run that holds it ({waiting_for})")
            time.sleep(min(2.0, LOCK_LEASE_S / 8))
        self._thread = threading.Thread(target=self._renew, name="ciem-lake-lease", daemon=True)
        self._thread.start()
        return self

    def _renew(self) -> None:
        while not self._stop.wait(LOCK_LEASE_S / 4):
            try:
                self.etag = self._call("put_object", Body=self._body(), IfMatch=self.etag)["ETag"]
            except OSError as exc:
                if _precondition_failed(exc):
                    self.lost = True
                    log.error(f"lake {self.url}: its lock was taken by another run")
                    return
                log.warning(f"lake {self.url}: could not renew its lock ({exc}); retrying")

    def check(self) -> None:
        if self.lost:
            raise LakeLockLost(
                f"lake {self.url}: another run took its lock while this one held it (its "
                "lease ran out): nothing was uploaded; the local cache keeps this run's files"
            )

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.lost:
            return
        try:
            self._call("delete_object", IfMatch=self.etag)
        except OSError as exc:
            if exc.errno != errno.ENOENT and not _precondition_failed(exc):
                raise LakeSyncError(f"lake {self.url}: cannot release its lock: {exc}") from exc
