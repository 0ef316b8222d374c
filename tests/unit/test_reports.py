"""Uptime and SLA figures from rollups and flips given as plain data (table-driven)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pulsewatch.domain.monitoring import Flip, Status
from pulsewatch.domain.rollups import Histogram, Level, Rollup, bucket_index, bucket_range
from pulsewatch.services.reports import (
    SLA_COLUMNS,
    UPTIME_COLUMNS,
    sla_figures,
    sla_record,
    uptime_figures,
    uptime_record,
    window_start,
)

SINCE = datetime(2025, 3, 1, tzinfo=UTC)
UNTIL = SINCE + timedelta(days=10)


def bucket(
    offset_h: float, probes: int, failures: int = 0, *, latency: float = 100.0, level: Level = Level.HOUR,
    degraded: int = 0,
) -> Rollup:
    return Rollup(
        check_id=1, level=level, start=SINCE + timedelta(hours=offset_h), count=probes, failures=failures,
        degraded=degraded, latency_sum_ms=latency * probes, latency_min_ms=latency if probes else 0.0,
        latency_max_ms=latency if probes else 0.0,
        histogram=Histogram.from_buckets({bucket_index(latency): probes}),
    )


def flip(offset_h: float, new: Status) -> Flip:
    return Flip(check_id=1, at=SINCE + timedelta(hours=offset_h), old=Status.UP, new=new)


class TestUptime:
    @pytest.mark.parametrize(
        ("rows", "flips", "probes", "failures", "uptime", "downtime_s", "incidents"),
        [
            pytest.param([], [], 0, 0, None, None, 0, id="no probes: no figures"),
            pytest.param(
                [bucket(0, 1000)], [], 1000, 0, 100.0, 0.0, 0, id="all good",
            ),
            pytest.param(
                [bucket(0, 600, 6), bucket(1, 400, 4)], [flip(0.5, Status.DOWN), flip(0.6, Status.UP)],
                1000, 10, 99.0, 0.01 * 240 * 3600, 1, id="1% failed over the whole window",
            ),
            pytest.param(
                [bucket(120, 100, 50)], [flip(121, Status.DOWN), flip(200, Status.DOWN)],
                100, 50, 50.0, 0.5 * 120 * 3600, 2,
                id="a check first seen half-way is judged on the time it was observed",
            ),
            pytest.param(
                [bucket(-1, 100, 100), bucket(240, 100, 100), bucket(2, 10)],
                [flip(-1, Status.DOWN), flip(240, Status.DOWN), flip(3, Status.DEGRADED)],
                10, 0, 100.0, 0.0, 0, id="buckets and flips outside the window are ignored",
            ),
        ],
    )
    def test_figures(
        self, rows: list[Rollup], flips: list[Flip], probes: int, failures: int,
        uptime: float | None, downtime_s: float | None, incidents: int,
    ) -> None:
        figures = uptime_figures("api", rows, flips, since=SINCE, until=UNTIL)

        assert (figures.probes, figures.failures, figures.incidents) == (probes, failures, incidents)
        assert figures.uptime_pct == (pytest.approx(uptime) if uptime is not None else None)
        assert figures.downtime_s == (pytest.approx(downtime_s) if downtime_s is not None else None)

    def test_when_the_check_was_added_bounds_the_observed_time_better_than_a_day_bucket(self) -> None:
        day = bucket(0, 100, 50, level=Level.DAY)

        added = uptime_figures("api", [day], [], since=SINCE, until=UNTIL, added=SINCE + timedelta(hours=228))
        unknown = uptime_figures("api", [day], [], since=SINCE, until=UNTIL)

        assert (added.observed_s, added.downtime_s) == (12 * 3600, 6 * 3600)
        assert unknown.observed_s == 240 * 3600

    def test_levels_mix_and_percentiles_come_from_the_merged_histograms(self) -> None:
        rows = [
            bucket(0, 90, latency=20.0, level=Level.DAY),
            bucket(24, 9, latency=200.0),
            bucket(25, 1, latency=2000.0, level=Level.MINUTE, degraded=1),
        ]

        figures = uptime_figures("api", rows, [], since=SINCE, until=UNTIL)

        assert (figures.probes, figures.degraded) == (100, 1)
        assert figures.latency_avg_ms == pytest.approx((90 * 20 + 9 * 200 + 2000) / 100)
        for estimate, true in ((figures.p50_ms, 20.0), (figures.p95_ms, 200.0), (figures.p99_ms, 200.0)):
            low, high = bucket_range(bucket_index(true))
            assert estimate is not None
            assert low <= estimate < high  # the bucket of the true value (20 ms, 200 ms, 200 ms)


class TestSla:
    @pytest.mark.parametrize(
        ("probes", "failures", "target", "met", "budget_left_pct"),
        [
            pytest.param(10_000, 0, 99.9, True, 100.0, id="nothing spent"),
            pytest.param(10_000, 5, 99.9, True, 50.0, id="half spent"),
            pytest.param(10_000, 10, 99.9, True, 0.0, id="exactly on target"),
            pytest.param(10_000, 30, 99.9, False, -200.0, id="three times over"),
            pytest.param(1000, 10, 99.0, True, 0.0, id="a looser target"),
        ],
    )
    def test_error_budget(
        self, probes: int, failures: int, target: float, met: bool, budget_left_pct: float
    ) -> None:
        uptime = uptime_figures("api", [bucket(0, probes, failures)], [], since=SINCE, until=UNTIL)

        sla = sla_figures(uptime, target)

        assert sla.met is met
        assert sla.budget_left_pct == pytest.approx(budget_left_pct)
        assert sla.allowed_downtime_s == pytest.approx((1 - target / 100) * 240 * 3600)
        assert sla.budget_left_s == pytest.approx(sla.allowed_downtime_s - (uptime.downtime_s or 0.0))

    def test_without_probes_there_is_no_verdict(self) -> None:
        sla = sla_figures(uptime_figures("api", [], [], since=SINCE, until=UNTIL), 99.9)

        assert (sla.met, sla.budget_left_pct, sla.budget_left_s) == (None, None, None)

    @pytest.mark.parametrize("target", [0.0, 100.0, -1.0, 120.0])
    def test_a_target_must_leave_a_budget(self, target: float) -> None:
        uptime = uptime_figures("api", [bucket(0, 10)], [], since=SINCE, until=UNTIL)

        with pytest.raises(ValueError, match="between 0 and 100"):
            sla_figures(uptime, target)


class TestRecords:
    def test_records_have_every_column_in_order(self) -> None:
        uptime = uptime_figures("api", [bucket(0, 3, 1)], [], since=SINCE, until=UNTIL)

        assert tuple(uptime_record(uptime)) == UPTIME_COLUMNS
        assert tuple(sla_record(sla_figures(uptime, 99.5))) == SLA_COLUMNS
        assert uptime_record(uptime)["uptime_pct"] == 66.6667
        assert uptime_record(uptime)["since"] == "2025-03-01T00:00:00+00:00"


class TestWindow:
    @pytest.mark.parametrize(
        ("age", "expected"),
        [
            (timedelta(hours=5, seconds=30), datetime(2025, 3, 10, 19, 4, tzinfo=UTC)),
            (timedelta(days=3), datetime(2025, 3, 8, 0, 0, tzinfo=UTC)),
            (timedelta(days=30, hours=5), datetime(2025, 2, 8, tzinfo=UTC)),
        ],
    )
    def test_old_windows_start_where_coarser_rollups_begin(self, age: timedelta, expected: datetime) -> None:
        now = datetime(2025, 3, 11, 0, 4, 45, tzinfo=UTC)

        start = window_start(now - age, now, minutes_kept_s=2 * 86400, hours_kept_s=10 * 86400)

        assert start == expected
