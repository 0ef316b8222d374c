"""Pilot tests of the Incidents screen: the three lists, the timeline, ack with a note, resolve, note,
refusals, the reload on a status flip, and the screen without a store.

The desk is a FakeIncidentDesk; store calls run in thread workers, so each step waits for the
workers to finish (bounded) and then for the screen to show the result (bounded rounds).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from textual.widgets import DataTable, Input, Label, TabbedContent

from pulsewatch.domain.accounts import Actor
from pulsewatch.domain.alerting import Incident, IncidentStatus
from pulsewatch.domain.monitoring import Status
from tests.tui.fakes import NOW, STARTED, STATES, FakeEngine, updated
from tests.tui.helpers import SIZE, make_app, notifications, settle
from tests.tui.incident_fakes import FakeIncidentDesk
from tui.screens.incidents import NO_STORE, IncidentsScreen
from tui.screens.text_prompt import TextPrompt
from tui.services import ConsoleServices

if TYPE_CHECKING:
    from textual.message import Message
    from textual.pilot import Pilot

    from tui.app import PulseWatchApp


def incidents_app(desk: FakeIncidentDesk | None, engine: FakeEngine | None = None,
                  actor: Actor | None = None) -> PulseWatchApp:
    services = None
    if desk is not None:
        services = ConsoleServices(incidents=desk) if actor is None else ConsoleServices(desk, actor)
    return make_app(engine or FakeEngine([STARTED]), services=services)


async def workers_done(pilot: Pilot[None]) -> None:
    """Wait (bounded) for the thread workers, then let their messages be handled."""
    await asyncio.wait_for(pilot.app.workers.wait_for_complete(), timeout=10)
    await pilot.pause()


def screen(app: PulseWatchApp) -> IncidentsScreen:
    assert isinstance(app.screen, IncidentsScreen)
    return app.screen


def ids_in(app: PulseWatchApp, status: IncidentStatus) -> list[str]:
    table = app.screen.query_one(f"#table-{status.value}", DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


def timeline_title(app: PulseWatchApp) -> str:
    return str(app.screen.query_one("#timeline-title", Label).content)


def timeline(app: PulseWatchApp) -> list[list[str]]:
    table = app.screen.query_one("#timeline", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def opened(pilot: Pilot[None], app: PulseWatchApp) -> None:
    await pilot.press("2")
    await settle(pilot, lambda: isinstance(app.screen, IncidentsScreen))
    await workers_done(pilot)
    await settle(pilot, lambda: ids_in(app, IncidentStatus.OPEN) == ["#14", "#13"] and bool(timeline(app)))
    await workers_done(pilot)


@pytest.mark.asyncio
class TestIncidentsScreen:
    async def test_lists_by_status_with_counts_and_the_timeline_of_the_selected(self) -> None:
        app = incidents_app(FakeIncidentDesk())
        async with app.run_test(size=SIZE) as pilot:
            await opened(pilot, app)
            assert ids_in(app, IncidentStatus.ACKNOWLEDGED) == ["#12"]
            assert ids_in(app, IncidentStatus.RESOLVED) == ["#11"]
            tabs = app.screen.query_one(TabbedContent)
            assert str(tabs.get_tab("list-open").label) == "Open (2)"
            assert str(tabs.get_tab("list-resolved").label) == "Resolved (1)"
            assert "#14 checkout" in timeline_title(app)
            assert timeline(app)[0][1] == "opened"
            await pilot.press("down")
            await workers_done(pilot)
            await settle(pilot, lambda: "#13 search" in timeline_title(app))

    async def test_lists_cycle_with_the_bracket_keys(self) -> None:
        app = incidents_app(FakeIncidentDesk())
        async with app.run_test(size=SIZE) as pilot:
            await opened(pilot, app)
            await pilot.press("right_square_bracket")
            await workers_done(pilot)
            await settle(pilot, lambda: screen(app).shown_status is IncidentStatus.ACKNOWLEDGED)
            await settle(pilot, lambda: "ack note: restarting the pool"
                         in timeline_title(app))
            await pilot.press("left_square_bracket", "left_square_bracket")
            await settle(pilot, lambda: screen(app).shown_status is IncidentStatus.RESOLVED)

    async def test_acknowledge_with_a_note_moves_it_to_acknowledged(self) -> None:
        desk = FakeIncidentDesk()
        app = incidents_app(desk)
        messages: list[Message] = []
        async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
            await opened(pilot, app)
            await pilot.press("a")
            await settle(pilot, lambda: isinstance(app.screen, TextPrompt))
            app.screen.query_one(Input).value = "on it"
            await pilot.press("enter")
            await workers_done(pilot)
            await workers_done(pilot)
            await settle(pilot, lambda: ids_in(app, IncidentStatus.ACKNOWLEDGED) == ["#14", "#12"])
            assert desk.calls == [("ack", "14", "on it")]
            assert desk.by_id[14].acknowledged_by == "console"
            assert ids_in(app, IncidentStatus.OPEN) == ["#13"]
            assert "#14 checkout acknowledged" in notifications(messages)

    async def test_escape_in_the_note_dialog_acknowledges_nothing(self) -> None:
        desk = FakeIncidentDesk()
        app = incidents_app(desk)
        async with app.run_test(size=SIZE) as pilot:
            await opened(pilot, app)
            await pilot.press("a")
            await settle(pilot, lambda: isinstance(app.screen, TextPrompt))
            await pilot.press("escape")
            await settle(pilot, lambda: isinstance(app.screen, IncidentsScreen))
            await workers_done(pilot)
            assert desk.calls == []

    async def test_resolve_moves_it_to_resolved(self) -> None:
        desk = FakeIncidentDesk()
        app = incidents_app(desk)
        async with app.run_test(size=SIZE) as pilot:
            await opened(pilot, app)
            await pilot.press("r")
            await workers_done(pilot)
            await workers_done(pilot)
            await settle(pilot, lambda: ids_in(app, IncidentStatus.RESOLVED) == ["#14", "#11"])
            assert desk.calls == [("resolve", "14")]

    async def test_resolving_a_resolved_incident_is_refused_here(self) -> None:
        desk = FakeIncidentDesk()
        app = incidents_app(desk)
        messages: list[Message] = []
        async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
            await opened(pilot, app)
            await pilot.press("left_square_bracket")
            await settle(pilot, lambda: screen(app).shown_status is IncidentStatus.RESOLVED)
            await pilot.press("r", "a")
            await workers_done(pilot)
            assert desk.calls == []
            assert notifications(messages).count("#11 is already resolved.") == 2

    async def test_a_note_reaches_the_timeline(self) -> None:
        desk = FakeIncidentDesk()
        app = incidents_app(desk)
        async with app.run_test(size=SIZE) as pilot:
            await opened(pilot, app)
            await pilot.press("n")
            await settle(pilot, lambda: isinstance(app.screen, TextPrompt))
            await pilot.press(*"db failover")
            await pilot.press("enter")
            await workers_done(pilot)
            await workers_done(pilot)
            await settle(pilot, lambda: ["note", "console", "db failover"] in [r[1:] for r in timeline(app)])
            assert desk.calls == [("note", "14", "db failover")]

    async def test_an_empty_note_is_explained(self) -> None:
        app = incidents_app(FakeIncidentDesk())
        messages: list[Message] = []
        async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
            await opened(pilot, app)
            await pilot.press("n")
            await settle(pilot, lambda: isinstance(app.screen, TextPrompt))
            await pilot.press("enter")
            await workers_done(pilot)
            await settle(pilot, lambda: "a note needs some text" in notifications(messages))

    async def test_a_refused_actor_is_told_why_and_nothing_changes(self) -> None:
        desk = FakeIncidentDesk(refuse=True)
        app = incidents_app(desk, actor=Actor("vic@example.com"))
        messages: list[Message] = []
        async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
            await opened(pilot, app)
            await pilot.press("r")
            await workers_done(pilot)
            await settle(pilot, lambda: any("vic@example.com is a viewer" in n
                                            for n in notifications(messages)))
            assert desk.by_id[14].status is IncidentStatus.OPEN
            assert ids_in(app, IncidentStatus.OPEN) == ["#14", "#13"]

    async def test_a_status_flip_reloads_the_lists(self) -> None:
        desk = FakeIncidentDesk()
        engine = FakeEngine([STARTED])
        app = incidents_app(desk, engine)
        async with app.run_test(size=SIZE) as pilot:
            await opened(pilot, app)
            desk.by_id[15] = Incident(6, "auth", NOW, reason="HTTP 500", id=15)
            desk.entries[15] = []
            engine.emit(updated(STATES[5], NOW, 40.0, status=Status.DOWN))
            await settle(pilot, lambda: app.board.views[6].state.status is Status.DOWN)
            await workers_done(pilot)
            await settle(pilot, lambda: ids_in(app, IncidentStatus.OPEN) == ["#15", "#14", "#13"])

    async def test_without_a_store_it_says_so(self) -> None:
        app = incidents_app(None)
        messages: list[Message] = []
        async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
            await pilot.press("2")
            await settle(pilot, lambda: isinstance(app.screen, IncidentsScreen))
            assert str(app.screen.query_one("#incidents-empty", Label).content) == NO_STORE
            await pilot.press("a")
            await settle(pilot, lambda: NO_STORE in notifications(messages))
