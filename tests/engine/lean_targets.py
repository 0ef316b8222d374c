"""A local HTTP/1.1 target for the lean client's tests: it counts connections, and answers the cases where
HTTP clients differ (keep-alive and closing, encodings, charsets, redirects with methods, cookies and
credentials, broken answers). The stdlib threaded server on 127.0.0.1, port 0.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import threading
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from collections.abc import Iterator


@dataclass
class Seen:
    """What the server saw: connections opened and requests per connection."""

    connections: int = 0
    requests: list[tuple[int, str, str]] = field(default_factory=list)
    """(connection number, method, path) in arrival order."""
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: ClassVar[Seen]
    other_port: ClassVar[int]  # the second origin, for cross-origin redirects

    def setup(self) -> None:
        super().setup()
        with self.seen.lock:
            self.seen.connections += 1
            self.connection_number = self.seen.connections
        self.requests_here = 0

    def do_GET(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    def do_HEAD(self) -> None:
        self._route()

    def _route(self) -> None:
        self.requests_here += 1
        with self.seen.lock:
            self.seen.requests.append((self.connection_number, self.command, self.path))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        path = self.path
        if path == "/drop-second" and self.requests_here > 1:
            self.close_connection = True  # a keep-alive race: the server closes instead of answering
            return
        if path in ("/ok", "/drop-second"):
            self._send(200, json.dumps({"status": "ok"}).encode(), "application/json")
        elif path == "/echo":
            echo = {
                "method": self.command,
                "body": body,
                "authorization": self.headers.get("Authorization"),
                "cookie": self.headers.get("Cookie"),
            }
            self._send(200, json.dumps(echo).encode(), "application/json")
        elif path == "/close":
            self._send(200, b'{"status":"ok"}', "application/json", extra={"Connection": "close"})
            self.close_connection = True
        elif path == "/big":
            self._send(200, b"x" * 10_000, "text/plain")
        elif path == "/gzip":
            self._send(200, gzip.compress(b'{"status":"zipped"}'), "application/json",
                       extra={"Content-Encoding": "gzip"})
        elif path == "/deflate":
            raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
            data = raw.compress(b'{"status":"deflated"}') + raw.flush()
            self._send(200, data, "application/json", extra={"Content-Encoding": "deflate"})
        elif path == "/bad-gzip":
            self._send(200, b"this is not gzip", "text/plain", extra={"Content-Encoding": "gzip"})
        elif path == "/latin1":
            self._send(200, "café".encode("latin-1"), "text/plain; charset=latin-1")
        elif path == "/odd-charset":
            self._send(200, "café".encode(), "text/plain; charset=x-no-such-charset")
        elif path in ("/see-other", "/temporary"):
            self._redirect(303 if path == "/see-other" else 307, "/echo")
        elif path == "/login":
            self._redirect(302, "/needs-cookie", extra={"Set-Cookie": "session=abc; Path=/"})
        elif path == "/needs-cookie":
            ok = "session=abc" in (self.headers.get("Cookie") or "")
            self._send(200 if ok else 401, b'{"cookie":"%s"}' % (b"yes" if ok else b"no"), "application/json")
        elif path == "/elsewhere":
            self._redirect(302, f"http://127.0.0.1:{self.other_port}/echo")
        elif path == "/hangup":
            self.close_connection = True  # closes without a word
        elif path == "/garbage":
            self.wfile.write(b"NOT HTTP AT ALL\r\n\r\n")
            self.close_connection = True
        else:
            self._send(404, b"{}", "application/json")

    def _send(
        self, status: int, data: bytes, content_type: str, *, extra: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _redirect(self, status: int, location: str, *, extra: dict[str, str] | None = None) -> None:
        self._send(status, b"", "text/plain", extra={"Location": location, **(extra or {})})

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True


@contextlib.contextmanager
def serve_lean_target(*, idle_timeout: float | None = None) -> Iterator[tuple[str, Seen]]:
    """Two origins on 127.0.0.1 with the same paths; yields (base URL of the first, what it saw).

    `idle_timeout` makes the server close a keep-alive connection idle that long (seconds).
    """
    seen, other_seen = Seen(), Seen()
    other = _Server(("127.0.0.1", 0), type("Other", (_Handler,), {"seen": other_seen, "other_port": 0}))
    handler = type("Target", (_Handler,), {
        "seen": seen, "other_port": other.server_address[1], "timeout": idle_timeout,
    })
    server = _Server(("127.0.0.1", 0), handler)
    threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
               for s in (server, other)]
    for thread in threads:
        thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        for s in (server, other):
            s.shutdown()
            s.server_close()
