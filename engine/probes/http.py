"""The HTTP(S) probe and the clients it runs on: the lean h11 client, or long-lived httpx clients.

Most checks run on the lean client (engine.probes.lean_http: h11 over trio streams, keep-alive per
origin), which costs a fraction of httpx's CPU per probe. httpx serves what the lean client leaves
to it (a `proxy:`, or an injected transport in tests and benchmarks; see lean_http's docstring).

For httpx, measured on this machine (DESIGN §5.2): one big shared AsyncClient collapses as its pool
grows (O(n) connection scan per request), and a new client per probe costs ~50 ms CPU building an SSL
context. So the engine keeps one small client per target. Every client, lean or httpx, shares one SSL
context per distinct trust setting (`SslContexts`: verify on/off, CA bundle, client certificate).
The hot path (a check whose client exists) is one dictionary lookup and an identity test.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from typing import TYPE_CHECKING, Any, cast

import h11
import httpx
import trio

from engine.probes.common import (
    AddressFamilyError,
    describe_failure,
    failed,
    find_cause,
    judge,
    timeout_failure,
)
from engine.probes.lean_body import BrokenConnection, LeanError
from engine.probes.lean_exchange import USER_AGENT, TooManyRedirects, exchange, prepare
from engine.probes.lean_http import LeanClient, LeanPool
from engine.probes.net import resolve
from engine.probes.tls import SslContexts, TlsSetupError, certificate_expiration, explain_certificate
from pulsewatch.domain.conditions import ProbeFacts

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable, Iterable
    from datetime import datetime

    from pulsewatch.domain.monitoring import Check, ProbeResult

__all__ = ["USER_AGENT", "HttpClient", "HttpClientPool", "probe_http"]

HttpClient = httpx.AsyncClient | LeanClient
"""What a check's probe runs on: the lean client of its origin, or an httpx client (see the docstring)."""

_OriginKey = tuple[str, str, int, bool, int, str | None, int, str | None, str | None, str | None]
"""What checks must agree on to share a client."""
_PoolKey = tuple[str, str, int, bool, int, str | None, int, str | None, str | None, str | None, int]
"""An origin key and a shard number."""
_LOCAL_ADDRESS = {0: None, 4: "0.0.0.0", 6: "::"}  # noqa: S104 - picks the family; nothing listens
"""Binding the outgoing socket to a family's wildcard address makes httpx connect over that family only."""


class HttpClientPool:
    """The checks' clients: lean clients per origin, and long-lived AsyncClients for the rest.

    The AsyncClients are each shared by at most `checks_per_client` checks of one target.

    Checks share a client when they agree on (scheme, host, port, verify, max_redirects, proxy,
    ip_version, ca_file, client_cert, client_key). A target with many checks gets several clients
    ("shards"), each with as many connections as checks: a check never queues behind another
    check's request. Measured: 1,000 checks on one host sharing one 4-connection client spent
    most of the engine's CPU in httpcore's queue scan (`_assign_requests_to_connections`, O(queued)
    per request) and managed ~500 probes/s; sharded, no request ever queues.

    Args:
        checks_per_client: the most checks one client serves (and its connection cap).
        transport: route every request through this transport instead of the network (tests,
            benchmarks); SSL, proxies and limits then belong to the transport.
        contexts: the SSL contexts to share (the engine's, so tls:// probes use the same ones).
        lean: serve what it can on the lean client; False puts every check on httpx (tests run
            the same cases on both paths).
    """

    def __init__(
        self,
        *,
        checks_per_client: int = 8,
        transport: httpx.AsyncBaseTransport | None = None,
        contexts: SslContexts | None = None,
        lean: bool = True,
    ):
        self._checks_per_client = checks_per_client
        self._limits = httpx.Limits(
            max_connections=checks_per_client,
            max_keepalive_connections=checks_per_client,
        )
        self._members: dict[_OriginKey, int] = {}
        self._transport = transport
        self.contexts = contexts or SslContexts()
        self._clients: dict[_PoolKey, httpx.AsyncClient] = {}
        self._by_check: dict[int, tuple[Check, HttpClient]] = {}
        self._lean = lean and transport is None
        self.lean = LeanPool(self.contexts.get)
        """The lean clients, by origin."""

    def client_for(self, check: Check) -> HttpClient:
        """The client for this check's target, created on first use.

        Raises:
            TlsSetupError: the check's CA bundle or client certificate cannot be loaded.
        """
        if check.id is not None:
            # Checks are immutable and the engine keeps the same object between rounds, so an
            # identity test spares the hot path parsing the URL again.
            cached = self._by_check.get(check.id)
            if cached is not None and cached[0] is check:
                return cached[1]
        client: HttpClient
        if self._lean and check.http.proxy is None:
            options = check.http
            client = self.lean.client(
                httpx.URL(check.url), verify=options.verify_tls, tls=check.tls, ip_version=check.ip_version
            )
        else:
            client = self._client(check)
        if check.id is not None:
            self._by_check[check.id] = (check, client)
        return client

    def _client(self, check: Check) -> httpx.AsyncClient:
        url = httpx.URL(check.url)
        port = url.port or (443 if url.scheme == "https" else 80)
        options, tls = check.http, check.tls
        origin: _OriginKey = (
            url.scheme,
            url.host,
            port,
            options.verify_tls,
            options.max_redirects,
            options.proxy,
            check.ip_version,
            tls.ca_file,
            tls.client_cert,
            tls.client_key,
        )
        members = self._members.get(origin, 0)
        self._members[origin] = members + 1
        key: _PoolKey = (*origin, members // self._checks_per_client)
        client = self._clients.get(key)
        if client is None:
            settings: dict[str, Any] = {
                "max_redirects": options.max_redirects,
                "headers": {"User-Agent": USER_AGENT},
                # Ambient proxy variables would make the probe measure the proxy, not the target.
                "trust_env": False,
            }
            if self._transport is not None:
                settings["transport"] = self._transport
            else:
                settings["transport"] = httpx.AsyncHTTPTransport(
                    verify=self.contexts.get(options.verify_tls, tls),
                    limits=self._limits,
                    proxy=options.proxy,
                    local_address=_LOCAL_ADDRESS[check.ip_version],
                )
            client = httpx.AsyncClient(**settings)
            self._clients[key] = client
        return client

    def prepare(self, checks: Iterable[Check]) -> None:
        """Make the HTTP checks' clients and lean request plans now (at start-up), not on first probe.

        A check whose client or request cannot be made is skipped: its probe reports why.
        """
        for check in checks:
            if check.kind not in ("http", "https"):
                continue
            try:
                client = self.client_for(check)
                if isinstance(client, LeanClient):
                    prepare(client, check)
            except (TlsSetupError, h11.LocalProtocolError, httpx.InvalidURL):
                continue

    def __len__(self) -> int:
        return len(self._clients) + len(self.lean)

    async def aclose(self) -> None:
        """Close every client (and its connections)."""
        clients, self._clients = list(self._clients.values()), {}
        self._by_check = {}
        self._members = {}
        self.lean.close()
        for client in clients:
            await client.aclose()


async def probe_http(client: HttpClient, check: Check, wall_clock: Callable[[], datetime]) -> ProbeResult:
    """One HTTP(S) attempt: request, read at most `max_body_bytes`, judge the conditions.

    The whole attempt (connect, TLS, redirects, body) runs under `check.timeout`. Expected
    failures become results with a precise message; anything else propagates.

    Args:
        client: the check's client (see HttpClientPool.client_for).
        check: the check to probe (must have an id).
        wall_clock: the engine's clock for `started_at`.

    Returns:
        The ProbeResult of this attempt (its `engine` field is left for the caller to fill).
    """
    started_at = wall_clock()
    start = trio.current_time()
    failure: tuple[str, str] | None = None
    facts: ProbeFacts | None = None
    status = 0
    with trio.move_on_after(check.timeout):
        try:
            if isinstance(client, LeanClient):
                status, facts = await exchange(client, check, start, started_at)
            else:
                status, facts = await _exchange(client, check, start, started_at)
        except (httpx.TooManyRedirects, TooManyRedirects):
            failure = ("redirects", f"too many redirects (max {check.http.max_redirects})")
        except httpx.TimeoutException:
            failure = timeout_failure(check.timeout)
        except (httpx.TransportError, ssl.SSLError, OSError, LeanError) as exc:
            failure = await _explain(exc, check, started_at)
    if facts is None:
        elapsed_ms = (trio.current_time() - start) * 1000
        return failed(
            check, failure or timeout_failure(check.timeout), started_at=started_at, duration_ms=elapsed_ms
        )
    return judge(
        check,
        facts,
        started_at=started_at,
        duration_ms=facts.response_time_ms or 0.0,
        status_code=status,
        default_ok=status < 400,
        default_failure=("http", f"HTTP status {status}"),
    )


async def _explain(exc: BaseException, check: Check, started_at: datetime) -> tuple[str, str]:
    """The failure's words; runs inside the probe's timeout (a refused certificate is fetched again)."""
    url = httpx.URL(check.url)
    host, port = url.host, url.port or (443 if url.scheme == "https" else 80)
    refused = find_cause(exc, ssl.SSLCertVerificationError)
    if refused is not None:
        return "tls", await explain_certificate(refused, host, port, check.ip_version, started_at)
    failure = describe_failure(exc, host)
    if failure[0] == "network" and not str(exc):
        # httpx's ReadError/WriteError often carry no text (a peer that hung up mid-exchange, e.g. a
        # TLS 1.3 server refusing a missing client certificate after the handshake).
        if isinstance(exc, httpx.ReadError):
            return "network", "the connection broke while reading the response"
        if isinstance(exc, httpx.WriteError):
            return "network", "the connection broke while sending the request"
        if isinstance(exc, BrokenConnection):
            return "network", f"the connection broke while {exc.doing}"
    if failure[0] == "dns" and check.ip_version:
        # Bound to one family, httpx reports a name without such an address as a failed lookup.
        try:
            await resolve(host, port, check.ip_version, socket.SOCK_STREAM)
        except AddressFamilyError as family:
            return "dns", str(family)
        except OSError:
            pass
    return failure


async def _exchange(
    client: httpx.AsyncClient, check: Check, start: float, started_at: datetime
) -> tuple[int, ProbeFacts]:
    options = check.http
    request = client.build_request(
        options.method,
        check.url,
        headers=list(options.headers),
        content=options.body.encode() if options.body is not None else None,
        timeout=httpx.Timeout(check.timeout),
    )
    response = await client.send(request, stream=True, follow_redirects=options.follow_redirects)
    try:
        # Before the body: a server that closes the connection after the body (HTTP/1.0, or
        # "Connection: close") leaves nothing to ask the socket afterwards.
        peer = _peer_facts(response, started_at)
        body = await _read_capped(response, options.max_body_bytes)
    finally:
        # Closing an unfinished response drops its connection instead of reading the rest.
        await response.aclose()
    elapsed_ms = (trio.current_time() - start) * 1000
    facts = ProbeFacts(
        status=response.status_code,
        response_time_ms=elapsed_ms,
        body=body.decode(response.charset_encoding or "utf-8", errors="replace"),
        connected=True,
        certificate_expiration_s=peer[0],
        dns_rcode=None,
        ip=peer[1],
    )
    return response.status_code, facts


async def _read_capped(response: httpx.Response, cap: int) -> bytes:
    """Read the body by streaming and stop at `cap` bytes: a huge or endless body costs at most `cap`."""
    chunks: list[bytes] = []
    size = 0
    # aiter_bytes() is an async generator; closing it explicitly when we stop early keeps its
    # clean-up on this task instead of a garbage-collection hook.
    chunks_of = cast("AsyncGenerator[bytes, None]", response.aiter_bytes())
    async with contextlib.aclosing(chunks_of) as stream:
        async for chunk in stream:
            piece = chunk[: cap - size]
            chunks.append(piece)
            size += len(piece)
            if size >= cap:
                break
    return b"".join(chunks)


def _peer_facts(response: httpx.Response, started_at: datetime) -> tuple[float | None, str | None]:
    """(seconds until the server certificate expires, peer IP), when the connection can tell."""
    stream = response.extensions.get("network_stream")
    if stream is None:
        return None, None
    try:
        address = stream.get_extra_info("server_addr")
    except OSError:  # the socket is already closed
        return None, None
    ip = str(address[0]) if address else None
    ssl_object = stream.get_extra_info("ssl_object")
    # getpeercert() is empty when verification is off (CERT_NONE): the expiry is then unknown.
    cert = ssl_object.getpeercert() if ssl_object is not None else None
    return certificate_expiration(cert, started_at), ip
