"""Pruning on both backends: retention per kind of data, small batches, never ahead of the rollups."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine.storage.rollup_store import PruneBatch, PruneTarget, RollupStore
from engine.storage.store import SqlStore
from pulsewatch.config_retention import RetentionSettings
from pulsewatch.domain.rollups import Level
from tests.storage.backends import raw_sql
from tests.storage.rollup_data import DELAY, T0, add_checks, minutes, result

HOUR = 3600.0
DAY = 86400.0


@pytest.fixture
def rollups(store: SqlStore) -> RollupStore:
    return RollupStore(store)


def result_times(store: SqlStore) -> list[datetime]:
    from engine.storage.fields import from_micros

    rows = raw_sql(store, "SELECT started_at FROM results ORDER BY started_at")
    return [from_micros(int(t)) for (t,) in rows]


def rollup_starts(store: SqlStore, level: Level) -> list[datetime]:
    from engine.storage.fields import from_micros
    from engine.storage.rollup_records import LEVEL_CODES

    sql = f"SELECT bucket_start FROM rollups WHERE level = {LEVEL_CODES[level]}"  # noqa: S608 — a constant
    return sorted({from_micros(int(t)) for (t,) in raw_sql(store, sql)})


def rollups_ids(store: SqlStore) -> list[int]:
    return [c.id for c in store.load_checks() if c.id is not None]


def hourly_results(store: SqlStore, hours: int) -> None:
    """Two checks, one result every 10 minutes each, for `hours` from T0."""
    ids = add_checks(store, 2)
    store.record([result(c, minutes(m), 10.0) for m in range(0, hours * 60, 10) for c in ids], [], [])


class TestRetention:
    def test_each_kind_of_data_is_kept_for_its_own_period(
        self, store: SqlStore, rollups: RollupStore
    ) -> None:
        hourly_results(store, 72)
        now = T0 + timedelta(hours=72)
        rollups.roll_up_pending(now, DELAY)
        retention = RetentionSettings(raw=6 * HOUR, minute=12 * HOUR, hour=36 * HOUR, day=2 * DAY)

        deleted = rollups.prune_all(now, retention, batch=25)

        assert deleted > 0
        assert result_times(store)[0] == now - timedelta(hours=6)
        assert rollup_starts(store, Level.MINUTE)[0] == now - timedelta(hours=12)
        assert rollup_starts(store, Level.HOUR)[0] == now - timedelta(hours=36)
        assert rollup_starts(store, Level.DAY) == [T0 + timedelta(days=1)]  # day 0 ended > 2 days ago
        assert rollups.prune_all(now, retention, batch=25) == 0

    def test_nothing_is_pruned_before_the_next_level_is_built_from_it(
        self, store: SqlStore, rollups: RollupStore
    ) -> None:
        hourly_results(store, 10)
        now = T0 + timedelta(hours=10)
        rollups.roll_up_pending(T0 + timedelta(hours=3), DELAY)  # minutes built up to 2:55 only
        tiny = RetentionSettings(raw=60.0, minute=60.0, hour=60.0, day=60.0)

        rollups.prune_all(now, tiny)

        assert result_times(store)[0] == minutes(180)  # raw waits for the minute mark (2:55)
        assert rollup_starts(store, Level.MINUTE)[0] == T0 + timedelta(hours=2)  # minutes for the hour mark
        assert rollup_starts(store, Level.HOUR)[0] == T0  # hours wait for day rollups
        assert rollups.marks()[0][1] == minutes(175)  # raw `pruned_to`

    def test_with_no_rollups_yet_nothing_is_pruned(self, store: SqlStore, rollups: RollupStore) -> None:
        hourly_results(store, 2)

        assert rollups.prune_all(T0 + timedelta(days=30), RetentionSettings(raw=60.0)) == 0
        assert len(result_times(store)) == 24


class TestBatches:
    def test_raw_results_go_in_primary_key_ranges_until_a_range_has_nothing_old(
        self, store: SqlStore, rollups: RollupStore
    ) -> None:
        hourly_results(store, 10)  # 120 results, ids in time order
        rollups.roll_up_pending(T0 + timedelta(hours=11), DELAY)
        target = PruneTarget(None, T0 + timedelta(hours=5))

        steps = [rollups.prune_batch(target, 25)]
        while steps[-1].more:
            steps.append(rollups.prune_batch(target, 25, steps[-1].resume_after))

        assert [s.deleted for s in steps] == [25, 25, 10, 0]
        assert result_times(store)[0] == T0 + timedelta(hours=5)
        assert len(result_times(store)) == 60

    def test_a_young_row_among_old_ones_does_not_stop_the_pass(
        self, store: SqlStore, rollups: RollupStore
    ) -> None:
        [check] = add_checks(store, 1)
        old = [result(check, minutes(m), 10.0) for m in range(30)]
        store.record([*old[:10], result(check, minutes(600), 10.0), *old[10:]], [], [])
        target = PruneTarget(None, minutes(300))

        step = PruneBatch(0, more=True)
        while step.more:
            step = rollups.prune_batch(target, 8, step.resume_after)

        assert result_times(store) == [minutes(600)]

    def test_rollups_go_in_batches_of_the_given_size(self, store: SqlStore, rollups: RollupStore) -> None:
        hourly_results(store, 3)
        rollups.roll_up_pending(T0 + timedelta(hours=4), DELAY)
        target = PruneTarget(Level.MINUTE, T0 + timedelta(hours=2))  # 2 checks × 12 minutes with results

        steps = [rollups.prune_batch(target, 10) for _ in range(4)]

        assert [(s.deleted, s.more) for s in steps] == [(10, True), (10, True), (4, False), (0, False)]
        assert rollup_starts(store, Level.MINUTE)[0] == T0 + timedelta(hours=2)


class TestRewindAfterPruning:
    def test_rewinding_stops_where_the_finer_data_was_pruned(
        self, store: SqlStore, rollups: RollupStore
    ) -> None:
        hourly_results(store, 10)
        now = T0 + timedelta(hours=10)
        rollups.roll_up_pending(now, DELAY)
        retention = RetentionSettings(raw=4 * HOUR, minute=12 * HOUR)
        rollups.prune_all(now, retention)

        rollups.rewind(T0, now, retention)

        marks = rollups.marks()
        # Raw kept from 6:00 (+1 h margin): minutes rebuild from 7:00; hours still have all minutes.
        assert marks[1][0] == T0 + timedelta(hours=7)
        assert marks[2][0] == T0
        assert rollups.roll_up_pending(now, DELAY) > 0
        hours = rollups.rollups(rollups_ids(store), Level.HOUR, T0, now)
        assert [r.count for r in hours] == [6] * 9 + [6] * 9  # 2 checks × 9 complete hours, none short
