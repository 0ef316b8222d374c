"""A real HTTP(S) target on 127.0.0.1 (port 0) for the probe tests: the stdlib threaded server in a thread.

Paths: /ok (JSON), /status/<code>, /slow (answers after 3 s), /huge (an endless chunked body),
/redirect/<n> (n hops, then /ok), /loop (redirects to itself), /echo (method, X-Token and body as JSON).
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

SELF_SIGNED = Path(__file__).parent / "data" / "selfsigned.pem"
"""A self-signed certificate (and key) for localhost / 127.0.0.1, valid until 2126."""

OK_BODY = {"status": "ok", "nested": {"count": 3}, "items": [1, 2, 3]}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        path = self.path
        if path == "/ok":
            self._json(200, OK_BODY)
        elif path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            self._json(code, {"status": "error" if code >= 400 else "ok"})
        elif path == "/slow":
            time.sleep(3)
            self._json(200, OK_BODY)
        elif path == "/huge":
            self._endless()
        elif path.startswith("/redirect/"):
            hops = int(path.rsplit("/", 1)[1])
            self._redirect("/ok" if hops <= 1 else f"/redirect/{hops - 1}")
        elif path == "/loop":
            self._redirect("/loop")
        elif path == "/echo":
            self._echo()
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self) -> None:
        self._echo()

    def _echo(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        self._json(200, {"method": self.command, "token": self.headers.get("X-Token"), "body": body})

    def _json(self, status: int, payload: object) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _endless(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"x" * 65536
        frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        with contextlib.suppress(OSError):  # the probe hangs up once it has read enough
            for _ in range(100_000):  # ~6.5 GB: "endless" for any probe that does not cap its read
                self.wfile.write(frame)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


class TargetServer(ThreadingHTTPServer):
    daemon_threads = True

    @property
    def port(self) -> int:
        return int(self.server_address[1])


@contextlib.contextmanager
def serve(*, tls: bool = False) -> Iterator[str]:
    """Serve the target paths on 127.0.0.1 in a thread; yields the base URL."""
    server = TargetServer(("127.0.0.1", 0), _Handler)
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(SELF_SIGNED)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
