"""Console benchmark: first paint, a 1,000-change batch on a 10,000-row grid, and memory.

    python -m bench.console               # 5 runs of each, medians printed
    python -m bench.console --runs 9 --checks 20000
    python -m bench.console --json out.json

What is measured (headless Textual, the real app and screens, a canned engine link):
- first paint: in a fresh interpreter per run, from before `import tui.app` to the first grid line
  drawn with the 10,000 checks in it (imports of Textual and the console, app start, theme
  loading, the EngineStarted batch, arranging the rows and drawing them). Interpreter start-up and
  building the canned event (the engine's work) are not included.
- batch: 1,000 CheckUpdated events (each a new state and a probe result) on distinct checks, of
  which the visible ones included. "apply" is the app's drain (coalescing inbox → model fold →
  feed → grid cell update → summary recount); "paint" redraws every line of the grid as the next
  frame would; "total" is both. Target: ≤ 100 ms.
- memory: resident set size with 10,000 checks whose sparklines and uptime buckets are full
  (16 results each), and the same figure before the app was built, so the console's share shows.
- with --stored-uptime: first paint again, the console now reading every check's 24h/7d uptime from
  a SQLite database holding a week of rollups for the same checks (bench.console_uptime builds it,
  untimed; the store is opened before the clock starts, as the CLI opens it before the app), and
  the time until the grid shows the stored figures. The tally is read in a worker thread, so it
  must not hold the first paint back.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from pulsewatch.domain.events import EngineCommand, EngineEvent, EngineStarted

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
SIZE = (160, 50)
BATCH = 1_000


class CannedLink:
    """An engine link that replays canned events (the bench's own, so bench never imports tests)."""

    def __init__(self, *events: EngineEvent) -> None:
        self._events = events
        self.post: Callable[[EngineEvent], None] | None = None

    def start(self, post: Callable[[EngineEvent], None]) -> None:
        self.post = post
        for event in self._events:
            post(event)

    def send(self, command: EngineCommand) -> bool:
        return True

    async def stop(self) -> None:
        return None


def started(count: int) -> EngineStarted:
    """`count` checks in mixed statuses, spread over 20 teams and 50 tags."""
    from pulsewatch.domain.events import EngineStarted
    from pulsewatch.domain.monitoring import Check, CheckState, Status

    statuses = [Status.UP] * 8 + [Status.DOWN, Status.DEGRADED]
    checks = tuple(
        Check(name=f"check-{i:05d}", url=f"https://svc-{i}.example.test/health", kind="https", id=i + 1,
              interval=30.0, team=f"team-{i % 20}", tags=(f"tag-{i % 50}",))
        for i in range(count)
    )
    states = tuple(
        CheckState(i + 1, statuses[i % len(statuses)], since=NOW - timedelta(minutes=i % 90),
                   last_checked_at=NOW - timedelta(seconds=i % 30), last_latency_ms=20.0 + i % 400)
        for i in range(count)
    )
    return EngineStarted("bench", checks, states)


def updates(first: EngineStarted, ids: list[int], at: datetime, rng: random.Random) -> list[EngineEvent]:
    """One CheckUpdated per id: a new latency, and a status that changes for one check in ten."""
    from pulsewatch.domain.events import CheckUpdated
    from pulsewatch.domain.monitoring import ProbeResult, Status

    states = {state.check_id: state for state in first.states}
    events: list[EngineEvent] = []
    for check_id in ids:
        ms = rng.uniform(5, 900)
        ok = rng.random() > 0.1
        state = replace(states[check_id], status=Status.UP if ok else Status.DOWN, last_checked_at=at,
                        last_latency_ms=ms, last_error="" if ok else "expected [STATUS] == 200, got 503")
        result = ProbeResult(check_id, at, ms, ok, 200 if ok else 503,
                             None if ok else "condition", state.last_error)
        events.append(CheckUpdated(state, result))
    return events


def rss_mib() -> float:
    """This process's resident set size now (Linux /proc), in MiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


# -- first paint (child process) --------------------------------------------------------------------


def first_paint_child(count: int, url: str | None = None) -> None:
    """Print the ms from here to the first drawn grid line holding the checks (run in a fresh process),
    and with `url` (a database of stored uptime) the ms until the grid shows the stored figures.

    The canned EngineStarted is built first and not timed: making 10,000 Check objects is the
    engine's work (in its own thread), not the console's.
    """
    first = started(count)
    services = uptime_services(url) if url else None
    t0 = time.perf_counter()
    from tui.app import PulseWatchApp
    from tui.widgets.status_table import StatusTable

    painted: list[float] = []
    tallied: list[float] = []
    original, original_tally = StatusTable.render_line, StatusTable.show_tally

    def render_line(self: StatusTable, y: int) -> Any:
        strip = original(self, y)
        if not painted and y > 0 and self.row_count == count:
            painted.append(time.perf_counter())
        return strip

    def show_tally(self: StatusTable, tally: Any) -> None:
        original_tally(self, tally)
        tallied.append(time.perf_counter())

    StatusTable.render_line = render_line  # type: ignore[method-assign]
    StatusTable.show_tally = show_tally  # type: ignore[method-assign]

    async def run() -> None:
        app = PulseWatchApp(CannedLink(first), clock=lambda: NOW, refresh_interval=0, services=services)
        async with app.run_test(size=SIZE) as pilot:
            for _ in range(3000):
                if painted and (tallied or not url):
                    break
                await pilot.pause(0.01)

    asyncio.run(run())
    print(json.dumps({"first_paint_ms": (painted[0] - t0) * 1000 if painted else None,
                      "uptime_shown_ms": (tallied[0] - t0) * 1000 if tallied else None}))


def uptime_services(url: str) -> Any:
    """The console's services with only stored uptime (the grid reads nothing else at start)."""
    from engine.storage.store import open_store
    from engine.storage.uptime_store import UptimeStore
    from pulsewatch.cli.console_stores import RollupBoard
    from tui.services import ConsoleServices

    store = open_store(url)
    return ConsoleServices(incidents=None, rollups=RollupBoard(UptimeStore(store)))  # type: ignore[arg-type]


def first_paint(count: int, runs: int, url: str | None = None) -> list[tuple[float, float | None]]:
    """(first paint ms, stored uptime shown ms or None) of `runs` fresh processes."""
    times = []
    for _ in range(runs):
        command = [sys.executable, "-m", "bench.console", "--child-first-paint", str(count)]
        out = subprocess.run([*command, *(["--child-url", url] if url else [])],
                             capture_output=True, text=True, check=True).stdout
        figures = json.loads(out.strip().splitlines()[-1])
        if figures["first_paint_ms"] is None or (url and figures["uptime_shown_ms"] is None):
            raise RuntimeError("the grid was never painted (or never showed the stored uptime)")
        times.append((figures["first_paint_ms"], figures["uptime_shown_ms"]))
    return times


# -- batch and memory (this process) ------------------------------------------------------------------


async def batches(count: int, runs: int) -> dict[str, Any]:
    from tui.app import PulseWatchApp
    from tui.widgets.status_table import StatusTable

    rss_before = rss_mib()
    first = started(count)
    app = PulseWatchApp(CannedLink(first), clock=lambda: NOW, refresh_interval=0)
    rng = random.Random(7)
    apply_ms: list[float] = []
    paint_ms: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        grid = app.screen.query_one(StatusTable)
        for _ in range(500):
            if grid.row_count == count:
                break
            await pilot.pause(0.01)
        link = app._link
        assert isinstance(link, CannedLink)
        assert link.post is not None
        height = grid.size.height
        visible = [grid.rows[i].check_id for i in range(min(height - 1, count))]  # type: ignore[union-attr]
        # Warm the trends: 16 results per check, so ring buffers and buckets are full-sized.
        for round_ in range(16):
            at = NOW - timedelta(seconds=30 * (16 - round_))
            for event in updates(first, list(range(1, count + 1)), at, rng):
                link.post(event)
            app._drain()
        await pilot.pause()
        rss_loaded = rss_mib()
        for run in range(runs):
            ids = visible + rng.sample(range(len(visible) + 1, count + 1), BATCH - len(visible))
            for event in updates(first, ids, NOW + timedelta(seconds=run), rng):
                link.post(event)
            t0 = time.perf_counter()
            app._drain()
            t1 = time.perf_counter()
            for y in range(height):
                grid.render_line(y)
            t2 = time.perf_counter()
            apply_ms.append((t1 - t0) * 1000)
            paint_ms.append((t2 - t1) * 1000)
            await pilot.pause()
    total = [a + p for a, p in zip(apply_ms, paint_ms, strict=True)]
    return {"apply_ms": apply_ms, "paint_ms": paint_ms, "total_ms": total,
            "rss_before_mib": rss_before, "rss_loaded_mib": rss_loaded}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.console", description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--stored-uptime", action="store_true",
                        help="also time first paint with every check's uptime read from a week of rollups")
    parser.add_argument("--child-first-paint", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_first_paint:
        first_paint_child(args.child_first_paint, args.child_url)
        return 0
    paint = [ms for ms, _ in first_paint(args.checks, args.runs)]
    batch = asyncio.run(batches(args.checks, args.runs))
    median = statistics.median
    print(f"console benchmark: {args.checks:,} checks, {args.runs} runs, "
          f"terminal {SIZE[0]}x{SIZE[1]} (medians)")
    print(f"  first paint                      {median(paint):8.1f} ms   (target ≤ 1000 ms)  runs: "
          + ", ".join(f"{t:.0f}" for t in paint))
    print(f"  {BATCH:,} changes: apply             {median(batch['apply_ms']):8.1f} ms")
    print(f"  {BATCH:,} changes: paint the grid    {median(batch['paint_ms']):8.1f} ms")
    print(f"  {BATCH:,} changes: total             {median(batch['total_ms']):8.1f} ms   (target ≤ 100 ms)  "
          "runs: " + ", ".join(f"{t:.1f}" for t in batch["total_ms"]))
    print(f"  memory (RSS) before the app      {batch['rss_before_mib']:8.1f} MiB")
    print(f"  memory (RSS) with {args.checks:,} checks   {batch['rss_loaded_mib']:8.1f} MiB"
          "   (16 results per check seen)")
    stored: dict[str, list[float]] = {}
    if args.stored_uptime:
        stored = stored_uptime_paint(args.checks, args.runs)
        paint_ms = stored["first_paint_ms"]
        print(f"  first paint, stored uptime       {median(paint_ms):8.1f} ms   (target ≤ 1000 ms)  runs: "
              + ", ".join(f"{t:.0f}" for t in paint_ms))
        print(f"  stored uptime shown              {median(stored['uptime_shown_ms']):8.1f} ms   runs: "
              + ", ".join(f"{t:.0f}" for t in stored["uptime_shown_ms"]))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump({"checks": args.checks, "first_paint_ms": paint, **batch,
                       **{f"stored_{k}": v for k, v in stored.items()}}, out, indent=2)
    return 0


def stored_uptime_paint(count: int, runs: int) -> dict[str, list[float]]:
    """First paint and stored uptime shown, over a SQLite database built once for these runs."""
    import tempfile
    from pathlib import Path

    from bench.console_uptime import build

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'uptime.db'}"
        build(url, count, NOW).close()
        times = first_paint(count, runs, url)
    return {"first_paint_ms": [p for p, _ in times], "uptime_shown_ms": [u or 0.0 for _, u in times]}


if __name__ == "__main__":
    raise SystemExit(main())
