"""A snapshot folder replaced mid-run (issue 14, item 5).

- Replaced once the snapshot has landed (a collector moves a new collection into place while
  the run lands CloudTrail and builds the models): nothing after landing reads the folder again,
  so the run gives exactly the tables of a clean run on the snapshot it landed.
- Replaced while it is being read (between two account folders): the reader notices that the
  folder is another one now and reads it again, so the landed tables are exactly one collection
  (the new one), never a mix; a folder that keeps changing fails in one line.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import pipelines.defs.landing as landing
import pipelines.lib.land.snapshot.reader as reader
from pipelines.lib.land.quarantine import Quarantine
from pipelines.lib.land.snapshot import read_snapshot
from tests.faults.harness import DEMO_AS_OF, DEMO_SNAPSHOTS, run_ciem
from tests.faults.whole_tables import assert_same_tables

GAAD = "iam/get-account-authorization-details.json"
FIRST_ACCOUNT, LAST_ACCOUNT = "111111111111", "333333333333"


def _swap(folder: Path, replacement: Path) -> None:
    """`mv folder aside; mv replacement folder`, as a collector publishes a new collection."""
    folder.rename(folder.with_name(folder.name + ".replaced"))
    replacement.rename(folder)


def test_a_snapshot_replaced_after_it_landed_changes_nothing(
    clean_demo_lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = shutil.copytree(DEMO_SNAPSHOTS / DEMO_AS_OF, tmp_path / "snapshots" / "current")
    other = shutil.copytree(DEMO_SNAPSHOTS / "2026-11-19", tmp_path / "snapshots" / "next")
    read = landing.read_snapshot

    def read_then_replace(folder: Path, quarantine: Quarantine) -> dict:
        tables = read(folder, quarantine)
        _swap(snapshot, other)
        return tables

    monkeypatch.setattr(landing, "read_snapshot", read_then_replace)
    assert run_ciem(tmp_path / "lake", snapshot=snapshot) == 0
    assert (snapshot / "organization").is_dir() and not other.exists()  # it was replaced
    assert_same_tables(tmp_path / "lake", clean_demo_lake)


def _tables(folder: Path) -> dict[str, set[str]]:
    tables = read_snapshot(folder, Quarantine(source="snapshot", partition=folder.name))
    return {name: {repr(r) for r in t.to_pylist()} for name, t in tables.items()}


def _new_collection(tmp_path: Path, name: str) -> Path:
    """A copy of the demo's snapshot with a role fewer in the first and last account."""
    other = shutil.copytree(DEMO_SNAPSHOTS / DEMO_AS_OF, tmp_path / name)
    for account in (FIRST_ACCOUNT, LAST_ACCOUNT):
        gaad = other / account / GAAD
        doc = json.loads(gaad.read_text())
        doc["RoleDetailList"] = doc["RoleDetailList"][1:]
        gaad.write_text(json.dumps(doc))
    return other


def test_a_snapshot_replaced_while_it_is_read_lands_one_collection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    snapshot = shutil.copytree(DEMO_SNAPSHOTS / DEMO_AS_OF, tmp_path / "current")
    other = _new_collection(tmp_path, "next")
    collections = (_tables(snapshot), _tables(other))
    assert collections[0] != collections[1]
    read_account, accounts = reader._read_account, []

    def replace_after_the_second_account(snap: object, account_dir: Path) -> None:
        read_account(snap, account_dir)
        accounts.append(account_dir.name)
        if len(accounts) == 2:
            _swap(snapshot, other)

    monkeypatch.setattr(reader, "_read_account", replace_after_the_second_account)
    landed = _tables(snapshot)
    # Read once with the swap after the second account, then once more, whole, on the new one.
    everyone = [FIRST_ACCOUNT, "222222222222", LAST_ACCOUNT]
    assert accounts == everyone + everyone and snapshot.is_dir()
    assert landed == collections[1]
    assert "was replaced while it was read (attempt 1 of 3): reading it again" in caplog.text


def test_a_snapshot_that_keeps_changing_fails_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = shutil.copytree(DEMO_SNAPSHOTS / DEMO_AS_OF, tmp_path / "current")
    spares = [_new_collection(tmp_path, f"next{i}") for i in range(reader.READ_ATTEMPTS)]
    read_account, accounts = reader._read_account, []

    def replace_every_time(snap: object, account_dir: Path) -> None:
        read_account(snap, account_dir)
        accounts.append(account_dir.name)
        if account_dir.name == FIRST_ACCOUNT:
            shutil.rmtree(snapshot.with_name("current.replaced"), ignore_errors=True)
            _swap(snapshot, spares.pop())

    monkeypatch.setattr(reader, "_read_account", replace_every_time)
    quarantine = Quarantine(source="snapshot", partition="current")
    with pytest.raises(reader.SnapshotChangedError, match="replaced while it was read, 3 times"):
        read_snapshot(snapshot, quarantine)
    assert accounts.count(FIRST_ACCOUNT) == reader.READ_ATTEMPTS and not spares
    assert len(quarantine) == 0  # nothing of a discarded read is kept
