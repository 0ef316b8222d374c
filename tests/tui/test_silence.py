"""Pilot tests of silencing a check from its detail screen: the key and palette entry, the dialog
(duration and reason, a bad duration said in place), the call made as the signed-in actor, refusals,
escape, and the console without a store.

The desk is a FakeIncidentDesk; the silence runs in a thread worker, so each step waits for the
workers (bounded) and then for the notification (bounded rounds).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from textual.command import DiscoveryHit
from textual.widgets import Input, Label

from pulsewatch.domain.accounts import Actor, Membership, Role
from tests.tui.fakes import STARTED, FakeEngine
from tests.tui.helpers import SIZE, grid, make_app, names, notifications, settle, started
from tests.tui.incident_fakes import FakeIncidentDesk
from tui.commands import DetailCommands
from tui.screens.detail import NO_STORE_SILENCE, DetailScreen
from tui.screens.silence_prompt import SilencePrompt
from tui.services import ConsoleServices

if TYPE_CHECKING:
    from textual.message import Message
    from textual.pilot import Pilot

    from tui.app import PulseWatchApp

ANA = Actor("ana@example.com", (Membership("ana@example.com", "default", Role.MEMBER),))


def silence_app(desk: FakeIncidentDesk | None, actor: Actor | None = None) -> PulseWatchApp:
    services = None
    if desk is not None:
        services = ConsoleServices(incidents=desk) if actor is None else ConsoleServices(desk, actor)
    return make_app(FakeEngine([STARTED]), services=services)


async def open_api(pilot: Pilot[None], app: PulseWatchApp) -> DetailScreen:
    """Open the detail screen of the check named "api"."""
    await started(pilot, app)
    grid(app).move_cursor(row=names(app).index("api"))
    await pilot.press("enter")
    await settle(pilot, lambda: isinstance(app.screen, DetailScreen))
    assert isinstance(app.screen, DetailScreen)
    assert app.screen.view is not None
    assert app.screen.view.check.name == "api"
    return app.screen


async def ask(pilot: Pilot[None], app: PulseWatchApp, duration: str, reason: str) -> None:
    """Press s, fill the dialog and submit it."""
    await pilot.press("s")
    await settle(pilot, lambda: isinstance(app.screen, SilencePrompt))
    app.screen.query_one("#silence-duration", Input).value = duration
    app.screen.query_one("#silence-reason", Input).value = reason
    app.screen.query_one("#silence-reason", Input).focus()
    await pilot.press("enter")


async def workers_done(pilot: Pilot[None]) -> None:
    await asyncio.wait_for(pilot.app.workers.wait_for_complete(), timeout=10)
    await pilot.pause()


@pytest.mark.asyncio
class TestSilence:
    async def test_s_silences_the_check_for_the_duration_as_the_actor(self) -> None:
        desk = FakeIncidentDesk()
        app = silence_app(desk, ANA)
        messages: list[Message] = []
        async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
            await open_api(pilot, app)
            await ask(pilot, app, "2h", "  deploying the new pool ")
            await settle(pilot, lambda: isinstance(app.screen, DetailScreen))
            await workers_done(pilot)
            await settle(pilot, lambda: "api silenced until 11:30 UTC" in notifications(messages))
            assert desk.calls == [("silence", "api", "7200.0", "deploying the new pool", "default")]
            made = desk.silences[0]
            assert made.created_by == "ana@example.com"
            assert made.scope.checks == ("api",)

    async def test_a_bad_duration_is_said_in_the_dialog_and_nothing_is_silenced(self) -> None:
        desk = FakeIncidentDesk()
        app = silence_app(desk)
        async with app.run_test(size=SIZE) as pilot:
            await open_api(pilot, app)
            await ask(pilot, app, "2 hours", "deploying")
            await settle(pilot, lambda: "Duration:" in str(app.screen.query_one("#silence-problem",
                                                                                    Label).content))
            assert isinstance(app.screen, SilencePrompt)
            app.screen.query_one("#silence-duration", Input).value = "30m"
            app.screen.query_one("#silence-reason", Input).value = ""
            await pilot.press("enter")
            await settle(pilot, lambda: "reason" in str(app.screen.query_one("#silence-problem",
                                                                                 Label).content))
            assert isinstance(app.screen, SilencePrompt)
            await workers_done(pilot)
            assert desk.calls == []

    async def test_a_refusal_shows_its_message(self) -> None:
        desk = FakeIncidentDesk(refuse=True)
        app = silence_app(desk)
        messages: list[Message] = []
        async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
            await open_api(pilot, app)
            await ask(pilot, app, "1h", "noisy")
            await settle(pilot, lambda: isinstance(app.screen, DetailScreen))
            await workers_done(pilot)
            await settle(pilot, lambda: any("may not silence alerts" in n for n in notifications(messages)))
            assert not any("silenced until" in n for n in notifications(messages))
            assert desk.silences == []

    async def test_escape_silences_nothing(self) -> None:
        desk = FakeIncidentDesk()
        app = silence_app(desk)
        async with app.run_test(size=SIZE) as pilot:
            await open_api(pilot, app)
            await pilot.press("s")
            await settle(pilot, lambda: isinstance(app.screen, SilencePrompt))
            await pilot.press("escape")
            await settle(pilot, lambda: isinstance(app.screen, DetailScreen))
            await workers_done(pilot)
            assert desk.calls == []

    async def test_without_a_store_it_says_so(self) -> None:
        app = silence_app(None)
        messages: list[Message] = []
        async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
            await open_api(pilot, app)
            await pilot.press("s")
            await settle(pilot, lambda: NO_STORE_SILENCE in notifications(messages))
            assert isinstance(app.screen, DetailScreen)

    async def test_the_key_and_the_palette_offer_it(self) -> None:
        app = silence_app(FakeIncidentDesk())
        async with app.run_test(size=SIZE) as pilot:
            detail = await open_api(pilot, app)
            ids = {b.binding.id for b in detail.active_bindings.values()}
            assert "pw.silence" in ids
            titles = [str(hit.display) async for hit in DetailCommands(detail).discover()
                      if isinstance(hit, DiscoveryHit)]
            assert "Silence this check" in titles
