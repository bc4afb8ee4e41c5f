"""`make dev` serves the Dagster UI on the project: every asset and the nightly schedule."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from pipelines.definitions import defs
from tests.browser.dagster_dev import graphql, make_dev

ROOT = Path(__file__).resolve().parents[2]
QUERY = """
{
  assetNodes { assetKey { path } }
  repositoriesOrError {
    ... on RepositoryConnection {
      nodes { location { name } schedules { name scheduleState { status } } }
    }
  }
}
"""


@pytest.fixture
def dagster_ui(tmp_path: Path):
    with make_dev(tmp_path / "dagster_home") as port:
        yield port


def _graphql(port: int, query: str) -> dict:
    return graphql(port, query)


def test_make_dev_serves_the_asset_graph_and_the_stopped_nightly_schedule(
    dagster_ui: int, tmp_path: Path
) -> None:
    data = _graphql(dagster_ui, QUERY)
    served = {"/".join(n["assetKey"]["path"]) for n in data["assetNodes"]}
    expected = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert served == expected
    [repository] = data["repositoriesOrError"]["nodes"]
    assert repository["location"]["name"] == "ciem"
    assert repository["schedules"] == [
        {"name": "ciem_nightly_schedule", "scheduleState": {"status": "STOPPED"}}
    ]
    with urllib.request.urlopen(f"http://127.0.0.1:{dagster_ui}/", timeout=10) as response:
        assert response.status == 200
        assert b"Dagster" in response.read()
    # DAGSTER_HOME (runs.db keeps the first rows of every table as previews) is owner-only.
    home = tmp_path / "dagster_home"
    assert (home / "dagster.yaml").exists()
    assert _readable_by_others(home, tmp_path) == set()


def _readable_by_others(home: Path, root: Path) -> set[tuple[str, str]]:
    """Files and folders under `home` that group or others may read.

    The running server checkpoints SQLite (a `-wal` file may vanish between listing and
    stat); a file gone by then holds nothing to leak, so it is skipped.
    """
    readable = set()
    for path in [home, *home.rglob("*")]:
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            continue
        if mode & 0o077:
            readable.add((str(path.relative_to(root)), oct(mode & 0o777)))
    return readable
