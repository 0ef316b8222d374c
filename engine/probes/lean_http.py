"""The lean HTTP/1.1 client the HTTP(S) probe runs on: h11 over trio streams, keep-alive per origin.

Why not httpx for every probe: measured on this 2-core machine (bench/engine_throughput.py), httpx and
httpcore cost ~0.7 ms CPU of the ~1.0 ms an engine spent per plain-HTTP probe, most of it in the
connection pool's bookkeeping (`_assign_requests_to_connections`, request/response model layers),
not in HTTP itself. This client keeps only what a probe needs: one h11 state machine per connection
(h11 is the maintained HTTP/1.1 protocol library under httpcore), trio's own streams and SSLStream
with the engine's shared SSL contexts, and a stack of idle connections per origin.

**What it serves.** Every http:// and https:// check except those with a proxy: verify on or off,
a CA bundle, a client certificate, ip_version 4/6, redirects (with httpx's rules: method changes,
Authorization stripped across origins, cookies carried along one redirect chain), gzip/deflate
bodies, the body cap. **What falls back to httpx** (engine.probes.http): a check with `proxy:`
(forward proxies, CONNECT tunnels and proxy credentials are httpx's job and rare on a probe), and
every check when a transport is injected (tests and benchmarks route requests through
httpx.MockTransport, which only an httpx client can use).

**Connection reuse.** Connections are keyed by (scheme, host, port, TLS settings, ip_version); a
connection goes back to its idle stack only after a complete exchange (h11 reports both sides DONE),
so a probe that stopped at the body cap, timed out, failed or got `Connection: close` closes it.
Idle connections expire after KEEPALIVE_EXPIRY (httpx's default) and are swept about once a second;
one that turned readable while idle (the server closed it) is dropped before use, and a reused
connection that breaks before any byte of the answer is retried once on a new connection (the
server's keep-alive timeout raced our request). That retry would send a non-idempotent request
twice, so POST, PATCH and the like always go out on a new connection (RFC 9110 §9.2.2: only
idempotent requests may be retried by the client). Cookies never outlive one probe.
"""

from __future__ import annotations

import select
import ssl
from typing import TYPE_CHECKING, cast

import h11
import trio

from engine.probes.lean_body import BrokenConnection, ProtocolFailure, decoder_for
from engine.probes.net import open_tcp, peer_ip

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import httpx

    from pulsewatch.domain.monitoring import TlsOptions

KEEPALIVE_EXPIRY = 5.0
"""Seconds an idle connection is kept for reuse (httpx's default)."""
MAX_IDLE = 128
"""Idle connections kept per origin; more would only hold file descriptors (the engine runs ≤ 256 probes)."""
RECEIVE_SIZE = 65_536
MAX_HEAD = 100 * 1024
"""The largest response head accepted (httpcore's limit)."""
SWEEP_EVERY = 1.0

_END = h11.EndOfMessage()


IDEMPOTENT_METHODS = frozenset({b"GET", b"HEAD", b"OPTIONS", b"TRACE", b"PUT", b"DELETE"})
"""Requests that may go out on a reused connection, because a stale one makes us send them twice."""


class _Stale(Exception):
    """A reused connection died before any byte of the answer: the server had closed it."""


class Answer:
    """One response: status, h11's headers (lower-case names), the body read (decoded, capped)
    and the facts of the connection it came on."""

    __slots__ = ("body", "headers", "ip", "not_after", "status")

    def __init__(self, status: int, headers: Sequence[tuple[bytes, bytes]], body: bytes, conn: Connection):
        self.status = status
        self.headers = headers
        self.body = body
        self.ip = conn.ip
        self.not_after = conn.not_after

    def header(self, name: bytes) -> bytes | None:
        """The first value of a header (`name` lower-case), or None."""
        for key, value in self.headers:
            if key == name:
                return value
        return None


class Connection:
    """One TCP (or TLS) connection and its h11 state machine."""

    __slots__ = ("idle_since", "ip", "not_after", "poller", "protocol", "sock", "stream")

    def __init__(self, stream: trio.abc.Stream, sock: trio.socket.SocketType, ip: str | None,
                 not_after: float | None) -> None:
        self.stream = stream
        self.sock = sock
        self.ip = ip
        self.not_after = not_after
        """The peer certificate's notAfter as a Unix time (verified TLS only)."""
        self.protocol = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD)
        self.idle_since = 0.0
        # poll, not select: descriptors past 1024 are common on an engine holding many connections.
        self.poller = select.poll()
        self.poller.register(sock.fileno(), select.POLLIN)

    def close(self) -> None:
        """Close at once, without a TLS close_notify: a probe never waits on a goodbye."""
        self.sock.close()

    def looks_closed(self) -> bool:
        """An idle connection with something to read has been closed (or spoken to) by the server."""
        return bool(self.poller.poll(0))


class LeanClient:
    """The keep-alive connections to one origin with one set of connection settings.

    Args:
        pool: the registry this client belongs to (redirects to other origins go through it).
        url: any URL of the origin.
        context: the shared SSL context for https, None for http.
        ip_version: 0 (any family), 4 or 6.
        settings: what else must agree to share connections: (verify, TLS options).
    """

    def __init__(self, pool: LeanPool, url: httpx.URL, context: ssl.SSLContext | None, ip_version: int,
                 settings: tuple[bool, TlsOptions]) -> None:
        self.pool = pool
        self.scheme = url.scheme
        self.host = url.raw_host.decode("ascii")
        self.port = url.port or (443 if url.scheme == "https" else 80)
        self.ip_version = ip_version
        self.settings = settings
        self._context = context
        self._idle: list[Connection] = []
        self.plans: dict[int, tuple[object, object]] = {}
        """Per-check request plans (engine.probes.lean_exchange), by check id."""

    @property
    def idle(self) -> int:
        """Connections waiting for reuse."""
        return len(self._idle)

    async def roundtrip(self, head: h11.Request, body: bytes, cap: int) -> Answer:
        """Send one request and read its answer, on an idle connection when one is fit, else a new one.

        Raises:
            OSError: connecting failed (refused, DNS, unreachable...).
            LeanError: the exchange failed (see engine.probes.lean_body).
        """
        conn = self._reusable() if head.method in IDEMPOTENT_METHODS else None
        if conn is not None:
            try:
                return await self._exchange(conn, head, body, cap, reused=True)
            except _Stale:
                pass  # the server dropped it while idle: once more, on a new connection
        conn = await self._connect()
        return await self._exchange(conn, head, body, cap, reused=False)

    def close_idle(self, older_than: float | None = None) -> None:
        """Close idle connections (those idle since before `older_than`; all without it)."""
        idle = self._idle
        if older_than is None:
            count = len(idle)
        else:  # idle connections are pushed in time order: the expired ones are a prefix
            count = 0
            while count < len(idle) and idle[count].idle_since < older_than:
                count += 1
        for conn in idle[:count]:
            conn.close()
        del idle[:count]

    # -- connections ----------------------------------------------------------------------------

    def _reusable(self) -> Connection | None:
        now = trio.current_time()
        self.pool.maybe_sweep(now)
        idle = self._idle
        while idle:
            conn = idle.pop()
            if now - conn.idle_since < KEEPALIVE_EXPIRY and not conn.looks_closed():
                return conn
            conn.close()
        return None

    def _release(self, conn: Connection) -> None:
        if len(self._idle) >= MAX_IDLE:
            conn.close()
            return
        conn.idle_since = trio.current_time()
        self._idle.append(conn)

    async def _connect(self) -> Connection:
        stream = await open_tcp(self.host, self.port, self.ip_version)
        sock = stream.socket
        ip = peer_ip(sock)
        if self._context is None:
            return Connection(stream, sock, ip, None)
        # ssl sends no SNI for an IP literal by itself (RFC 6066), as with httpx.
        tls = trio.SSLStream(stream, self._context, server_hostname=self.host)
        try:
            await tls.do_handshake()
        except trio.BrokenResourceError as exc:
            sock.close()
            raise BrokenConnection("shaking hands") from exc
        except BaseException:
            sock.close()
            raise
        cert = tls.getpeercert()
        # Empty when verification is off (CERT_NONE): the expiry is then unknown, as with httpx.
        not_after = ssl.cert_time_to_seconds(str(cert["notAfter"])) if cert and "notAfter" in cert else None
        return Connection(tls, sock, ip, not_after)

    # -- one exchange ---------------------------------------------------------------------------

    async def _exchange(self, conn: Connection, head: h11.Request, body: bytes, cap: int, *, reused: bool
                        ) -> Answer:
        protocol = conn.protocol
        complete = False
        try:
            try:
                data = protocol.send(head)
                if body:
                    data += protocol.send(h11.Data(data=body))
                data += protocol.send(_END)
            except h11.LocalProtocolError as exc:
                raise ProtocolFailure(str(exc)) from exc
            sent = True
            try:
                await conn.stream.send_all(data)
            except trio.BrokenResourceError:
                # As httpcore does: a server may refuse a request early and still answer it (401,
                # 413...), so read on; if nothing comes, the read says why.
                sent = False
            response = await self._read_head(conn, reused)
            answer, complete = await self._read_body(conn, response, cap)
            complete = complete and sent
            return answer
        except h11.RemoteProtocolError as exc:
            raise ProtocolFailure(str(exc)) from exc
        finally:
            if complete and protocol.our_state is h11.DONE and protocol.their_state is h11.DONE:
                protocol.start_next_cycle()
                self._release(conn)
            else:  # unfinished, failed, cancelled or "Connection: close": never reused
                conn.close()

    async def _read_head(self, conn: Connection, reused: bool) -> h11.Response:
        protocol = conn.protocol
        while True:
            event = protocol.next_event()
            if event is h11.NEED_DATA:
                try:
                    data = await conn.stream.receive_some(RECEIVE_SIZE)
                except trio.BrokenResourceError as exc:
                    if reused and protocol.their_state is h11.SEND_RESPONSE:
                        raise _Stale from exc
                    raise BrokenConnection("reading the response") from exc
                if not data and protocol.their_state is h11.SEND_RESPONSE:
                    if reused:
                        raise _Stale
                    raise ProtocolFailure("Server disconnected without sending a response.")
                protocol.receive_data(cast("bytes", data))  # trio says bytes | bytearray; h11 takes both
                reused = False  # bytes arrived: whatever happens next is the server's answer
            elif type(event) is h11.Response:
                return event
            # else: an informational (1xx) response; the real one follows

    async def _read_body(self, conn: Connection, response: h11.Response, cap: int) -> tuple[Answer, bool]:
        """Read the body up to `cap` decoded bytes; True when the message ended within it."""
        protocol = conn.protocol
        headers = response.headers
        decoder = decoder_for(headers)
        chunks: list[bytes] = []
        size = 0
        complete = False
        while True:
            event = protocol.next_event()
            kind = type(event)
            if kind is h11.Data:
                piece = event.data if decoder is None else decoder.feed(event.data, cap - size)  # type: ignore[union-attr]
                if size + len(piece) >= cap:
                    chunks.append(piece[: cap - size])
                    size = cap
                    break
                chunks.append(piece)
                size += len(piece)
            elif kind is h11.EndOfMessage:
                if decoder is not None:
                    chunks.append(decoder.flush(cap - size))
                complete = True
                break
            elif event is h11.NEED_DATA:
                try:
                    data = await conn.stream.receive_some(RECEIVE_SIZE)
                except trio.BrokenResourceError as exc:
                    raise BrokenConnection("reading the response") from exc
                protocol.receive_data(cast("bytes", data))  # trio says bytes | bytearray; h11 takes both
            elif kind is h11.ConnectionClosed:  # pragma: no cover - h11 ends the message first
                break
        return Answer(response.status_code, headers, b"".join(chunks), conn), complete


class LeanPool:
    """Every origin's LeanClient, the SSL contexts they share, and the sweep of expired connections.

    Args:
        context_for: the SSL context for (verify, TLS options) — the engine's shared SslContexts.
    """

    def __init__(self, context_for: Callable[[bool, TlsOptions], ssl.SSLContext]) -> None:
        self._context_for = context_for
        self._clients: dict[tuple[object, ...], LeanClient] = {}
        self._next_sweep = 0.0

    def client(self, url: httpx.URL, *, verify: bool, tls: TlsOptions, ip_version: int) -> LeanClient:
        """The client for `url`'s origin with these settings, made on first use.

        Raises:
            TlsSetupError: a CA bundle or client certificate cannot be loaded (https only).
        """
        port = url.port or (443 if url.scheme == "https" else 80)
        settings = (verify, tls)
        key = (url.scheme, url.raw_host, port, ip_version, settings)
        client = self._clients.get(key)
        if client is None:
            context = None
            if url.scheme == "https":
                context = self._context_for(verify, tls)
                context.set_alpn_protocols(["http/1.1"])  # what httpcore announces too
            client = LeanClient(self, url, context, ip_version, settings)
            self._clients[key] = client
        return client

    def sibling(self, client: LeanClient, url: httpx.URL) -> LeanClient:
        """The client for another origin (a redirect) with `client`'s settings."""
        verify, tls = client.settings
        return self.client(url, verify=verify, tls=tls, ip_version=client.ip_version)

    def maybe_sweep(self, now: float) -> None:
        """Close connections idle past KEEPALIVE_EXPIRY in every origin, at most once a second."""
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_EVERY
        for client in self._clients.values():
            client.close_idle(older_than=now - KEEPALIVE_EXPIRY)

    def __len__(self) -> int:
        return len(self._clients)

    def close(self) -> None:
        """Close every idle connection and forget every origin."""
        for client in self._clients.values():
            client.close_idle()
        self._clients = {}
