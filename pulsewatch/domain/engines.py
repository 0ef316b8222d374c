"""The engines sharing a database as an operator sees them: who is alive, what each holds, how it keeps up.

Every engine writes its row in `engines` at each lease claim (engine.cluster): the heartbeat, and
since this module the load figures of the moment — scheduling lateness (how late probes start
against their due time, p50 and p99 of the recent ones) and probes finished per second since the
previous heartbeat. A console reads the rows back as an `EngineRoster` and judges liveness with
`liveness()`, measured on the database's clock (`read_at`), so a console on a host whose clock is
off still tells alive from stale as the engines themselves do.

Pure data and rules: no clock, no I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime


@dataclass(frozen=True)
class EngineLoad:
    """How one engine keeps up, as it reports at a heartbeat."""

    lateness_p50_s: float
    """Median seconds between a probe's due time and its start, over the engine's recent probes."""
    lateness_p99_s: float
    """99th percentile of the same: the probes that waited longest for a free slot."""
    probes_per_s: float
    """Probes finished per second since the previous heartbeat."""


class Liveness(enum.Enum):
    """Whether an engine is running, as far as its heartbeat tells."""

    ALIVE = "alive"
    """Its heartbeat is younger than the lease TTL: it holds its leases."""
    STALE = "stale"
    """No heartbeat for longer than the TTL and no clean stop: it crashed, hangs or lost the database;
    its leases have expired and the other engines take its checks."""
    STOPPED = "stopped"
    """It stopped cleanly and gave its leases back."""


@dataclass(frozen=True)
class EngineSummary:
    """One row of `engines`, with what it holds now."""

    name: str
    region: str
    version: str
    started_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None
    shards: int
    """Shards it holds under an unexpired lease."""
    checks: int
    """Stored checks in those shards: the checks it owns (probes, or keeps paused)."""
    load: EngineLoad | None = None
    """The figures of its latest heartbeat; None before its first (or from an older engine)."""


@dataclass(frozen=True)
class EngineRoster:
    """Every engine known to a database, as read at one instant."""

    read_at: datetime
    """The database's clock when the rows were read: heartbeat ages are measured from it."""
    ttl: float
    """Seconds a heartbeat counts as live (`LeaseTiming.ttl` of the configured `engine.lease`)."""
    engines: tuple[EngineSummary, ...] = ()

    def liveness(self, engine: EngineSummary) -> Liveness:
        """ALIVE, STALE or STOPPED by the heartbeat's age at `read_at` (see `Liveness`)."""
        if engine.stopped_at is not None:
            return Liveness.STOPPED
        if (self.read_at - engine.heartbeat_at).total_seconds() <= self.ttl:
            return Liveness.ALIVE
        return Liveness.STALE

    def heartbeat_age(self, engine: EngineSummary) -> float:
        """Seconds since the engine's latest heartbeat, at `read_at` (never negative)."""
        return max(0.0, (self.read_at - engine.heartbeat_at).total_seconds())
