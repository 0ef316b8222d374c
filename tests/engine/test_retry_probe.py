"""Retries inside one round: `retries` more attempts after a failure, `retry_interval` apart (mock clock)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import timedelta

import httpx
import pytest
import trio

from engine.probes import HttpClientPool, Prober
from pulsewatch.domain.conditions import parse_condition
from tests.engine.helpers import EPOCH, bounded, http_check, trio_wall_clock

pytestmark = pytest.mark.trio


@dataclass
class Flaky:
    """Answers with `statuses` in turn (the last one repeats) and notes the trio time of each request."""

    statuses: list[int]
    at: list[float] = field(default_factory=list)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.at.append(trio.current_time())
        status = self.statuses[min(len(self.at) - 1, len(self.statuses) - 1)]
        return httpx.Response(status, json={"speed": "slow"})


@pytest.fixture
async def target() -> AsyncIterator[tuple[Flaky, Prober]]:
    flaky = Flaky([503])
    pool = HttpClientPool(transport=httpx.MockTransport(flaky))
    try:
        yield flaky, Prober(engine="retry-test", wall_clock=trio_wall_clock, http_pool=pool)
    finally:
        await pool.aclose()


class TestRetries:
    @bounded(60)
    async def test_failed_attempts_are_retried_retry_interval_apart(
        self, autojump_clock: trio.testing.MockClock, target: tuple[Flaky, Prober]
    ) -> None:
        flaky, prober = target
        start = trio.current_time()
        result = await prober.probe(http_check("api", id=1, retries=2, retry_interval=5.0))
        assert [t - start for t in flaky.at] == [0.0, 5.0, 10.0]
        assert (result.ok, result.message, result.engine) == (False, "HTTP status 503", "retry-test")
        assert result.started_at == EPOCH + timedelta(seconds=start + 10.0)  # the last attempt's

    @bounded(60)
    async def test_a_success_ends_the_round_early(
        self, autojump_clock: trio.testing.MockClock, target: tuple[Flaky, Prober]
    ) -> None:
        flaky, prober = target
        flaky.statuses = [503, 200]
        start = trio.current_time()
        result = await prober.probe(http_check("api", id=1, retries=3, retry_interval=2.5))
        assert [t - start for t in flaky.at] == [0.0, 2.5]
        assert result.ok

    @bounded(60)
    async def test_without_retry_interval_retries_follow_at_once(
        self, autojump_clock: trio.testing.MockClock, target: tuple[Flaky, Prober]
    ) -> None:
        flaky, prober = target
        start = trio.current_time()
        await prober.probe(http_check("api", id=1, retries=2))
        assert [t - start for t in flaky.at] == [0.0, 0.0, 0.0]

    @bounded(60)
    async def test_a_degraded_answer_is_not_retried(
        self, autojump_clock: trio.testing.MockClock, target: tuple[Flaky, Prober]
    ) -> None:
        flaky, prober = target
        flaky.statuses = [200]
        soft = (parse_condition("[BODY].speed == fast"),)
        check = replace(http_check("api", id=1, retries=2, retry_interval=1.0), soft_conditions=soft)
        result = await prober.probe(check)
        assert len(flaky.at) == 1
        assert (result.ok, result.degraded, result.message) == (
            True,
            True,
            'expected [BODY].speed == fast, got "slow"',
        )


class TestKinds:
    @bounded(10)
    async def test_a_kind_without_a_probe_is_a_result_not_a_crash(self, target: tuple[Flaky, Prober]) -> None:
        _, prober = target
        result = await prober.probe(replace(http_check("odd", id=1), kind="gopher"))
        assert (result.ok, result.error) == (False, "unsupported")
