"""The engine's pure parts of the REST API: the per-key token bucket, the plan that picks up API checks."""

from __future__ import annotations

import pytest

from engine.check_reload import plan_reload
from engine.http.api.ratelimit import RateLimiter
from pulsewatch.domain.monitoring import API_ORIGIN, Check


def check(name: str, check_id: int, **fields: object) -> Check:
    return Check(name=name, url=f"https://{name}.test", kind="https", id=check_id, **fields)  # type: ignore[arg-type]


class TestRateLimiter:
    def test_a_burst_then_the_rate(self) -> None:
        limiter = RateLimiter(rate=2.0, burst=3)
        assert [limiter.take(1, 0.0) for _ in range(3)] == [None, None, None]
        assert limiter.take(1, 0.0) == pytest.approx(0.5)
        assert limiter.take(2, 0.0) is None  # each key has its own bucket
        assert limiter.take(1, 0.25) == pytest.approx(0.25)
        assert limiter.take(1, 0.5) is None
        assert limiter.take(1, 100.0) is None  # refills, but never beyond the burst
        assert [limiter.take(1, 100.0) for _ in range(3)] == [None, None, pytest.approx(0.5)]

    def test_nonsense_limits_are_refused(self) -> None:
        with pytest.raises(ValueError, match="rate"):
            RateLimiter(rate=0, burst=1)


class TestReload:
    def test_the_reload_plan_looks_at_api_checks_only_and_ignores_pausing(self) -> None:
        running = {
            1: check("yaml", 1),
            2: check("kept", 2, origin=API_ORIGIN, paused=True),
            3: check("old", 3, origin=API_ORIGIN),
            4: check("moved", 4, origin=API_ORIGIN),
        }
        stored = [
            check("yaml", 1, interval=5.0),
            check("kept", 2, origin=API_ORIGIN),
            check("moved", 4, origin=API_ORIGIN, interval=9.0),
            check("new", 5, origin=API_ORIGIN),
        ]
        plan = plan_reload(running, stored)
        assert [c.name for c in plan.added] == ["new"]
        assert [c.name for c in plan.changed] == ["moved"]
        assert plan.removed == (3,)
        assert plan_reload({c.id or 0: c for c in stored}, stored).is_empty
