"""Attach mode: how soon a write shows in an attached console, and what following the database costs.

    python -m bench.attach_poll [--checks 10000] [--rate 333] [--seconds 20] [--url mysql://…]
    python -m bench.attach_poll --short          # 1,000 checks for 8 s on SQLite
    python -m bench.attach_poll --short --json out.json   # the figures as JSON too (python -m bench)

A writer thread plays the engines: every 250 ms it records one batch of results and states (`rate`
results a second, spread over every check — 10,000 checks at a 30 s interval is 333/s) through the
store's real batch write. An `AttachedDatabase` follows the database as the console does (0.5 s
polls). Prints the lag from a batch's commit to its CheckUpdated events reaching the console (p50,
p95, max), the time one poll spends in the database (p50, p95), and the link thread's CPU share.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from engine.attach import AttachedDatabase
from engine.storage.change_reads import SqlChangeReads
from engine.storage.command_store import SqlCommandStore
from engine.storage.store import open_store
from pulsewatch.domain.events import CheckUpdated, EngineStarted
from pulsewatch.domain.monitoring import Check, CheckState, ProbeResult, Status

BATCH_EVERY = 0.25


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=333.0, help="results written per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--url", help="database URL (default: SQLite in a temporary folder)")
    parser.add_argument("--short", action="store_true")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    if args.short:
        args.checks, args.seconds = 1000, 8.0
    with tempfile.TemporaryDirectory() as folder:
        figures = run(args.url or f"sqlite:///{Path(folder) / 'attach.db'}", args.checks, args.rate,
                      args.seconds)
    if args.json:
        arguments = {k: v for k, v in vars(args).items() if k not in ("json", "url")}  # no password
        Path(args.json).write_text(json.dumps({"args": arguments, "results": figures}, indent=2) + "\n")


def run(url: str, checks: int, rate: float, seconds: float) -> dict[str, Any]:
    """Follow the database for `seconds` while a writer thread records; print and return the figures."""
    store = open_store(url)
    try:
        stored = store.sync_checks([Check(name=f"c{i}", url=f"http://127.0.0.1:9/{i}", kind="http")
                                    for i in range(checks)])
        ids = [c.id for c in (*stored.added, *stored.unchanged) if c.id is not None]
        committed: dict[datetime, float] = {}
        lags: list[float] = []
        polls: list[float] = []
        started = threading.Event()

        def post(event: object) -> None:
            if isinstance(event, EngineStarted):
                started.set()
            elif isinstance(event, CheckUpdated) and event.result.started_at in committed:
                lags.append(time.monotonic() - committed.pop(event.result.started_at))

        reads = SqlChangeReads(store)
        original = reads.changes

        def timed(**kwargs: object) -> object:
            begun = time.perf_counter()
            try:
                return original(**kwargs)  # type: ignore[arg-type]
            finally:
                polls.append(time.perf_counter() - begun)

        reads.changes = timed  # type: ignore[method-assign]
        link = AttachedDatabase(reads, store, SqlCommandStore(store), requester=lambda: "console",
                                name="bench")
        link.start(post)
        started.wait(60)
        per_batch = max(1, round(rate * BATCH_EVERY))
        cpu_before = time.thread_time()
        process_before = time.process_time()
        deadline = time.monotonic() + seconds
        cursor = 0
        up_since = datetime.now(UTC) - timedelta(hours=1)
        while time.monotonic() < deadline:
            now = datetime.now(UTC)
            batch = [ids[(cursor + i) % len(ids)] for i in range(per_batch)]
            cursor += per_batch
            results = [ProbeResult(check_id=c, started_at=now, duration_ms=3.0, ok=True, status_code=200,
                                   engine="bench") for c in batch]
            # UP for an hour already: `since` moves only when a status changes, as in a real engine
            states = [CheckState(c, Status.UP, since=up_since, last_checked_at=now) for c in batch]
            store.record(results, states, [])
            committed[now] = time.monotonic()
            time.sleep(BATCH_EVERY)
        time.sleep(1.5)
        writer_cpu = time.thread_time() - cpu_before
        link_cpu = time.process_time() - process_before - writer_cpu
        link.close()
    finally:
        store.close()
    lags.sort()
    polls.sort()
    backend = url.split(":")[0]
    print(f"attach follow: {checks} checks, {per_batch * 4} results/s for {seconds:g}s on {backend}")
    print(f"  write → console lag: p50 {statistics.median(lags) * 1000:.0f} ms, "
          f"p95 {lags[int(len(lags) * 0.95)] * 1000:.0f} ms, max {lags[-1] * 1000:.0f} ms "
          f"({len(lags)} batches)")
    print(f"  one poll in the database: p50 {statistics.median(polls) * 1000:.1f} ms, "
          f"p95 {polls[int(len(polls) * 0.95)] * 1000:.1f} ms ({len(polls)} polls)")
    print(f"  link thread CPU: {link_cpu / seconds * 100:.1f}% of one core")
    return {
        "backend": backend,
        "checks": checks,
        "results_per_s": per_batch * 4,
        "batches": len(lags),
        "lag_p50_ms": statistics.median(lags) * 1000,
        "lag_p95_ms": lags[int(len(lags) * 0.95)] * 1000,
        "lag_max_ms": lags[-1] * 1000,
        "polls": len(polls),
        "poll_p50_ms": statistics.median(polls) * 1000,
        "poll_p95_ms": polls[int(len(polls) * 0.95)] * 1000,
        "link_cpu_pct": link_cpu / seconds * 100,
    }


if __name__ == "__main__":
    main()
