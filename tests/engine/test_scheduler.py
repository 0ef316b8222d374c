"""The scheduler on trio's mock clock: exact due times, spread phases, bounded concurrency, lateness."""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import TYPE_CHECKING

import pytest
import trio

from engine.scheduler import Scheduler, initial_phase
from engine.stats import EngineStats
from pulsewatch.domain.monitoring import Check
from tests.engine.helpers import bounded

if TYPE_CHECKING:
    from trio.testing import MockClock

pytestmark = pytest.mark.trio


def check(check_id: int, interval: float = 30.0) -> Check:
    return Check(
        name=f"c{check_id}", url=f"tcp://c{check_id}.test:80", kind="tcp", interval=interval, id=check_id
    )


class Recorder:
    """A fake probe: records start times per check, sleeps `durations[check id]`, tracks concurrency."""

    def __init__(self, durations: dict[int, float] | None = None) -> None:
        self.durations = durations or {}
        self.starts: dict[int, list[float]] = defaultdict(list)
        self.in_flight = 0
        self.max_in_flight = 0

    async def __call__(self, c: Check) -> None:
        assert c.id is not None
        self.starts[c.id].append(trio.current_time())
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await trio.sleep(self.durations.get(c.id, 0.0))
        finally:
            self.in_flight -= 1


async def run_for(scheduler: Scheduler, seconds: float) -> None:
    """Run the scheduler from the current time for exactly `seconds` of trio time."""
    with trio.move_on_after(seconds):
        await scheduler.run()


class TestSchedule:
    @bounded(600)
    async def test_it_runs_n_probes_at_exact_due_times_however_long_each_takes(
        self, autojump_clock: MockClock
    ) -> None:
        probe = Recorder(durations={7: 12.5})  # a slow probe must not push later runs back
        stats = EngineStats()
        scheduler = Scheduler(probe, limiter=trio.CapacityLimiter(10), stats=stats)
        scheduler.add(check(7, interval=30))
        start = trio.current_time()
        phase = initial_phase(7, 30)

        await run_for(scheduler, phase + 9 * 30 + 1)

        expected = [start + phase + k * 30 for k in range(10)]
        assert probe.starts[7] == pytest.approx(expected, abs=1e-9)
        assert stats.lateness.count == 10
        assert stats.lateness.max == pytest.approx(0, abs=1e-9)

    @bounded(600)
    async def test_phases_spread_checks_over_their_interval(self, autojump_clock: MockClock) -> None:
        probe = Recorder()
        scheduler = Scheduler(probe, limiter=trio.CapacityLimiter(1000), stats=EngineStats())
        for i in range(1, 201):
            scheduler.add(check(i, interval=60))
        start = trio.current_time()

        await run_for(scheduler, 60)

        firsts = {i: starts[0] - start for i, starts in probe.starts.items()}
        assert len(firsts) == 200
        assert all(firsts[i] == pytest.approx(initial_phase(i, 60)) for i in firsts)
        assert all(0 <= t < 60 for t in firsts.values())
        # 200 checks over 60 s: every 6-second slice of the minute gets some, none gets most.
        per_slice = [sum(1 for t in firsts.values() if s * 6 <= t < (s + 1) * 6) for s in range(10)]
        assert min(per_slice) > 0
        assert max(per_slice) < 50

    @bounded(1)
    async def test_initial_phase_is_stable_and_inside_the_interval(self) -> None:
        assert initial_phase(42, 30) == initial_phase(42, 30)
        assert initial_phase(42, 60) == pytest.approx(2 * initial_phase(42, 30))
        assert all(0 <= initial_phase(i, 10) < 10 for i in range(1000))
        assert len({round(initial_phase(i, 10), 6) for i in range(100)}) == 100

    @bounded(600)
    async def test_a_removed_check_stops_and_a_readded_one_resumes_on_its_grid(
        self, autojump_clock: MockClock
    ) -> None:
        probe = Recorder()
        scheduler = Scheduler(probe, limiter=trio.CapacityLimiter(10), stats=EngineStats())
        c = check(3, interval=10)
        scheduler.add(c)
        start = trio.current_time()
        phase = initial_phase(3, 10)
        async with trio.open_nursery() as nursery:
            await nursery.start(scheduler.run)
            await trio.sleep_until(start + phase + 25)  # runs at phase, +10, +20
            scheduler.remove(3)
            await trio.sleep(40)
            assert len(probe.starts[3]) == 3
            scheduler.add(c)
            await trio.sleep(15)
            nursery.cancel_scope.cancel()
        # Back on the same grid (phase + k*10), not at "now".
        resumed = probe.starts[3][3]
        assert (resumed - start - phase) / 10 == pytest.approx(round((resumed - start - phase) / 10))
        assert resumed > start + phase + 65


class TestConcurrency:
    @bounded(600)
    async def test_it_never_runs_more_probes_than_the_limiter_allows(self, autojump_clock: MockClock) -> None:
        probe = Recorder(durations=dict.fromkeys(range(1, 21), 8.0))
        stats = EngineStats()
        scheduler = Scheduler(probe, limiter=trio.CapacityLimiter(3), stats=stats)
        for i in range(1, 21):
            scheduler.add(check(i, interval=30))

        await run_for(scheduler, 300)

        assert probe.max_in_flight == 3
        # Waiting for a slot is lateness, and it was measured.
        assert stats.lateness.max > 0
        assert stats.lateness.count == sum(len(s) for s in probe.starts.values())

    @bounded(2000)
    async def test_lateness_is_start_minus_due_when_a_slow_probe_holds_the_only_slot(
        self, autojump_clock: MockClock
    ) -> None:
        # Two checks whose phases (interval 1000) are 0–50 s apart; the first one's probe takes 50 s.
        first, second = next(
            (a, b)
            for a in range(1, 500)
            for b in range(1, 500)
            if 1 < initial_phase(b, 1000) - initial_phase(a, 1000) < 49
        )
        probe = Recorder(durations={first: 50.0})
        stats = EngineStats()
        scheduler = Scheduler(probe, limiter=trio.CapacityLimiter(1), stats=stats)
        scheduler.add(check(first, interval=1000))
        scheduler.add(check(second, interval=1000))
        start = trio.current_time()
        due_first = start + initial_phase(first, 1000)
        due_second = start + initial_phase(second, 1000)

        await run_for(scheduler, due_first - start + 60)

        assert probe.starts[first] == [pytest.approx(due_first)]
        assert probe.starts[second] == [pytest.approx(due_first + 50)]
        assert stats.lateness.count == 2
        assert stats.lateness.max == pytest.approx(due_first + 50 - due_second)
        assert stats.lateness.percentile(50) == pytest.approx(0, abs=1e-9)

    @bounded(600)
    async def test_an_engine_far_behind_skips_missed_rounds_instead_of_bursting(
        self, autojump_clock: MockClock
    ) -> None:
        # `hog` holds the single slot for 95 s; `fast` (every 10 s) falls due ~9 times meanwhile.
        hog, fast = next(
            (a, b)
            for a in range(1, 500)
            for b in range(1, 500)
            if initial_phase(a, 1000) < 10 and 0 < initial_phase(b, 10) - initial_phase(a, 1000) < 5
        )
        probe = Recorder(durations={hog: 95.0})
        stats = EngineStats()
        scheduler = Scheduler(probe, limiter=trio.CapacityLimiter(1), stats=stats)
        scheduler.add(check(hog, interval=1000))
        scheduler.add(check(fast, interval=10))
        start = trio.current_time()

        await run_for(scheduler, 200)

        hog_done = start + initial_phase(hog, 1000) + 95
        fast_grid = start + initial_phase(fast, 10)
        late_start = probe.starts[fast][0]
        assert late_start == pytest.approx(hog_done)
        # Then straight back onto its grid: one run per 10 s slot, no catch-up burst.
        later = probe.starts[fast][1:]
        assert all(b - a == pytest.approx(10) for a, b in itertools.pairwise(later))
        assert (later[0] - fast_grid) / 10 == pytest.approx(round((later[0] - fast_grid) / 10))
        assert later[0] > late_start
        assert stats.rounds_skipped >= 8

    @bounded(600)
    async def test_a_round_is_skipped_while_the_previous_probe_of_the_same_check_runs(
        self, autojump_clock: MockClock
    ) -> None:
        probe = Recorder(durations={5: 25.0})  # longer than the interval
        stats = EngineStats()
        scheduler = Scheduler(probe, limiter=trio.CapacityLimiter(10), stats=stats)
        scheduler.add(check(5, interval=10))
        start = trio.current_time()
        phase = initial_phase(5, 10)

        await run_for(scheduler, phase + 95)

        # Runs at phase, +30, +60, +90: each 25 s probe swallows the two rounds that fall inside it.
        assert probe.starts[5] == pytest.approx([start + phase + k * 30 for k in range(4)])
        assert stats.overlaps_skipped == 6
        assert probe.max_in_flight == 1

    @bounded(600)
    async def test_run_now_probes_immediately_without_moving_the_schedule(
        self, autojump_clock: MockClock
    ) -> None:
        probe = Recorder()
        scheduler = Scheduler(probe, limiter=trio.CapacityLimiter(10), stats=EngineStats())
        c = check(9, interval=100)
        scheduler.add(c)
        start = trio.current_time()
        phase = initial_phase(9, 100)
        async with trio.open_nursery() as nursery:
            await nursery.start(scheduler.run)
            await trio.sleep(phase + 50)
            scheduler.run_now(c)
            await trio.sleep(100)
            nursery.cancel_scope.cancel()
        assert probe.starts[9] == pytest.approx([start + phase, start + phase + 50, start + phase + 100])

    @bounded(600)
    async def test_an_immediate_add_runs_now_then_returns_to_its_grid(
        self, autojump_clock: MockClock
    ) -> None:
        probe = Recorder()
        scheduler = Scheduler(probe, limiter=trio.CapacityLimiter(10), stats=EngineStats())
        start = trio.current_time()
        phase = initial_phase(4, 10)
        async with trio.open_nursery() as nursery:
            await nursery.start(scheduler.run)
            await trio.sleep(phase + 3.5)  # between two slots of the grid
            added = trio.current_time()
            scheduler.add(check(4, interval=10), immediately=True)
            await trio.sleep(20)
            nursery.cancel_scope.cancel()
        assert probe.starts[4] == pytest.approx([added, start + phase + 10, start + phase + 20])
