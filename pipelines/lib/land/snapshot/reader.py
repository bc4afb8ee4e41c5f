"""Snapshot folder reader (landing layer): walks the account and organization folders and hands
each file to its lander; `read_snapshot` returns every `raw_*` table."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pyarrow as pa

from pipelines.lib.land.quarantine import Quarantine
from pipelines.lib.land.snapshot.context import Ctx
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

_ACCOUNT_DIR = re.compile(r"^\d{12}$")
_GAAD_FILE = "get-account-authorization-details.json"
_CREDENTIAL_REPORT_FILE = "credential-report.csv"
# ---------------------------------------------------------------------------------------------
# files and folders


@dataclass(frozen=True)
class _Snapshot:
    """The snapshot folder being read, where its rows and quarantine entries go."""

    root: Path
    quarantine: Quarantine
    out: dict[str, list[Row]]

    def _open(self, path: Path, account_id: str | None) -> tuple[Ctx, str] | None:
        """(context, text) of an existing file; None when absent or quarantined (not UTF-8)."""
        if not path.is_file():
            return None
        ctx = Ctx(path.relative_to(self.root).as_posix(), self.quarantine, self.out, account_id)
        try:
            # utf-8-sig: files saved by Windows PowerShell start with a byte-order mark.
            return ctx, path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as err:
            ctx.reject(f"not UTF-8 text: {err}")
            return None

    def read_text(
        self, path: Path, account_id: str | None, land: Callable[..., None], *args: Any
    ) -> None:
        """`land(ctx, text, *args)` for the file at `path`, if there is one."""
        opened = self._open(path, account_id)
        if opened is not None:
            land(*opened, *args)

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
            doc = json.loads(text)
        except json.JSONDecodeError as err:
            ctx.reject(f"invalid JSON at line {err.lineno} col {err.colno}: {err.msg}")
            return
        if object_only and not isinstance(doc, dict):
            ctx.reject(f"expected a JSON object, got {type(doc).__name__}")
            return
        land(ctx, doc, *args)


def _subdirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def _json_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(".json"))


def _stem(path: Path) -> str:
    return path.name.removesuffix(".json")


def _read_account(snap: _Snapshot, account_dir: Path) -> None:
    account_id = account_dir.name
    iam = account_dir / "iam"
    snap.read_json(iam / _GAAD_FILE, account_id, land_gaad)
    snap.read_text(iam / _CREDENTIAL_REPORT_FILE, account_id, land_credential_report)
    for region_dir in _subdirs(account_dir):
        region = region_dir.name
        instances = region_dir / "ec2" / "describe-instances.json"
        snap.read_json(instances, account_id, land_instances, region)
        functions = region_dir / "lambda" / "list-functions.json"
        snap.read_json(functions, account_id, land_functions, region)
        for kind in RESOURCE_POLICY_KINDS:
            for path in _json_files(region_dir / kind.service / kind.folder):
                # File names are percent-encoded resource names (a secret `prod/db`: prod%2Fdb).
                name = unquote(_stem(path))
                snap.read_json(
                    path, account_id, land_resource_policy, region, kind, name, object_only=False
                )
    for path in _json_files(account_dir / "s3" / "bucket-policies"):
        snap.read_json(path, account_id, land_bucket_policy, _stem(path), object_only=False)


def _read_organization(snap: _Snapshot, org_dir: Path) -> None:
    snap.read_json(org_dir / "describe-organization.json", None, land_organization)
    snap.read_json(org_dir / "list-accounts.json", None, land_accounts)
    snap.read_json(org_dir / "list-roots.json", None, land_roots)
    for path in _json_files(org_dir / "parents"):
        snap.read_json(path, None, land_parents, _stem(path))
    for path in _json_files(org_dir / "policies"):
        snap.read_json(path, None, land_org_policy)
    for path in _json_files(org_dir / "targets"):
        snap.read_json(path, None, land_targets, _stem(path))


def read_snapshot(snapshot_dir: str | Path, quarantine: Quarantine) -> dict[str, pa.Table]:
    """Every table of SNAPSHOT_SCHEMAS (empty when there is no data) from one snapshot folder.

    Account folders are the 12-digit sub-folders; `organization/` is optional. Files missing from
    the layout land nothing; unknown files are ignored. Bad input goes to `quarantine`.
    """
    root = Path(snapshot_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"snapshot folder not found: {root}")
    snap = _Snapshot(root, quarantine, {name: [] for name in SNAPSHOT_SCHEMAS})
    for account_dir in _subdirs(root):
        if _ACCOUNT_DIR.match(account_dir.name):
            _read_account(snap, account_dir)
    _read_organization(snap, root / "organization")
    return {
        name: pa.Table.from_pylist(snap.out[name], schema=schema)
        for name, schema in SNAPSHOT_SCHEMAS.items()
    }
