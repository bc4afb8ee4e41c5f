"""`make dev` serves the Dagster UI on the project: every asset and the nightly schedule."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from pipelines.definitions import defs

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback only)
        return json.load(response)["data"]


@pytest.fixture
def dagster_ui(tmp_path: Path):
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "DAGSTER_HOME": str(tmp_path / "dagster_home")}
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "dev"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        # dagster dev ignores SIGINT when started from a background shell; restore it. The
        # usual umask: DAGSTER_HOME must be owner-only all the same.
        preexec_fn=lambda: (signal.signal(signal.SIGINT, signal.SIG_DFL), os.umask(0o022)),
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"make dev exited: {proc.stdout.read().decode()[-3000:]}")
            try:
                data = _graphql(port, QUERY)
                if data["assetNodes"]:
                    break
            except (OSError, KeyError, TypeError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError("the Dagster UI did not come up within 120 s")
            time.sleep(1)
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


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
    readable = {
        (str(p.relative_to(tmp_path)), oct(p.stat().st_mode & 0o777))
        for p in [home, *home.rglob("*")]
        if p.stat().st_mode & 0o077
    }
    assert readable == set()
