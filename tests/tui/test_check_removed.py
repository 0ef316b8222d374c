"""Pilot tests of a check removed by a reload (CheckRemoved): it leaves the grid and the summary, and
an open detail of it closes with a notice — at once when on top, or as soon as it is shown again."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from textual.widgets import Label

from pulsewatch.domain.events import CheckRemoved
from tests.tui.fakes import STARTED, FakeEngine
from tests.tui.helpers import (
    SIZE,
    checks_screen,
    filter_info,
    make_app,
    names,
    notifications,
    settle,
    started,
)
from tui.screens.checks import ChecksScreen
from tui.screens.detail import DetailScreen

if TYPE_CHECKING:
    from textual.message import Message
    from textual.pilot import Pilot

    from tui.app import PulseWatchApp


async def open_checkout(pilot: Pilot[None], app: PulseWatchApp) -> DetailScreen:
    await started(pilot, app)
    await pilot.press("down", "enter")
    await settle(pilot, lambda: isinstance(app.screen, DetailScreen))
    assert isinstance(app.screen, DetailScreen)
    return app.screen


@pytest.mark.asyncio
class TestCheckRemoved:
    async def test_the_check_leaves_the_grid_and_the_summary(self) -> None:
        engine = FakeEngine([STARTED])
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            engine.emit(CheckRemoved(2))  # checkout, the one DOWN
            await settle(pilot, lambda: checks_screen(app).table.row_count == 6)
            assert "checkout" not in names(app)
            assert filter_info(app).startswith("6 checks")
            assert str(app.screen.query_one("#summary-total", Label).content).startswith("6 checks")
            assert app.screen.query_one(".summary-count.-down", Label).has_class("-zero")

    async def test_an_open_detail_closes_with_a_notice(self) -> None:
        engine = FakeEngine([STARTED])
        messages: list[Message] = []
        app = make_app(engine)
        async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
            await open_checkout(pilot, app)
            engine.emit(CheckRemoved(2))
            await settle(pilot, lambda: isinstance(app.screen, ChecksScreen))
            assert any("checkout was removed from the engine" in n for n in notifications(messages))
            assert "checkout" not in names(app)

    async def test_a_detail_behind_another_destination_closes_when_shown_again(self) -> None:
        engine = FakeEngine([STARTED])
        messages: list[Message] = []
        app = make_app(engine)
        async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
            detail = await open_checkout(pilot, app)
            await pilot.press("6")  # the audit log: the detail waits in the checks stack
            await settle(pilot, lambda: not isinstance(app.screen, DetailScreen))
            engine.emit(CheckRemoved(2))
            await settle(pilot, lambda: detail.removed)
            assert any("checkout was removed" in n for n in notifications(messages))
            assert detail.is_attached  # not closed behind the person's back: the audit screen stayed
            await pilot.press("1")
            await settle(pilot, lambda: isinstance(app.screen, ChecksScreen))
            assert not detail.is_attached

    async def test_another_checks_removal_leaves_the_detail_open(self) -> None:
        engine = FakeEngine([STARTED])
        app = make_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            detail = await open_checkout(pilot, app)
            engine.emit(CheckRemoved(5))
            await settle(pilot, lambda: 5 not in app.board.views)
            await pilot.pause()
            assert app.screen is detail
            assert not detail.removed
