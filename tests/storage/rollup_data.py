"""Results for the rollup tests, and the rollups they must produce, counted by hand in Python."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from engine.storage.store import SqlStore
from pulsewatch.domain.monitoring import ProbeResult
from pulsewatch.domain.rollups import BUCKETS, LATENCY_BOUNDS_MS, Level, Rollup, bucket_index
from tests.storage.factories import make_check

T0 = datetime(2025, 3, 4, tzinfo=UTC)
"""Midnight UTC: the day, hour and minute buckets of the tests start here."""

DELAY = 300.0
"""The roll-up delay the tests use (the default)."""


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def add_checks(store: SqlStore, count: int) -> list[int]:
    """`count` stored checks; their ids."""
    added = store.sync_checks([make_check(f"c{i}") for i in range(count)]).added
    return [c.id for c in added if c.id is not None]


def result(
    check_id: int, at: datetime, ms: float, *, ok: bool = True, degraded: bool = False
) -> ProbeResult:
    return ProbeResult(
        check_id=check_id,
        started_at=at,
        duration_ms=ms,
        ok=ok,
        status_code=200 if ok else 503,
        error="degraded" if degraded else (None if ok else "http"),
        degraded=degraded,
    )


def random_results(check_ids: list[int], hours: float, *, seed: int = 7) -> list[ProbeResult]:
    """About one result a minute per check for `hours` from T0: lognormal latencies, some exactly on
    histogram bounds, ~5% failures and ~3% degraded."""
    rng = random.Random(seed)
    results = []
    for check_id in check_ids:
        at = T0 + timedelta(seconds=rng.uniform(0, 30))
        while at < T0 + timedelta(hours=hours):
            roll = rng.random()
            ms = rng.choice(LATENCY_BOUNDS_MS[30:60]) if roll < 0.1 else rng.lognormvariate(4.0, 0.9)
            ok = rng.random() > 0.05
            results.append(result(check_id, at, ms, ok=ok, degraded=ok and rng.random() < 0.03))
            at += timedelta(seconds=rng.uniform(20, 100))
    return results


@dataclass
class Expected:
    """One bucket counted by hand."""

    count: int = 0
    failures: int = 0
    degraded: int = 0
    latency_sum_ms: float = 0.0
    latencies: list[float] = field(default_factory=list)
    histogram: list[int] = field(default_factory=lambda: [0] * BUCKETS)


def by_hand(
    results: list[ProbeResult], level: Level, until: datetime
) -> dict[tuple[int, datetime], Expected]:
    """The buckets of `level` that results before `until` make."""
    buckets: dict[tuple[int, datetime], Expected] = {}
    for r in results:
        if r.started_at >= until:
            continue
        e = buckets.setdefault((r.check_id, level.floor(r.started_at)), Expected())
        e.count += 1
        e.failures += 0 if r.ok else 1
        e.degraded += 1 if r.degraded else 0
        e.latency_sum_ms += r.duration_ms
        e.latencies.append(r.duration_ms)
        e.histogram[bucket_index(r.duration_ms)] += 1
    return buckets


def assert_matches(stored: list[Rollup], expected: dict[tuple[int, datetime], Expected]) -> None:
    """Every stored bucket equals its hand count, and no bucket is missing or extra."""
    assert {(r.check_id, r.start) for r in stored} == set(expected)
    for row in stored:
        e = expected[(row.check_id, row.start)]
        assert (row.count, row.failures, row.degraded) == (e.count, e.failures, e.degraded), row.start
        assert math.isclose(row.latency_sum_ms, e.latency_sum_ms, rel_tol=1e-9)
        assert (row.latency_min_ms, row.latency_max_ms) == (min(e.latencies), max(e.latencies))
        assert row.histogram.dense() == tuple(e.histogram), row.start
