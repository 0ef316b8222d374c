"""The console's stored-uptime read at scale: a database as a week of engine work leaves it.

    python -m bench.console_uptime                       # SQLite in a temporary folder, 10,000 checks
    python -m bench.console_uptime --url mysql://root@127.0.0.1:3306/pw_bench --runs 9
    python -m bench.console_uptime --short --json out.json   # 3 runs; the figures as JSON too

What is built (straight into the tables, as the engines' rollups would have written them): N checks,
each with day rollups for the 6 whole days before today, hour rollups for the last 7 days, minute
rollups for the hour not rolled into hours yet, and raw results — two a minute — for the 6 minutes
the minute rollups lag behind (the 5-minute roll-up delay); the marks say so. What is timed, after
one warm-up read (a warm database): `UptimeStore.tally(now)`, the grid's 24h/7d counts for every
check — "first" on a fresh store, as at console start (every stretch read), "refresh" as the grid's
read a minute later within the same hour (the day and hour stretches are kept). The same database
serves bench.console's first-paint run with stored uptime.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.storage.store import SqlStore

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
ROWS_PER_INSERT = 5_000


def build(url: str, checks: int, now: datetime = NOW) -> SqlStore:
    """An open store at `url` holding `checks` checks and a week of rollups (see the module docstring)."""
    from engine.storage.records import database
    from engine.storage.rollup_records import LEVEL_CODES, RollupMarkRecord
    from engine.storage.rollup_sql import RollupSql
    from engine.storage.store import open_store
    from pulsewatch.domain.monitoring import Check, ProbeResult
    from pulsewatch.domain.rollups import Histogram, Level

    store = open_store(url)
    desired = [Check(name=f"check-{i:05d}", url=f"https://svc-{i}.example.test/", kind="https", interval=30.0)
               for i in range(checks)]
    added = store.sync_checks(desired).added
    ids = [c.id for c in added if c.id is not None]
    hour_mark = Level.HOUR.floor(now)
    minute_mark = Level.MINUTE.floor(now - timedelta(minutes=6))
    day_mark = Level.DAY.floor(now)
    spans = [
        (Level.DAY, day_mark - timedelta(days=6), day_mark, 2 * 1440),
        (Level.HOUR, hour_mark - timedelta(hours=7 * 24), hour_mark, 120),
        (Level.MINUTE, hour_mark, minute_mark, 2),
    ]
    histogram = Histogram.of([40.0, 42.0]).encode()
    upsert = RollupSql.build(store.is_mysql).upsert
    with store.session("build the bench data in"):
        for level, start, end, probes in spans:
            rows: list[tuple[object, ...]] = []
            for check_id in ids:
                at = start
                while at < end:
                    failures = 1 if (check_id + int(at.timestamp()) // level.value) % 97 == 0 else 0
                    start_us = int(at.timestamp() * 1_000_000)
                    rows.append((check_id, LEVEL_CODES[level], start_us, probes, failures, 0, 41.0 * probes,
                                 40.0, 42.0, histogram))
                    at += level.width
                    if len(rows) >= ROWS_PER_INSERT:
                        _insert(store, database, upsert, rows)
            _insert(store, database, upsert, rows)
        with store.atomic():
            for level, mark in ((Level.MINUTE, minute_mark), (Level.HOUR, hour_mark), (Level.DAY, day_mark)):
                code = LEVEL_CODES[level]
                RollupMarkRecord.insert(level=code, rolled_to=mark).on_conflict_replace().execute()
    tail = [
        ProbeResult(check_id, minute_mark + timedelta(seconds=30 * k + check_id % 30), 40.0, k % 11 != 0, 200)
        for check_id in ids for k in range(12)
    ]
    for first in range(0, len(tail), ROWS_PER_INSERT):
        store.record(tail[first:first + ROWS_PER_INSERT], [], [])
    return store


def _insert(store: SqlStore, database: object, sql: str, rows: list[tuple[object, ...]]) -> None:
    if rows:
        with store.atomic():
            database.cursor().executemany(sql, rows)  # type: ignore[attr-defined]
        rows.clear()


def tally_ms(store: SqlStore, runs: int, now: datetime = NOW) -> tuple[list[float], list[float]]:
    """Wall ms of `runs` first tallies (fresh stores) and `runs` refreshes a minute on, after a warm-up."""
    from engine.storage.uptime_store import UptimeStore

    UptimeStore(store).tally(now)
    first, refresh = [], []
    for _ in range(runs):
        uptime = UptimeStore(store)
        t0 = time.perf_counter()
        uptime.tally(now)
        t1 = time.perf_counter()
        uptime.tally(now + timedelta(minutes=1))
        first.append((t1 - t0) * 1000)
        refresh.append((time.perf_counter() - t1) * 1000)
    return first, refresh


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.console_uptime",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--url", help="database to fill (emptied first for MySQL: give a scratch one)")
    parser.add_argument("--short", action="store_true", help="3 runs (still 10,000 checks unless --checks)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    if args.short:
        args.runs = 3
    with tempfile.TemporaryDirectory() as folder:
        url = args.url or f"sqlite:///{Path(folder) / 'bench.db'}"
        t0 = time.perf_counter()
        store = build(url, args.checks)
        built = time.perf_counter() - t0
        try:
            first, refresh = tally_ms(store, args.runs)
        finally:
            store.close()
    backend = url.split(":")[0]
    print(f"stored uptime: {args.checks:,} checks on {backend} (built in {built:.0f} s), {args.runs} runs, "
          "medians")
    for name, times in (("first", first), ("refresh", refresh)):
        print(f"  tally of every check, {name:<8} {statistics.median(times):8.1f} ms   runs: "
              + ", ".join(f"{t:.0f}" for t in times))
    if args.json:
        figures = {"backend": backend, "checks": args.checks, "runs": args.runs, "build_s": built,
                   "first_ms": first, "refresh_ms": refresh}
        arguments = {k: v for k, v in vars(args).items() if k not in ("json", "url")}  # no password
        Path(args.json).write_text(json.dumps({"args": arguments, "results": figures}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
