"""`ciem explorer`'s web app: the page and two fixed JSON endpoints on a read-only warehouse
(no endpoint takes SQL). Each request opens its own read-only connection, so a `ciem run`
can rebuild the warehouse between two requests.

Private by default, as Jupyter is: every start has a random token, and a request without it
gets 403 (whatever the path). The token is accepted from `?token=` on any URL (the printed
one), from the cookie that such a request sets (HttpOnly, SameSite=Strict: the page's own API
calls carry it), or from an `Authorization: token <TOKEN>` header (scripts). `token=None`
(`ciem explorer --no-token`) serves any local user. Every response forbids framing."""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from pipelines.lib.lake import Lake
from pipelines.lib.serve.explorer.data import detail_payload, list_payload
from pipelines.lib.serve.explorer.page import content_security_policy, embed_json, render_page
from pipelines.lib.warehouse.connection import connect

_DETECTION_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")
# On every response (the page's own policy, with its nonce, replaces the default one).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
}
FORBIDDEN_TEXT = (
    "403 Forbidden: this Identity Risks Explorer needs its token. Open the URL that "
    "`ciem explorer` printed (http://127.0.0.1:PORT/?token=...).\n"
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def new_token() -> str:
    """A token for one start of the explorer (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def cookie_name(scope: Scope) -> str:
    """Cookies are per host, not per port: one name per listening port, so that two explorers
    on the same machine never overwrite each other's token."""
    server = scope.get("server") or ("", 0)
    return f"ciem_explorer_token_{server[1]}"


def _same(presented: str | None, token: str) -> bool:
    if not presented:
        return False
    return secrets.compare_digest(presented.encode("utf-8"), token.encode("utf-8"))


class TokenGuard:
    """ASGI middleware: 403 without the token; the security headers on every response; the
    token cookie set when the token came in the URL."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        set_cookie: str | None = None
        if self.token is not None:
            conn = HTTPConnection(scope)
            name = cookie_name(scope)
            scheme, _, credential = conn.headers.get("authorization", "").partition(" ")
            from_url = _same(conn.query_params.get("token"), self.token)
            if not (
                from_url
                or _same(conn.cookies.get(name), self.token)
                or (scheme.lower() == "token" and _same(credential.strip(), self.token))
            ):
                await PlainTextResponse(FORBIDDEN_TEXT, status_code=403)(
                    scope, receive, self._with_headers(send, None)
                )
                return
            if from_url:
                set_cookie = f"{name}={self.token}; Path=/; HttpOnly; SameSite=Strict"
        await self.app(scope, receive, self._with_headers(send, set_cookie))

    @staticmethod
    def _with_headers(send: Send, set_cookie: str | None) -> Send:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if set_cookie:
                    headers.append("Set-Cookie", set_cookie)
            await send(message)

        return send_with_headers


class _Json(JSONResponse):
    def render(self, content: object) -> bytes:
        return embed_json(content).encode("utf-8")


def create_app(lake: Lake, *, token: str | None) -> Starlette:
    """The explorer app for one lake (answers only Host 127.0.0.1 / localhost); `token` None
    serves without one (`--no-token`)."""

    def page(request: Request) -> Response:
        nonce = secrets.token_urlsafe(16)
        return HTMLResponse(
            render_page(None, nonce),
            headers={"Content-Security-Policy": content_security_policy(nonce, header=True)},
        )

    def api_list(request: Request) -> Response:
        with connect(lake, read_only=True) as con:
            return _Json(list_payload(con))

    def api_detection(request: Request) -> Response:
        detection_id = request.path_params["detection_id"]
        if not _DETECTION_ID.match(detection_id):
            return _Json({"error": "not a detection id"}, status_code=400)
        with connect(lake, read_only=True) as con:
            detail = detail_payload(con, detection_id)
        if detail is None:
            return _Json({"error": "no such detection"}, status_code=404)
        return _Json(detail)

    return Starlette(
        routes=[
            Route("/", page),
            Route("/api/list", api_list),
            Route("/api/detections/{detection_id}", api_detection),
        ],
        middleware=[
            # Outermost first: a foreign Host (DNS rebinding) is refused before anything else.
            Middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost"]),
            Middleware(TokenGuard, token=token),
        ],
    )
