"""Engine throughput: N plain-HTTP checks at a fixed interval against a local target, per backend.

    python -m bench.engine_throughput                 # 1,000 checks at 1 s, 20 s window, SQLite and MariaDB
    python -m bench.engine_throughput --short         # a quick look: 200 checks, 5 s window
    python -m bench.engine_throughput --json out.json
    python -m bench.engine_throughput --checks 5000 --interval 2.5    # the issue #9 targets

The target server runs in its own process so that only the engine's CPU is measured. CPU is
`time.process_time()` over the measurement window (every thread of the engine process: the trio
loop, probe work and the recorder's database writes), divided by the probes finished in it.

Each run also measures the floor (bench.socket_floor: a bare trio socket probe, a new connection
per probe, at the same probe rate against the same target) and reports ours/floor. The machine may
be shared: the 1-minute load average is recorded beside every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import trio

from bench.socket_floor import measure_floor
from engine.runtime import Engine
from engine.storage.store import open_store
from pulsewatch.domain.conditions import parse_condition
from pulsewatch.domain.monitoring import Check

MYSQL_URL = os.environ.get("PULSEWATCH_BENCH_MYSQL_URL", "mysql://root@127.0.0.1:3306/pulsewatch_bench")


def start_target() -> tuple[subprocess.Popen[bytes], int]:
    """Start bench.target_server in a subprocess and return it with its port."""
    port_file = Path(tempfile.mkdtemp()) / "port"
    proc = subprocess.Popen([sys.executable, "-m", "bench.target_server", str(port_file)])
    deadline = time.monotonic() + 10
    while not port_file.exists() or not port_file.read_text():
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("target server did not start")
        time.sleep(0.05)
    return proc, int(port_file.read_text())


def fresh_mysql(url: str) -> None:
    """Drop and recreate the benchmark database so every run starts empty."""
    from urllib.parse import urlsplit

    import pymysql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    conn = pymysql.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 3306,
                           user=parts.username or "root", password=parts.password or "")
    with conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    conn.close()


async def measure(engine: Engine, warmup: float, window: float) -> dict[str, float]:
    async with trio.open_nursery() as nursery:
        await nursery.start(engine.run)
        await trio.sleep(warmup)
        probes0, cpu0, wall0 = engine.stats.probes_total, time.process_time(), time.monotonic()
        engine.stats.lateness.recent.clear()
        await trio.sleep(window)
        probes1, cpu1, wall1 = engine.stats.probes_total, time.process_time(), time.monotonic()
        lateness = engine.stats.lateness
        p50, p99 = lateness.percentile(50), lateness.percentile(99)
        load = os.getloadavg()[0]
        engine.stop()
    probes = probes1 - probes0
    stats = engine.stats
    writes = stats.write_latency
    return {
        "probes": probes,
        "probes_per_s": probes / (wall1 - wall0),
        "cpu_ms_per_probe": (cpu1 - cpu0) * 1000 / max(probes, 1),
        "cpu_utilisation": (cpu1 - cpu0) / (wall1 - wall0),
        "lateness_p50_ms": p50 * 1000,
        "lateness_p99_ms": p99 * 1000,
        "failures": engine.stats.probe_failures,
        "results_written": engine.stats.results_written,
        "probes_total": engine.stats.probes_total,
        "write_batches": stats.write_batches,
        "rows_per_batch": stats.results_written / max(stats.write_batches, 1),
        "write_p50_ms": writes.percentile(50) * 1000,
        "write_p99_ms": writes.percentile(99) * 1000,
        "rounds_skipped": stats.rounds_skipped,
        "overlaps_skipped": stats.overlaps_skipped,
        "load_avg_1m": load,
    }


def run_backend(backend: str, port: int, n_checks: int, interval: float, warmup: float, window: float,
                *, floor: bool = True) -> dict[str, float]:
    """One engine run (and, with `floor`, one floor measurement at the same rate just before it)."""
    floor_figures = measure_floor(port, n_checks / interval, window=min(window, 10.0)) if floor else {}
    tmp = Path(tempfile.mkdtemp())
    if backend == "sqlite":
        url = f"sqlite:///{tmp / 'bench.db'}"
    else:
        fresh_mysql(MYSQL_URL)
        url = MYSQL_URL
    store = open_store(url)
    condition = parse_condition("[STATUS] == 200")
    checks = [
        Check(name=f"check-{i:05d}", url=f"http://127.0.0.1:{port}/c/{i}", kind="http",
              interval=interval, timeout=5.0, conditions=(condition,))
        for i in range(n_checks)
    ]
    engine = Engine(store, checks, name=f"bench-{backend}")
    engine.settle_heap = True  # as the headless `pulsewatch engine` does
    try:
        figures = trio.run(measure, engine, warmup, window)
    finally:
        store.close()
    figures["all_written"] = float(figures["results_written"] == figures["probes_total"])
    if floor_figures:
        figures["floor_cpu_ms_per_probe"] = floor_figures["cpu_ms_per_probe"]
        figures["floor_probes_per_s"] = floor_figures["probes_per_s"]
        figures["ratio_to_floor"] = figures["cpu_ms_per_probe"] / floor_figures["cpu_ms_per_probe"]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--window", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=3, help="runs per backend; medians are reported")
    parser.add_argument("--backend", choices=["sqlite", "mysql", "both"], default="both")
    parser.add_argument("--short", action="store_true", help="200 checks, 5 s window, one run")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--no-floor", action="store_true", help="skip the bare-socket floor measurement")
    args = parser.parse_args()
    if args.short:
        args.checks, args.window, args.repeat = 200, 5.0, 1
    backends = ["sqlite", "mysql"] if args.backend == "both" else [args.backend]
    target, port = start_target()
    report: dict[str, dict[str, float]] = {}
    try:
        for backend in backends:
            runs = [run_backend(backend, port, args.checks, args.interval, 3.0, args.window,
                                floor=not args.no_floor)
                    for _ in range(args.repeat)]
            report[backend] = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    finally:
        target.kill()
        target.wait()
    print(f"{args.checks} HTTP checks every {args.interval:g}s, {args.window:g}s window, "
          f"median of {args.repeat} run(s)")
    print(f"{'backend':8} {'probes/s':>9} {'CPU ms/probe':>13} {'CPU %':>6} {'late p50':>9} "
          f"{'late p99':>9} {'all written':>11} {'floor ms':>9} {'ours/floor':>10} {'write p99':>10} "
          f"{'load':>5}")
    for backend, fig in report.items():
        written = "yes" if fig["all_written"] else "NO"
        floor = f"{'-':>9} {'-':>10}"
        if "ratio_to_floor" in fig:
            floor = f"{fig['floor_cpu_ms_per_probe']:9.3f} {fig['ratio_to_floor']:10.2f}"
        print(f"{backend:8} {fig['probes_per_s']:9.0f} {fig['cpu_ms_per_probe']:13.3f} "
              f"{fig['cpu_utilisation'] * 100:6.0f} {fig['lateness_p50_ms']:8.1f}ms "
              f"{fig['lateness_p99_ms']:8.1f}ms {written:>11} {floor} {fig['write_p99_ms']:8.1f}ms "
              f"{fig['load_avg_1m']:5.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "results": report}, indent=2))


if __name__ == "__main__":
    main()
