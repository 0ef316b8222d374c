"""tui/render.py: every string the console shows about a check, table-driven (no Textual, no clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pulsewatch.domain.conditions import parse_condition
from pulsewatch.domain.monitoring import Check, CheckState, Flip, HttpOptions, ProbeResult, Status
from tui import render

NOW = datetime(2025, 3, 14, 9, 30, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (None, "—"),
        (0.0, "0.0 ms"),
        (0.44, "0.4 ms"),
        (9.94, "9.9 ms"),
        (10.0, "10 ms"),
        (245.4, "245 ms"),
        (999.4, "999 ms"),
        (1000.0, "1.00 s"),
        (1250.0, "1.25 s"),
        (12_345.0, "12.3 s"),
    ],
)
def test_format_latency(ms: float | None, text: str) -> None:
    assert render.format_latency(ms) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "0s"),
        (0, "0s"),
        (59.9, "59s"),
        (60, "1m"),
        (3599, "59m"),
        (3600, "1h"),
        (3600 + 5 * 60, "1h 5m"),
        (86_400, "1d"),
        (2 * 86_400 + 4 * 3600 + 59, "2d 4h"),
    ],
)
def test_format_span(seconds: float, text: str) -> None:
    assert render.format_span(seconds) == text


@pytest.mark.parametrize(
    ("then", "text"),
    [
        (None, "never"),
        (NOW, "just now"),
        (NOW + timedelta(seconds=3), "just now"),  # engine clock slightly ahead of the console's
        (NOW - timedelta(seconds=12), "12s ago"),
        (NOW - timedelta(minutes=5, seconds=40), "5m ago"),
        (NOW - timedelta(hours=3, minutes=5), "3h ago"),
        (NOW - timedelta(days=2, hours=4), "2d ago"),
    ],
)
def test_format_ago(then: datetime | None, text: str) -> None:
    assert render.format_ago(then, NOW) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.5, "500ms"), (1.5, "1.5s"), (30, "30s"), (300, "5m"), (5400, "1h30m"), (86_400, "1d"),
     (90_061, "1d1h1m1s")],
)
def test_format_duration_uses_the_config_syntax(seconds: float, text: str) -> None:
    assert render.format_duration(seconds) == text


@pytest.mark.parametrize(
    ("at", "text"),
    [(NOW - timedelta(minutes=3), "09:27:00"), (NOW - timedelta(days=1, hours=2), "2025-03-13 07:30")],
)
def test_format_timestamp_shows_the_date_only_when_not_today(at: datetime, text: str) -> None:
    assert render.format_timestamp(at, NOW) == text


@pytest.mark.parametrize(
    ("status", "since", "text"),
    [
        (Status.DOWN, None, "DOWN"),
        (Status.DOWN, NOW - timedelta(minutes=3), "DOWN for 3m"),
        (Status.MAINTENANCE, NOW - timedelta(hours=2), "MAINTENANCE for 2h"),
        (Status.UNKNOWN, None, "UNKNOWN"),
    ],
)
def test_status_label(status: Status, since: datetime | None, text: str) -> None:
    assert render.status_label(status, since, NOW) == text


def test_status_label_without_now_is_the_word_alone() -> None:
    assert render.status_label(Status.UP, NOW) == "UP"


def test_state_label_marks_flapping() -> None:
    state = CheckState(1, Status.DOWN, since=NOW - timedelta(seconds=40), flapping=True)
    assert render.state_label(state, NOW) == "DOWN for 40s ~flapping"


@pytest.mark.parametrize(
    ("text", "limit", "out"),
    [
        ("short", 10, "short"),
        ("two\nlines  and\tspaces", 40, "two lines and spaces"),
        ("abcdefghij", 5, "abcd…"),
        ("abcde", 5, "abcde"),
    ],
)
def test_one_line(text: str, limit: int, out: str) -> None:
    assert render.one_line(text, limit) == out


def test_summary_counts_every_status_in_display_order() -> None:
    states = [CheckState(1, Status.UP), CheckState(2, Status.DOWN), CheckState(3, Status.UP)]
    counts = render.summary_counts(states)
    assert list(counts) == list(render.STATUS_ORDER)
    assert counts[Status.UP] == 2
    assert counts[Status.DOWN] == 1
    assert counts[Status.PAUSED] == 0
    assert set(render.STATUS_ORDER) == set(Status)


@pytest.mark.parametrize(
    ("statuses", "text"),
    [
        ([], "0 checks"),
        ([Status.UP], "1 check · 1 up"),
        ([Status.UP, Status.DOWN, Status.UP, Status.PAUSED], "4 checks · 1 down · 2 up · 1 paused"),
    ],
)
def test_summary_text_leaves_out_zero_counts(statuses: list[Status], text: str) -> None:
    counts = render.summary_counts(CheckState(i, s) for i, s in enumerate(statuses))
    assert render.summary_text(counts) == text


class TestCheckConfigLines:
    def test_an_http_check(self) -> None:
        check = Check(name="api", url="https://api.test/health", kind="https", interval=30, timeout=5,
                      conditions=(parse_condition("[STATUS] == 200"),
                                  parse_condition("[RESPONSE_TIME] < 500")),
                      failure_threshold=3, success_threshold=2, team="web", tags=("prod",),
                      http=HttpOptions(method="HEAD"))
        assert render.check_config_lines(check) == (
            "HEAD https://api.test/health",
            "every 30s · timeout 5s · down after 3 failures · up after 2 successes",
            "conditions: [STATUS] == 200 and [RESPONSE_TIME] < 500",
            "team web · prod",
        )

    def test_a_tcp_check_without_conditions(self) -> None:
        check = Check(name="db", url="tcp://db.test:5432", kind="tcp", interval=60, timeout=0.5)
        assert render.check_config_lines(check) == (
            "tcp://db.test:5432",
            "every 1m · timeout 500ms · down after 1 failure · up after 1 success",
            "conditions: none (any answer counts as up)",
        )


def probe(ok: bool, code: int | None, message: str = "", error: str | None = None) -> ProbeResult:
    return ProbeResult(check_id=1, started_at=NOW, duration_ms=12.0, ok=ok, status_code=code,
                       message=message, error=error)


@pytest.mark.parametrize(
    ("result", "outcome", "reason"),
    [
        (probe(True, 200), "ok 200", ""),
        (probe(False, 503, "expected [STATUS] == 200, got 503", "condition"), "fail 503",
         "expected [STATUS] == 200, got 503"),
        (probe(False, None, "", "timeout"), "fail", "timeout"),
        (probe(False, None), "fail", "failed"),
    ],
)
def test_result_outcome_and_reason(result: ProbeResult, outcome: str, reason: str) -> None:
    assert render.result_outcome(result) == outcome
    assert render.result_reason(result) == reason


def test_flip_label() -> None:
    assert render.flip_label(Flip(1, NOW, Status.UP, Status.DOWN)) == "UP → DOWN"


class TestSparkline:
    def test_it_scales_each_row_to_its_own_range(self) -> None:
        assert render.sparkline([10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0], 8) == "▁▂▃▄▅▆▇█"

    def test_fewer_values_than_width_are_right_aligned(self) -> None:
        assert render.sparkline([1.0, 2.0], 5) == "   ▁█"

    def test_only_the_newest_values_fit(self) -> None:
        assert render.sparkline([999.0, 1.0, 2.0], 2) == "▁█"

    def test_a_flat_series_lies_at_the_bottom(self) -> None:
        assert render.sparkline([5.0, 5.0, 5.0], 3) == "▁▁▁"

    @pytest.mark.parametrize(("values", "width", "text"), [([], 4, "    "), ([1.0], 0, "")])
    def test_nothing_to_draw(self, values: list[float], width: int, text: str) -> None:
        assert render.sparkline(values, width) == text


@pytest.mark.parametrize(
    ("ok", "total", "text"),
    [
        (0, 0, "—"),
        (10, 10, "100%"),
        (0, 10, "0.00%"),
        (9999, 10_000, "99.99%"),
        (99_999, 100_000, "99.99%"),  # rounded down: one failure in 100,000 never reads as 100
        (1, 3, "33.33%"),
        (2, 3, "66.66%"),
    ],
)
def test_format_uptime_rounds_down(ok: int, total: int, text: str) -> None:
    assert render.format_uptime(ok, total) == text


def test_format_count_separates_thousands() -> None:
    assert render.format_count(10_000) == "10,000"
    assert render.format_count(7) == "7"


class TestOrganizationCycling:
    """Teams, Billing and Audit show one organization at a time and cycle with `o`."""

    def test_next_wraps_round(self) -> None:
        assert render.next_org(("a", "b", "c"), "b") == "c"
        assert render.next_org(("a", "b", "c"), "c") == "a"

    def test_nowhere_to_go(self) -> None:
        assert render.next_org(("a",), "a") is None
        assert render.next_org(("a", "b"), "z") is None
        assert render.next_org(("a", "b"), None) is None

    def test_hint_only_with_several(self) -> None:
        assert render.orgs_hint(("a",)) == ""
        assert render.orgs_hint(("a", "b")) == " · 2 organizations, o shows the next"
