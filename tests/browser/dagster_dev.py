"""`make dev` as a newcomer starts it: a real Dagster webserver and daemon on a free port, with
its own DAGSTER_HOME and lake, talked to over GraphQL and driven in Chromium."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOADED = "{ assetNodes { id } }"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback only)
        body = json.load(response)
    if body.get("errors"):
        raise AssertionError(f"GraphQL error: {body['errors']}")
    return body["data"]


@contextmanager
def make_dev(home: Path, env: dict[str, str] | None = None) -> Iterator[int]:
    """`make dev` on a free port until the code location has loaded; stopped at the end."""
    port = free_port()
    environment = {**os.environ, "PORT": str(port), "DAGSTER_HOME": str(home), **(env or {})}
    # The servers' log goes to a file: a pipe nobody reads fills up and stops the daemon.
    log_path = home.parent / f"make-dev-{port}.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "dev"],
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        # dagster dev ignores SIGINT when started from a background shell; restore it. The
        # usual umask: DAGSTER_HOME must be owner-only all the same.
        preexec_fn=lambda: (signal.signal(signal.SIGINT, signal.SIG_DFL), os.umask(0o022)),
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"make dev exited: {log_path.read_text()[-3000:]}")
            try:
                if graphql(port, LOADED)["assetNodes"]:
                    break
            except (OSError, KeyError, TypeError, AssertionError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError("the Dagster UI did not come up within 180 s")
            time.sleep(1)
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
