"""The scheduler with leases: only owned checks run, a lease change starts and stops checks on their own
grid without moving any phase, and the wall-clock grid puts slot k at Unix time phase + k × interval."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pytest
import trio

from engine.scheduler import Scheduler, initial_phase
from engine.stats import EngineStats
from tests.engine.helpers import bounded
from tests.engine.test_scheduler import Recorder, check, run_for

if TYPE_CHECKING:
    from trio.testing import MockClock

pytestmark = pytest.mark.trio


class TestOwnership:
    @bounded(600)
    async def test_only_owned_checks_run_and_a_lease_change_moves_them_on_their_grid(
        self, autojump_clock: MockClock
    ) -> None:
        owned = {1, 2}
        probe = Recorder()
        scheduler = Scheduler(probe, limiter=trio.CapacityLimiter(10), stats=EngineStats(),
                              owns=lambda i: i in owned)
        for i in (1, 2, 3):
            scheduler.add(check(i, interval=10))
        start = trio.current_time()

        async with trio.open_nursery() as nursery:
            await nursery.start(scheduler.run)
            await trio.sleep(35)
            owned.clear()
            owned.update({2, 3})
            started, stopped = scheduler.reconsider()
            await trio.sleep(40)
            nursery.cancel_scope.cancel()

        assert (started, stopped) == ({3}, {1})
        assert scheduler.running() == {2, 3}

        def grid(i: int, times: list[float]) -> bool:
            return all(math.isclose((t - start - initial_phase(i, 10)) % 10, 0, abs_tol=1e-6) or
                       math.isclose((t - start - initial_phase(i, 10)) % 10, 10, abs_tol=1e-6) for t in times)

        assert all(t < start + 35 for t in probe.starts[1])
        assert len(probe.starts[2]) == 8  # untouched: every round of 75 s
        assert all(t > start + 35 for t in probe.starts[3])
        assert len(probe.starts[3]) == 4
        assert all(grid(i, probe.starts[i]) for i in (1, 2, 3))

    @bounded(600)
    async def test_a_check_added_while_not_owned_starts_when_its_lease_comes(
        self, autojump_clock: MockClock
    ) -> None:
        owned: set[int] = set()
        probe = Recorder()
        scheduler = Scheduler(probe, limiter=trio.CapacityLimiter(10), stats=EngineStats(),
                              owns=lambda i: i in owned)

        async with trio.open_nursery() as nursery:
            await nursery.start(scheduler.run)
            scheduler.add(check(5, interval=10), immediately=True)
            await trio.sleep(30)
            assert probe.starts[5] == []
            owned.add(5)
            scheduler.reconsider()
            await trio.sleep(30)
            nursery.cancel_scope.cancel()

        assert len(probe.starts[5]) == 3

    @bounded(600)
    async def test_a_lease_lost_without_reconsider_stops_the_check_at_its_next_slot(
        self, autojump_clock: MockClock
    ) -> None:
        owned = {1}
        probe = Recorder()
        scheduler = Scheduler(probe, limiter=trio.CapacityLimiter(10), stats=EngineStats(),
                              owns=lambda i: i in owned)
        scheduler.add(check(1, interval=10))

        async with trio.open_nursery() as nursery:
            await nursery.start(scheduler.run)
            await trio.sleep(25)
            owned.clear()  # e.g. the lease went stale: owns() says no before any claim ran
            await trio.sleep(30)
            nursery.cancel_scope.cancel()

        assert len(probe.starts[1]) in (2, 3)
        assert scheduler.running() == frozenset()


class TestWallClockGrid:
    @bounded(600)
    async def test_slots_fall_on_unix_time_phase_plus_k_intervals(self, autojump_clock: MockClock) -> None:
        unix_at_zero = 1_735_689_600.0 + 12.345  # the wall clock when trio's clock reads 0

        def epoch() -> float:
            return unix_at_zero + trio.current_time()

        probe = Recorder()
        scheduler = Scheduler(probe, limiter=trio.CapacityLimiter(10), stats=EngineStats(), epoch=epoch)
        scheduler.add(check(7, interval=30))

        await run_for(scheduler, 95)

        phase = initial_phase(7, 30)
        assert len(probe.starts[7]) == 3
        for t in probe.starts[7]:
            offset = (unix_at_zero + t - phase) % 30
            assert min(offset, 30 - offset) == pytest.approx(0, abs=1e-5)
