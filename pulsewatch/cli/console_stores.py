"""Adapters from the engine's stores to what the console's Engines screen, grid and detail read.

Kept apart from `console_services` (the composition root) so each adapter is one small class that
fixes what the store needs beyond the Protocol: the lease TTL engines are judged by, the level
fallback of long charts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pulsewatch.domain.cluster import LeaseTiming

if TYPE_CHECKING:
    from datetime import datetime

    from engine.storage.cluster_store import ClusterStore
    from engine.storage.uptime_store import UptimeStore
    from pulsewatch.domain.engines import EngineRoster
    from pulsewatch.domain.rollups import Level, Rollup
    from pulsewatch.domain.uptime import UptimeTally


class EngineBoard:
    """`tui.services.EngineDesk` over the ClusterStore, judging liveness by the configured lease.

    Args:
        cluster: engines and leases.
        lease: the config's `engine.lease` in seconds (every engine on a database shares it).
    """

    def __init__(self, cluster: ClusterStore, lease: float) -> None:
        self._cluster = cluster
        self._ttl = LeaseTiming(lease).ttl

    def roster(self) -> EngineRoster:
        """Every engine known to the database, read now."""
        return self._cluster.roster(self._ttl)


class RollupBoard:
    """`tui.services.RollupDesk` over the UptimeStore."""

    def __init__(self, uptime: UptimeStore) -> None:
        self._uptime = uptime

    def uptime(self, now: datetime) -> UptimeTally:
        """Every check's stored probes in the grid's windows."""
        return self._uptime.tally(now)

    def latency_buckets(self, check_id: int, level: Level, since: datetime, until: datetime) -> list[Rollup]:
        """One check's latency buckets for the detail chart."""
        return self._uptime.series(check_id, level, since, until)
