"""The grid's latency ring buffer and uptime counts (pure: tui/trends.py)."""

from __future__ import annotations

from datetime import timedelta

from pulsewatch.domain.uptime import UptimeCounts, UptimeTally
from tests.tui.fakes import NOW, result
from tui.trends import (
    EMPTY_TREND,
    RECENT_MINUTES,
    SPARK_POINTS,
    WINDOW_BUCKETS,
    Trend,
    bucket_of,
    grid_uptime,
)


def fed(*results: object) -> Trend:
    trend = EMPTY_TREND
    for item in results:
        trend = trend.add(item)  # type: ignore[arg-type]
    return trend


class TestRingBuffer:
    def test_it_keeps_the_newest_latencies_and_their_failures(self) -> None:
        trend = fed(*(result(1, NOW, float(ms), ok=ms % 2 == 0) for ms in range(SPARK_POINTS + 4)))
        assert trend.latencies == tuple(float(ms) for ms in range(4, SPARK_POINTS + 4))
        assert trend.failed == tuple(ms % 2 == 1 for ms in range(4, SPARK_POINTS + 4))


class TestUptime:
    def test_windows_count_whole_hours_back_from_now(self) -> None:
        trend = fed(
            result(1, NOW - timedelta(days=3), 10.0, ok=False),
            result(1, NOW - timedelta(hours=30), 10.0, ok=False),
            result(1, NOW - timedelta(hours=2), 10.0),
            result(1, NOW, 10.0),
        )
        assert trend.uptime(NOW, 24) == (2, 2)
        assert trend.uptime(NOW, 24 * 7) == (2, 4)

    def test_nothing_seen_is_zero_of_zero(self) -> None:
        assert EMPTY_TREND.uptime(NOW, 24) == (0, 0)

    def test_buckets_older_than_the_week_are_dropped(self) -> None:
        trend = fed(result(1, NOW - timedelta(days=9), 1.0), result(1, NOW, 1.0))
        assert len(trend.buckets) == 1
        assert trend.buckets[0][0] == bucket_of(NOW)
        assert WINDOW_BUCKETS == 168

    def test_a_late_older_result_lands_in_its_own_hour(self) -> None:
        trend = fed(result(1, NOW, 1.0), result(1, NOW - timedelta(hours=5), 1.0, ok=False))
        assert [b[1:] for b in trend.buckets] == [(0, 1), (1, 1)]


class TestHistoryFolding:
    def test_only_results_older_than_anything_counted_are_added(self) -> None:
        live = fed(result(1, NOW - timedelta(minutes=1), 50.0), result(1, NOW, 60.0))
        history = [result(1, NOW - timedelta(minutes=m), 10.0 + m, ok=m != 3) for m in range(6)]
        folded = live.fold_history(history)
        assert folded.uptime(NOW, 24) == (5, 6)  # minutes 2..5 are new, 0 and 1 were seen live
        assert folded.earliest == NOW - timedelta(minutes=5)
        assert folded.latencies == (15.0, 14.0, 13.0, 12.0, 50.0, 60.0)
        assert folded.failed == (False, False, True, False, False, False)

    def test_folding_the_same_history_twice_counts_it_once(self) -> None:
        history = [result(1, NOW - timedelta(minutes=m), 10.0) for m in range(4)]
        once = EMPTY_TREND.fold_history(history)
        assert once.fold_history(history) is once
        assert once.uptime(NOW, 24) == (4, 4)

    def test_a_full_ring_keeps_its_live_latencies(self) -> None:
        live = fed(*(result(1, NOW - timedelta(seconds=s), 1.0) for s in range(SPARK_POINTS, 0, -1)))
        folded = live.fold_history([result(1, NOW - timedelta(hours=1), 999.0)])
        assert folded.latencies == live.latencies
        assert folded.uptime(NOW, 24) == (SPARK_POINTS + 1, SPARK_POINTS + 1)


class TestStoredTally:
    """The uptime columns with a database: the stored tally plus the live results from its end on."""

    TALLY = UptimeTally(until=NOW - timedelta(minutes=1), day_since=NOW - timedelta(hours=23, minutes=30),
                        week_since=NOW - timedelta(hours=167, minutes=30),
                        counts={1: UptimeCounts(day_ok=990, day_total=1000, week_ok=6930, week_total=7000)})

    def test_live_results_from_the_tallys_end_on_are_added_to_both_windows(self) -> None:
        trend = fed(
            result(1, NOW - timedelta(minutes=2), 10.0),  # before `until`: already in the tally
            result(1, NOW - timedelta(seconds=30), 10.0, ok=False),
            result(1, NOW, 10.0),
        )
        assert grid_uptime(trend, NOW, self.TALLY, 1) == ((991, 1002), (6931, 7002))

    def test_a_check_with_nothing_stored_shows_only_what_was_seen_since(self) -> None:
        trend = fed(result(2, NOW, 10.0))
        assert grid_uptime(trend, NOW, self.TALLY, 2) == ((1, 1), (1, 1))
        assert grid_uptime(EMPTY_TREND, NOW, self.TALLY, 3) == ((0, 0), (0, 0))

    def test_loaded_history_never_adds_to_a_tally(self) -> None:
        trend = EMPTY_TREND.fold_history([result(1, NOW, 10.0, ok=False)])
        assert grid_uptime(trend, NOW, self.TALLY, 1) == ((990, 1000), (6930, 7000))

    def test_without_a_tally_the_console_counts_what_it_saw(self) -> None:
        trend = fed(result(1, NOW - timedelta(hours=30), 10.0, ok=False), result(1, NOW, 10.0))
        assert grid_uptime(trend, NOW, None, 1) == ((1, 1), (1, 2))

    def test_minute_counts_are_bounded(self) -> None:
        trend = fed(*(result(1, NOW + timedelta(minutes=m), 1.0) for m in range(RECENT_MINUTES * 3)))
        assert len(trend.recent) == RECENT_MINUTES
        assert trend.recent_counts(NOW) == (RECENT_MINUTES, RECENT_MINUTES)
