"""Rollups: probe results summed into minute, hour and day buckets, with a latency histogram.

A rollup keeps what uptime and SLA figures need for a year at a bounded size: how many probes,
how many failed or were degraded, latency sum/min/max, and a fixed-bucket latency histogram from
which p50/p95/p99 are read. Buckets of one level merge into the next exactly (counts add), which is
why the histogram has *fixed* bounds rather than per-bucket quantile sketches.

The histogram bounds are log-spaced, four per power of two (each bucket ~19% wide), from 1/16 ms to
131 s: 85 bounds, 86 buckets. A percentile read from it is off by at most one bucket width (19%),
and by ~9% at worst after geometric interpolation inside the bucket — good enough for p95 on a
dashboard, at a few bytes per row because a check's latencies fill only a handful of adjacent
buckets (see `encode_histogram`).
"""

from __future__ import annotations

import bisect
import enum
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

BOUNDS_PER_OCTAVE = 4
"""Bounds per doubling of latency: the resolution of the histogram (2**(1/4) ≈ 1.19 per bucket)."""

LATENCY_BOUNDS_MS: tuple[float, ...] = tuple(2 ** ((k - 16) / BOUNDS_PER_OCTAVE) for k in range(85))
"""Bucket bounds in milliseconds, 0.0625 ms to 131072 ms. Bucket i holds latencies in
[bounds[i-1], bounds[i]); bucket 0 everything below the first bound, the last everything above the
last bound. Never change them: stored histograms are only meaningful with the bounds they were
counted with."""

BUCKETS = len(LATENCY_BOUNDS_MS) + 1
"""How many histogram buckets (86)."""

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Level(enum.Enum):
    """A rollup level; the value is the bucket width in seconds."""

    MINUTE = 60
    HOUR = 3600
    DAY = 86400

    @property
    def width(self) -> timedelta:
        """The bucket width."""
        return timedelta(seconds=self.value)

    def floor(self, instant: datetime) -> datetime:
        """The start of the bucket holding `instant` (UTC buckets: days start at 00:00 UTC)."""
        seconds = (instant - EPOCH) // timedelta(seconds=1)
        return EPOCH + timedelta(seconds=seconds - seconds % self.value)

    def ceil(self, instant: datetime) -> datetime:
        """The first bucket start at or after `instant`."""
        start = self.floor(instant)
        return start if start == instant else start + self.width


def bucket_index(latency_ms: float) -> int:
    """The histogram bucket of one latency: how many bounds are at or below it."""
    return bisect.bisect_right(LATENCY_BOUNDS_MS, latency_ms)


def bucket_range(index: int) -> tuple[float, float]:
    """[low, high) of a bucket in ms; the outer buckets are open (0 and +inf)."""
    low = LATENCY_BOUNDS_MS[index - 1] if index > 0 else 0.0
    high = LATENCY_BOUNDS_MS[index] if index < len(LATENCY_BOUNDS_MS) else math.inf
    return low, high


@dataclass(frozen=True)
class Histogram:
    """Latency counts per fixed bucket, kept as the run from the first to the last non-empty bucket.

    A check's latencies fill a handful of adjacent buckets, so the run is short: merging, storing
    and reading cost little, where a dense 86-slot array would cost the same for every row.
    Build with `of`, `from_buckets` or `merged` (they trim the zero ends, so equal histograms are
    equal values).
    """

    first: int = 0
    """The bucket index of `counts[0]`."""
    counts: tuple[int, ...] = ()

    @classmethod
    def of(cls, latencies_ms: Iterable[float]) -> Histogram:
        """The histogram of some latencies."""
        buckets: dict[int, int] = {}
        for value in latencies_ms:
            index = bucket_index(value)
            buckets[index] = buckets.get(index, 0) + 1
        return cls.from_buckets(buckets)

    @classmethod
    def from_buckets(cls, buckets: Mapping[int, int]) -> Histogram:
        """From counts by bucket index (zero counts allowed)."""
        used = [i for i, n in buckets.items() if n]
        if not used:
            return cls()
        first, last = min(used), max(used)
        return cls(first, tuple(buckets.get(i, 0) for i in range(first, last + 1)))

    @classmethod
    def merged(cls, histograms: Iterable[Histogram]) -> Histogram:
        """The sum of several histograms."""
        parts = [h for h in histograms if h.counts]
        if not parts:
            return cls()
        first = min(h.first for h in parts)
        total = [0] * (max(h.first + len(h.counts) for h in parts) - first)
        for h in parts:
            offset = h.first - first
            for i, n in enumerate(h.counts, offset):
                total[i] += n
        return cls(first, tuple(total))

    @property
    def total(self) -> int:
        """How many latencies were counted."""
        return sum(self.counts)

    def dense(self) -> tuple[int, ...]:
        """All BUCKETS counts."""
        return (0,) * self.first + self.counts + (0,) * (BUCKETS - self.first - len(self.counts))

    def encode(self) -> str:
        """Compact text: `[first, n, n, ...]` where a negative number stands for that many empty
        buckets (`[40,3,50,-2,7]` is 3, 50, 0, 0, 7 from bucket 40); `[]` when empty.

        Measured with bench/storage_size.py (200 checks, a day at 60 s, lognormal latencies, 1%
        timeouts): 6 characters in a minute row (`[41,1]`), 40 in an hour row, 87 in a day row.
        86 integer columns would cost 344 bytes a row on InnoDB and a dense JSON array ~175;
        without the zero runs hour rows took 55 characters, as timeouts sit a dozen empty buckets
        above the usual latencies.
        """
        if not self.counts:
            return "[]"
        parts = [str(self.first)]
        zeros = 0
        for n in self.counts:
            if n == 0:
                zeros += 1
                continue
            if zeros:
                parts.append("0" if zeros == 1 else str(-zeros))
                zeros = 0
            parts.append(str(n))
        return "[" + ",".join(parts) + "]"

    @classmethod
    def decode(cls, text: str) -> Histogram:
        """The inverse of `encode`.

        Raises:
            ValueError: the text is not an encoded histogram.
        """
        values = json.loads(text)
        if not isinstance(values, list) or not all(isinstance(v, int) for v in values):
            raise ValueError(f"not an encoded histogram: {text[:40]!r}")
        if not values:
            return cls()
        first: int = values[0]
        counts: list[int] = []
        for n in values[1:]:
            counts.extend((0,) * -n if n < 0 else (n,))
        if first < 0 or first + len(counts) > BUCKETS:
            raise ValueError(f"histogram out of range: {text[:40]!r}")
        if counts and counts[0] and counts[-1]:
            return cls(first, tuple(counts))  # trimmed, as `encode` writes it
        return cls.from_buckets(dict(enumerate(counts, first)))

    def percentile(self, q: float, *, low: float, high: float) -> float | None:
        """The q-th percentile (0 < q ≤ 100, nearest rank) estimated from the counts, in ms.

        The rank is located in its bucket, then placed inside it by geometric interpolation
        (buckets are log-spaced), clamped to the observed `low`..`high` (the overall min and max),
        so the answer always lies in the bucket the true value lies in. The first and last ranks
        are the min and max themselves.

        Returns:
            None when nothing was counted.
        """
        total = self.total
        if total == 0:
            return None
        rank = max(1, math.ceil(q / 100 * total))
        if rank == total:
            return high  # the largest sample is known exactly
        if rank == 1:
            return low
        seen = 0
        for index, count in enumerate(self.counts, self.first):
            if count and seen + count >= rank:
                bucket_low, bucket_high = bucket_range(index)
                lo, hi = max(bucket_low, low), min(bucket_high, high)
                if hi <= lo:
                    return lo
                fraction = (rank - seen - 0.5) / count
                if lo > 0:
                    return float(lo * (hi / lo) ** fraction)
                return lo + (hi - lo) * fraction
            seen += count
        return high  # unreachable: the ranks add up to `total`


@dataclass(frozen=True)
class Rollup:
    """The summary of one check's probes in one bucket.

    `degraded` counts probes that passed but failed a soft condition (they are not failures).
    Latencies are in milliseconds; min/max are 0.0 when `count` is 0.
    """

    check_id: int
    level: Level
    start: datetime
    count: int
    failures: int
    degraded: int
    latency_sum_ms: float
    latency_min_ms: float
    latency_max_ms: float
    histogram: Histogram

    @property
    def end(self) -> datetime:
        """The end of the bucket (exclusive)."""
        return self.start + self.level.width

    def percentile(self, q: float) -> float | None:
        """The q-th latency percentile of this bucket's probes, in ms (see Histogram.percentile)."""
        return self.histogram.percentile(q, low=self.latency_min_ms, high=self.latency_max_ms)


def merge(rows: Sequence[Rollup], *, check_id: int, level: Level, start: datetime) -> Rollup:
    """Sum rollups (of any finer level) into one bucket of `level` starting at `start`."""
    counted = [r for r in rows if r.count]
    return Rollup(
        check_id=check_id,
        level=level,
        start=start,
        count=sum(r.count for r in counted),
        failures=sum(r.failures for r in counted),
        degraded=sum(r.degraded for r in counted),
        latency_sum_ms=math.fsum(r.latency_sum_ms for r in counted),
        latency_min_ms=min((r.latency_min_ms for r in counted), default=0.0),
        latency_max_ms=max((r.latency_max_ms for r in counted), default=0.0),
        histogram=Histogram.merged(r.histogram for r in counted),
    )


Piece = tuple["Level | None", datetime, datetime]
"""A stretch of time and where its figures come from: a rollup level, or None for raw results."""


def cover(since: datetime, until: datetime, rolled_to: Mapping[Level, datetime | None]) -> list[Piece]:
    """Split [since, until) into stretches read from the coarsest complete level available.

    A level can serve whole buckets that lie before its `rolled_to` mark (None: nothing rolled up
    yet); what no level can serve — the last minutes, or the ragged edges — is read from raw
    results. A 30-day window thus costs ~30 day rows, ~48 hour rows and a few minutes per check.

    Returns:
        Adjacent, non-overlapping pieces in time order.
    """
    for level in (Level.DAY, Level.HOUR, Level.MINUTE):
        mark = rolled_to.get(level)
        if mark is None:
            continue
        start = level.ceil(since)
        end = min(level.floor(until), level.floor(mark))
        if start < end:
            return [*cover(since, start, rolled_to), (level, start, end), *cover(end, until, rolled_to)]
    return [(None, since, until)] if since < until else []
