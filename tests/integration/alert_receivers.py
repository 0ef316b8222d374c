"""Real local endpoints for alert deliveries: an HTTP receiver for Apprise's json://, an SMTP server
(aiosmtpd) for mailto://, and a target whose health a test switches. All on 127.0.0.1, in threads."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator


@dataclass(frozen=True)
class Received:
    """One delivery as it arrived: when (time.time()), the title and the message body."""

    at: float
    title: str
    body: str


class JsonReceiver(ThreadingHTTPServer):
    """Accepts Apprise json:// POSTs. `fail_next` answers that many with HTTP 500; `hold_next` keeps
    that many requests waiting (recorded on arrival) until `release` is set — a send in flight."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _JsonHandler)
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.fail_next = 0
        self.hold_next = 0
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server_address[1]}/hook"

    def titles(self) -> list[str]:
        with self.lock:
            return [r.title for r in self.received]


class _JsonHandler(BaseHTTPRequestHandler):
    server: JsonReceiver

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        payload: dict[str, Any] = json.loads(self.rfile.read(length) or b"{}")
        arrived = time.time()
        with self.server.lock:
            self.server.received.append(
                Received(arrived, str(payload.get("title")), str(payload.get("message")))
            )
            fail = self.server.fail_next > 0
            hold = self.server.hold_next > 0
            if fail:
                self.server.fail_next -= 1
            if hold:
                self.server.hold_next -= 1
        if hold:
            self.server.release.wait(30)
        self.send_response(500 if fail else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


class ToggleTarget(ThreadingHTTPServer):
    """An HTTP target: every path answers 200 while `healthy`, else 503."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ToggleHandler)
        self.healthy = True

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ToggleHandler(BaseHTTPRequestHandler):
    server: ToggleTarget
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        status = 200 if self.server.healthy else 503
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


@contextlib.contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[Any]:
    """Run `server` in a thread for the duration of the block."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        if isinstance(server, JsonReceiver):
            server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class MailBox:
    """What the SMTP server received: (time.time(), subject, body) per message."""

    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content or envelope.content)
        part = message.get_payload(0) if message.is_multipart() else message
        body = part.get_payload(decode=True)  # type: ignore[union-attr]
        text = body.decode(errors="replace") if isinstance(body, bytes) else str(body)
        with self.lock:
            self.messages.append(Received(time.time(), str(message["Subject"]), text))
        return "250 OK"

    def subjects(self) -> list[str]:
        with self.lock:
            return [m.title for m in self.messages]


@contextlib.contextmanager
def smtp_server() -> Iterator[tuple[MailBox, int]]:
    """An SMTP server (aiosmtpd, in its own thread) on a free local port."""
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    box = MailBox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()
