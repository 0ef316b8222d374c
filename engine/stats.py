"""Counters the engine keeps about itself: probe volume, scheduling lateness, write throughput.

Benchmarks read them directly and `/metrics` will export them. They are plain mutable counters
updated on the trio thread only, so no locking is needed.
"""

from __future__ import annotations

import bisect
import collections
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pulsewatch.domain.engines import EngineLoad

if TYPE_CHECKING:
    from collections.abc import Callable

LATENESS_BUCKETS: tuple[float, ...] = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Upper bounds (seconds) of the lateness histogram, Prometheus-style; one overflow bucket follows."""


@dataclass
class Histogram:
    """A fixed-bucket histogram plus a window of recent samples for exact recent percentiles."""

    bounds: tuple[float, ...] = LATENESS_BUCKETS
    counts: list[int] = field(default_factory=list)
    count: int = 0
    total: float = 0.0
    max: float = 0.0
    recent: collections.deque[float] = field(default_factory=lambda: collections.deque(maxlen=4096))

    def __post_init__(self) -> None:
        if not self.counts:
            self.counts = [0] * (len(self.bounds) + 1)

    def observe(self, value: float) -> None:
        """Add one sample."""
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.count += 1
        self.total += value
        self.max = max(self.max, value)
        self.recent.append(value)

    def percentile(self, q: float) -> float:
        """The q-th percentile (0–100) of the recent samples (nearest rank); 0.0 with no samples."""
        if not self.recent:
            return 0.0
        ordered = sorted(self.recent)
        rank = max(1, math.ceil(q / 100 * len(ordered)))
        return ordered[rank - 1]


@dataclass
class EngineStats:
    """What the engine has done since it started."""

    probes_total: int = 0
    probe_failures: int = 0
    rounds_skipped: int = 0
    """Scheduled rounds dropped because the engine fell more than an interval behind (no bursting)."""
    overlaps_skipped: int = 0
    """Rounds not started because the previous probe of the same check was still running."""
    lateness: Histogram = field(default_factory=Histogram)
    """Seconds between a probe's due time and its actual start (waiting for a free probe slot included)."""
    results_written: int = 0
    flips_written: int = 0
    write_batches: int = 0
    write_errors: int = 0
    last_write_duration: float = 0.0
    max_write_duration: float = 0.0
    records_pending: int = 0
    """Records the recorder holds that are not yet written (grows while the database is down)."""
    records_abandoned: int = 0
    """Records given up on a forced stop while the database was unreachable."""
    write_latency: Histogram = field(default_factory=Histogram)
    """Seconds each successful database write batch took."""
    records_spooled: int = 0
    """Records waiting in the local spool file (the database was down and the memory bound reached)."""
    storage_down: bool = False
    """True while database writes fail."""
    outages: int = 0
    """Times the database stopped accepting writes since the engine started."""
    leases_held: int = 0
    """Shards this engine holds (every shard when it runs alone without leases)."""
    reloads: int = 0
    """Configuration reloads applied (SIGHUP or file change)."""


class LoadMeter:
    """Turns the counters into the load figures an engine reports at each heartbeat (engine.cluster).

    Probes per second are counted between two samples, so each heartbeat tells how the engine kept up
    since the previous one rather than since it started. Sampled on the trio thread only (the
    counters are not locked).

    Args:
        stats: the engine's counters.
        clock: seconds on a monotonic clock (the engine passes trio's); only read by `sample`.
    """

    def __init__(self, stats: EngineStats, clock: Callable[[], float]) -> None:
        self._stats = stats
        self._clock = clock
        self._last: tuple[float, int] | None = None

    def sample(self) -> EngineLoad:
        """Lateness p50/p99 of the recent probes and the probe rate since the previous sample."""
        now, probes = self._clock(), self._stats.probes_total
        rate = 0.0
        if self._last is not None and now > self._last[0]:
            rate = (probes - self._last[1]) / (now - self._last[0])
        self._last = (now, probes)
        lateness = self._stats.lateness
        return EngineLoad(lateness_p50_s=lateness.percentile(50), lateness_p99_s=lateness.percentile(99),
                          probes_per_s=rate)
