"""From each benchmark's own JSON to the runner's figures, with the issue's targets and peer figures.

Targets and peers are those of issue #9 (measured on this kind of 2-core machine):
CPU per plain-HTTP probe ≤ 0.5 ms at 5,000 checks (Uptime Kuma 2.5 ~7.8 ms, httpx with a client
per target ~1.0–1.6 ms, a bare trio socket probe with a new connection ~0.23 ms: the floor, which
bench.engine_throughput measures in the same run); one engine ≥ 2,000 probes/s on MariaDB with every
result recorded and lateness p99 ≤ 200 ms; two engines ≥ 1.7× one; ≤ 150 MB RSS at 10,000 checks
(Uptime Kuma ~300 MB at 1,000); bytes per raw result (Uptime Kuma ~148 per heartbeat) and per check
per day; alerts p95 ≤ 1 s; console first paint ≤ 1 s and 1,000 changes on 10,000 rows ≤ 100 ms.
The issue sets no target for the attached console's lag or the stored-uptime read: their figures
are informational.
"""

from __future__ import annotations

import statistics
from typing import Any

from bench.report import Figure, Goal, Peer

KUMA_CPU = Peer("Uptime Kuma 7.8 ms", 7.8)
HTTPX = Peer("httpx client per target 1.0–1.6 ms", 1.0, 1.6)
KUMA_MEMORY = Peer("Uptime Kuma 300 MB at 1,000 checks", 300.0)
KUMA_HEARTBEAT = Peer("Uptime Kuma 148 B per heartbeat", 148.0)
BACKENDS = {"sqlite": "SQLite", "mysql": "MariaDB"}


def engine(raw: dict[str, Any]) -> list[Figure]:
    """`engine_throughput`: CPU per probe on each backend (the target at 5,000 checks), with the floor
    it measured in the same run as a peer; the rate, lateness p99 and unrecorded results, judged on
    MariaDB as the issue asks (shown for SQLite too)."""
    args, figures = raw["args"], []
    checks, offered = args["checks"], args["checks"] / args["interval"]
    for backend, fig in raw["results"].items():
        name = BACKENDS.get(backend, backend)
        judged = backend == "mysql"
        floor = fig.get("floor_cpu_ms_per_probe")
        peers = (KUMA_CPU, HTTPX) + ((Peer("bare socket floor", floor),) if floor else ())
        figures.append(Figure(f"cpu_ms_per_probe.{backend}", f"CPU per probe, {checks:,} checks, {name}",
                              (fig["cpu_ms_per_probe"],), "ms", Goal("<=", 0.5), peers))
        if floor:
            figures.append(Figure(f"floor_cpu_ms.{backend}",
                                  f"floor: bare socket probe, new connection ({name} run)", (floor,), "ms"))
        figures += [
            Figure(f"probes_per_s.{backend}", f"probes/s, one engine, {name} ({offered:,.0f} offered)",
                   (fig["probes_per_s"],), "/s", Goal(">=", 2000) if judged else None),
            Figure(f"lateness_p99_ms.{backend}", f"scheduling lateness p99, {name}",
                   (fig["lateness_p99_ms"],), "ms", Goal("<=", 200) if judged else None),
            Figure(f"unrecorded.{backend}", f"results not recorded, {name}",
                   (fig["probes_total"] - fig["results_written"],), "", Goal("<=", 0) if judged else None),
        ]
    return figures


def engine_pair(raw: dict[str, Any]) -> list[Figure]:
    results = raw["results"]
    offered = results["offered_per_s"]
    return [
        Figure("one_engine_per_s", f"recorded/s, one engine process, MariaDB ({offered:,.0f} offered)",
               (results["one_engine_per_s"],), "/s"),
        Figure("two_engines_per_s", "recorded/s, two engine processes, MariaDB",
               (results["two_engines_per_s"],), "/s"),
        Figure("ratio", "two engines ÷ one", (results["ratio"],), "×", Goal(">=", 1.7)),
    ]


def engine_memory(raw: dict[str, Any]) -> list[Figure]:
    results = raw["results"]
    checks = f"{results['checks']:,} checks"
    return [
        Figure("rss_mb", f"engine RSS after warm-up, {checks}", (results["rss_mb"],), "MB",
               Goal("<=", 150), (KUMA_MEMORY,)),
        Figure("peak_rss_mb", f"engine peak RSS (VmHWM), {checks}", (results["peak_rss_mb"],), "MB",
               Goal("<=", 150), (KUMA_MEMORY,)),
    ]


def storage_size(raw: dict[str, Any]) -> list[Figure]:
    figures = []
    for backend, fig in raw["results"].items():
        name = BACKENDS.get(backend, backend)
        figures += [
            Figure(f"raw_bytes_per_result.{backend}", f"bytes per raw result, {name}",
                   (fig["raw_bytes_per_result"],), "B", None, (KUMA_HEARTBEAT,)),
            Figure(f"raw_bytes_per_check_day.{backend}", f"raw bytes per check per day, {name}",
                   (fig["raw_bytes_per_check_day"],), "B"),
            Figure(f"rolled_bytes_per_check_day.{backend}", f"rolled-up bytes per check per day, {name}",
                   (fig["rolled_bytes_per_check_day"],), "B"),
        ]
    return figures


def alert_latency(raw: dict[str, Any]) -> list[Figure]:
    results = raw["results"]
    return [
        Figure("p95_ms", f"flip → delivered p95 ({results['count']} alerts)", (results["p95_ms"],), "ms",
               Goal("<=", 1000)),
        Figure("p50_ms", "flip → delivered p50", (results["p50_ms"],), "ms"),
    ]


def console(raw: dict[str, Any]) -> list[Figure]:
    checks = f"{raw['checks']:,}"
    return [
        Figure("first_paint_ms", f"console first paint, {checks} checks",
               (statistics.median(raw["first_paint_ms"]),), "ms", Goal("<=", 1000)),
        Figure("batch_ms", f"1,000 changes applied and painted, {checks} rows",
               (statistics.median(raw["total_ms"]),), "ms", Goal("<=", 100)),
        Figure("rss_mb", f"console RSS with {checks} checks", (raw["rss_loaded_mib"] * 1.048576,), "MB"),
    ]


def api_load(raw: dict[str, Any]) -> list[Figure]:
    return [
        Figure("p95_ms", f"GET /api/v1/checks p95 ({raw['clients']} clients)", (raw["p95_ms"],), "ms"),
        Figure("throughput_rps", "GET /api/v1/checks throughput", (raw["throughput_rps"],), "/s"),
    ]


def attach_poll(raw: dict[str, Any]) -> list[Figure]:
    """`attach_poll`: how soon an attached console sees the engines' writes, and what following costs."""
    results = raw["results"]
    name = BACKENDS.get(results["backend"], results["backend"])
    scale = f"{results['checks']:,} checks, {results['results_per_s']:,} results/s, {name}"
    return [
        Figure("lag_p95_ms", f"write → attached console lag p95 ({scale})", (results["lag_p95_ms"],), "ms"),
        Figure("lag_p50_ms", "write → attached console lag p50", (results["lag_p50_ms"],), "ms"),
        Figure("poll_p95_ms", "one attach poll in the database p95", (results["poll_p95_ms"],), "ms"),
        Figure("link_cpu_pct", "attach link thread CPU, share of one core", (results["link_cpu_pct"],), "%"),
    ]


def console_uptime(raw: dict[str, Any]) -> list[Figure]:
    """`console_uptime`: the grid's stored 24h/7d uptime read for every check (medians of the runs)."""
    results = raw["results"]
    name = BACKENDS.get(results["backend"], results["backend"])
    checks = f"{results['checks']:,} checks"
    return [
        Figure("first_ms", f"stored uptime of every check, first read ({checks}, {name})",
               (statistics.median(results["first_ms"]),), "ms"),
        Figure("refresh_ms", f"stored uptime of every check, refresh a minute on ({checks})",
               (statistics.median(results["refresh_ms"]),), "ms"),
    ]
