"""Storage maintenance on trio's mock clock: its rhythm, batches, pauses and failures (SQL is tested in
tests/storage)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, TypeVar, TypeVarTuple, Unpack

import pytest
import trio

from engine.maintenance import Maintenance
from engine.runtime import Engine
from engine.storage.rollup_store import PruneBatch, PruneTarget, RollupWork
from pulsewatch.config_retention import RetentionSettings
from pulsewatch.domain.rollups import Level
from pulsewatch.errors import StorageError
from tests.engine.fakes import FakeStore
from tests.engine.helpers import EventLog, bounded, run_inline, trio_wall_clock

if TYPE_CHECKING:
    from collections.abc import Callable

    from trio.testing import MockClock

pytestmark = pytest.mark.trio

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


@dataclass
class FakeRollups:
    """A MaintenanceStore that hands out scripted work and logs every call with the trio time."""

    works_per_pass: int = 1
    check_ids: tuple[int, ...] = (1, 2, 3, 4, 5)
    batches_per_target: int = 3
    fail_next_work: int = 0
    checks_per_batch: int = 2
    calls: list[tuple[float, str]] = field(default_factory=list)
    _pending: int = 0

    def __post_init__(self) -> None:
        self._pending = self.works_per_pass

    def _log(self, name: str) -> None:
        self.calls.append((trio.current_time(), name))

    def next_work(self, now: datetime, delay: float) -> RollupWork | None:
        self._log("next_work")
        if self.fail_next_work:
            self.fail_next_work -= 1
            raise StorageError("cannot plan rollups in sqlite:///x.db: database is locked")
        if self._pending == 0:
            self._pending = self.works_per_pass
            return None
        self._pending -= 1
        return RollupWork(Level.MINUTE, now, now, self.check_ids)

    def roll_up(self, work: RollupWork, check_ids: tuple[int, ...]) -> int:
        self._log(f"roll_up {list(check_ids)}")
        return len(check_ids)

    def finish(self, work: RollupWork) -> bool:
        self._log("finish")
        return True

    def prune_targets(self, now: datetime, retention: RetentionSettings) -> list[PruneTarget]:
        self._log("prune_targets")
        return [PruneTarget(None, now)]

    def prune_batch(self, target: PruneTarget, batch: int, resume_after: int) -> PruneBatch:
        self._log(f"prune_batch after {resume_after}")
        more = resume_after + 1 < self.batches_per_target
        return PruneBatch(deleted=batch, more=more, resume_after=resume_after + 1)

    def times(self, name: str) -> list[float]:
        return [round(t, 6) for t, n in self.calls if n.startswith(name)]


def maintenance(
    store: FakeRollups, run_sync: Callable[..., object] = run_inline, **options: float
) -> Maintenance:
    retention = RetentionSettings(interval=options.pop("interval", 60.0))
    return Maintenance(
        store, retention, write_limiter=trio.CapacityLimiter(1), wall_clock=trio_wall_clock,
        run_sync=run_sync, prune_batch=100, pause=options.pop("pause", 0.5),  # type: ignore[arg-type]
    )


class TestRhythm:
    @bounded(1000)
    async def test_a_pass_at_start_then_one_every_interval(self, autojump_clock: MockClock) -> None:
        store = FakeRollups(works_per_pass=0, batches_per_target=1)
        keeper = maintenance(store)

        async with trio.open_nursery() as nursery:
            await nursery.start(keeper.run)
            await trio.sleep(150)
            nursery.cancel_scope.cancel()

        assert store.times("next_work") == [0.0, 60.0, 120.0]
        assert keeper.stats.passes == 3

    @bounded(1000)
    async def test_a_pass_that_overruns_is_followed_at_once_without_a_burst(
        self, autojump_clock: MockClock
    ) -> None:
        async def slow(fn: Callable[[Unpack[Ts]], T], /, *args: *Ts, limiter: trio.CapacityLimiter) -> T:
            await trio.sleep(25)  # each database call takes 25 s: a pass takes 100 s
            return fn(*args)

        store = FakeRollups(works_per_pass=0, batches_per_target=2)
        keeper = maintenance(store, slow, pause=0.0)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(keeper.run)
            await trio.sleep(250)
            nursery.cancel_scope.cancel()

        assert store.times("next_work") == [25.0, 125.0, 225.0]


class TestPass:
    @bounded(100)
    async def test_work_goes_in_batches_of_checks_and_is_finished_after_its_last_batch(
        self, autojump_clock: MockClock
    ) -> None:
        store = FakeRollups(works_per_pass=2, batches_per_target=1)
        keeper = maintenance(store)

        await keeper.run_once()

        names = [n for _, n in store.calls]
        assert names == [
            "next_work", "roll_up [1, 2]", "roll_up [3, 4]", "roll_up [5]", "finish",
            "next_work", "roll_up [1, 2]", "roll_up [3, 4]", "roll_up [5]", "finish",
            "next_work", "prune_targets", "prune_batch after 0",
        ]
        assert keeper.stats.buckets_written == 10

    @bounded(100)
    async def test_delete_batches_are_spaced_by_the_pause(self, autojump_clock: MockClock) -> None:
        store = FakeRollups(works_per_pass=0, batches_per_target=4)
        keeper = maintenance(store, pause=0.5)

        await keeper.run_once()

        assert store.times("prune_batch") == [0.0, 0.5, 1.0, 1.5]
        assert keeper.stats.rows_pruned == 400

    @bounded(1000)
    async def test_a_database_error_is_logged_and_the_next_pass_tries_again(
        self, autojump_clock: MockClock, caplog: pytest.LogCaptureFixture
    ) -> None:
        store = FakeRollups(works_per_pass=0, batches_per_target=1, fail_next_work=1)
        keeper = maintenance(store)

        async with trio.open_nursery() as nursery:
            await nursery.start(keeper.run)
            await trio.sleep(90)
            nursery.cancel_scope.cancel()

        assert (keeper.stats.errors, keeper.stats.passes) == (1, 1)
        assert store.times("prune_targets") == [60.0]
        assert "database is locked" in caplog.text


@dataclass
class FakeSeats:
    """A SeatMeter that logs the day it is asked to record, with the trio time."""

    calls: list[tuple[float, date]] = field(default_factory=list)

    def record_seats(self, day: date) -> int:
        self.calls.append((trio.current_time(), day))
        return 3


class TestSeats:
    @bounded(1000)
    async def test_each_pass_ends_by_recording_the_utc_days_seats(self, autojump_clock: MockClock) -> None:
        store, seats = FakeRollups(works_per_pass=0, batches_per_target=1), FakeSeats()
        keeper = Maintenance(
            store, RetentionSettings(interval=60.0), write_limiter=trio.CapacityLimiter(1),
            wall_clock=trio_wall_clock, run_sync=run_inline, seats=seats,
        )  # fmt: skip

        async with trio.open_nursery() as nursery:
            await nursery.start(keeper.run)
            await trio.sleep(90)
            nursery.cancel_scope.cancel()

        today = trio_wall_clock().astimezone(UTC).date()
        assert seats.calls == [(0.0, today), (60.0, today)]
        assert store.calls[-1][1] == "prune_batch after 0"  # seats come after the storage work
        assert keeper.stats.seats_metered == 3


class TestInTheEngine:
    @bounded(1000)
    async def test_the_engine_runs_maintenance_until_stopped(self, autojump_clock: MockClock) -> None:
        rollups = FakeRollups(works_per_pass=0, batches_per_target=1)
        engine = Engine(
            FakeStore(), [], name="test-engine", emit=EventLog(), wall_clock=trio_wall_clock,
            run_sync=run_inline, rollups=rollups, retention=RetentionSettings(interval=30.0),
        )

        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            await trio.sleep(65)
            engine.stop()

        assert rollups.times("next_work") == [0.0, 30.0, 60.0]
        assert engine.maintenance is not None
        assert engine.maintenance.stats.passes == 3

    async def test_without_rollups_there_is_no_maintenance(self) -> None:
        engine = Engine(FakeStore(), [], name="test-engine", run_sync=run_inline)

        assert engine.maintenance is None

