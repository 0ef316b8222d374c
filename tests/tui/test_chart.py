"""The detail chart as data: ranges, history limits, columns, bars and the honest label (pure)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.tui.fakes import NOW, result
from tui.chart import RANGES, Column, bar_rows, columns, describe_window, history_limit, in_range
from tui.model import HISTORY_LIMIT, MAX_HISTORY

HOUR, DAY, WEEK, MONTH = RANGES


@pytest.mark.parametrize(
    ("time_range", "interval", "limit"),
    [
        (HOUR, 30.0, 132),  # 120 probes an hour, a tenth more for run-now and retries
        (HOUR, 300.0, HISTORY_LIMIT),  # never fewer than the table shows
        (DAY, 60.0, 1584),
        (MONTH, 30.0, MAX_HISTORY),  # 86,400 would be too many: capped, and the label says so
    ],
)
def test_history_limit(time_range: object, interval: float, limit: int) -> None:
    assert history_limit(time_range, interval) == limit  # type: ignore[arg-type]


def test_in_range_keeps_results_within_the_range() -> None:
    results = [result(1, NOW - timedelta(minutes=m), 1.0) for m in (0, 30, 59, 61, 600)]
    assert [r.started_at for r in in_range(results, HOUR, NOW)] == [r.started_at for r in results[:3]]


class TestColumns:
    def test_each_column_keeps_its_slowest_probe_and_any_failure(self) -> None:
        results = [  # newest first, as loaded
            result(1, NOW, 30.0),
            result(1, NOW - timedelta(seconds=10), 500.0, ok=False),
            result(1, NOW - timedelta(seconds=20), 10.0),
            result(1, NOW - timedelta(seconds=40), 20.0),
        ]
        cols = columns(results, 2)
        assert cols == [Column(20.0, False, 1), Column(500.0, True, 3)]

    def test_gaps_stay_empty(self) -> None:
        results = [result(1, NOW, 1.0), result(1, NOW - timedelta(hours=1), 1.0)]
        cols = columns(results, 4)
        assert [c.count for c in cols] == [1, 0, 0, 1]

    def test_no_results_no_bars(self) -> None:
        assert columns([], 3) == [Column(None, False, 0)] * 3


class TestBars:
    def test_bars_rise_in_eighths_from_the_bottom(self) -> None:
        cols = [Column(100.0, False, 1), Column(50.0, False, 1), Column(None, False, 0), Column(0.0, True, 1)]
        assert bar_rows(cols, 2, 100.0) == ["█   ", "██ ▁"]

    def test_a_fast_failure_is_never_invisible(self) -> None:
        assert bar_rows([Column(0.1, True, 1)], 1, 1000.0) == ["▁"]


class TestDescribeWindow:
    def test_a_range_fully_covered(self) -> None:
        shown = [result(1, NOW - timedelta(minutes=m), 1.0) for m in range(0, 60)]
        text = describe_window(shown, HOUR, NOW - timedelta(minutes=-1), loaded=132, complete=False,
                               limit=132)
        assert text.startswith("60 probes in the last 1h, 08:31:00 → 09:30:00")

    def test_a_range_cut_short_by_the_limit_says_so(self) -> None:
        shown = [result(1, NOW - timedelta(hours=h), 1.0) for h in range(10)]
        text = describe_window(shown, MONTH, NOW, loaded=MAX_HISTORY, complete=False, limit=MAX_HISTORY)
        assert "only the newest 10,000 probes are loaded, which do not reach back 30d" in text

    def test_live_results_beyond_the_limit_do_not_hide_that_nothing_older_is_stored(self) -> None:
        """132 asked, 40 stored, then 100 live results: 140 loaded, yet the store holds nothing older."""
        shown = [result(1, NOW - timedelta(minutes=m), 1.0) for m in range(140)]
        text = describe_window(shown, DAY, NOW, loaded=140, complete=True, limit=132)
        assert text.endswith(": no older probes are stored")

    def test_a_young_check_says_nothing_older_is_stored(self) -> None:
        shown = [result(1, NOW - timedelta(minutes=m), 1.0) for m in range(5)]
        text = describe_window(shown, DAY, NOW, loaded=5, complete=True, limit=1584)
        assert text == "5 probes, 09:26:00 → 09:30:00 (4m): no older probes are stored"

    def test_nothing_to_show(self) -> None:
        assert describe_window([], HOUR, NOW, loaded=0, complete=True, limit=132) == (
            "no probes stored yet for the last 1h")
        assert describe_window([], HOUR, NOW, loaded=12, complete=True, limit=132) == (
            "no probes in the last 1h")
