"""The explorer page: one HTML/JS template, either fed by the server's JSON endpoints (no data
embedded) or self-contained with every detection embedded as JSON (the static snapshot)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from pipelines.lib.lake import Lake, replace_private, temp_path_for
from pipelines.lib.warehouse.connection import connect

TEMPLATE_PATH = Path(__file__).resolve().parent / "explorer.html"
DATA_PLACEHOLDER = "__CIEM_DATA__"
NONCE_PLACEHOLDER = "__CIEM_NONCE__"
CSP_PLACEHOLDER = "__CIEM_CSP__"
# Only the page's own (nonce'd) script runs and it may fetch only from its own origin.
PAGE_CSP = (
    "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; "
    "img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'"
)
# Inside <script type="application/json"> only `</script` (and `<!--`) could end the element or
# change how it is parsed: `<`, `>` and `&` are written as JSON escapes, which JSON.parse reads
# back as the same characters. U+2028/2029 are escaped by ensure_ascii.
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def embed_json(payload: Any) -> str:
    """JSON text that is safe inside a <script> element whatever strings it carries."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":"), default=str).translate(
        _SCRIPT_SAFE
    )


def content_security_policy(nonce: str, header: bool = False) -> str:
    """The page's policy; as an HTTP header it also forbids framing (frame-ancestors is
    ignored in a <meta> element, so the static snapshot's policy leaves it out)."""
    policy = PAGE_CSP.format(nonce=nonce)
    return policy + "; frame-ancestors 'none'" if header else policy


def render_page(payload: Any | None, nonce: str | None = None) -> str:
    """The page; `payload` None makes it load its data from the server's /api endpoints."""
    template = TEMPLATE_PATH.read_text(encoding="utf-8")
    nonce = nonce or secrets.token_urlsafe(16)
    before, after = template.split(DATA_PLACEHOLDER, 1)
    before = before.replace(CSP_PLACEHOLDER, content_security_policy(nonce))
    before = before.replace(NONCE_PLACEHOLDER, nonce)
    after = after.replace(NONCE_PLACEHOLDER, nonce)
    return before + embed_json(payload) + after


def snapshot_path(lake: Lake) -> Path:
    return lake.root / "reports" / "explorer.html"


def write_snapshot(lake: Lake) -> tuple[Path, int]:
    """Write `<lake>/reports/explorer.html` (atomically, owner-only: it embeds every detection);
    returns its path and detection count."""
    from pipelines.lib.serve.explorer.data import snapshot_payload

    with connect(lake, read_only=True) as con:
        payload = snapshot_payload(con)
    path = snapshot_path(lake)
    tmp = temp_path_for(path)
    tmp.write_text(render_page(payload), encoding="utf-8")
    replace_private(tmp, path)
    return path, len(payload["list"].get("detections", []))
