"""Rollup arithmetic: histogram buckets, their text form, merging, percentiles, and covering a window."""

from __future__ import annotations

import itertools
import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from pulsewatch.domain.rollups import (
    BUCKETS,
    LATENCY_BOUNDS_MS,
    Histogram,
    Level,
    Rollup,
    bucket_index,
    bucket_range,
    cover,
    merge,
)

T0 = datetime(2025, 3, 4, tzinfo=UTC)


def rollup(
    latencies: list[float], *, failures: int = 0, start: datetime = T0, level: Level = Level.MINUTE
) -> Rollup:
    return Rollup(
        check_id=1, level=level, start=start, count=len(latencies), failures=failures, degraded=0,
        latency_sum_ms=sum(latencies), latency_min_ms=min(latencies, default=0.0),
        latency_max_ms=max(latencies, default=0.0), histogram=Histogram.of(latencies),
    )


def nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


class TestBuckets:
    @pytest.mark.parametrize(
        ("latency", "expected"),
        [
            (0.0, 0),
            (0.0624, 0),
            (0.0625, 1),  # a latency on a bound belongs to the bucket the bound opens
            (1.0, 17),
            (1.0 + 1e-9, 17),
            (2.0, 21),
            (131072.0, 85),
            (1e9, 85),
        ],
    )
    def test_a_latency_lands_in_the_bucket_between_its_bounds(self, latency: float, expected: int) -> None:
        assert bucket_index(latency) == expected
        low, high = bucket_range(expected)
        assert low <= latency < high

    def test_the_bounds_are_log_spaced_four_per_doubling(self) -> None:
        ratios = {round(b / a, 12) for a, b in itertools.pairwise(LATENCY_BOUNDS_MS)}
        assert ratios == {round(2 ** 0.25, 12)}
        assert BUCKETS == 86


class TestEncoding:
    @pytest.mark.parametrize(
        ("counts", "text"),
        [
            ({}, "[]"),
            ({41: 1}, "[41,1]"),
            ({40: 3, 41: 50, 43: 2}, "[40,3,50,0,2]"),
            ({40: 3, 41: 50, 44: 2}, "[40,3,50,-2,2]"),
            ({0: 1, 85: 2}, "[0,1,-84,2]"),
        ],
    )
    def test_histograms_round_trip_through_trimmed_text(self, counts: dict[int, int], text: str) -> None:
        histogram = Histogram.from_buckets(counts)

        assert histogram.encode() == text
        assert Histogram.decode(text) == histogram
        assert sum(histogram.dense()) == sum(counts.values())
        assert len(histogram.dense()) == BUCKETS

    @pytest.mark.parametrize("text", ['{"a": 1}', "[80,1,1,1,1,1,1,1]", '[1,"x"]', "[-1,2]", "[80,1,-10,1]"])
    def test_text_that_is_not_a_histogram_is_refused(self, text: str) -> None:
        with pytest.raises(ValueError):
            Histogram.decode(text)

    def test_merging_histograms_adds_them_bucket_by_bucket(self) -> None:
        a = Histogram.from_buckets({10: 1, 12: 2})
        b = Histogram.from_buckets({11: 5, 20: 1})

        assert Histogram.merged([a, b, Histogram()]) == Histogram(10, (1, 5, 2, 0, 0, 0, 0, 0, 0, 0, 1))
        assert Histogram.merged([]) == Histogram()


class TestMerge:
    def test_merging_adds_counts_and_keeps_the_extremes(self) -> None:
        a = rollup([10.0, 20.0], failures=1)
        b = rollup([5.0, 400.0, 30.0], failures=2, start=T0 + timedelta(minutes=1))
        empty = rollup([], start=T0 + timedelta(minutes=2))

        merged = merge([a, b, empty], check_id=1, level=Level.HOUR, start=T0)

        assert (merged.count, merged.failures, merged.latency_sum_ms) == (5, 3, 465.0)
        assert (merged.latency_min_ms, merged.latency_max_ms) == (5.0, 400.0)
        assert merged.histogram == rollup([10.0, 20.0, 5.0, 400.0, 30.0]).histogram
        assert (merged.level, merged.end) == (Level.HOUR, T0 + timedelta(hours=1))

    def test_merging_nothing_gives_an_empty_bucket(self) -> None:
        merged = merge([], check_id=1, level=Level.DAY, start=T0)

        assert (merged.count, merged.latency_min_ms, merged.histogram) == (0, 0.0, Histogram())


class TestPercentile:
    @pytest.mark.parametrize("q", [50, 90, 95, 99, 99.9, 100])
    @pytest.mark.parametrize("seed", [1, 2, 3])
    def test_the_estimate_lies_in_the_bucket_of_the_true_percentile(self, q: float, seed: int) -> None:
        rng = random.Random(seed)
        values = [rng.lognormvariate(4.0, 0.8) for _ in range(2000)]
        row = rollup(values)

        estimate = row.percentile(q)
        true = nearest_rank(values, q)

        assert estimate is not None
        low, high = bucket_range(bucket_index(true))
        assert max(low, row.latency_min_ms) <= estimate <= min(high, row.latency_max_ms)
        assert abs(estimate / true - 1) < 2 ** 0.25 - 1

    @pytest.mark.parametrize(
        ("values", "q", "expected"),
        [
            ([42.0], 50, 42.0),  # one sample: min == max pins it exactly
            ([7.0] * 10, 99, 7.0),
            ([1.0, 1000.0], 100, 1000.0),
            ([1.0, 1000.0], 50, 1.0),
        ],
    )
    def test_extremes_clamp_the_estimate(self, values: list[float], q: float, expected: float) -> None:
        row = rollup(values)

        assert row.percentile(q) == pytest.approx(expected)

    def test_no_samples_no_percentile(self) -> None:
        assert Histogram().percentile(95, low=0.0, high=0.0) is None


class TestLevels:
    @pytest.mark.parametrize(
        ("level", "instant_s", "floor_s", "ceil_s"),
        [
            (Level.MINUTE, 61.5, 60, 120),
            (Level.HOUR, 7200, 7200, 7200),
            (Level.DAY, 86340, 0, 86400),
        ],
    )
    def test_floor_and_ceil_find_bucket_starts(
        self, level: Level, instant_s: float, floor_s: float, ceil_s: float
    ) -> None:
        instant = T0 + timedelta(seconds=instant_s)

        assert level.floor(instant) == T0 + timedelta(seconds=floor_s)
        assert level.ceil(instant) == T0 + timedelta(seconds=ceil_s)


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


class TestCover:
    @pytest.mark.parametrize(
        ("since", "until", "marks", "expected"),
        [
            pytest.param(h(0), h(2), {}, [(None, h(0), h(2))], id="nothing rolled: all raw"),
            pytest.param(
                h(0), h(3), {Level.MINUTE: h(2.5), Level.HOUR: h(2)},
                [(Level.HOUR, h(0), h(2)), (Level.MINUTE, h(2), h(2.5)), (None, h(2.5), h(3))],
                id="hours, then minutes, then the raw tail",
            ),
            pytest.param(
                h(-1.5), h(50), {Level.MINUTE: h(49.9), Level.HOUR: h(49), Level.DAY: h(48)},
                [
                    (Level.MINUTE, h(-1.5), h(-1)), (Level.HOUR, h(-1), h(0)), (Level.DAY, h(0), h(48)),
                    (Level.HOUR, h(48), h(49)), (Level.MINUTE, h(49), h(49.9)), (None, h(49.9), h(50)),
                ],
                id="ragged edges use finer levels",
            ),
            pytest.param(
                h(0.5), h(0.75), {Level.MINUTE: h(1), Level.HOUR: h(1)},
                [(Level.MINUTE, h(0.5), h(0.75))], id="short window inside one hour",
            ),
            pytest.param(h(1), h(1), {Level.MINUTE: h(2)}, [], id="empty window"),
        ],
    )
    def test_windows_are_read_from_the_coarsest_complete_level(
        self,
        since: datetime,
        until: datetime,
        marks: dict[Level, datetime],
        expected: list[tuple[Level | None, datetime, datetime]],
    ) -> None:
        pieces = cover(since, until, marks)

        assert pieces == expected
        assert all(a[2] == b[1] for a, b in itertools.pairwise(pieces))
