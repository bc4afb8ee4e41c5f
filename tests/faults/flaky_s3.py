"""An S3 endpoint that throttles and fails a share of requests: a proxy on loopback in front of
the moto server that answers every third request with S3's `503 SlowDown` or `500
InternalError` instead of passing it on (issue 14, item 5)."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
import s3fs

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
