"""Engine memory: resident set size of one `pulsewatch engine` process holding 10,000 plain-HTTP checks.

    python -m bench.engine_memory                  # 10,000 checks every 60 s, SQLite, 60 s window
    python -m bench.engine_memory --short          # 10,000 checks every 30 s, 10 s window
    python -m bench.engine_memory --json out.json

The engine is the production one (`pulsewatch engine`: notifier, leases, maintenance, the listener
for pings and /metrics) on SQLite, probing a local target (`bench.target_server`, its own process).
The interval keeps the load sustainable (10,000 checks at 60 s is ~170 probes/s), so the figure is
what holding the checks costs (their states, schedule, HTTP clients and connections, the recorder's
batches), not a backlog. Warm-up lasts until /metrics shows as many probes as checks (every check has
been probed, so every client exists) and at least one interval has passed; RSS is then sampled every
second over the window. Figures come from the kernel's accounting of the engine process
(/proc/PID/status, the same lines the process would read as /proc/self/status): VmRSS, the median
of the window's samples; VmHWM, the peak resident size since the process started (start-up, the
config's 10,000 checks parsed and synced, included). MB are 10^6 bytes, as in the issue's target.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.engine_process import MB, EngineProcess, histogram_percentile, local_target, wait_for, write_config


def measure(checks: int, interval: float, window: float, target: str) -> dict[str, Any]:
    """Run one engine and return its memory figures (and enough load figures to show it kept up)."""
    with tempfile.TemporaryDirectory(prefix="pw-bench-memory-") as name:
        return _measure(Path(name), checks, interval, window, target)


def _measure(folder: Path, checks: int, interval: float, window: float, target: str) -> dict[str, Any]:
    config = write_config(folder, database=f"sqlite:///{folder / 'bench.db'}", target=target,
                          checks=checks, interval=interval)
    engine = EngineProcess("bench-memory", config, folder)
    launched = time.monotonic()
    engine.start()
    try:
        engine.wait_started(timeout=600)
        started = time.monotonic()
        rss_started = engine.memory_kib()["VmRSS"]
        wait_for(lambda: engine.metrics().get("pulsewatch_probes_total", 0) >= checks,
                 timeout=3 * interval + 120, what=f"every one of {checks:,} checks probed once")
        time.sleep(max(0.0, started + interval - time.monotonic()))
        before, cpu0, t0 = engine.metrics(), engine.cpu_seconds(), time.monotonic()
        samples = []
        while time.monotonic() < t0 + window:
            samples.append(engine.memory_kib()["VmRSS"])
            time.sleep(1.0)
        after, cpu1, t1 = engine.metrics(), engine.cpu_seconds(), time.monotonic()
        peak = engine.memory_kib()["VmHWM"]
    finally:
        code = engine.stop()
    if code != 0:
        raise RuntimeError(f"the engine exited with {code}: {engine.log_text()[-1500:]}")
    probes = after["pulsewatch_probes_total"] - before["pulsewatch_probes_total"]
    lateness = histogram_percentile(before, after, "pulsewatch_probe_lateness_seconds", 99)
    return {
        "checks": checks,
        "interval_s": interval,
        "startup_s": started - launched,
        "rss_started_mb": rss_started * 1024 / MB,
        "rss_mb": statistics.median(samples) * 1024 / MB,
        "rss_max_window_mb": max(samples) * 1024 / MB,
        "peak_rss_mb": peak * 1024 / MB,
        "samples": len(samples),
        "probes_per_s": probes / (t1 - t0),
        "offered_per_s": checks / interval,
        "cpu_utilisation": (cpu1 - cpu0) / (t1 - t0),
        "lateness_p99_at_most_ms": lateness * 1000,
        "rounds_skipped": (after["pulsewatch_rounds_skipped_total"]
                           - before["pulsewatch_rounds_skipped_total"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.engine_memory",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between probes of a check")
    parser.add_argument("--window", type=float, default=60.0, help="seconds of RSS samples after warm-up")
    parser.add_argument("--short", action="store_true", help="a quick look: every 30 s, 10 s window")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    if args.checks < 1 or args.interval <= 0 or args.window < 1:
        parser.error("--checks must be ≥ 1, --interval > 0 and --window ≥ 1")
    if args.short:
        args.interval, args.window = 30.0, 10.0
    with local_target() as target:
        fig = measure(args.checks, args.interval, args.window, target)
    print(f"one engine process, {fig['checks']:,} HTTP checks every {fig['interval_s']:g} s on SQLite "
          f"({fig['probes_per_s']:.0f} probes/s of {fig['offered_per_s']:.0f} offered, "
          f"CPU {fig['cpu_utilisation'] * 100:.0f}%, lateness p99 ≤ {fig['lateness_p99_at_most_ms']:g} ms)")
    print(f"  started in {fig['startup_s']:.1f} s, RSS then   {fig['rss_started_mb']:7.1f} MB")
    print(f"  RSS after warm-up (median of {fig['samples']}) {fig['rss_mb']:7.1f} MB   (target ≤ 150 MB)")
    print(f"  peak RSS (VmHWM)               {fig['peak_rss_mb']:7.1f} MB")
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "results": fig}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
