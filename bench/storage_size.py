"""Storage size: bytes per raw result, and per check per day once results are rolled up.

    python -m bench.storage_size                  # 200 checks, a day at 60 s, SQLite and MariaDB
    python -m bench.storage_size --backend sqlite --checks 50
    python -m bench.storage_size --json out.json

A simulated day of results (lognormal latencies around 80 ms, 1% failures with a message and
condition outcomes, 2% degraded) is written through `SqlStore.record` in engine-sized batches, then
rolled up by `RollupStore`. The day's hour and day rollups are then copied back in time to fill the
default retention (2 days of minutes, 90 of hours, 400 of days), so the rollup table is measured at
its steady-state size and shape, not as a few half-empty pages. Sizes are what the database says:
SQLite's `dbstat` (b-tree pages of the table and its indexes), MariaDB's information_schema
`data_length + index_length` after ANALYZE TABLE. Per-level figures come from deleting the levels
one by one and rebuilding the table (VACUUM / OPTIMIZE TABLE) in between. (The SQL here is put
together from this file's constants only, hence its `noqa: S608`.)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from engine.storage.fields import to_micros
from engine.storage.records import database
from engine.storage.rollup_records import LEVEL_CODES
from engine.storage.rollup_store import RollupStore
from engine.storage.store import SqlStore, open_store
from pulsewatch.config_retention import RetentionSettings
from pulsewatch.domain.monitoring import Check, ConditionOutcome, ProbeResult
from pulsewatch.domain.rollups import Level

MYSQL_URL = os.environ.get(
    "PULSEWATCH_BENCH_MYSQL_URL", "mysql://root@127.0.0.1:3306/pulsewatch_bench_size"
)
"""Dropped and created again by every run."""
DAY0 = datetime(2025, 3, 4, tzinfo=UTC)
DAY_US = 86_400_000_000
_NAMES = {code: level.name for level, code in LEVEL_CODES.items()}
BATCH = 500
"""Results per `record` call: the recorder's default batch size."""


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


def simulated_day(check_ids: list[int], interval: float, seed: int = 1) -> list[ProbeResult]:
    """One day of results for every check, in time order (as engines write them)."""
    rng = random.Random(seed)
    outcome = ConditionOutcome("[STATUS] == 200", False, "expected [STATUS] == 200, got 503")
    results = []
    phases = {c: rng.uniform(0, interval) for c in check_ids}
    for step in range(int(86400 / interval)):
        for check in check_ids:
            at = DAY0 + timedelta(seconds=step * interval + phases[check])
            ms = rng.lognormvariate(math.log(80.0), 0.5)
            roll = rng.random()
            if roll < 0.01:
                results.append(ProbeResult(check, at, 5000.0, False, 503, "condition",
                                           outcome.description, (outcome,), "bench-engine"))
            elif roll < 0.03:
                results.append(ProbeResult(check, at, ms * 8, True, 200, "degraded",
                                           "expected [RESPONSE_TIME] < 300, got 640", (), "bench-engine",
                                           degraded=True))
            else:
                results.append(ProbeResult(check, at, ms, True, 200, None, "", (), "bench-engine"))
    return results


def table_bytes(store: SqlStore, table: str) -> int:
    """The table's data plus its indexes, in bytes, as the database accounts for them."""
    if store.is_mysql:
        database.execute_sql(f"ANALYZE TABLE `{table}`").fetchall()
        sql = ("SELECT data_length + index_length FROM information_schema.TABLES "
               "WHERE table_schema = DATABASE() AND table_name = %s")
        (size,) = database.execute_sql(sql, (table,)).fetchone()
        return int(size)
    names = [n for (n,) in database.execute_sql(
        "SELECT name FROM sqlite_master WHERE tbl_name = ? AND type IN ('table', 'index')", (table,))]
    sql = f"SELECT SUM(pgsize) FROM dbstat WHERE name IN ({', '.join('?' * len(names))})"  # noqa: S608
    (size,) = database.execute_sql(sql, names).fetchone()
    return int(size)


def rebuild(store: SqlStore, table: str) -> None:
    """Repack a table after deletes so its size reflects the rows left."""
    if store.is_mysql:
        database.execute_sql(f"OPTIMIZE TABLE `{table}`").fetchall()
    else:
        database.execute_sql("VACUUM")


def count(table: str, where: str = "") -> int:
    (n,) = database.execute_sql(f"SELECT COUNT(*) FROM {table} {where}").fetchone()  # noqa: S608
    return int(n)


def fill_retention(store: SqlStore, retention: RetentionSettings) -> None:
    """Copy the simulated day's rollups back in time until each level holds its retention's worth."""
    columns = ("check_id, level, bucket_start, probes, failures, degraded, latency_sum_ms, "
               "latency_min_ms, latency_max_ms, histogram")
    copied = columns.replace("bucket_start", "bucket_start - {shift}")
    for level, keep in ((Level.MINUTE, retention.minute), (Level.HOUR, retention.hour),
                        (Level.DAY, retention.day)):
        code, start = LEVEL_CODES[level], to_micros(DAY0)
        for days_back in range(1, round(keep / 86400)):
            sql = (f"INSERT INTO rollups ({columns}) SELECT {copied.format(shift=days_back * DAY_US)} "  # noqa: S608
                   f"FROM rollups WHERE level = {code} AND bucket_start >= {start} "
                   f"AND bucket_start < {start + DAY_US}")
            with store.session("copy rollups in"), store.atomic():
                database.execute_sql(sql)


def run_backend(backend: str, n_checks: int, interval: float) -> dict[str, Any]:
    if backend == "sqlite":
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'size.db'}"
    else:
        fresh_mysql(MYSQL_URL)
        url = MYSQL_URL
    store = open_store(url)
    fig: dict[str, Any] = {"backend": backend}
    try:
        checks = [Check(name=f"check-{i:04d}", url=f"http://127.0.0.1/c/{i}", kind="http")
                  for i in range(n_checks)]
        ids = [c.id for c in store.sync_checks(checks).added if c.id is not None]
        results = simulated_day(ids, interval)
        started = time.perf_counter()
        for i in range(0, len(results), BATCH):
            store.record(results[i:i + BATCH], [], [])
        fig["insert_s"] = time.perf_counter() - started
        with store.session("measure"):
            fig["raw_rows"] = count("results")
            fig["raw_bytes"] = table_bytes(store, "results")
        rollups = RollupStore(store)
        started = time.perf_counter()
        rollups.roll_up_pending(DAY0 + timedelta(days=1, hours=1), RetentionSettings().delay)
        fig["rollup_s"] = time.perf_counter() - started
        with store.session("measure"):
            sql = "SELECT level, AVG(LENGTH(histogram)) FROM rollups GROUP BY level"
            for code, chars in database.execute_sql(sql).fetchall():
                fig[f"{Level[_NAMES[int(code)]].name.lower()}_histogram_chars"] = float(chars)
        retention = RetentionSettings()
        fill_retention(store, retention)
        with store.session("measure"):
            rebuild(store, "rollups")
            for level in Level:
                fig[f"{level.name.lower()}_rows"] = count("rollups", f"WHERE level = {LEVEL_CODES[level]}")
            total = table_bytes(store, "rollups")
            database.execute_sql(f"DELETE FROM rollups WHERE level = {LEVEL_CODES[Level.MINUTE]}")  # noqa: S608
            rebuild(store, "rollups")
            without_minutes = table_bytes(store, "rollups")
            database.execute_sql(f"DELETE FROM rollups WHERE level = {LEVEL_CODES[Level.HOUR]}")  # noqa: S608
            rebuild(store, "rollups")
            days_only = table_bytes(store, "rollups")
        fig.update(rollup_bytes=total, minute_bytes=total - without_minutes,
                   hour_bytes=without_minutes - days_only, day_bytes=days_only)
    finally:
        store.close()
    return fig


def derived(fig: dict[str, Any], n_checks: int, retention: RetentionSettings) -> dict[str, float]:
    """Bytes per row and per check, from the measured totals."""
    per_row = {lvl: fig[f"{lvl}_bytes"] / max(fig[f"{lvl}_rows"], 1) for lvl in ("minute", "hour", "day")}
    raw_per_result = fig["raw_bytes"] / fig["raw_rows"]
    raw_per_check_day = fig["raw_bytes"] / n_checks
    return {
        "raw_bytes_per_result": raw_per_result,
        "raw_bytes_per_check_day": raw_per_check_day,
        "minute_bytes_per_row": per_row["minute"],
        "hour_bytes_per_row": per_row["hour"],
        "day_bytes_per_row": per_row["day"],
        # A day kept long-term costs its 24 hour rows and its day row; the 1,440 minute rows go after 2 days.
        "rolled_bytes_per_check_day": 24 * per_row["hour"] + per_row["day"],
        "minute_bytes_per_check_day": 1440 * per_row["minute"],
        "steady_rollup_bytes_per_check": fig["rollup_bytes"] / n_checks,
        "steady_total_bytes_per_check": (
            fig["rollup_bytes"] / n_checks + raw_per_check_day * retention.raw / 86400
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=200)
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between probes of a check")
    parser.add_argument("--backend", choices=["sqlite", "mysql", "both"], default="both")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    backends = ["sqlite", "mysql"] if args.backend == "both" else [args.backend]
    retention = RetentionSettings()
    report = {}
    for backend in backends:
        fig = run_backend(backend, args.checks, args.interval)
        report[backend] = {**fig, **derived(fig, args.checks, retention)}
    results = report[backends[0]]["raw_rows"]
    print(f"{args.checks} checks × one day at {args.interval:g} s ({results:,} results); "
          "rollups filled to the default retention (minutes 2d, hours 90d, days 400d), raw kept 7d")
    rows = [
        ("raw bytes / result", "raw_bytes_per_result", 1),
        ("raw bytes / check / day", "raw_bytes_per_check_day", 0),
        ("minute rollup bytes / row", "minute_bytes_per_row", 1),
        ("hour rollup bytes / row", "hour_bytes_per_row", 1),
        ("day rollup bytes / row", "day_bytes_per_row", 1),
        ("minute rollups / check / day (kept 2d)", "minute_bytes_per_check_day", 0),
        ("rolled up / check / day (kept 90d/400d)", "rolled_bytes_per_check_day", 0),
        ("all rollups / check, steady state", "steady_rollup_bytes_per_check", 0),
        ("everything / check, steady state", "steady_total_bytes_per_check", 0),
        ("histogram text in a minute row, chars", "minute_histogram_chars", 1),
        ("histogram text in an hour row, chars", "hour_histogram_chars", 1),
        ("histogram text in a day row, chars", "day_histogram_chars", 1),
        ("insert a day of results, s", "insert_s", 1),
        ("roll up a day, s", "rollup_s", 2),
    ]
    print(f"{'':42}" + "".join(f"{b:>14}" for b in backends))
    for label, key, digits in rows:
        print(f"{label:42}" + "".join(f"{report[b][key]:>14,.{digits}f}" for b in backends))
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "results": report}, indent=2))


if __name__ == "__main__":
    main()
