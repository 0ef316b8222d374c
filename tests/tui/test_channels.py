"""Pilot tests of the Channels screen: channels with health, the delivery log, reloads on a flip
and on f5, and the screen without a store."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from textual.widgets import DataTable, Label

from pulsewatch.domain.monitoring import Status
from pulsewatch.domain.notifications import DeliveryStatus, NotificationEvent
from tests.tui.channel_fakes import FakeChannelDesk, notification
from tests.tui.fakes import NOW, STARTED, STATES, FakeEngine, updated
from tests.tui.helpers import SIZE, make_app, settle
from tests.tui.incident_fakes import FakeIncidentDesk
from tui.screens.channels import NO_STORE, ChannelsScreen
from tui.services import ConsoleServices

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from tui.app import PulseWatchApp


def channels_app(desk: FakeChannelDesk | None, engine: FakeEngine | None = None) -> PulseWatchApp:
    services = ConsoleServices(FakeIncidentDesk(), channels=desk)
    return make_app(engine or FakeEngine([STARTED]), services=services)


def rows(app: PulseWatchApp, table_id: str) -> list[list[str]]:
    table = app.screen.query_one(f"#{table_id}", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def opened(pilot: Pilot[None], app: PulseWatchApp) -> None:
    await pilot.press("4")
    await settle(pilot, lambda: isinstance(app.screen, ChannelsScreen))
    await asyncio.wait_for(app.workers.wait_for_complete(), timeout=10)
    await settle(pilot, lambda: len(rows(app, "channels-table")) == 2)


@pytest.mark.asyncio
class TestChannelsScreen:
    async def test_channels_with_health_and_the_delivery_log(self) -> None:
        app = channels_app(FakeChannelDesk())
        async with app.run_test(size=SIZE) as pilot:
            await opened(pilot, app)
            slack, mail = rows(app, "channels-table")
            assert slack[:5] == ["ops-slack", "(all)", "slack://T***/B***/***", "ok", "3m ago"]
            assert mail[3:] == ["failing (3 in a row)", "never", "SMTP 421 try again later"]
            log = rows(app, "deliveries")
            assert [r[1:5] for r in log] == [["shop-mail", "down", "failed", "3"],
                                             ["ops-slack", "down", "sent", "1"],
                                             ["ops-slack", "recovered", "suppressed", "0"]]
            assert log[0][5] == "SMTP 421 try again later"
            assert log[2][5] == "silenced by ana@example.com"
            assert str(app.screen.query_one("#channels-title", Label).content) == "Channels (2)"

    async def test_f5_and_a_status_flip_read_again(self) -> None:
        desk = FakeChannelDesk()
        engine = FakeEngine([STARTED])
        app = channels_app(desk, engine)
        async with app.run_test(size=SIZE) as pilot:
            await opened(pilot, app)
            pending = notification(4, "ops-slack", NotificationEvent.DOWN, DeliveryStatus.PENDING, 0)
            desk.log.insert(0, pending)
            engine.emit(updated(STATES[5], NOW, 40.0, status=Status.DOWN))
            await settle(pilot, lambda: app.board.views[6].state.status is Status.DOWN)
            await asyncio.wait_for(app.workers.wait_for_complete(), timeout=10)
            await settle(pilot, lambda: len(rows(app, "deliveries")) == 4)
            desk.log.clear()
            await pilot.press("f5")
            await asyncio.wait_for(app.workers.wait_for_complete(), timeout=10)
            await settle(pilot, lambda: rows(app, "deliveries") == [])

    async def test_without_a_store_it_says_so(self) -> None:
        app = channels_app(None)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("4")
            await settle(pilot, lambda: isinstance(app.screen, ChannelsScreen))
            assert str(app.screen.query_one("#channels-empty", Label).content) == NO_STORE
            assert rows(app, "channels-table") == []
