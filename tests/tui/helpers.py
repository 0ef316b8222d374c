"""Helpers shared by the console's Pilot tests: the app under test and bounded waits on its state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.notifications import Notify
from textual.widgets import Label

from tests.tui.fakes import frozen_clock
from tui.app import PulseWatchApp
from tui.screens.checks import ChecksScreen
from tui.widgets.status_table import StatusTable

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.message import Message
    from textual.pilot import Pilot

    from tests.tui.fakes import FakeEngine

SIZE = (120, 36)


def make_app(engine: FakeEngine, **options: object) -> PulseWatchApp:
    return PulseWatchApp(engine, clock=frozen_clock, refresh_interval=0, **options)  # type: ignore[arg-type]


async def settle(pilot: Pilot[None], until: Callable[[], bool] = lambda: True, rounds: int = 30) -> None:
    """Let queued messages run until `until()` holds; bounded by rounds, never by wall time."""
    for _ in range(rounds):
        await pilot.pause()
        if until():
            return
    raise AssertionError("the console did not reach the expected state")


def grid(app: PulseWatchApp) -> StatusTable:
    return app.screen.query_one(StatusTable)


def cell(app: PulseWatchApp, check_id: int, column: str) -> str:
    return grid(app).get_cell(check_id, column)


def names(app: PulseWatchApp) -> list[str]:
    table = grid(app)
    return [table.get_row_at(i)[0] for i in range(table.row_count)]


def checks_screen(app: PulseWatchApp) -> ChecksScreen:
    assert isinstance(app.screen, ChecksScreen)
    return app.screen


def filter_info(app: PulseWatchApp) -> str:
    return str(app.screen.query_one("#filter-info", Label).content)


def notifications(messages: list[Message]) -> list[str]:
    return [m.notification.message for m in messages if isinstance(m, Notify)]


async def started(pilot: Pilot[None], app: PulseWatchApp) -> None:
    await settle(pilot, lambda: grid(app).row_count == 7)
