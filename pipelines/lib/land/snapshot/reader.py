"""Snapshot folder reader (landing layer): walks the account and organization folders and hands
each file to its lander; `read_snapshot` returns every `raw_*` table."""

from __future__ import annotations

import json
import logging
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pyarrow as pa

from pipelines.lib.land.quarantine import Quarantine
from pipelines.lib.land.snapshot.buckets import LIST_BUCKETS_FILE, land_buckets
from pipelines.lib.land.snapshot.context import Ctx
from pipelines.lib.land.snapshot.decode import decode_text, load_json, text_problem
from pipelines.lib.land.snapshot.iam import land_credential_report, land_gaad
from pipelines.lib.land.snapshot.organizations import (
    land_accounts,
    land_org_policy,
    land_organization,
    land_parents,
    land_roots,
    land_targets,
)
from pipelines.lib.land.snapshot.resources import (
    RESOURCE_POLICY_KINDS,
    land_bucket_policy,
    land_functions,
    land_instances,
    land_resource_policy,
)
from pipelines.lib.land.snapshot.schemas import SNAPSHOT_SCHEMAS, Row

log = logging.getLogger("ciem")

_ACCOUNT_DIR = re.compile(r"^\d{12}$")
_GAAD_FILE = "get-account-authorization-details.json"
_CREDENTIAL_REPORT_FILE = "credential-report.csv"
# ---------------------------------------------------------------------------------------------
# files and folders


# Decoder and lander errors that one bad file can raise; each quarantines that file only.
_FILE_ERRORS = (
    RecursionError,
    UnicodeError,
    ValueError,
    TypeError,
    AttributeError,
    KeyError,
    IndexError,
)


@dataclass(frozen=True)
class _Snapshot:
    """The snapshot folder being read, where its rows and quarantine entries go."""

    root: Path
    quarantine: Quarantine
    out: dict[str, list[Row]]

    def ctx(self, path: Path, account_id: str | None, folder: bool = False) -> Ctx:
        """The context of a file (or a folder, named with a trailing `/`) of the snapshot."""
        name = path.relative_to(self.root).as_posix() + ("/" if folder else "")
        return Ctx(name, self.quarantine, self.out, account_id)

    def entries(self, folder: Path, account_id: str | None) -> list[Path]:
        """The entries of a folder of the layout, sorted; [] when it is absent. A path that is
        there but is not a readable folder is quarantined (its account is then incomplete)."""
        try:
            return sorted(folder.iterdir())
        except FileNotFoundError:
            return []
        except OSError as err:
            self.ctx(folder, account_id, folder=True).reject(f"unreadable folder: {_why(err)}")
            return []

    def subdirs(self, folder: Path, account_id: str | None) -> list[Path]:
        return [p for p in self.entries(folder, account_id) if p.is_dir()]

    def json_files(self, folder: Path, account_id: str | None) -> list[Path]:
        # Every `*.json` entry, not only regular files: one that is a folder, a symlink loop or
        # unreadable is quarantined by `_open` rather than skipped without a word.
        return [p for p in self.entries(folder, account_id) if p.name.endswith(".json")]

    def _open(self, path: Path, account_id: str | None) -> tuple[Ctx, str] | None:
        """(context, text) of a file of the layout; None when absent or quarantined.

        A path that exists but is not a readable regular file (a folder, a symlink loop, a
        dangling symlink, a FIFO, no permission) is quarantined with its reason. Bytes that are
        not UTF-8 do not make the file unreadable: they are kept as lone surrogates and the one
        value holding them is quarantined when it lands (`decode`).
        """
        ctx = self.ctx(path, account_id)
        try:
            path.lstat()
        except FileNotFoundError:
            return None  # files missing from the layout land nothing
        except OSError as err:
            ctx.reject(f"unreadable file: {_why(err)}")
            return None
        try:
            mode = path.stat().st_mode
            if stat.S_ISDIR(mode):
                ctx.reject("unreadable file: it is a folder")
                return None
            if not stat.S_ISREG(mode):
                ctx.reject("unreadable file: not a regular file")
                return None
            return ctx, decode_text(path.read_bytes())
        except OSError as err:
            ctx.reject(f"unreadable file: {_why(err)}")
            return None

    def _land(self, ctx: Ctx, land: Callable[..., None], *args: Any) -> None:
        try:
            land(ctx, *args)
        except _FILE_ERRORS as err:
            ctx.reject(f"unreadable content: {type(err).__name__}: {err}")

    def read_text(
        self, path: Path, account_id: str | None, land: Callable[..., None], *args: Any
    ) -> None:
        """`land(ctx, text, *args)` for the file at `path`, if there is one."""
        opened = self._open(path, account_id)
        if opened is not None:
            ctx, text = opened
            self._land(ctx, land, text, *args)

    def read_json(
        self,
        path: Path,
        account_id: str | None,
        land: Callable[..., None],
        *args: Any,
        object_only: bool = True,
    ) -> None:
        """`land(ctx, document, *args)` for the JSON file at `path`; invalid JSON is quarantined."""
        opened = self._open(path, account_id)
        if opened is None:
            return
        ctx, text = opened
        try:
            doc = load_json(text)
        except json.JSONDecodeError as err:
            reason = f"invalid JSON at line {err.lineno} col {err.colno}: {err.msg}"
            problem = text_problem(text)
            ctx.reject(reason + (f" ({problem})" if problem else ""))
            return
        except (RecursionError, ValueError) as err:
            ctx.reject(f"invalid JSON: {type(err).__name__}: {err}")
            return
        if object_only and not isinstance(doc, dict):
            ctx.reject(f"expected a JSON object, got {type(doc).__name__}")
            return
        self._land(ctx, land, doc, *args)


def _why(err: OSError) -> str:
    return err.strerror or type(err).__name__


def _stem(path: Path) -> str:
    return path.name.removesuffix(".json")


def _read_account(snap: _Snapshot, account_dir: Path) -> None:
    account_id = account_dir.name
    iam = account_dir / "iam"
    snap.read_json(iam / _GAAD_FILE, account_id, land_gaad)
    snap.read_text(iam / _CREDENTIAL_REPORT_FILE, account_id, land_credential_report)
    for region_dir in snap.subdirs(account_dir, account_id):
        region = region_dir.name
        instances = region_dir / "ec2" / "describe-instances.json"
        snap.read_json(instances, account_id, land_instances, region)
        functions = region_dir / "lambda" / "list-functions.json"
        snap.read_json(functions, account_id, land_functions, region)
        for kind in RESOURCE_POLICY_KINDS:
            for path in snap.json_files(region_dir / kind.service / kind.folder, account_id):
                # File names are percent-encoded resource names (a secret `prod/db`: prod%2Fdb).
                name = unquote(_stem(path))
                snap.read_json(
                    path, account_id, land_resource_policy, region, kind, name, object_only=False
                )
    snap.read_json(account_dir / "s3" / LIST_BUCKETS_FILE, account_id, land_buckets)
    for path in snap.json_files(account_dir / "s3" / "bucket-policies", account_id):
        snap.read_json(path, account_id, land_bucket_policy, _stem(path), object_only=False)


def _read_organization(snap: _Snapshot, org_dir: Path) -> None:
    snap.read_json(org_dir / "describe-organization.json", None, land_organization)
    snap.read_json(org_dir / "list-accounts.json", None, land_accounts)
    snap.read_json(org_dir / "list-roots.json", None, land_roots)
    for path in snap.json_files(org_dir / "parents", None):
        child_id = _stem(path)
        account_id = child_id if _ACCOUNT_DIR.match(child_id) else None
        snap.read_json(path, account_id, land_parents, child_id)
    for path in snap.json_files(org_dir / "policies", None):
        snap.read_json(path, None, land_org_policy)
    for path in snap.json_files(org_dir / "targets", None):
        snap.read_json(path, None, land_targets, _stem(path))


def read_snapshot(snapshot_dir: str | Path, quarantine: Quarantine) -> dict[str, pa.Table]:
    """Every table of SNAPSHOT_SCHEMAS (empty when there is no data) from one snapshot folder.

    Account folders are the 12-digit sub-folders; `organization/` is optional. Files missing from
    the layout land nothing; unknown files are ignored. Bad input goes to `quarantine`: a path of
    the layout that is there but cannot be read (a folder or a symlink loop in place of a file),
    a file that is not JSON, a record or a value that cannot land, each with its reason.

    A collector publishes a new collection by moving it into place (a rename, or a symlink
    switched to it). When that happens while the folder is read, the rows read so far mix two
    collections: the folder's identity is compared before and after, and the read starts again
    on what is there now (at most READ_ATTEMPTS times, then a one-line error).
    """
    root = Path(snapshot_dir)
    for attempt in range(1, READ_ATTEMPTS + 1):
        before = _identity(root)
        collected = Quarantine(source=quarantine.source, partition=quarantine.partition, quiet=True)
        tables = _read_once(root, collected)
        if _identity(root) == before:
            quarantine.extend(collected.entries)
            return tables
        log.warning(
            "snapshot folder %s was replaced while it was read (attempt %d of %d): "
            "reading it again",
            root,
            attempt,
            READ_ATTEMPTS,
        )
    raise SnapshotChangedError(
        f"snapshot folder {root} was replaced while it was read, {READ_ATTEMPTS} times in a row: "
        "publish a new collection once it is complete (write it aside, then rename it into place)"
    )


READ_ATTEMPTS = 3


class SnapshotChangedError(RuntimeError):
    """The snapshot folder kept changing under the reader."""


def _identity(root: Path) -> tuple[int, int]:
    """(device, inode) of the folder a path names now, following a symlink."""
    try:
        st = root.stat()
    except OSError as err:
        raise FileNotFoundError(f"snapshot folder not found: {root} ({_why(err)})") from None
    if not root.is_dir():
        raise FileNotFoundError(f"snapshot folder not found: {root}")
    return st.st_dev, st.st_ino


def _read_once(root: Path, quarantine: Quarantine) -> dict[str, pa.Table]:
    snap = _Snapshot(root, quarantine, {name: [] for name in SNAPSHOT_SCHEMAS})
    for entry in snap.entries(root, None):
        if not _ACCOUNT_DIR.match(entry.name):
            continue  # not an account folder: ignored
        if entry.is_dir():
            _read_account(snap, entry)
        else:  # a file, a symlink loop, ... where an account folder should be
            snap.ctx(entry, entry.name, folder=True).reject("unreadable folder: not a folder")
    org_dir = root / "organization"
    if org_dir.exists() and not org_dir.is_dir():
        snap.ctx(org_dir, None, folder=True).reject("unreadable folder: not a folder")
    _read_organization(snap, org_dir)
    return {
        name: pa.Table.from_pylist(snap.out[name], schema=schema)
        for name, schema in SNAPSHOT_SCHEMAS.items()
    }
