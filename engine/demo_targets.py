"""Local targets for `pulsewatch demo`: healthy, slow, failing and flapping endpoints on 127.0.0.1.

A newcomer should see states change within seconds without any network, so the flapping endpoint
switches every 10 s and the demo checks run every 2 s. The server is the stdlib's threading HTTP
server: it is a stand-in for the services a team runs, not part of the engine's request path.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

FLAP_PERIOD = 10.0
"""Seconds the flapping endpoint stays up, then down."""


class _DemoHandler(BaseHTTPRequestHandler):
    server_version = "pulsewatch-demo"

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == "/healthy":
            self._reply(200, {"status": "ok", "version": "1.4.2"})
        elif path == "/slow":
            time.sleep(1.2)
            self._reply(200, {"status": "ok"})
        elif path == "/failing":
            self._reply(503, {"status": "error", "detail": "upstream unavailable"})
        elif path == "/flapping":
            up = int(time.time() // FLAP_PERIOD) % 2 == 0
            self._reply(200 if up else 500, {"status": "ok" if up else "error"})
        elif path == "/queue":
            depth = int(time.time() * 7) % 160
            self._reply(200, {"status": "ok", "queue": {"depth": depth}})
        else:
            self._reply(404, {"error": "not found"})

    def _reply(self, status: int, payload: dict[str, object]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        """Silence per-request logging: the console owns the terminal."""


@contextlib.contextmanager
def serve_demo_targets() -> Iterator[str]:
    """Serve the demo endpoints on 127.0.0.1 (a free port) in a background thread.

    Yields:
        The base URL, e.g. "http://127.0.0.1:43121".
    """
    server = ThreadingHTTPServer(("127.0.0.1", 0), _DemoHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="demo-targets", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def demo_config_text(base_url: str) -> str:
    """The YAML config of the demo, pointing at the local targets."""
    host_port = base_url.removeprefix("http://")
    return f"""\
checks:
  - name: storefront
    url: {base_url}/healthy
    interval: 2s
    timeout: 1s
    conditions: ["[STATUS] == 200", "[BODY].status == ok"]
    tags: [web]
  - name: search-api
    url: {base_url}/slow
    interval: 2s
    timeout: 2s
    conditions: ["[STATUS] == 200", "[RESPONSE_TIME] < 800"]
    failure_threshold: 2
    tags: [api]
  - name: payments
    url: {base_url}/failing
    interval: 2s
    timeout: 1s
    conditions: ["[STATUS] == 200"]
    failure_threshold: 2
    tags: [api]
  - name: login
    url: {base_url}/flapping
    interval: 2s
    timeout: 1s
    conditions: ["[STATUS] == 200"]
    failure_threshold: 2
    success_threshold: 2
    tags: [web]
  - name: job-queue
    url: {base_url}/queue
    interval: 2s
    timeout: 1s
    conditions: ["[STATUS] == 200", "[BODY].queue.depth < 120"]
    tags: [workers]
  - name: database-port
    url: tcp://{host_port}
    interval: 2s
    timeout: 1s
    tags: [infra]
  - name: cache-port
    url: tcp://127.0.0.1:{_closed_port()}
    interval: 2s
    timeout: 1s
    tags: [infra]
"""
