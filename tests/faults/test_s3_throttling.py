"""A CloudTrail bucket that throttles and fails a share of requests (issue 14, item 5).

The demo's CloudTrail is uploaded to the moto server; landing reads it through a proxy on
loopback that answers every third request with S3's `503 SlowDown` or `500 InternalError`
instead of passing it on. Every day lands exactly the events of a local landing (whole rows):
the retries of botocore/s3fs absorb the failures, and nothing is quarantined or counted twice
because a request failed.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import duckdb
import pytest
import s3fs

from pipelines.lib.lake import Lake
from pipelines.lib.land.cloudtrail import CloudTrailSource, file_day
from pipelines.lib.land.cloudtrail_landing import land_day
from tests.faults.harness import DEMO_CLOUDTRAIL

BUCKET = "ciem-throttled-trail"
DAYS = {date(2026, 11, 10), date(2026, 11, 11), date(2026, 11, 12)}
FAILURES = (
    (
        503,
        b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>",
    ),
    (
        500,
        b"<Error><Code>InternalError</Code>"
        b"<Message>We encountered an internal error.</Message></Error>",
    ),
)


@pytest.fixture
def flaky_endpoint(moto_endpoint: str) -> Iterator[dict]:
    """A proxy to the moto server failing every third request; yields its URL and counts."""
    target = urlsplit(moto_endpoint)
    counts = {"requests": 0, "failed": 0}
    lock = threading.Lock()

    class Proxy(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                counts["requests"] += 1
                n = counts["requests"]
                if n % 3 == 0:
                    counts["failed"] += 1
            if n % 3 == 0:
                status, error = FAILURES[(n // 3) % 2]
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(error)))
                self.end_headers()
                self.wfile.write(error)
                return
            upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            upstream.request(self.command, self.path, body=body or None, headers=headers)
            response = upstream.getresponse()
            data = response.read()
            self.send_response(response.status)
            for key, value in response.getheaders():
                if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            upstream.close()

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        def log_message(self, *args: object) -> None:
            pass

    # s3fs caches its filesystems by arguments, not by AWS_ENDPOINT_URL: one made for the proxy
    # must not serve later tests (nor one made before serve this one)
    s3fs.S3FileSystem.clear_instance_cache()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{server.server_address[1]}", "counts": counts}
    finally:
        server.shutdown()
        server.server_close()
        s3fs.S3FileSystem.clear_instance_cache()


def _events(lake: Lake) -> Counter:
    with duckdb.connect() as con:
        rows = con.execute(
            "select * from read_parquet($g)",
            {"g": str(lake.root / "parquet" / "raw_cloudtrail_events" / "day=*" / "*.parquet")},
        )
        columns = [c[0] for c in rows.description]
        return Counter(
            json.dumps(dict(zip(columns, r, strict=True)), default=str, sort_keys=True)
            for r in rows.fetchall()
        )


def _quarantined(lake: Lake) -> list[dict]:
    folder = lake.root / "parquet" / "quarantine"
    return [r for p in folder.glob("*.parquet") for r in duckdb.read_parquet(str(p)).fetchall()]


def test_a_throttling_bucket_lands_every_event_once(
    aws_env: str, flaky_endpoint: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    files = [p for p in sorted(DEMO_CLOUDTRAIL.rglob("*.json.gz")) if file_day(p) in DAYS]
    for path in files:
        s3.upload_file(str(path), BUCKET, f"trail/{path.relative_to(DEMO_CLOUDTRAIL).as_posix()}")
    days = sorted(DAYS)
    local = Lake.at(tmp_path / "local")
    for day in days:
        land_day(CloudTrailSource(DEMO_CLOUDTRAIL), local, day)

    monkeypatch.setenv("AWS_ENDPOINT_URL", flaky_endpoint["url"])
    remote = Lake.at(tmp_path / "remote")
    source = CloudTrailSource(f"s3://{BUCKET}/trail")
    for day in days:
        land_day(source, remote, day)
    counts = flaky_endpoint["counts"]
    assert counts["failed"] >= len(files) // 3  # the source really failed a share of the requests
    assert _events(remote) == _events(local)
    assert _quarantined(remote) == []
