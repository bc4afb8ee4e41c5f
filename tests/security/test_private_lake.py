"""The lake is private by default (issue 18, item 3): `ciem run` under the usual umask 022 leaves
no file or directory that another user of the machine could read; an existing world-readable
lake is closed off; the library writers are owner-only even without the CLI's umask; whatever
loads the Dagster code location (the webserver's code server, each run's worker) writes with
umask 077."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from pipelines.lib.lake import Lake, write_parquet
from pipelines.lib.serve.explorer.page import write_snapshot
from tests.faults.harness import DEMO_AS_OF, DEMO_CLOUDTRAIL, DEMO_SNAPSHOTS, ROOT

AS_OF = date(2026, 11, 20)


def _umask_022() -> None:
    os.umask(0o022)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def offenders(root: Path) -> set[tuple[str, str]]:
    """(path under root, mode) of every entry that is not 0700 (directory) or 0600 (file)."""
    found = set()
    for path in [root, *root.rglob("*")]:
        expected = 0o700 if path.is_dir() and not path.is_symlink() else 0o600
        if mode(path) != expected:
            found.add((str(path.relative_to(root)), oct(mode(path))))
    return found


@contextmanager
def umask(value: int) -> Iterator[None]:
    previous = os.umask(value)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture(scope="module")
def run_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`ciem run` on the demo's inputs, started as a user with umask 022 starts it."""
    lake = tmp_path_factory.mktemp("private") / "lake"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "run",
            "--snapshot",
            str(DEMO_SNAPSHOTS / DEMO_AS_OF),
            "--cloudtrail",
            str(DEMO_CLOUDTRAIL),
            "--as-of",
            DEMO_AS_OF,
            "--lake",
            str(lake),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        preexec_fn=_umask_022,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return lake


def test_ciem_run_under_umask_022_leaves_only_owner_only_files(run_lake: Path) -> None:
    entries = list(run_lake.rglob("*"))
    # What the lake must hold for the check to mean something: the warehouse, landed tables,
    # marts, the history and the explorer's report.
    names = {p.relative_to(run_lake).as_posix() for p in entries}
    assert {"warehouse/ciem.duckdb", "reports/explorer.html"} <= names
    assert any(n.startswith("parquet/") for n in names)
    assert any(n.startswith("marts/") for n in names)
    assert any(n.startswith("history/") for n in names)
    assert len(entries) > 50
    assert offenders(run_lake) == set()


def test_an_existing_world_readable_lake_is_closed_off(tmp_path: Path) -> None:
    """A lake left 0755/0644 by an earlier version: its root becomes 0700 the first time ciem
    opens it, so nothing under it can be reached by another user."""
    root = tmp_path / "old-lake"
    (root / "warehouse").mkdir(parents=True)
    (root / "warehouse" / "ciem.duckdb").write_bytes(b"")
    root.chmod(0o755)
    (root / "warehouse").chmod(0o755)
    Lake.at(root)
    assert mode(root) == 0o700


def test_a_folder_that_is_not_a_lake_keeps_its_mode(tmp_path: Path) -> None:
    folder = tmp_path / "home-like"
    folder.mkdir()
    (folder / "notes.txt").write_text("x")
    folder.chmod(0o755)
    Lake.at(folder)
    assert mode(folder) == 0o755


def test_library_writers_are_owner_only_without_the_cli_umask(tmp_path: Path) -> None:
    """write_parquet, the warehouse directory (DuckDB creates its files with the umask) and the
    explorer report, called directly under umask 022."""
    with umask(0o022):
        lake = Lake.at(tmp_path / "lake")
        write_parquet(pa.table({"x": [1]}), lake.history_path(AS_OF))
        with duckdb.connect(str(lake.warehouse_path)) as con:
            con.execute(
                "create table detections as select 'd1' as detection_id, 'r' as rule_id, "
                "'high' as severity, 'arn:x' as resource_arn, 'iam_user' as resource_type, "
                "'1' as account_id, 't' as title, date '2026-11-20' as first_seen_at, "
                "date '2026-11-20' as last_seen_at, 'open' as status, '{}' as evidence, "
                "'fix' as remediation"
            )
        write_snapshot(lake)
    root = lake.root
    assert mode(root) == 0o700
    assert mode(root / "warehouse") == 0o700
    # DuckDB made its database 0644 (the umask): unreachable all the same, behind 0700 folders.
    assert {p for p, _ in offenders(root)} <= {"warehouse/ciem.duckdb"}
    assert mode(lake.history_path(AS_OF)) == 0o600
    assert mode(root / "reports" / "explorer.html") == 0o600


def test_a_folder_made_for_the_lake_is_closed_off_and_its_warehouse_private(
    tmp_path: Path,
) -> None:
    """`mkdir lake` (0755) and then the warehouse opened first: the warehouse directory exists,
    0700, before DuckDB creates anything."""
    root = tmp_path / "made-by-user"
    root.mkdir()
    root.chmod(0o755)
    with umask(0o022):
        path = Lake.at(root).warehouse_path
    assert (mode(root), mode(path.parent)) == (0o700, 0o700)


def test_loading_the_dagster_code_location_sets_umask_077() -> None:
    """The webserver and the daemon load pipelines.definitions in their code server and in
    each run's worker: from then on, what they create is owner-only."""
    code = "import os; import pipelines.definitions; current = os.umask(0); print(oct(current))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        preexec_fn=_umask_022,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "0o77"


def test_the_cli_restores_the_callers_umask(tmp_path: Path) -> None:
    """`main()` called in process (tests, notebooks) leaves the caller's umask as it was, and a
    lake that does not exist is not created by a command that only reads it."""
    from pipelines.cli import main

    with umask(0o022):
        assert main(["query", "select 1", "--lake", str(tmp_path / "typo")]) == 1
        assert os.umask(0o022) == 0o022
    assert not (tmp_path / "typo").exists()
