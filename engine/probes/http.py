"""The HTTP(S) probe and the pool of long-lived httpx clients it runs on.

Measured on this machine (DESIGN §5.2): one big shared AsyncClient collapses as its pool grows
(O(n) connection scan per request), and a new client per probe costs ~50 ms CPU building an SSL
context. So the engine keeps one small client per target, and every client shares one of two
SSL contexts (verifying, and not verifying for `verify_tls: false`).
"""

from __future__ import annotations

import contextlib
import ssl
from typing import TYPE_CHECKING, Any, cast

import httpx
import trio

from engine.probes.common import describe_failure, failed, judge, timeout_failure
from pulsewatch.domain.conditions import ProbeFacts

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable
    from datetime import datetime

    from pulsewatch.domain.monitoring import Check, ProbeResult

USER_AGENT = "PulseWatch/0.1 (+uptime probe)"

_PoolKey = tuple[str, str, int, bool, int]


class HttpClientPool:
    """One long-lived AsyncClient per (scheme, host, port, verify, max_redirects), closed on engine stop.

    Args:
        connections_per_target: the per-client connection cap; several checks on one host share it.
        transport: route every request through this transport instead of the network (tests,
            benchmarks); SSL and limits then belong to the transport.
    """

    def __init__(self, *, connections_per_target: int = 4, transport: httpx.AsyncBaseTransport | None = None):
        self._limits = httpx.Limits(
            max_connections=connections_per_target,
            max_keepalive_connections=connections_per_target,
        )
        self._transport = transport
        self._clients: dict[_PoolKey, httpx.AsyncClient] = {}
        self._contexts: dict[bool, ssl.SSLContext] = {}

    def _ssl_context(self, verify: bool) -> ssl.SSLContext:
        # Built on first use: a context costs tens of milliseconds and most engines need only one.
        # httpx's own defaults (certifi, SSL_CERT_FILE/SSL_CERT_DIR honoured) so probes trust what curl-like
        # tools trust.
        if verify not in self._contexts:
            self._contexts[verify] = httpx.create_ssl_context(verify=verify)
        return self._contexts[verify]

    def client_for(self, check: Check) -> httpx.AsyncClient:
        """The client for this check's target, created on first use."""
        url = httpx.URL(check.url)
        port = url.port or (443 if url.scheme == "https" else 80)
        key = (url.scheme, url.host, port, check.http.verify_tls, check.http.max_redirects)
        client = self._clients.get(key)
        if client is None:
            options: dict[str, Any] = {
                "max_redirects": check.http.max_redirects,
                "headers": {"User-Agent": USER_AGENT},
                # Ambient proxy variables would make the probe measure the proxy, not the target.
                "trust_env": False,
            }
            if self._transport is not None:
                options["transport"] = self._transport
            else:
                options["verify"] = self._ssl_context(check.http.verify_tls)
                options["limits"] = self._limits
            client = httpx.AsyncClient(**options)
            self._clients[key] = client
        return client

    def __len__(self) -> int:
        return len(self._clients)

    async def aclose(self) -> None:
        """Close every client (and its connections)."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()


async def probe_http(
    client: httpx.AsyncClient, check: Check, wall_clock: Callable[[], datetime]
) -> ProbeResult:
    """One HTTP(S) attempt: request, read at most `max_body_bytes`, judge the conditions.

    The whole attempt (connect, TLS, redirects, body) runs under `check.timeout`. Expected
    failures become results with a precise message; anything else propagates.

    Args:
        client: the target's long-lived client (see HttpClientPool).
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
    host = httpx.URL(check.url).host
    with trio.move_on_after(check.timeout):
        try:
            status, facts = await _exchange(client, check, start, started_at)
        except httpx.TooManyRedirects:
            failure = ("redirects", f"too many redirects (max {check.http.max_redirects})")
        except httpx.TimeoutException:
            failure = timeout_failure(check.timeout)
        except (httpx.TransportError, ssl.SSLError, OSError) as exc:
            failure = describe_failure(exc, host)
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
    if not cert or "notAfter" not in cert:
        return None, ip
    expires_at = ssl.cert_time_to_seconds(str(cert["notAfter"]))
    return expires_at - started_at.timestamp(), ip
