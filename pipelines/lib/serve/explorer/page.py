"""The explorer page: one HTML/JS template, either fed by the server's JSON endpoints (no data
embedded) or self-contained with every detection embedded as JSON (the static snapshot)."""

from __future__ import annotations

import json
import secrets
import shutil
import tempfile
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


def _page_around_data(nonce: str) -> tuple[str, str]:
    """The page before and after its embedded JSON, with its nonce and policy."""
    template = TEMPLATE_PATH.read_text(encoding="utf-8")
    before, after = template.split(DATA_PLACEHOLDER, 1)
    before = before.replace(CSP_PLACEHOLDER, content_security_policy(nonce))
    return before.replace(NONCE_PLACEHOLDER, nonce), after.replace(NONCE_PLACEHOLDER, nonce)


def render_page(payload: Any | None, nonce: str | None = None) -> str:
    """The page; `payload` None makes it load its data from the server's /api endpoints."""
    before, after = _page_around_data(nonce or secrets.token_urlsafe(16))
    return before + embed_json(payload) + after


def snapshot_path(lake: Lake) -> Path:
    return lake.root / "reports" / "explorer.html"


# Detections whose side panels are built and written at a time: the page embeds every one (a
# dense organization has tens of thousands, each with its resource's relationships and
# insights), so the file is written as they come and never held whole.
DETECTIONS_PER_CHUNK = 500


def write_snapshot(
    lake: Lake, detections_per_chunk: int = DETECTIONS_PER_CHUNK
) -> tuple[Path, int]:
    """Write `<lake>/reports/explorer.html` (atomically, owner-only: it embeds every detection);
    returns its path and detection count. The embedded JSON is what `snapshot_payload` returns,
    written a chunk of detections at a time (a resource's detections in one chunk)."""
    path = snapshot_path(lake)
    tmp = temp_path_for(path)
    try:
        with connect(lake, read_only=True) as con, tmp.open("w", encoding="utf-8") as out:
            detections = _write_page(con, out, detections_per_chunk, tmp.parent)
        replace_private(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path, detections


def _chunks(listing: dict[str, Any], size: int) -> list[list[str]]:
    """The listed detection ids in chunks of about `size`, a resource's ids in one chunk (its
    side panel part is written once)."""
    from pipelines.lib.serve.explorer.data import LIST_COLUMNS

    by_resource: dict[Any, list[str]] = {}
    resource = LIST_COLUMNS.index("resource_arn")
    for row in listing.get("detections", []):
        by_resource.setdefault(row[resource], []).append(row[0])
    chunks: list[list[str]] = [[]]
    for ids in by_resource.values():
        if chunks[-1] and len(chunks[-1]) + len(ids) > size:
            chunks.append([])
        chunks[-1].extend(ids)
    return [c for c in chunks if c]


def _write_page(con: Any, out: Any, detections_per_chunk: int, side_dir: Path) -> int:
    from pipelines.lib.serve.explorer import insights
    from pipelines.lib.serve.explorer.data import catalog, detail_payloads, list_payload

    before, after = _page_around_data(secrets.token_urlsafe(16))
    out.write(before)
    listing = list_payload(con)
    out.write('{"list":' + embed_json(listing) + ',"details":{')
    # the resources' parts go to a side file (owner-only), appended after the details
    with tempfile.TemporaryFile("w+", encoding="utf-8", dir=side_dir) as side:
        separator = side_separator = ""
        # the Insights rows of every principal, read from the mart once (not once a chunk)
        with insights.page_insights(con, catalog(con).get(insights.MART)):
            for chunk in _chunks(listing, detections_per_chunk):
                details, resources = detail_payloads(con, chunk, insights.PAGE)
                for key, value in details.items():
                    out.write(f"{separator}{embed_json(key)}:{embed_json(value)}")
                    separator = ","
                for key, value in resources.items():
                    side.write(f"{side_separator}{embed_json(key)}:{embed_json(value)}")
                    side_separator = ","
        out.write('},"resources":{')
        side.seek(0)
        shutil.copyfileobj(side, out)
    out.write("}}")
    out.write(after)
    return len(listing.get("detections", []))
