"""Pilot tests of the uptime read from rollups: the grid's 24h/7d columns are the stored tally plus the
results seen since its end, read again every minute; the detail chart reads buckets per range (minute
for 1h, hours beyond) and asks the engine only for the results table's worth of history. Then the same
on a real store with stored rollups, on both backends, through the real composition root."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from engine.storage.rollup_store import RollupStore
from engine.storage.store import open_store
from pulsewatch.cli.console_services import console_services
from pulsewatch.domain.events import CheckUpdated, EngineStarted, LoadHistory
from pulsewatch.domain.monitoring import Check, ProbeResult
from pulsewatch.domain.rollups import Level
from pulsewatch.domain.uptime import UptimeCounts
from tests.storage.backends import MYSQL_URL, reset_mysql_database
from tests.tui.fakes import CHECKOUT_HISTORY, NOW, STARTED, STATES, FakeEngine, updated
from tests.tui.helpers import SIZE, cell, checks_screen, make_app, settle, started
from tests.tui.incident_fakes import FakeIncidentDesk
from tests.tui.rollup_fakes import FakeRollupDesk, tally
from tests.tui.test_console import chart_title, open_checkout
from tui.render import format_uptime
from tui.screens.detail import RESULTS_SHOWN, DetailScreen
from tui.services import ConsoleServices
from tui.widgets.latency_chart import LatencyChart

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from textual.pilot import Pilot

    from engine.storage.store import SqlStore
    from tui.app import PulseWatchApp


def stored_app(desk: FakeRollupDesk, engine: FakeEngine | None = None) -> PulseWatchApp:
    return make_app(engine or FakeEngine([STARTED]),
                    services=ConsoleServices(FakeIncidentDesk(), rollups=desk))


async def tallied(pilot: Pilot[None], app: PulseWatchApp) -> None:
    await started(pilot, app)
    await asyncio.wait_for(app.workers.wait_for_complete(), timeout=10)
    await settle(pilot, lambda: checks_screen(app).table.tally is not None)


@pytest.mark.asyncio
class TestGridUptime:
    async def test_the_columns_show_the_stored_tally_read_at_start(self) -> None:
        desk = FakeRollupDesk()
        app = stored_app(desk)
        async with app.run_test(size=SIZE) as pilot:
            await tallied(pilot, app)
            assert desk.tallies_read == 1
            # 2870 of 2880, 20100 of 20160:
            assert (cell(app, 1, "up24"), cell(app, 1, "up7")) == ("99.65%", "99.70%")
            assert (cell(app, 2, "up24"), cell(app, 2, "up7")) == ("97.22%", "98.71%")
            assert (cell(app, 6, "up24"), cell(app, 6, "up7")) == ("—", "—")  # nothing stored, nothing seen

    async def test_results_seen_after_the_tally_are_added_once_and_a_new_tally_takes_them_over(self) -> None:
        desk = FakeRollupDesk()
        engine = FakeEngine([STARTED])
        app = stored_app(desk, engine)
        async with app.run_test(size=SIZE) as pilot:
            await tallied(pilot, app)
            api_down = updated(STATES[0], NOW + timedelta(seconds=20), 900.0, last_error="timeout")
            engine.emit(CheckUpdated(api_down.state, replace(api_down.result, ok=False, error="timeout")))
            await settle(pilot, lambda: cell(app, 1, "up24") == "99.61%")  # 2870 of 2881
            assert cell(app, 1, "up7") == "99.69%"  # 20100 of 20161
            # A minute on, the rollups hold that failure: the next tally counts it, the grid not twice.
            desk.tally = tally({1: UptimeCounts(2870, 2881, 20100, 20161)}, until=NOW + timedelta(minutes=1))
            checks_screen(app).reload_uptime()
            await asyncio.wait_for(app.workers.wait_for_complete(), timeout=10)
            await settle(pilot, lambda: checks_screen(app).table.tally is desk.tally)
            assert (cell(app, 1, "up24"), cell(app, 1, "up7")) == ("99.61%", "99.69%")
            assert desk.tallies_read == 2

    async def test_loaded_history_does_not_add_to_a_stored_tally(self) -> None:
        app = stored_app(FakeRollupDesk(), FakeEngine([STARTED, CHECKOUT_HISTORY]))
        async with app.run_test(size=SIZE) as pilot:
            await tallied(pilot, app)
            assert cell(app, 2, "up24") == "97.22%"  # the twelve loaded results are stored: in the tally

    async def test_without_stored_uptime_the_console_counts_what_it_saw(self) -> None:
        app = make_app(FakeEngine([STARTED, CHECKOUT_HISTORY]))
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            await settle(pilot, lambda: cell(app, 2, "up24") == "50.00%")
            assert checks_screen(app).table.tally is None


@pytest.mark.asyncio
class TestDetailFromRollups:
    async def test_the_hour_is_charted_from_minute_rollups_and_only_the_table_asks_for_history(self) -> None:
        desk = FakeRollupDesk()
        engine = FakeEngine([STARTED], histories={2: CHECKOUT_HISTORY})
        app = stored_app(desk, engine)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_checkout(pilot, app)
            await settle(pilot, lambda: screen.buckets is not None)
            await asyncio.wait_for(app.workers.wait_for_complete(), timeout=10)
            await settle(pilot, lambda: "rollups" in chart_title(screen))
            assert desk.asked == [(2, Level.MINUTE, NOW - timedelta(hours=1), NOW)]
            title = chart_title(screen)
            assert title.startswith("Latency: 120 probes in the last 1h, from minute rollups · 97.50% ok")
            assert screen.query_one(LatencyChart).slice_seconds > 0
            assert engine.sent == [LoadHistory(2, limit=RESULTS_SHOWN)]

    async def test_longer_ranges_read_hours_and_ask_no_more_history(self) -> None:
        desk = FakeRollupDesk()
        engine = FakeEngine([STARTED], histories={2: CHECKOUT_HISTORY})
        app = stored_app(desk, engine)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_checkout(pilot, app)
            await asyncio.wait_for(app.workers.wait_for_complete(), timeout=10)
            for label in ("24h", "7d", "30d"):
                await pilot.press("right_square_bracket")
                await settle(pilot, lambda label=label: screen.time_range.label == label)  # type: ignore[misc]
                await asyncio.wait_for(app.workers.wait_for_complete(), timeout=10)
            await settle(pilot, lambda: len(desk.asked) == 4)
            days = [1, 7, 30]
            assert desk.asked[1:] == [(2, Level.HOUR, NOW - timedelta(days=d), NOW) for d in days]
            await settle(pilot, lambda: "no probes stored for the last 30d" in chart_title(screen))
            assert engine.sent == [LoadHistory(2, limit=RESULTS_SHOWN)]


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """A real store on each backend (as tests/storage's fixture)."""
    if request.param == "mysql":
        reset_mysql_database(MYSQL_URL)
        url = MYSQL_URL
    else:
        url = f"sqlite:///{tmp_path / 'pulsewatch.db'}"
    opened = open_store(url)
    yield opened
    opened.close()


@pytest.mark.asyncio
class TestOnAStore:
    async def test_the_grid_and_the_chart_read_stored_rollups(self, store: SqlStore) -> None:
        """Two days of results, one failure in eight, rolled up: the grid shows them from the first
        paint's tally, and the detail's 24h chart counts them from hour rollups."""
        desired = Check(name="api", url="https://api.test/", kind="https", interval=60.0)
        (api,) = store.sync_checks([desired]).added
        assert api.id is not None
        at, results = NOW - timedelta(days=2), list[ProbeResult]()
        while at < NOW - timedelta(minutes=1):
            results.append(ProbeResult(api.id, at, 40.0, len(results) % 8 != 0, 200))
            at += timedelta(minutes=4)
        store.record(results, [], [])
        RollupStore(store).roll_up_pending(NOW, 300.0)
        day = [r for r in results if r.started_at >= Level.HOUR.floor(NOW) - timedelta(hours=23)]

        started_event = EngineStarted("test-engine", (api,), ())
        app = make_app(FakeEngine([started_event]), services=console_services(store))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, lambda: checks_screen(app).table.row_count == 1)
            await asyncio.wait_for(app.workers.wait_for_complete(), timeout=10)
            await settle(pilot, lambda: checks_screen(app).table.tally is not None)
            assert cell(app, api.id, "up24") == format_uptime(sum(r.ok for r in day), len(day))
            assert cell(app, api.id, "up7") == format_uptime(sum(r.ok for r in results), len(results))
            await pilot.press("enter", "right_square_bracket")
            await settle(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen.range_index == 1)
            screen = app.screen
            assert isinstance(screen, DetailScreen)
            await asyncio.wait_for(app.workers.wait_for_complete(), timeout=10)
            await settle(pilot, lambda: "hourly rollups" in chart_title(screen))
            in_chart = sum(1 for r in results if r.started_at >= Level.HOUR.floor(NOW - timedelta(hours=24)))
            assert chart_title(screen).startswith(f"Latency: {in_chart} probes in the last 24h, from hourly")
