"""The benchmark runner's pure parts: targets, ratios, repeats, the floor, the table, the JSON, extraction.

No benchmark runs here and nothing is timed: figures are canned, as each benchmark's JSON would be.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from bench import figures, report, suite
from bench.__main__ import render
from bench.engine_process import histogram_percentile
from bench.report import Figure, Goal, Outcome, Peer

CPU = Figure("cpu_ms_per_probe.sqlite", "CPU per probe, SQLite", (0.62, 0.40, 0.55), "ms", Goal("<=", 0.5),
             (figures.KUMA_CPU, figures.HTTPX))


def engine_throughput_json(**results: dict[str, float]) -> dict[str, Any]:
    return {"args": {"checks": 5000, "interval": 5.0}, "results": results}


def backend(cpu: float = 0.4, rate: float = 990.0, late: float = 12.0, probes: int = 100,
            written: int = 100) -> dict[str, float]:
    return {"cpu_ms_per_probe": cpu, "probes_per_s": rate, "lateness_p99_ms": late, "probes_total": probes,
            "results_written": written}


class TestGoal:
    @pytest.mark.parametrize(
        ("goal", "value", "met"),
        [
            (Goal("<=", 0.5), 0.5, True),
            (Goal("<=", 0.5), 0.51, False),
            (Goal(">=", 1.7), 1.7, True),
            (Goal(">=", 1.7), 1.69, False),
            (Goal(">=", 2000), math.nan, None),
            (Goal("<=", 150), None, None),
        ],
    )
    def test_met(self, goal: Goal, value: float | None, met: bool | None) -> None:
        assert goal.met(value) is met

    @pytest.mark.parametrize(
        ("goal", "unit", "text"),
        [
            (Goal("<=", 0.5), "ms", "≤ 0.5 ms"),
            (Goal(">=", 2000), "/s", "≥ 2,000/s"),
            (Goal(">=", 1.7), "×", "≥ 1.7×"),
            (Goal("<=", 0), "", "≤ 0"),
        ],
    )
    def test_label(self, goal: Goal, unit: str, text: str) -> None:
        assert goal.label(unit) == text


class TestFigure:
    def test_median_of_the_repeats(self) -> None:
        assert CPU.median == 0.55
        assert CPU.met is False

    def test_nan_values_are_left_out_and_none_remain_means_no_median(self) -> None:
        assert Figure("k", "l", (math.nan, 3.0, 1.0)).median == 2.0
        empty = Figure("k", "l", (math.nan,), "ms", Goal("<=", 1))
        assert empty.median is None
        assert empty.met is None

    def test_ratios_are_ours_over_the_peer_and_a_range_gives_both_ends(self) -> None:
        peers = (Peer("kuma", 8.0), Peer("httpx", 1.0, 1.6))
        fig = Figure("cpu_ms_per_probe.x", "l", (0.8,), "ms", None, peers)
        (kuma, ratio), (httpx, span) = fig.ratios()
        assert (kuma, httpx) == peers
        assert ratio == pytest.approx(0.1)
        assert span == pytest.approx((0.5, 0.8))
        assert report.format_ratios(fig) == "0.1× kuma; 0.5–0.8× httpx"

    def test_no_ratio_without_a_value(self) -> None:
        assert Figure("k", "l", (math.nan,), peers=(Peer("p", 2.0),)).ratios() == []


def test_repeats_merge_by_key_in_first_seen_order() -> None:
    first = [Figure("a", "A", (1.0,)), Figure("b", "B", (10.0,))]
    second = [Figure("b", "B", (30.0,)), Figure("a", "A", (3.0,)), Figure("c", "C", (5.0,))]
    merged = report.merge_repeats([first, second])
    assert [(f.key, f.values) for f in merged] == [("a", (1.0, 3.0)), ("b", (10.0, 30.0)), ("c", (5.0,))]
    assert merged[1].median == 20.0


class TestExtraction:
    def test_engine_judges_cpu_on_both_backends_and_the_rate_on_mariadb(self) -> None:
        raw = engine_throughput_json(sqlite=backend(cpu=0.45, rate=1500, late=900),
                                     mysql=backend(cpu=0.7, rate=2050, late=150, probes=1000, written=1000))
        judged = {f.key: f.met for f in figures.engine(raw) if f.goal is not None}
        assert judged == {"cpu_ms_per_probe.sqlite": True, "cpu_ms_per_probe.mysql": False,
                          "probes_per_s.mysql": True, "lateness_p99_ms.mysql": True, "unrecorded.mysql": True}
        labels = [f.label for f in figures.engine(raw)]
        assert "probes/s, one engine, SQLite (1,000 offered)" in labels

    def test_engine_counts_results_that_were_not_recorded(self) -> None:
        raw = engine_throughput_json(mysql=backend(probes=1000, written=998))
        unrecorded = {f.key: f for f in figures.engine(raw)}["unrecorded.mysql"]
        assert (unrecorded.median, unrecorded.met) == (2, False)

    def test_the_floor_of_the_same_run_is_a_figure_and_a_peer_of_cpu_per_probe(self) -> None:
        raw = engine_throughput_json(sqlite={**backend(cpu=0.5), "floor_cpu_ms_per_probe": 0.25})
        by_key = {f.key: f for f in figures.engine(raw)}
        assert by_key["floor_cpu_ms.sqlite"].median == 0.25
        cpu = by_key["cpu_ms_per_probe.sqlite"]
        assert dict((p.name, r) for p, r in cpu.ratios())["bare socket floor"] == pytest.approx(2.0)
        assert report.format_ratios(cpu).endswith("; 2× bare socket floor")
        without = figures.engine(engine_throughput_json(mysql=backend()))
        assert "floor_cpu_ms.mysql" not in {f.key for f in without}

    def test_console_reports_medians_of_its_runs(self) -> None:
        raw = {"checks": 10000, "first_paint_ms": [900, 1200, 800], "total_ms": [50, 150, 120],
               "rss_loaded_mib": 100.0}
        by_key = {f.key: f for f in figures.console(raw)}
        assert (by_key["first_paint_ms"].median, by_key["first_paint_ms"].met) == (900, True)
        assert (by_key["batch_ms"].median, by_key["batch_ms"].met) == (120, False)
        assert by_key["rss_mb"].median == pytest.approx(104.8576)

    def test_pair_and_memory_targets(self) -> None:
        pair = figures.engine_pair({"results": {"offered_per_s": 5000, "one_engine_per_s": 1000,
                                                "two_engines_per_s": 1800, "ratio": 1.8}})
        assert [(f.key, f.met) for f in pair if f.goal] == [("ratio", True)]
        memory = figures.engine_memory({"results": {"checks": 10000, "rss_mb": 140.0, "peak_rss_mb": 170.0}})
        assert [(f.key, f.met) for f in memory] == [("rss_mb", True), ("peak_rss_mb", False)]
        assert report.format_ratios(memory[0]) == "0.467× Uptime Kuma 300 MB at 1,000 checks"

    def test_attach_lag_and_stored_uptime_are_informational_rows(self) -> None:
        attach = figures.attach_poll({"results": {
            "backend": "sqlite", "checks": 1000, "results_per_s": 332, "batches": 32, "lag_p50_ms": 292.0,
            "lag_p95_ms": 515.0, "lag_max_ms": 537.0, "polls": 19, "poll_p50_ms": 15.3,
            "poll_p95_ms": 33.3, "link_cpu_pct": 1.85}})
        uptime = figures.console_uptime({"results": {
            "backend": "mysql", "checks": 10000, "runs": 3, "build_s": 40.0,
            "first_ms": [900.0, 700.0, 800.0], "refresh_ms": [30.0, 10.0, 20.0]}})
        table = report.rows([Outcome("attach_poll", "ok", attach),
                             Outcome("console_uptime", "ok", uptime)])
        assert table == [
            ("attach_poll", "write → attached console lag p95 (1,000 checks, 332 results/s, SQLite)",
             "515 ms", "", "", ""),
            ("attach_poll", "write → attached console lag p50", "292 ms", "", "", ""),
            ("attach_poll", "one attach poll in the database p95", "33.3 ms", "", "", ""),
            ("attach_poll", "attach link thread CPU, share of one core", "1.85%", "", "", ""),
            ("console_uptime", "stored uptime of every check, first read (10,000 checks, MariaDB)", "800 ms",
             "", "", ""),
            ("console_uptime", "stored uptime of every check, refresh a minute on (10,000 checks)", "20 ms",
             "", "", ""),
        ]
        assert report.summary([Outcome("attach_poll", "ok", attach)])["met"] == 0  # nothing judged


def outcomes() -> list[Outcome]:
    return [
        Outcome("engine", "ok", [CPU, Figure("probes_per_s.sqlite", "rate", (1234.5,), "/s")]),
        Outcome("socket_floor", "skipped", error="bench/socket_floor.py is not there"),
        Outcome("engine_pair", "failed", error="exit 1: RuntimeError: engine bench-e0 exited | 2"),
        Outcome("alert_latency", "ok", [Figure("p95_ms", "p95", (12.0,), "ms", Goal("<=", 1000))]),
    ]


class TestTable:
    def test_rows_say_met_missed_failed_and_skipped(self) -> None:
        assert report.rows(outcomes()) == [
            ("engine", "CPU per probe, SQLite", "0.55 ms", "≤ 0.5 ms", "MISSED",
             "0.071× Uptime Kuma 7.8 ms; 0.344–0.55× httpx client per target 1.0–1.6 ms"),
            ("engine", "rate", "1,234/s", "", "", ""),
            ("socket_floor", "bench/socket_floor.py is not there", "-", "-", "skipped", ""),
            ("engine_pair", "exit 1: RuntimeError: engine bench-e0 exited | 2", "-", "-", "FAILED", ""),
            ("alert_latency", "p95", "12 ms", "≤ 1,000 ms", "met", ""),
        ]

    def test_a_goal_without_a_value_says_so(self) -> None:
        empty = Outcome("x", "ok", [Figure("k", "late", (math.nan,), "ms", Goal("<=", 200))])
        assert report.rows([empty])[0][2:5] == ("-", "≤ 200 ms", "no value")

    def test_text_table_columns_line_up(self) -> None:
        lines = report.format_table(outcomes()).splitlines()
        assert lines[0].split() == ["benchmark", "figure", "median", "target", "result", "ours", "÷", "peer"]
        medians = [line.index(" ms") for line in lines if line.startswith(("engine ", "alert_latency"))
                   and " ms " in line]
        assert len(set(medians)) == 1  # right-aligned medians end in one column

    def test_markdown_table_escapes_pipes_and_right_aligns_the_median(self) -> None:
        lines = report.format_table(outcomes(), markdown=True).splitlines()
        assert lines[0] == "| benchmark | figure | median | target | result | ours ÷ peer |"
        assert lines[1] == "|---|---|---:|---|---|---|"
        assert "exited \\| 2" in lines[5]
        assert len(lines) == 2 + 5

    def test_the_header_quotes_mode_load_average_and_commit(self) -> None:
        document = {"mode": "short", "started_at": "2025-03-14 09:30 UTC", "cpus": 2, "commit": "abc1234",
                    "load_average_start": [1.0, 0.5, 0.25], "load_average_end": [2.0, 1.5, 1.0]}
        text = render(outcomes(), document, markdown=False)
        assert text.splitlines()[0] == (
            "PulseWatch benchmarks, short run of 2025-03-14 09:30 UTC · 2 CPUs · "
            "load average (1/5/15 min) 1.00 0.50 0.25 → 2.00 1.50 1.00 · commit abc1234"
        )
        assert text.splitlines()[-1] == ("targets met: 1, missed: 1; failed to run: engine_pair; "
                                         "skipped: socket_floor")


class TestJson:
    def test_shape(self) -> None:
        document = report.to_json(outcomes(), {"mode": "full"})
        assert document["mode"] == "full"
        assert document["summary"] == {"met": 1, "missed": 1, "failed": ["engine_pair"],
                                       "skipped": ["socket_floor"]}
        first = document["benchmarks"][0]
        assert set(first) == {"name", "status", "error", "seconds", "command", "figures", "raw", "output"}
        cpu = first["figures"][0]
        assert cpu["key"] == "cpu_ms_per_probe.sqlite"
        assert (cpu["median"], cpu["values"], cpu["met"]) == (0.55, [0.62, 0.40, 0.55], False)
        assert cpu["target"] == {"op": "<=", "bound": 0.5}
        assert cpu["ratios"][1] == {"peer": "httpx client per target 1.0–1.6 ms",
                                    "ours_over_peer": [pytest.approx(0.34375), pytest.approx(0.55)]}
        assert document["benchmarks"][2]["error"].startswith("exit 1")

    def test_it_is_strict_json_nan_and_infinity_become_null(self) -> None:
        odd = Outcome("x", "ok", [Figure("a", "a", (math.nan, math.inf), "ms", Goal("<=", 1))])
        text = json.dumps(report.to_json([odd], {}), allow_nan=False)
        fig = json.loads(text)["benchmarks"][0]["figures"][0]
        assert (fig["values"], fig["median"], fig["met"]) == ([None, None], None, False)

    def test_an_earlier_run_renders_the_same_table_again(self) -> None:
        original = outcomes()
        document = json.loads(json.dumps(report.to_json(original, {"mode": "full"})))
        assert report.format_table(report.from_json(document)) == report.format_table(original)


class TestSuite:
    def test_only_keeps_suite_order_and_refuses_unknown_names(self) -> None:
        assert [b.name for b in suite.select("console, engine")] == ["engine", "console"]
        assert len(suite.select(None)) == len(suite.BENCHMARKS)
        with pytest.raises(ValueError, match="unknown benchmark nope; choose from engine, "):
            suite.select("console,nope")
        with pytest.raises(ValueError, match="none given"):
            suite.select(",")

    def test_the_suite_runs_every_benchmark_module_that_writes_json(self) -> None:
        """Each bench/*.py with a --json option is in the suite (socket_floor runs inside engine)."""
        not_benchmarks = ("__main__", "suite", "socket_floor")
        modules = {path.stem for path in (suite.ROOT / "bench").glob("*.py")
                   if '"--json"' in path.read_text() and path.stem not in not_benchmarks}
        assert modules == {b.module for b in suite.BENCHMARKS}
        assert {"attach_poll", "console_uptime"} <= {b.name for b in suite.BENCHMARKS}

    def test_every_benchmark_is_run_with_json_and_its_short_settings(self, tmp_path: Any) -> None:
        for bench in suite.BENCHMARKS:
            argv = suite.command(bench, short=True, json_path=tmp_path / "x.json")
            assert argv[1:3] == ["-m", f"bench.{bench.module}"]
            assert argv[-2:] == ["--json", str(tmp_path / "x.json")]

    @pytest.mark.parametrize(
        ("output", "line"),
        [
            ("table\nTraceback (most recent call last):\n  ...\nRuntimeError: boom\n", "RuntimeError: boom"),
            ("", "(no output)"),
            ("x" * 400, "x" * 299 + "…"),
        ],
    )
    def test_the_error_is_the_last_line_printed(self, output: str, line: str) -> None:
        assert suite.last_line(output) == line


class TestHistogramPercentile:
    """engine_memory and engine_pair read lateness from two /metrics scrapes of a Prometheus histogram."""

    NAME = "pulsewatch_probe_lateness_seconds"

    def scrape(self, *cumulative: float) -> dict[str, float]:
        bounds = ("0.1", "0.25", "0.5", "+Inf")
        return {f"{self.NAME}_bucket{{{le}}}": n for le, n in zip(bounds, cumulative, strict=True)}

    def test_the_bucket_bound_of_the_window_s_observations_only(self) -> None:
        before = self.scrape(1000, 1000, 1000, 1000)  # all early and fast: not in the window
        after = self.scrape(1090, 1099, 1100, 1100)  # the window: 90 ≤ 0.1 s, 9 more ≤ 0.25, 1 ≤ 0.5
        assert histogram_percentile(before, after, self.NAME, 50) == 0.1
        assert histogram_percentile(before, after, self.NAME, 99) == 0.25
        assert histogram_percentile(before, after, self.NAME, 100) == 0.5

    def test_beyond_the_last_bound_is_infinite_and_no_observation_is_nan(self) -> None:
        assert histogram_percentile({}, self.scrape(0, 0, 0, 5), self.NAME, 99) == math.inf
        same = self.scrape(3, 3, 3, 3)
        assert math.isnan(histogram_percentile(same, same, self.NAME, 99))
        assert math.isnan(histogram_percentile({}, {}, self.NAME, 99))


def test_a_long_error_is_cut_in_the_table_and_whole_in_the_json() -> None:
    failed = Outcome("engine_pair", "failed", error="exit 1: " + "x" * 200)
    assert report.rows([failed])[0][1] == ("exit 1: " + "x" * 200)[:89] + "…"
    assert report.to_json([failed], {})["benchmarks"][0]["error"] == "exit 1: " + "x" * 200
