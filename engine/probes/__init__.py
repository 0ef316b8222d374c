"""Probes: one `probe_<kind>` per kind of check, and the Prober that routes a check to its probe.

Each probe is `async def probe_<kind>(..., check, wall_clock) -> ProbeResult`; expected failures are
results, anything else is a bug that crashes the engine.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from engine.probes.common import failed
from engine.probes.http import HttpClientPool, probe_http
from engine.probes.tcp import probe_tcp

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from pulsewatch.domain.monitoring import Check, ProbeResult

HTTP_KINDS = frozenset({"http", "https"})
SUPPORTED_KINDS = HTTP_KINDS | {"tcp"}

__all__ = ["SUPPORTED_KINDS", "HttpClientPool", "Prober", "probe_http", "probe_tcp"]


class Prober:
    """Runs one round of a check: the probe for its kind, re-tried up to `check.retries` times on failure.

    Args:
        engine: the engine's name, stamped on every result.
        wall_clock: the engine's clock for `started_at`.
        http_pool: the clients HTTP probes run on (owned and closed by the engine).
    """

    def __init__(self, *, engine: str, wall_clock: Callable[[], datetime], http_pool: HttpClientPool):
        self._engine = engine
        self._wall_clock = wall_clock
        self._http = http_pool

    async def probe(self, check: Check) -> ProbeResult:
        """Probe `check` once, plus retries on failure; returns the last attempt's result."""
        result = await self._attempt(check)
        for _ in range(check.retries):
            if result.ok:
                break
            result = await self._attempt(check)
        return replace(result, engine=self._engine)

    async def _attempt(self, check: Check) -> ProbeResult:
        if check.kind in HTTP_KINDS:
            return await probe_http(self._http.client_for(check), check, self._wall_clock)
        if check.kind == "tcp":
            return await probe_tcp(check, self._wall_clock)
        # A kind the config accepts before its probe exists must not stop every other check.
        return failed(
            check,
            ("unsupported", f"this engine cannot probe {check.kind!r} checks yet"),
            started_at=self._wall_clock(),
            duration_ms=0.0,
        )
