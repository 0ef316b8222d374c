"""The login gate and the grid's scope over the real services on SQLite: a viewer of 'shop' signs in
with argon2id, sees only shop's checks, is refused a pause with the role's reason, and the Teams
screen lists shop's real members.

The engine link is the console tests' FakeEngine replaying the stored checks; everything else is
real: console_services → SignIn / Accounts / AlertingAccess → SqlAccountsStore → SQLite.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest
from textual.widgets import DataTable, Input

from engine.storage.accounts_store import SqlAccountsStore
from engine.storage.store import open_store
from pulsewatch.cli.console_services import console_services
from pulsewatch.domain.accounts import Actor, Role
from pulsewatch.domain.events import EngineStarted, SetPaused
from pulsewatch.domain.monitoring import CheckState, Status
from pulsewatch.services.accounts import Accounts
from pulsewatch.services.passwords import Argon2Hasher
from tests.tui.fakes import NOW, FakeEngine, frozen_clock, make_check
from tests.tui.helpers import notifications
from tui.app import PulseWatchApp
from tui.screens.checks import ChecksScreen
from tui.screens.login import LoginScreen
from tui.screens.teams import TeamsScreen
from tui.widgets.status_table import StatusTable

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from textual.message import Message
    from textual.pilot import Pilot


async def until(pilot: Pilot[None], condition: Callable[[], bool], rounds: int = 40) -> None:
    """Wait for the thread workers (bounded), then for `condition` over bounded rounds."""
    for _ in range(rounds):
        await asyncio.wait_for(pilot.app.workers.wait_for_complete(), timeout=30)
        await pilot.pause()
        if condition():
            return
    raise AssertionError("the console did not reach the expected state")


async def sign_in(pilot: Pilot[None], app: PulseWatchApp, email: str, password: str) -> None:
    app.screen.query_one("#login-email", Input).value = email
    app.screen.query_one("#login-password", Input).value = password
    app.screen.query_one("#login-password", Input).focus()
    await pilot.press("enter")


@pytest.mark.asyncio
async def test_a_viewer_signs_in_and_sees_only_their_organization(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'console.db'}")
    try:
        checks = store.sync_checks([replace(make_check(0, "shop-api", org="shop"), id=None),
                                    replace(make_check(0, "lab-api", org="lab"), id=None)]).added
        accounts = Accounts(SqlAccountsStore(store), Argon2Hasher())
        system = Actor.for_system("test")
        accounts.add_user(system, "olga@example.com", org="shop", role=Role.OWNER, now=NOW,
                          password="olga-pass-1234")
        accounts.add_user(system, "vic@example.com", org="shop", role=Role.VIEWER, now=NOW,
                          password="vic-pass-12345")
        states = tuple(CheckState(c.id or 0, Status.UP, since=NOW) for c in checks)
        engine = FakeEngine([EngineStarted(engine="test", checks=tuple(checks), states=states)])
        app = PulseWatchApp(engine, clock=frozen_clock, refresh_interval=0,
                            services=console_services(store))  # type: ignore[arg-type]
        messages: list[Message] = []
        async with app.run_test(size=(120, 36), message_hook=messages.append) as pilot:
            await until(pilot, lambda: isinstance(app.screen, LoginScreen))
            await sign_in(pilot, app, "vic@example.com", "not-the-password")
            screen = app.screen
            assert isinstance(screen, LoginScreen)
            await until(pilot, lambda: "wrong email or password" in screen.error_text)
            await sign_in(pilot, app, "vic@example.com", "vic-pass-12345")
            await until(pilot, lambda: isinstance(app.screen, ChecksScreen)
                        and app.screen.query_one(StatusTable).row_count == 1)
            assert [v.check.name for v in app.board.views.values()] == ["shop-api"]
            await pilot.press("p")
            await until(pilot, lambda: any("may not pause or resume checks" in n
                                           for n in notifications(messages)))
            assert not [c for c in engine.sent if isinstance(c, SetPaused)]
            await pilot.press("3")
            await until(pilot, lambda: isinstance(app.screen, TeamsScreen)
                        and app.screen.query_one("#members", DataTable).row_count == 2)
    finally:
        store.close()
