"""Pilot tests of the Engines screen (`7`): every engine with its state, leases, lateness and probe
rate over a fake EngineDesk; a dead engine turning stale in place on the next read, a new one joining,
no engines yet, no database, a failed read said once; the console's own engine on a real store (both
backends) through the real composition root; and snapshots in pulsewatch-dark and pulsewatch-light
(looked at as PNGs before accepting)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest
from textual.widgets import DataTable, Label

from engine.storage.cluster_store import ClusterStore
from engine.storage.store import open_store
from pulsewatch.cli.console_services import console_services
from pulsewatch.domain.engines import EngineRoster
from tests.storage.backends import MYSQL_URL, reset_mysql_database
from tests.tui.engine_fakes import ROSTER, TTL, FakeEngineDesk, later
from tests.tui.fakes import STARTED, FakeEngine, ago
from tests.tui.helpers import SIZE, make_app, notifications, settle
from tests.tui.incident_fakes import FakeIncidentDesk
from tests.tui.snapshot_app import make_engine
from tui.screens.engines import NO_ENGINES, NO_STORE, EnginesScreen
from tui.services import ConsoleServices

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from textual.message import Message
    from textual.pilot import Pilot

    from engine.storage.store import SqlStore
    from tui.app import PulseWatchApp

THEMES = pytest.mark.parametrize("theme", ["pulsewatch-dark", "pulsewatch-light"])


def engines_app(desk: FakeEngineDesk | None, theme: str = "pulsewatch-dark",
                engine: FakeEngine | None = None) -> PulseWatchApp:
    return make_app(engine or FakeEngine([STARTED]), theme=theme,
                    services=ConsoleServices(FakeIncidentDesk(), engines=desk))


async def opened(pilot: Pilot[Any], app: PulseWatchApp, *, read: bool = True) -> EnginesScreen:
    await settle(pilot, lambda: app.board.running)
    await pilot.press("7")
    await settle(pilot, lambda: isinstance(app.screen, EnginesScreen))
    screen = app.screen
    assert isinstance(screen, EnginesScreen)
    if read:
        await read_again(pilot, app, screen, None)
    return screen


async def read_again(pilot: Pilot[Any], app: PulseWatchApp, screen: EnginesScreen,
                     before: EngineRoster | None) -> None:
    """Let the reload worker finish and its roster be shown (`before`: the roster shown until now)."""
    await asyncio.wait_for(app.workers.wait_for_complete(), timeout=10)
    await settle(pilot, lambda: screen.roster is not None and screen.roster is not before)


def rows(app: PulseWatchApp) -> list[list[str]]:
    table = app.screen.query_one("#engines-table", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def heading(app: PulseWatchApp) -> str:
    return str(app.screen.query_one("#engines-heading", Label).content)


def message(app: PulseWatchApp) -> Label:
    return app.screen.query_one("#engines-message", Label)


@pytest.mark.asyncio
class TestEnginesScreen:
    async def test_every_engine_with_its_state_leases_lateness_and_throughput(self) -> None:
        app = engines_app(FakeEngineDesk())
        async with app.run_test(size=SIZE) as pilot:
            await opened(pilot, app)
            assert heading(app) == "4 engines: 2 alive, 1 stale, 1 stopped · this console runs test-engine"
            assert rows(app) == [
                ["eu-1", "eu", "alive · 3s ago", "32", "5,012", "2.1 ms", "180 ms", "168", "2025-03-12 06:30",
                 "0.9.0"],
                ["old-box", "(default)", "stopped · 5h ago", "0", "0", "—", "—", "—", "2025-03-05 09:30",
                 "0.8.2"],
                ["test-engine", "(default)", "alive · 1s ago", "32", "4,988", "0.8 ms", "12 ms", "166",
                 "09:18:00", "0.9.0"],
                # Stale: its last figures would read as current, so none are shown.
                ["us-1", "us", "stale · 2m ago", "0", "0", "—", "—", "—", "2025-03-13 09:30", "0.9.0"],
            ]
            assert not message(app).display

    async def test_a_dead_engine_turns_stale_in_place_on_the_next_read(self) -> None:
        desk = FakeEngineDesk()
        app = engines_app(desk)
        async with app.run_test(size=SIZE) as pilot:
            screen = await opened(pilot, app)
            table = app.screen.query_one(DataTable)
            await pilot.press("down", "down")  # on test-engine
            before = screen.roster
            desk.roster_shown = later(ROSTER, 30)  # nobody heartbeats for 30 s: eu-1 and test-engine stale
            await pilot.press("f5")
            await read_again(pilot, app, screen, before)
            assert [row[2] for row in rows(app)] == ["stale · 33s ago", "stopped · 5h ago", "stale · 31s ago",
                                                     "stale · 2m ago"]
            assert table.cursor_row == 2  # updated cell by cell: the row under the cursor stays

    async def test_an_engine_that_joins_gets_a_row_and_the_cursor_stays_on_its_engine(self) -> None:
        desk = FakeEngineDesk()
        app = engines_app(desk)
        async with app.run_test(size=SIZE) as pilot:
            screen = await opened(pilot, app)
            await pilot.press("down")  # on old-box
            before = screen.roster
            joined = replace(ROSTER.engines[0], name="ap-1", region="ap", started_at=ago(seconds=5))
            desk.roster_shown = EngineRoster(ROSTER.read_at, TTL, (joined, *ROSTER.engines))
            await pilot.press("f5")
            await read_again(pilot, app, screen, before)
            assert [row[0] for row in rows(app)] == ["ap-1", "eu-1", "old-box", "test-engine", "us-1"]
            assert app.screen.query_one(DataTable).cursor_row == 2
            assert heading(app).startswith("5 engines: 3 alive")

    async def test_it_reads_only_while_shown_and_again_when_shown_again(self) -> None:
        desk = FakeEngineDesk()
        app = engines_app(desk)
        async with app.run_test(size=SIZE) as pilot:
            screen = await opened(pilot, app)
            assert desk.reads == 1
            await pilot.press("1")
            await settle(pilot, lambda: not screen.is_current)
            screen._tick()  # what the reload timer does every RELOAD_SECONDS
            await asyncio.wait_for(app.workers.wait_for_complete(), timeout=10)
            assert desk.reads == 1
            await pilot.press("7")
            await settle(pilot, lambda: desk.reads == 2)

    async def test_no_engine_registered_yet_says_so(self) -> None:
        app = engines_app(FakeEngineDesk(EngineRoster(read_at=ROSTER.read_at, ttl=TTL)))
        async with app.run_test(size=SIZE) as pilot:
            await opened(pilot, app)
            assert heading(app) == "No engines"
            assert message(app).display
            assert str(message(app).content) == NO_ENGINES
            assert rows(app) == []

    async def test_without_a_store_it_says_so(self) -> None:
        app = make_app(FakeEngine([STARTED]))
        async with app.run_test(size=SIZE) as pilot:
            await opened(pilot, app, read=False)
            assert message(app).display
            assert str(message(app).content) == NO_STORE

    async def test_a_failed_read_is_said_once_and_the_next_good_read_fills_the_table(self) -> None:
        desk = FakeEngineDesk()
        desk.fail = True
        messages: list[Message] = []
        app = engines_app(desk)
        async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
            await settle(pilot, lambda: app.board.running)
            await pilot.press("7")
            await settle(pilot, lambda: desk.reads >= 1)
            for _ in range(2):
                await asyncio.wait_for(app.workers.wait_for_complete(), timeout=10)
                await pilot.press("f5")
            await asyncio.wait_for(app.workers.wait_for_complete(), timeout=10)
            await settle(pilot, lambda: desk.reads >= 3)
            await pilot.pause()
            said = [n for n in notifications(messages) if "connection refused" in n]
            assert len(said) == 1
            desk.fail = False
            await pilot.press("f5")
            screen = app.screen
            assert isinstance(screen, EnginesScreen)
            await read_again(pilot, app, screen, None)
            assert len(rows(app)) == 4


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """A real store on each backend (as tests/storage's fixture)."""
    if request.param == "mysql":
        reset_mysql_database(MYSQL_URL)
        url = MYSQL_URL
    else:
        url = f"sqlite:///{tmp_path / 'pulsewatch.db'}"
    opened_store = open_store(url)
    yield opened_store
    opened_store.close()


@pytest.mark.asyncio
class TestTheConsolesOwnEngine:
    async def test_a_lone_in_console_engine_shows_itself(self, store: SqlStore) -> None:
        """The embedded engine registers like any other (its first lease claim); the real composition
        root reads it back."""
        ClusterStore(store).claim("test-engine", "", "0.9.0", TTL, joining=True)
        app = make_app(FakeEngine([STARTED]), services=console_services(store))
        async with app.run_test(size=SIZE) as pilot:
            await opened(pilot, app)
            assert heading(app) == "1 engine: 1 alive · this console runs test-engine"
            (row,) = rows(app)
            assert row[:2] == ["test-engine", "(default)"]
            assert row[2].startswith("alive · ")  # seconds on the database's real clock
            assert row[3:5] == ["64", "0"]
            assert row[5:8] == ["—", "—", "—"]  # no load reported yet


class TestEnginesSnapshots:
    @THEMES
    def test_four_engines(self, snap_compare: Any, theme: str) -> None:
        """Heading "4 engines: 2 alive, 1 stale, 1 stopped · this console runs test-engine". Rows by
        name: eu-1 (eu) "alive · 3s ago" in the up colour, 32 shards, 5,012 checks, 2.1 ms / 180 ms,
        168 probes/s; old-box "stopped · 5h ago" in the paused colour with dashes; test-engine in bold
        (this console's), alive, 4,988 checks, 0.8 ms / 12 ms, 166; us-1 "stale · 2m ago" in the
        down colour with dashes for its load. Footer: Reload (f5) among the global keys."""
        app = engines_app(FakeEngineDesk(), theme=theme, engine=make_engine())

        async def shown(pilot: Pilot[Any]) -> None:
            await opened(pilot, app)

        assert snap_compare(app, terminal_size=SIZE, run_before=shown)
