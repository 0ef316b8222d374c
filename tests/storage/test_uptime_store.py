"""The console's stored-uptime reads on both backends: the grid tally over rollups and the raw tail,
and the detail chart's buckets, each equal to a count by hand of the results written."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from engine.storage.rollup_store import RollupStore
from engine.storage.uptime_store import UptimeStore
from pulsewatch.config_retention import DAY, RetentionSettings
from pulsewatch.domain.rollups import Level
from pulsewatch.domain.uptime import UptimeCounts, grid_windows
from tests.storage.rollup_data import DELAY, T0, add_checks, result

if TYPE_CHECKING:
    from datetime import datetime

    from engine.storage.store import SqlStore
    from pulsewatch.domain.monitoring import ProbeResult

NOW = T0 + timedelta(days=8, hours=5, minutes=37, seconds=20)
"""Eight days of results behind it; the minute rollups' mark is ~5 minutes back (the delay)."""


def spread(check_ids: list[int], *, every_minutes: float = 9.0, seed: int = 3) -> list[ProbeResult]:
    """A result every ~`every_minutes` per check from T0 to NOW (a few in NOW's own minute too),
    one in eight failed."""
    rng = random.Random(seed)
    results = []
    for check_id in check_ids:
        at = T0 + timedelta(seconds=rng.uniform(0, 60))
        while at < NOW:
            results.append(result(check_id, at, rng.uniform(5, 500), ok=rng.random() > 0.125))
            at += timedelta(minutes=every_minutes * rng.uniform(0.5, 1.5))
        results.append(result(check_id, NOW - timedelta(seconds=5), 10.0, ok=False))  # NOW's minute: left out
    return results


def by_hand(results: list[ProbeResult], now: datetime) -> dict[int, UptimeCounts]:
    until = Level.MINUTE.floor(now)
    day, week = grid_windows(now)
    counts: dict[int, list[int]] = {}
    for r in results:
        if not week <= r.started_at < until:
            continue
        into = counts.setdefault(r.check_id, [0, 0, 0, 0])
        into[2:] = [into[2] + r.ok, into[3] + 1]
        if r.started_at >= day:
            into[:2] = [into[0] + r.ok, into[1] + 1]
    return {i: UptimeCounts(*c) for i, c in counts.items()}


def probes_in(results: list[ProbeResult], check_id: int, since: datetime, until: datetime) -> int:
    return sum(1 for r in results if r.check_id == check_id and since <= r.started_at < until)


@pytest.fixture
def written(store: SqlStore) -> tuple[list[int], list[ProbeResult]]:
    ids = add_checks(store, 3)
    results = spread(ids[:2])  # the third check never probed
    store.record(results, [], [])
    return ids, results


class TestGridTally:
    def test_rollups_and_the_raw_tail_add_up_to_a_count_by_hand(
        self, store: SqlStore, written: tuple[list[int], list[ProbeResult]]
    ) -> None:
        ids, results = written
        RollupStore(store).roll_up_pending(NOW, DELAY)  # days, hours and minutes up to ~5 minutes ago

        tally = UptimeStore(store).tally(NOW)

        assert tally.until == Level.MINUTE.floor(NOW)
        assert (tally.day_since, tally.week_since) == grid_windows(NOW)
        assert dict(tally.counts) == by_hand(results, NOW)
        assert tally.of(ids[2]) == UptimeCounts()  # never probed: absent, zero
        day = tally.of(ids[0])
        assert 0 < day.day_ok < day.day_total < day.week_total  # the windows really differ

    def test_without_rollups_the_raw_results_are_counted(
        self, store: SqlStore, written: tuple[list[int], list[ProbeResult]]
    ) -> None:
        _, results = written

        assert dict(UptimeStore(store).tally(NOW).counts) == by_hand(results, NOW)

    @pytest.mark.parametrize("after", [timedelta(minutes=1), timedelta(minutes=3), timedelta(hours=1)])
    def test_later_tallies_move_on_with_the_rollups(
        self, store: SqlStore, written: tuple[list[int], list[ProbeResult]], after: timedelta
    ) -> None:
        """The same store read again: minutes summed before are kept, new ones added; a new hour
        (new hour rollups, windows moved) reads the settled stretches again."""
        _, results = written
        rollups, uptime = RollupStore(store), UptimeStore(store)
        rollups.roll_up_pending(NOW, DELAY)
        assert dict(uptime.tally(NOW).counts) == by_hand(results, NOW)
        later = NOW + after
        rollups.roll_up_pending(later, DELAY)

        assert dict(uptime.tally(later).counts) == by_hand(results, later)  # NOW's minute now counts


class TestDetailSeries:
    def test_a_day_reads_hours_then_the_stretch_not_rolled_up_yet(
        self, store: SqlStore, written: tuple[list[int], list[ProbeResult]]
    ) -> None:
        ids, results = written
        RollupStore(store).roll_up_pending(NOW, DELAY)
        since = NOW - timedelta(hours=24)

        rows = UptimeStore(store).series(ids[0], Level.HOUR, since, NOW)

        assert {r.level for r in rows} == {Level.HOUR, Level.MINUTE}  # the newest minutes are not in hours
        assert [r.start for r in rows] == sorted(r.start for r in rows)
        assert rows[0].start == Level.HOUR.floor(since)
        assert sum(r.count for r in rows) == probes_in(results, ids[0], Level.HOUR.floor(since), NOW)

    def test_an_hour_reads_minutes(
        self, store: SqlStore, written: tuple[list[int], list[ProbeResult]]
    ) -> None:
        ids, results = written
        RollupStore(store).roll_up_pending(NOW, DELAY)
        since = NOW - timedelta(hours=1)

        rows = UptimeStore(store).series(ids[1], Level.MINUTE, since, NOW)

        assert {r.level for r in rows} == {Level.MINUTE}
        assert sum(r.count for r in rows) == probes_in(results, ids[1], Level.MINUTE.floor(since), NOW)

    def test_days_stand_in_where_hours_were_pruned(
        self, store: SqlStore, written: tuple[list[int], list[ProbeResult]]
    ) -> None:
        ids, results = written
        rollups = RollupStore(store)
        rollups.roll_up_pending(NOW, DELAY)
        rollups.prune_all(NOW, RetentionSettings(raw=10 * DAY, minute=10 * DAY, hour=3 * DAY))
        since = NOW - timedelta(days=7)

        rows = UptimeStore(store).series(ids[0], Level.HOUR, since, NOW)

        assert {Level.DAY, Level.HOUR} <= {r.level for r in rows}
        assert sum(r.count for r in rows) == probes_in(results, ids[0], Level.DAY.floor(since), NOW)

    def test_nothing_stored_is_an_empty_series(self, store: SqlStore) -> None:
        (check_id,) = add_checks(store, 1)
        assert UptimeStore(store).series(check_id, Level.HOUR, NOW - timedelta(days=30), NOW) == []
