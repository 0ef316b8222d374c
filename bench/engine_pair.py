"""Two engines sharing MariaDB: recorded throughput of one engine process, of two, and the ratio.

    python -m bench.engine_pair                  # 5,000 checks every 1 s, 30 s window
    python -m bench.engine_pair --short          # 4,000 checks every 1 s, 10 s window
    python -m bench.engine_pair --json out.json

Each engine is the production `pulsewatch engine` in its own process with shard leases on (the
engines split the 64 shards between them, engine/cluster.py), on the MariaDB database of
$PULSEWATCH_BENCH_MYSQL_URL (dropped and created again for each configuration), probing a local
target (`bench.target_server`, its own process). The checks offer more probes per second than the
engines can do, so what is measured is capacity: the results whose probe started inside the window,
counted in the results table once the engines have stopped (every finished probe is written on a
clean stop) — throughput with every result recorded. The two-engine run starts the second engine
after the first, waits until each holds half of the shards, then warms up and measures the same way.

Per engine the run also gives CPU per recorded probe (/proc/PID/stat over the window) and the
scheduling lateness p99 from /metrics (as the upper bound of its histogram bucket: at saturation it
only says how far behind the engine is). On a machine with few cores the engines compete with the
target server and MariaDB for them, which caps the ratio: the load average is printed with it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.engine_process import (
    MYSQL_URL,
    EngineProcess,
    fresh_mysql,
    histogram_percentile,
    local_target,
    mysql_query,
    wait_for,
    write_config,
)
from pulsewatch.domain.cluster import SHARDS


def measure(engines: int, *, checks: int, interval: float, lease: float, warmup: float, window: float,
            target: str, url: str) -> dict[str, Any]:
    """Run `engines` engine processes on a fresh database; return the window's recorded throughput."""
    fresh_mysql(url)
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"pw-bench-pair{engines}-")))
        config = write_config(folder, database=url, target=target, checks=checks, interval=interval,
                              lease=lease)
        procs = [EngineProcess(f"bench-e{i}", config, folder) for i in range(engines)]
        for proc in procs:  # one after the other: the first creates the schema and the checks
            stack.callback(proc.kill)
            proc.start().wait_started(timeout=300)
        fair = SHARDS // engines
        wait_for(lambda: all(p.shards() in (fair, SHARDS - fair * (engines - 1)) for p in procs),
                 timeout=6 * lease + 30, what=f"{engines} engine(s) sharing the {SHARDS} shards evenly")
        time.sleep(warmup)
        before = [p.metrics() for p in procs]
        cpu0 = [p.cpu_seconds() for p in procs]
        t0 = time.time()
        time.sleep(window)
        t1 = time.time()
        cpu1 = [p.cpu_seconds() for p in procs]
        after = [p.metrics() for p in procs]
        for proc in procs:
            if (code := proc.stop()) != 0:
                raise RuntimeError(f"engine {proc.name} exited with {code}: {proc.log_text()[-1500:]}")
    rows = mysql_query(url, "SELECT engine, COUNT(*) FROM results WHERE started_at >= %s AND started_at < %s "
                            "GROUP BY engine", (round(t0 * 1e6), round(t1 * 1e6)))
    recorded = {str(name): int(n) for name, n in rows}
    per_engine = []
    for proc, b, a, c0, c1 in zip(procs, before, after, cpu0, cpu1, strict=True):
        n = recorded.get(proc.name, 0)
        per_engine.append({
            "engine": proc.name,
            "recorded_per_s": n / (t1 - t0),
            "cpu_ms_per_probe": (c1 - c0) * 1000 / max(n, 1),
            "cpu_utilisation": (c1 - c0) / (t1 - t0),
            "lateness_p99_at_most_ms": 1000 * histogram_percentile(
                b, a, "pulsewatch_probe_lateness_seconds", 99),
            "rounds_skipped": a["pulsewatch_rounds_skipped_total"] - b["pulsewatch_rounds_skipped_total"],
        })
    return {
        "engines": engines,
        "recorded_per_s": sum(recorded.values()) / (t1 - t0),
        "offered_per_s": checks / interval,
        "per_engine": per_engine,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.engine_pair", description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=5000)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between probes of a check")
    parser.add_argument("--lease", type=float, default=6.0, help="engine.lease: shards rebalance every third")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds after the shards are shared")
    parser.add_argument("--window", type=float, default=30.0)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each configuration; medians reported")
    parser.add_argument("--short", action="store_true", help="4,000 checks, 5 s warm-up, 10 s window")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    if args.short:
        args.checks, args.warmup, args.window, args.repeat = 4000, 5.0, 10.0, 1
    if args.checks < 2 or args.interval <= 0 or args.lease < 3 or args.window < 1 or args.repeat < 1:
        parser.error("--checks ≥ 2, --interval > 0, --lease ≥ 3 (engine.lease), --window ≥ 1, --repeat ≥ 1")
    load_before = os.getloadavg()
    runs: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
    with local_target() as target:
        for _ in range(args.repeat):
            for engines in (1, 2):
                runs[engines].append(measure(engines, checks=args.checks, interval=args.interval,
                                             lease=args.lease, warmup=args.warmup, window=args.window,
                                             target=target, url=MYSQL_URL))
    one = statistics.median(r["recorded_per_s"] for r in runs[1])
    two = statistics.median(r["recorded_per_s"] for r in runs[2])
    results = {
        "one_engine_per_s": one,
        "two_engines_per_s": two,
        "ratio": two / one if one else float("nan"),
        "offered_per_s": args.checks / args.interval,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "runs": runs,
    }
    print(f"{args.checks:,} HTTP checks every {args.interval:g} s on MariaDB (offered "
          f"{results['offered_per_s']:,.0f} probes/s), {args.window:g} s window, "
          f"median of {args.repeat} run(s)")
    print(f"  one engine   {one:8.0f} results/s recorded")
    print(f"  two engines  {two:8.0f} results/s recorded   ratio {results['ratio']:.2f}× (target ≥ 1.7×)")
    for engines in (1, 2):
        for e in runs[engines][-1]["per_engine"]:
            print(f"    [{engines}] {e['engine']}: {e['recorded_per_s']:6.0f}/s  "
                  f"CPU {e['cpu_ms_per_probe']:.3f} ms/probe ({e['cpu_utilisation'] * 100:.0f}%)  "
                  f"lateness p99 ≤ "
                  f"{e['lateness_p99_at_most_ms']:g} ms  rounds skipped {e['rounds_skipped']:.0f}")
    print("  load average (1, 5, 15 min) before " + " ".join(f"{x:.2f}" for x in load_before)
          + ", after " + " ".join(f"{x:.2f}" for x in results["load_average_after"]))
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
