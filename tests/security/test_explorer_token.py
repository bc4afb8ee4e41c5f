"""`ciem explorer` is private by default (issue 18, item 3): a random token per start, printed in
the URL as Jupyter does; every request without it (the page, the API, an unknown path) gets 403,
a wrong token too; the right one from the URL, the cookie the URL sets, or an
`Authorization: token` header gets 200; `--no-token` opts out. Every response forbids framing
(X-Frame-Options and the policy's frame-ancestors)."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest

from pipelines.lib.lake import Lake
from pipelines.lib.serve.explorer.server import FORBIDDEN_TEXT
from tests.browser import warehouse as w
from tests.browser.conftest import split_url, start_explorer, stop

PATHS = ("", "api/list", "api/detections/d-gap", "api/query?sql=select%201")


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    return w.build_small(tmp_path_factory.mktemp("explorer-token"))


@pytest.fixture(scope="module")
def served(lake: Lake, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, token) of `ciem explorer` as a user starts it."""
    out = tmp_path_factory.mktemp("explorer-out") / "stdout"
    proc, url = start_explorer(lake.root, stdout=out)
    base, token = split_url(url)
    assert token
    yield base, token
    stop(proc)


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Message, bytes]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 (loopback)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def assert_no_framing(headers: Message) -> None:
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"


def test_the_printed_url_carries_a_long_random_token(served: tuple[str, str]) -> None:
    _, token = served
    assert len(token) >= 40  # 32 random bytes, URL-safe


def test_without_the_token_everything_is_403(served: tuple[str, str]) -> None:
    base, _ = served
    for path in PATHS:
        status, headers, body = get(base + path)
        assert status == 403, path
        assert_no_framing(headers)
        assert body.decode() == FORBIDDEN_TEXT  # says what to do, shows nothing


def test_a_wrong_token_is_403_wherever_it_is_presented(served: tuple[str, str]) -> None:
    base, token = served
    port = base.rsplit(":", 1)[1].rstrip("/")
    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
    for path in PATHS:
        sep = "&" if "?" in path else "?"
        assert get(f"{base}{path}{sep}token={wrong}")[0] == 403, path
        assert get(f"{base}{path}{sep}token=")[0] == 403, path
        assert get(base + path, {"Authorization": f"token {wrong}"})[0] == 403, path
        assert get(base + path, {"Authorization": f"Bearer {token}"})[0] == 403, path
        cookie = {"Cookie": f"ciem_explorer_token_{port}={wrong}"}
        assert get(base + path, cookie)[0] == 403, path
        # The token of another port's explorer (cookies are per host, not per port).
        other = {"Cookie": f"ciem_explorer_token_1={token}"}
        assert get(base + path, other)[0] == 403, path
        assert get(base + path, {"Cookie": f"ciem_explorer_token_{port}=caf\u00e9"})[0] == 403


def test_the_right_token_serves_the_page_and_sets_the_cookie_the_api_calls_carry(
    served: tuple[str, str],
) -> None:
    base, token = served
    port = base.rsplit(":", 1)[1].rstrip("/")
    status, headers, body = get(f"{base}?token={token}")
    assert status == 200
    assert_no_framing(headers)
    assert b'id="ciem-data">null</script>' in body  # the live page: no data embedded
    cookie = headers["Set-Cookie"]
    name_value, *attributes = [part.strip() for part in cookie.split(";")]
    assert name_value == f"ciem_explorer_token_{port}={token}"
    assert {"Path=/", "HttpOnly", "SameSite=Strict"} <= set(attributes)
    # The page's own policy, with its nonce, is the header's too (plus frame-ancestors).
    policy = headers["Content-Security-Policy"]
    assert "script-src 'nonce-" in policy and policy.endswith("; frame-ancestors 'none'")
    meta = policy.removesuffix("; frame-ancestors 'none'")
    assert f'<meta http-equiv="Content-Security-Policy" content="{meta}">'.encode() in body
    for path in PATHS[1:3]:
        status, headers, body = get(base + path, {"Cookie": name_value})
        assert status == 200, path
        assert_no_framing(headers)
        assert "Set-Cookie" not in headers  # only the tokened URL sets it
        assert get(base + path, {"Authorization": f"token {token}"})[0] == 200
        sep = "&" if "?" in path else "?"
        assert get(f"{base}{path}{sep}token={token}")[0] == 200
    assert get(base + "api/detections/no-such-id", {"Cookie": name_value})[0] == 404
    assert get(base + "api/query?sql=select%201", {"Cookie": name_value})[0] == 404
    # The Host check still comes first (DNS rebinding), token or not.
    rebinding = {"Cookie": name_value, "Host": "attacker.example"}
    assert get(base + "api/list", rebinding)[0] == 400


def test_each_start_has_its_own_token(served: tuple[str, str], lake: Lake, tmp_path: Path) -> None:
    _, first = served
    proc, url = start_explorer(lake.root, stdout=tmp_path / "stdout")
    try:
        base, second = split_url(url)
        assert second and second != first
        assert get(f"{base}api/list?token={first}")[0] == 403
        assert get(f"{base}api/list?token={second}")[0] == 200
    finally:
        stop(proc)
    printed = (tmp_path / "stdout").read_text()
    assert f"Identity Risks Explorer: {base}?token={second}\n" in printed


def test_no_token_serves_anyone_and_says_so(lake: Lake, tmp_path: Path) -> None:
    proc, url = start_explorer(lake.root, "--no-token", stdout=tmp_path / "stdout")
    try:
        base, token = split_url(url)
        assert token is None and url == base
        for path in PATHS[:3]:
            status, headers, _ = get(base + path)
            assert status == 200, path
            assert_no_framing(headers)
            assert "Set-Cookie" not in headers
    finally:
        stop(proc)
    assert "--no-token" in (tmp_path / "stdout").read_text()
