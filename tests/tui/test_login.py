"""Pilot tests of the login gate and what the signed-in person may see and do.

A FakeSignIn stands in for pulsewatch.services.signin.SignIn: one viewer, one member, one locked
account. Checks of another organization must vanish from the grid; a viewer's `p` and `r` are
refused with the role's reason and never reach the engine.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from textual.widgets import Input

from pulsewatch.domain.accounts import Actor, Membership, Role
from pulsewatch.domain.events import EngineStarted, RunNow, SetPaused
from pulsewatch.domain.lockout import AuthenticationFailed, LockedOut
from tests.tui.fakes import CHECKS, NOW, STATES, FakeEngine, updated
from tests.tui.helpers import SIZE, grid, make_app, names, notifications, settle
from tests.tui.incident_fakes import FakeIncidentDesk
from tui.screens.checks import ChecksScreen
from tui.screens.login import LoginScreen
from tui.services import ConsoleServices

if TYPE_CHECKING:
    from datetime import datetime

    from textual.message import Message
    from textual.pilot import Pilot

    from tui.app import PulseWatchApp

VIEWER = Actor("vic@example.com", (Membership("vic@example.com", "default", Role.VIEWER),))
MEMBER = Actor("mo@example.com", (Membership("mo@example.com", "default", Role.MEMBER),))
OTHER_ORG = replace(CHECKS[4], org="elsewhere")
"""'cdn' belongs to another organization: nobody above may see it."""
STARTED = EngineStarted(engine="test-engine", checks=(*CHECKS[:4], OTHER_ORG, *CHECKS[5:]), states=STATES)


class FakeSignIn:
    """Passwords in a dict; 'lee@example.com' is locked for ten more minutes."""

    def __init__(self) -> None:
        self.accounts = {VIEWER.name: ("viewer-pw", VIEWER), MEMBER.name: ("member-pw", MEMBER)}
        self.tried: list[str] = []

    def authenticate(self, email: str, password: str, now: datetime) -> Actor:
        self.tried.append(email)
        if email == "lee@example.com":
            raise LockedOut(email, NOW + timedelta(minutes=10), now)
        known = self.accounts.get(email)
        if known is None or known[0] != password:
            raise AuthenticationFailed()
        return known[1]


def gated_app(engine: FakeEngine) -> PulseWatchApp:
    return make_app(engine, services=ConsoleServices(FakeIncidentDesk(), signin=FakeSignIn()))


async def sign_in(pilot: Pilot[None], app: PulseWatchApp, email: str, password: str) -> None:
    await settle(pilot, lambda: isinstance(app.screen, LoginScreen))
    app.screen.query_one("#login-email", Input).value = email
    app.screen.query_one("#login-password", Input).value = password
    app.screen.query_one("#login-password", Input).focus()
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.asyncio
class TestLoginGate:
    async def test_nothing_shows_or_starts_before_sign_in(self) -> None:
        engine = FakeEngine([STARTED])
        app = gated_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, lambda: isinstance(app.screen, LoginScreen))
            assert not engine.started
            await app.run_action("go('incidents')")
            await pilot.pause()
            assert isinstance(app.screen, LoginScreen)

    async def test_a_viewer_sees_only_their_organizations_checks(self) -> None:
        engine = FakeEngine([STARTED])
        app = gated_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            await sign_in(pilot, app, VIEWER.name, "viewer-pw")
            await settle(pilot, lambda: isinstance(app.screen, ChecksScreen) and grid(app).row_count == 6)
            assert engine.started
            assert "cdn" not in names(app)
            assert 5 not in app.board.views
            assert app.actor == VIEWER
            engine.emit(updated(STATES[4], NOW, 12.0), updated(STATES[0], NOW, 99.0))
            await settle(pilot, lambda: app.board.views[1].state.last_latency_ms == 99.0)
            assert 5 not in app.board.views
            assert 5 not in app.board.trends
            assert grid(app).row_count == 6

    async def test_a_viewer_is_told_why_pausing_and_running_are_refused(self) -> None:
        engine = FakeEngine([STARTED])
        app = gated_app(engine)
        messages: list[Message] = []
        async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
            await sign_in(pilot, app, VIEWER.name, "viewer-pw")
            await settle(pilot, lambda: isinstance(app.screen, ChecksScreen) and grid(app).row_count == 6)
            await pilot.press("p", "r")
            refused = ("may not pause or resume checks", "may not run checks now")
            await settle(pilot, lambda: sum(any(r in n for r in refused)
                                            for n in notifications(messages)) == 2)
            assert not [c for c in engine.sent if isinstance(c, (SetPaused, RunNow))]

    async def test_a_member_may_pause_and_the_pause_names_them(self) -> None:
        engine = FakeEngine([STARTED])
        app = gated_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            await sign_in(pilot, app, MEMBER.name, "member-pw")
            await settle(pilot, lambda: isinstance(app.screen, ChecksScreen) and grid(app).row_count == 6)
            await pilot.press("p")
            await settle(pilot, lambda: any(isinstance(c, SetPaused) for c in engine.sent))
            # Sent as the member: should another engine hold the check, it acts as them there too.
            assert [c for c in engine.sent if isinstance(c, SetPaused)] == [
                SetPaused(1, paused=True, requested_by=MEMBER.name)]

    async def test_a_wrong_password_is_a_clear_error_and_keeps_the_gate(self) -> None:
        engine = FakeEngine([STARTED])
        app = gated_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            await sign_in(pilot, app, VIEWER.name, "nope")
            screen = app.screen
            assert isinstance(screen, LoginScreen)
            await settle(pilot, lambda: "Sign-in failed: wrong email or password" in screen.error_text)
            assert app.screen.query_one("#login-password", Input).value == ""
            assert not engine.started

    async def test_a_locked_account_says_until_when(self) -> None:
        app = gated_app(FakeEngine([STARTED]))
        async with app.run_test(size=SIZE) as pilot:
            await sign_in(pilot, app, "lee@example.com", "whatever")
            screen = app.screen
            assert isinstance(screen, LoginScreen)
            await settle(pilot, lambda: "locked until 2025-03-14 09:40:00 UTC" in screen.error_text)

    async def test_without_accounts_there_is_no_gate(self) -> None:
        engine = FakeEngine([STARTED])
        app = make_app(engine, services=ConsoleServices(FakeIncidentDesk()))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, lambda: isinstance(app.screen, ChecksScreen) and grid(app).row_count == 7)
            await pilot.press("p")
            await settle(pilot, lambda: any(isinstance(c, SetPaused) for c in engine.sent))
