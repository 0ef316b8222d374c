"""Probes: one `probe_<kind>` per kind of check, and the Prober that routes a check to its probe.

Each probe is `async def probe_<kind>(..., check, wall_clock) -> ProbeResult`; expected failures are
results, anything else is a bug that crashes the engine.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import trio

from engine.probes.common import failed
from engine.probes.dns import probe_dns
from engine.probes.http import HttpClientPool, probe_http
from engine.probes.icmp import probe_icmp
from engine.probes.tcp import probe_tcp
from engine.probes.tls import SslContexts, TlsSetupError, probe_tls
from engine.probes.udp import probe_udp

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from pulsewatch.domain.monitoring import Check, ProbeResult

HTTP_KINDS = frozenset({"http", "https"})
SUPPORTED_KINDS = HTTP_KINDS | {"tcp", "udp", "tls", "dns", "icmp"}

__all__ = [
    "SUPPORTED_KINDS",
    "HttpClientPool",
    "Prober",
    "SslContexts",
    "probe_dns",
    "probe_http",
    "probe_icmp",
    "probe_tcp",
    "probe_tls",
    "probe_udp",
]

_SOCKET_PROBES = {"tcp": probe_tcp, "udp": probe_udp, "dns": probe_dns, "icmp": probe_icmp}


class Prober:
    """Runs one round of a check: the probe for its kind, re-tried up to `check.retries` times on failure.

    Retries happen inside the round, `check.retry_interval` apart, and only the last attempt is the
    round's result: they absorb a lost packet, where thresholds absorb a bad minute.

    Args:
        engine: the engine's name, stamped on every result.
        wall_clock: the engine's clock for `started_at`.
        http_pool: the clients HTTP probes run on (owned and closed by the engine); its SSL contexts
            serve tls:// probes too.
    """

    def __init__(self, *, engine: str, wall_clock: Callable[[], datetime], http_pool: HttpClientPool):
        self._engine = engine
        self._wall_clock = wall_clock
        self._http = http_pool

    async def probe(self, check: Check) -> ProbeResult:
        """Probe `check` once, plus retries on failure; returns the last attempt's result."""
        result = await self._attempt(check)
        for _ in range(check.retries):
            # A degraded answer is an answer: re-asking would only hide that it was slow.
            if result.ok:
                break
            if check.retry_interval > 0:
                await trio.sleep(check.retry_interval)
            result = await self._attempt(check)
        return replace(result, engine=self._engine)

    async def _attempt(self, check: Check) -> ProbeResult:
        kind = check.kind
        if kind in HTTP_KINDS:
            try:
                client = self._http.client_for(check)
            except TlsSetupError as exc:
                return self._refused(check, ("config", str(exc)))
            return await probe_http(client, check, self._wall_clock)
        if kind == "tls":
            return await probe_tls(check, self._wall_clock, self._http.contexts)
        probe = _SOCKET_PROBES.get(kind)
        if probe is not None:
            return await probe(check, self._wall_clock)
        # A kind the config accepts before its probe exists must not stop every other check.
        return self._refused(check, ("unsupported", f"this engine cannot probe {kind!r} checks yet"))

    def _refused(self, check: Check, failure: tuple[str, str]) -> ProbeResult:
        return failed(check, failure, started_at=self._wall_clock(), duration_ms=0.0)
