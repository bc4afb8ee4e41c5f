"""Browser fixtures: one headless Chromium (Debian's `chromium`, installed by `make setup`) for
the session, driven by Playwright; explorer servers and static snapshots per module."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = os.environ.get("CIEM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "explorer"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    # Never skipped: a machine without Chromium fails here, saying how to install it.
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: run `make setup` (apt-get install chromium)"
        )
    with sync_playwright() as p:
        # Playwright gives each launch a fresh temporary profile (user-data-dir).
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000)
        yield b
        b.close()


class Watched:
    """A page with what must never happen recorded: dialogs and script errors."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: self.errors.append(str(e)))


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    # The page's Content-Security-Policy is bypassed so that the hostile-data test proves the
    # escaping itself (and so that Playwright can evaluate its own expressions).
    context = browser.new_context(viewport={"width": 1400, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield Watched(page)
    context.close()


def shot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


URL_LINE = re.compile(r"^Identity Risks Explorer: (http://127\.0\.0\.1:\d+/\S*)$", re.M)


def start_explorer(
    lake: Path, *extra: str, stdout: Path | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """`ciem explorer` as a user starts it; returns the process and the URL it printed (with
    its token, unless `--no-token` is in `extra`) once the server answers."""
    port = _free_port()
    out = stdout or Path(tempfile.mkstemp(prefix="ciem-explorer-", suffix=".out")[1])
    with out.open("wb") as sink:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pipelines.cli",
                "explorer",
                "--lake",
                str(lake),
                "--port",
                str(port),
                *extra,
            ],
            cwd=REPO,
            stdout=sink,
            stderr=subprocess.PIPE,
        )
    deadline = time.monotonic() + 30
    while True:
        printed = URL_LINE.search(out.read_text(encoding="utf-8", errors="replace"))
        if printed:
            url = printed.group(1)
            try:
                with urllib.request.urlopen(url, timeout=5):  # noqa: S310 (loopback)
                    if stdout is None:
                        out.unlink()
                    return proc, url
            except OSError:
                pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError(f"ciem explorer did not start: {err}") from None
        time.sleep(0.2)


def split_url(url: str) -> tuple[str, str | None]:
    """(base URL ending in /, token or None) of a URL `ciem explorer` printed."""
    parts = urllib.parse.urlsplit(url)
    token = urllib.parse.parse_qs(parts.query).get("token", [None])[0]
    return f"{parts.scheme}://{parts.netloc}/", token


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
