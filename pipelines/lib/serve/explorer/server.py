"""`ciem explorer`'s web app: the page and two fixed JSON endpoints on a read-only warehouse
(no endpoint takes SQL). Each request opens its own read-only connection, so a `ciem run`
can rebuild the warehouse between two requests."""

from __future__ import annotations

import re
import secrets

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from pipelines.lib.lake import Lake
from pipelines.lib.serve.explorer.data import detail_payload, list_payload
from pipelines.lib.serve.explorer.page import embed_json, render_page
from pipelines.lib.warehouse.connection import connect

_DETECTION_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")
_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class _Json(JSONResponse):
    def render(self, content: object) -> bytes:
        return embed_json(content).encode("utf-8")


def create_app(lake: Lake) -> Starlette:
    """The explorer app for one lake (answers only Host 127.0.0.1 / localhost)."""

    def page(request: Request) -> Response:
        nonce = secrets.token_urlsafe(16)
        return HTMLResponse(render_page(None, nonce), headers=_HEADERS)

    def api_list(request: Request) -> Response:
        with connect(lake, read_only=True) as con:
            return _Json(list_payload(con), headers=_HEADERS)

    def api_detection(request: Request) -> Response:
        detection_id = request.path_params["detection_id"]
        if not _DETECTION_ID.match(detection_id):
            return _Json({"error": "not a detection id"}, status_code=400, headers=_HEADERS)
        with connect(lake, read_only=True) as con:
            detail = detail_payload(con, detection_id)
        if detail is None:
            return _Json({"error": "no such detection"}, status_code=404, headers=_HEADERS)
        return _Json(detail, headers=_HEADERS)

    return Starlette(
        routes=[
            Route("/", page),
            Route("/api/list", api_list),
            Route("/api/detections/{detection_id}", api_detection),
        ],
        middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost"]),
        ],
    )
