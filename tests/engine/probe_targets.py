"""Real servers for the probe tests: certificates from a test CA (trustme), HTTP(S) over IPv4 or IPv6, an
HTTP proxy, and a DNS responder built with dnspython. All listen on loopback, port 0.

The HTTP(S) handler answers `/ok` with JSON naming the method, path and Authorization header it saw,
`/private` with 401 unless the request carries basic auth ana:s3cret, and `/slow` after 2 seconds.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import trio
import trustme

if TYPE_CHECKING:
    from collections.abc import Iterator

BASIC_ANA = "Basic " + base64.b64encode(b"ana:s3cret").decode()


def has_ipv6_loopback() -> bool:
    """Whether this machine can listen on ::1 (containers often cannot)."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


def resolves_to_ipv6(name: str) -> bool:
    try:
        return bool(socket.getaddrinfo(name, 80, socket.AF_INET6, socket.SOCK_STREAM))
    except socket.gaierror:
        return False


@dataclass
class Pki:
    """A test CA and certificates it issues, written as PEM files under `folder`."""

    folder: Path
    ca: trustme.CA

    @classmethod
    def create(cls, folder: Path) -> Pki:
        pki = cls(folder, trustme.CA())
        pki.ca.cert_pem.write_to_path(str(pki.ca_file))
        return pki

    @property
    def ca_file(self) -> Path:
        return self.folder / "ca.pem"

    def leaf(
        self,
        name: str,
        *names: str,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        intermediate: bool = False,
        send_chain: bool = True,
    ) -> tuple[Path, Path]:
        """(certificate chain file, key file) for a certificate issued for `name` and `names`.

        `intermediate` issues it from an intermediate CA; `send_chain=False` then leaves the
        intermediate out of the chain file, as a misconfigured server does.
        """
        issuer = self.ca.create_child_ca() if intermediate else self.ca
        cert = issuer.issue_cert(name, *names, not_before=not_before, not_after=not_after)
        stem = f"{name}-{len(list(self.folder.iterdir()))}"
        chain_path, key_path = self.folder / f"{stem}.pem", self.folder / f"{stem}.key"
        pems = cert.cert_chain_pems if send_chain else cert.cert_chain_pems[:1]
        chain_path.write_bytes(b"".join(p.bytes() for p in pems))
        cert.private_key_pem.write_to_path(str(key_path))
        return chain_path, key_path

    def client_files(self) -> tuple[Path, Path]:
        return self.leaf("probe@pulsewatch.test")


def days(n: float) -> datetime:
    return datetime.now(UTC) + timedelta(days=n)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == "/slow":
            time.sleep(2)
        if self.path == "/private" and self.headers.get("Authorization") != BASIC_ANA:
            self._json(401, {"error": "who are you?"})
            return
        self._json(
            200,
            {
                "method": self.command,
                "path": self.path,
                "authorization": self.headers.get("Authorization"),
                "status": "ok",
            },
        )

    def _json(self, status: int, payload: object) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


@contextlib.contextmanager
def serve(
    *,
    cert: tuple[Path, Path] | None = None,
    client_ca: Path | None = None,
    ipv6: bool = False,
    handler: type[BaseHTTPRequestHandler] = _Handler,
) -> Iterator[int]:
    """An HTTP server on loopback (HTTPS with `cert`; requiring a client certificate from `client_ca`).

    Yields its port.
    """
    server: _Server = _Server6(("::1", 0), handler) if ipv6 else _Server(("127.0.0.1", 0), handler)
    if cert is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*cert)
        if client_ca is not None:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(client_ca)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


class _ProxyHandler(BaseHTTPRequestHandler):
    """A forward proxy that answers itself: the body names the absolute URL it was asked for."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        data = json.dumps({"proxied": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


def serve_proxy() -> contextlib.AbstractContextManager[int]:
    return serve(handler=_ProxyHandler)


# --- DNS -------------------------------------------------------------------------------------------

ZONE = {
    ("ok.test.", "A"): ["192.0.2.1", "192.0.2.2"],
    ("ok.test.", "MX"): ["10 mail.ok.test."],
    ("ok.test.", "TXT"): ['"v=spf1 -all"'],
    ("ok.test.", "NS"): ["ns1.ok.test."],
    ("www.ok.test.", "CNAME"): ["ok.test."],
    ("_sip._udp.ok.test.", "SRV"): ["10 5 5060 sip.ok.test."],
    ("v6.ok.test.", "AAAA"): ["2001:db8::1"],
}
"""Names the responder knows; `missing.test` is NXDOMAIN, `broken.test` SERVFAIL, `silent.test` never
answers, and a known name asked for another type gets NOERROR without answers."""


async def dns_responder(*, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
    """Answer DNS queries on 127.0.0.1 (UDP, port 0) from `ZONE`; reports the port once listening."""
    with trio.socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        await sock.bind(("127.0.0.1", 0))
        task_status.started(sock.getsockname()[1])
        while True:
            data, peer = await sock.recvfrom(4096)
            query = dns.message.from_wire(data)
            question = query.question[0]
            name, kind = question.name.to_text(), dns.rdatatype.to_text(question.rdtype)
            if name == "silent.test.":
                continue
            response = dns.message.make_response(query)
            if name == "missing.test.":
                response.set_rcode(dns.rcode.NXDOMAIN)
            elif name == "broken.test.":
                response.set_rcode(dns.rcode.SERVFAIL)
            elif name == "www.ok.test." and kind == "A":  # a CNAME chain, as resolvers return it
                response.answer.append(dns.rrset.from_text(name, 60, "IN", "CNAME", "ok.test."))
                response.answer.append(
                    dns.rrset.from_text("ok.test.", 60, "IN", "A", *ZONE[("ok.test.", "A")])
                )
            elif (name, kind) in ZONE:
                response.answer.append(dns.rrset.from_text(name, 60, "IN", kind, *ZONE[(name, kind)]))
            await sock.sendto(response.to_wire(), peer)
