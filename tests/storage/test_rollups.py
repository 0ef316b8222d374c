"""Rollups on both backends: exact buckets, idempotence, late results, report reads."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from engine.storage.rollup_store import RollupStore
from engine.storage.store import SqlStore
from pulsewatch.config_retention import RetentionSettings
from pulsewatch.domain.monitoring import Flip, Status
from pulsewatch.domain.rollups import (
    LATENCY_BOUNDS_MS,
    Level,
    Rollup,
    bucket_index,
    bucket_range,
    merge,
)
from tests.storage.rollup_data import (
    DELAY,
    T0,
    add_checks,
    assert_matches,
    by_hand,
    minutes,
    random_results,
    result,
)


@pytest.fixture
def rollups(store: SqlStore) -> RollupStore:
    return RollupStore(store, checks_per_batch=2)  # small batches: several per piece of work


def every(rollups: RollupStore, level: Level) -> list[Rollup]:
    """Every stored rollup of a level (check ids are small: the tests' checks are the only ones)."""
    return rollups.rollups(range(1, 50), level, T0 - timedelta(days=30), T0 + timedelta(days=30))


class TestBuilding:
    def test_minutes_hours_and_days_equal_a_count_by_hand(
        self, store: SqlStore, rollups: RollupStore
    ) -> None:
        ids = add_checks(store, 3)
        results = random_results(ids, hours=26)
        store.record(results, [], [])
        now = T0 + timedelta(days=2, hours=1)

        assert rollups.roll_up_pending(now, DELAY) > 0

        assert_matches(every(rollups, Level.MINUTE), by_hand(results, Level.MINUTE, now))
        assert_matches(every(rollups, Level.HOUR), by_hand(results, Level.HOUR, now))
        assert_matches(every(rollups, Level.DAY), by_hand(results, Level.DAY, T0 + timedelta(days=2)))
        marks = rollups.marks()
        assert marks[1][0] == minutes(48 * 60 + 55)  # now - 5 min delay, floored
        assert (marks[2][0], marks[3][0]) == (T0 + timedelta(hours=48), T0 + timedelta(days=2))

    def test_sql_buckets_agree_with_python_on_and_around_every_bound(
        self, store: SqlStore, rollups: RollupStore
    ) -> None:
        [check] = add_checks(store, 1)
        values = [v for b in LATENCY_BOUNDS_MS for v in (b, b * (1 - 1e-12), b * (1 + 1e-12))] + [0.0, 1e7]
        results = [
            result(check, minutes(i // 50) + timedelta(seconds=i % 50), v) for i, v in enumerate(values)
        ]
        store.record(results, [], [])

        rollups.roll_up_pending(minutes(60), DELAY)

        assert_matches(every(rollups, Level.MINUTE), by_hand(results, Level.MINUTE, minutes(60)))
        assert {bucket_index(v) for v in values} == set(range(86))

    def test_only_minutes_older_than_the_delay_are_rolled(
        self, store: SqlStore, rollups: RollupStore
    ) -> None:
        [check] = add_checks(store, 1)
        store.record([result(check, minutes(m) + timedelta(seconds=30), 10.0) for m in range(20)], [], [])

        rollups.roll_up_pending(minutes(14) + timedelta(seconds=59), DELAY)

        assert [r.start for r in every(rollups, Level.MINUTE)] == [minutes(m) for m in range(9)]
        assert every(rollups, Level.HOUR) == []


class TestIdempotence:
    def test_a_second_pass_finds_nothing_to_do(self, store: SqlStore, rollups: RollupStore) -> None:
        ids = add_checks(store, 2)
        store.record(random_results(ids, hours=3), [], [])
        now = T0 + timedelta(hours=4)
        rollups.roll_up_pending(now, DELAY)
        before = [every(rollups, level) for level in Level]

        assert rollups.roll_up_pending(now, DELAY) == 0
        assert [every(rollups, level) for level in Level] == before

    def test_rebuilding_from_the_start_writes_the_same_buckets(
        self, store: SqlStore, rollups: RollupStore
    ) -> None:
        ids = add_checks(store, 2)
        store.record(random_results(ids, hours=3), [], [])
        now = T0 + timedelta(hours=4)
        rollups.roll_up_pending(now, DELAY)
        before = [every(rollups, level) for level in Level]

        rollups.rewind(T0, now, RetentionSettings())
        assert rollups.roll_up_pending(now, DELAY) > 0

        assert [every(rollups, level) for level in Level] == before

    def test_two_engines_doing_the_same_work_write_it_once(
        self, store: SqlStore, rollups: RollupStore
    ) -> None:
        ids = add_checks(store, 3)
        results = random_results(ids, hours=1)
        store.record(results, [], [])
        now = T0 + timedelta(hours=2)
        other = RollupStore(store, checks_per_batch=100)  # a second engine on the same database

        mine, theirs = rollups.next_work(now, DELAY), other.next_work(now, DELAY)
        assert mine is not None
        assert mine == theirs
        other.roll_up(mine, ids)
        rollups.roll_up(mine, ids[:1])
        rollups.roll_up(mine, ids[1:])

        assert rollups.finish(mine) is True
        assert other.finish(mine) is False  # the mark has moved on: no double step
        rollups.roll_up_pending(now, DELAY)
        other.roll_up_pending(now, DELAY)
        assert_matches(every(rollups, Level.MINUTE), by_hand(results, Level.MINUTE, now))
        assert_matches(every(rollups, Level.HOUR), by_hand(results, Level.HOUR, T0 + timedelta(hours=1)))


class TestLateResults:
    def test_a_result_written_inside_the_delay_is_counted(
        self, store: SqlStore, rollups: RollupStore
    ) -> None:
        [check] = add_checks(store, 1)
        store.record([result(check, minutes(10) + timedelta(seconds=5), 20.0)], [], [])
        rollups.roll_up_pending(minutes(15) + timedelta(seconds=59), DELAY)  # minute 10 ends 5 min later
        assert every(rollups, Level.MINUTE) == []

        # A slow probe that started at 10:59 is written at 15:30, still inside the delay.
        store.record([result(check, minutes(10) + timedelta(seconds=59), 30000.0, ok=False)], [], [])
        rollups.roll_up_pending(minutes(16), DELAY)

        [minute] = every(rollups, Level.MINUTE)
        assert (minute.start, minute.count, minute.failures) == (minutes(10), 2, 1)
        assert minute.latency_max_ms == 30000.0

    def test_a_result_later_than_the_delay_waits_for_a_rewind(
        self, store: SqlStore, rollups: RollupStore
    ) -> None:
        [check] = add_checks(store, 1)
        store.record([result(check, minutes(m), 20.0) for m in range(0, 120)], [], [])
        now = minutes(180)
        rollups.roll_up_pending(now, DELAY)
        late = result(check, minutes(30) + timedelta(seconds=10), 40.0, ok=False)  # replayed from a spool
        store.record([late], [], [])

        rollups.roll_up_pending(now, DELAY)
        assert sum(r.failures for r in every(rollups, Level.HOUR)) == 0

        rollups.rewind(late.started_at, now, RetentionSettings())
        rollups.roll_up_pending(now, DELAY)
        assert [(r.count, r.failures) for r in every(rollups, Level.HOUR)] == [(61, 1), (60, 0)]
        minute = next(r for r in every(rollups, Level.MINUTE) if r.start == minutes(30))
        assert (minute.count, minute.failures) == (2, 1)


class TestReading:
    def test_a_report_window_adds_up_to_every_result_in_it(
        self, store: SqlStore, rollups: RollupStore
    ) -> None:
        ids = add_checks(store, 2)
        results = random_results(ids, hours=50)
        store.record(results, [], [])
        now = T0 + timedelta(hours=50)
        rollups.roll_up_pending(now, DELAY)
        since = T0 + timedelta(hours=1, minutes=17)

        rows = rollups.report_rows(ids, since, now)

        for check in ids:
            inside = [r for r in results if r.check_id == check and since <= r.started_at < now]
            total = merge(rows[check], check_id=check, level=Level.DAY, start=since)
            assert (total.count, total.failures) == (len(inside), sum(not r.ok for r in inside))
            assert {r.level for r in rows[check]} == {Level.DAY, Level.HOUR, Level.MINUTE}
            assert len(rows[check]) < 200  # one day row instead of 1,440 minutes

    def test_percentiles_from_stored_histograms_lie_in_the_true_bucket(
        self, store: SqlStore, rollups: RollupStore
    ) -> None:
        [check] = add_checks(store, 1)
        rng = random.Random(3)
        latencies = [rng.lognormvariate(5.0, 0.7) for _ in range(3000)]
        store.record(
            [result(check, T0 + timedelta(seconds=20 * i), v) for i, v in enumerate(latencies)], [], []
        )
        rollups.roll_up_pending(T0 + timedelta(days=2), DELAY)

        [day] = rollups.rollups([check], Level.DAY, T0, T0 + timedelta(days=1))

        ordered = sorted(latencies)
        for q in (50, 95, 99):
            true = ordered[int(q / 100 * len(ordered)) - 1]
            estimate = day.percentile(q)
            low, high = bucket_range(bucket_index(true))
            assert estimate is not None
            assert low <= estimate < high

    def test_flips_in_the_window_oldest_first(self, store: SqlStore, rollups: RollupStore) -> None:
        a, b = add_checks(store, 2)
        flips = [
            Flip(a, minutes(5), Status.UP, Status.DOWN),
            Flip(b, minutes(1), Status.UNKNOWN, Status.UP),
            Flip(a, minutes(70), Status.DOWN, Status.UP),
        ]
        store.record([], [], flips)

        found = rollups.flips([a, b], T0, minutes(60))

        expected = [(b, minutes(1), Status.UP), (a, minutes(5), Status.DOWN)]
        assert [(f.check_id, f.at, f.new) for f in found] == expected
