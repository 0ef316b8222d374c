"""Pilot tests of the Teams screen: members of the actor's organizations, invite, change a role,
remove (with confirmation), refusals for a viewer, and the screen without a store."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from textual.widgets import DataTable, Input, Label, Select

from pulsewatch.domain.accounts import Actor, Membership, Role
from tests.tui.fakes import STARTED, FakeEngine
from tests.tui.helpers import SIZE, make_app, notifications, settle
from tests.tui.incident_fakes import FakeIncidentDesk
from tests.tui.team_fakes import FakeTeamDesk
from tui.screens.member_dialogs import ConfirmDialog, InviteDialog, RoleDialog
from tui.screens.teams import NO_STORE, TeamsScreen
from tui.services import ConsoleServices

if TYPE_CHECKING:
    from textual.message import Message
    from textual.pilot import Pilot

    from tui.app import PulseWatchApp

ADA = Actor("ada@example.com", (Membership("ada@example.com", "shop", Role.ADMIN),
                                Membership("ada@example.com", "lab", Role.OWNER)))
VIC = Actor("vic@example.com", (Membership("vic@example.com", "shop", Role.VIEWER),))


def teams_app(desk: FakeTeamDesk | None, actor: Actor = ADA) -> PulseWatchApp:
    services = ConsoleServices(FakeIncidentDesk(), actor=actor, teams=desk)
    return make_app(FakeEngine([STARTED]), services=services)


async def workers_done(pilot: Pilot[None]) -> None:
    await asyncio.wait_for(pilot.app.workers.wait_for_complete(), timeout=10)
    await pilot.pause()


def emails(app: PulseWatchApp) -> list[tuple[str, str, str]]:
    table = app.screen.query_one("#members", DataTable)
    return [(str(table.get_row_at(i)[0]), str(table.get_row_at(i)[2]), str(table.get_row_at(i)[3]))
            for i in range(table.row_count)]


async def opened(pilot: Pilot[None], app: PulseWatchApp, rows: int = 5) -> None:
    await pilot.press("3")
    await settle(pilot, lambda: isinstance(app.screen, TeamsScreen))
    await workers_done(pilot)
    await settle(pilot, lambda: len(emails(app)) == rows)


async def select_row(pilot: Pilot[None], app: PulseWatchApp, email: str) -> None:
    table = app.screen.query_one("#members", DataTable)
    table.move_cursor(row=[e for e, _, _ in emails(app)].index(email))
    await pilot.pause()


@pytest.mark.asyncio
class TestTeamsScreen:
    async def test_members_with_scope_role_and_sign_in(self) -> None:
        app = teams_app(FakeTeamDesk())
        async with app.run_test(size=SIZE) as pilot:
            await opened(pilot, app)
            assert emails(app)[0] == ("olga@example.com", "(organization)", "owner")
            assert emails(app)[4] == ("tess@example.com", "web", "member")
            table = app.screen.query_one("#members", DataTable)
            assert str(table.get_row_at(4)[4]) == "invited"
            heading = str(app.screen.query_one("#teams-org", Label).content)
            assert "Organization: shop · 5 memberships" in heading

    async def test_o_shows_the_next_organization(self) -> None:
        app = teams_app(FakeTeamDesk())
        async with app.run_test(size=SIZE) as pilot:
            await opened(pilot, app)
            await pilot.press("o")
            await workers_done(pilot)
            await settle(pilot, lambda: emails(app) == [("ada@example.com", "(organization)", "owner")])

    async def test_invite_adds_a_member(self) -> None:
        desk = FakeTeamDesk()
        app = teams_app(desk)
        async with app.run_test(size=SIZE) as pilot:
            await opened(pilot, app)
            await pilot.press("i")
            await settle(pilot, lambda: isinstance(app.screen, InviteDialog))
            app.screen.query_one("#invite-email", Input).value = "new@example.com"
            app.screen.query_one("#invite-role", Select).value = Role.VIEWER
            app.screen.query_one("#invite-team", Input).value = "web"
            app.screen.query_one("#invite-email", Input).focus()
            await pilot.press("enter")
            await workers_done(pilot)
            await workers_done(pilot)
            await settle(pilot, lambda: ("new@example.com", "web", "viewer") in emails(app))
            assert desk.calls == [("invite", "shop", "new@example.com", "viewer", "web")]

    async def test_change_role(self) -> None:
        desk = FakeTeamDesk()
        app = teams_app(desk)
        async with app.run_test(size=SIZE) as pilot:
            await opened(pilot, app)
            await select_row(pilot, app, "mo@example.com")
            await pilot.press("e")
            await settle(pilot, lambda: isinstance(app.screen, RoleDialog))
            app.screen.query_one(Select).value = Role.ADMIN
            await workers_done(pilot)
            await workers_done(pilot)
            await settle(pilot, lambda: ("mo@example.com", "(organization)", "admin") in emails(app))
            assert desk.calls == [("role", "shop", "mo@example.com", "admin")]

    async def test_remove_asks_first(self) -> None:
        desk = FakeTeamDesk()
        app = teams_app(desk)
        async with app.run_test(size=SIZE) as pilot:
            await opened(pilot, app)
            await select_row(pilot, app, "vic@example.com")
            await pilot.press("x")
            await settle(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("n")
            await settle(pilot, lambda: isinstance(app.screen, TeamsScreen))
            assert desk.calls == []
            await pilot.press("x")
            await settle(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("y")
            await workers_done(pilot)
            await workers_done(pilot)
            await settle(pilot, lambda: "vic@example.com" not in [e for e, _, _ in emails(app)])
            assert desk.calls == [("remove", "shop", "vic@example.com")]

    async def test_a_rule_of_the_service_is_shown(self) -> None:
        desk = FakeTeamDesk()
        app = teams_app(desk)
        messages: list[Message] = []
        async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
            await opened(pilot, app)
            await select_row(pilot, app, "olga@example.com")
            await pilot.press("x")
            await settle(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("y")
            await workers_done(pilot)
            await settle(pilot, lambda: "shop would have no owner left" in notifications(messages))

    async def test_a_viewer_is_told_why_for_every_change(self) -> None:
        desk = FakeTeamDesk()
        app = teams_app(desk, actor=VIC)
        messages: list[Message] = []
        async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
            await opened(pilot, app)
            await pilot.press("i", "e", "x")
            await settle(pilot, lambda: sum("may not manage members and teams" in n
                                            for n in notifications(messages)) == 3)
            assert isinstance(app.screen, TeamsScreen)
            assert desk.calls == []

    async def test_without_a_store_it_says_so(self) -> None:
        app = teams_app(None)
        messages: list[Message] = []
        async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
            await pilot.press("3")
            await settle(pilot, lambda: isinstance(app.screen, TeamsScreen))
            assert str(app.screen.query_one("#teams-org", Label).content) == NO_STORE
            await pilot.press("i")
            await settle(pilot, lambda: NO_STORE in notifications(messages))
