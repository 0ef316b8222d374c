"""The attach console (Pilot) against a database that a REAL engine writes: no engine in the console's
link, only the database between them. The engine runs in a thread of this process (one store per
process), built with the production companions; the console is `attached_console_app`, as
`pulsewatch console --attach` builds it. Probes go to a real local HTTP server.

Both backends: SQLite (a file) and MariaDB at $PULSEWATCH_TEST_MYSQL_URL.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from textual.widgets import DataTable, Input

from engine.runtime import Engine
from engine.storage.accounts_store import SqlAccountsStore
from engine.storage.alerting_store import AlertStore
from engine.storage.command_store import SqlCommandStore
from engine.storage.store import open_store
from pulsewatch.cli.attach_wiring import attached_console_app, engine_companions
from pulsewatch.domain.accounts import Actor, Role
from pulsewatch.domain.alerting import IncidentStatus, Severity
from pulsewatch.domain.commands import CommandOutcome
from pulsewatch.domain.conditions import parse_condition
from pulsewatch.domain.monitoring import Check, Flip, Status
from pulsewatch.services.accounts import Accounts
from pulsewatch.services.passwords import Argon2Hasher
from tests.engine.targets import serve
from tests.integration.cluster_helpers import PrivateMariaDB
from tests.storage.backends import MYSQL_URL, reset_mysql_database
from tests.tui.helpers import notifications
from tui.bridge import EmbeddedEngine
from tui.screens.checks import ChecksScreen
from tui.screens.detail import DetailScreen
from tui.screens.incidents import IncidentsScreen
from tui.screens.login import LoginScreen
from tui.screens.silence_prompt import SilencePrompt
from tui.screens.text_prompt import TextPrompt
from tui.widgets.status_table import StatusTable

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from textual.message import Message
    from textual.pilot import Pilot

    from engine.storage.store import SqlStore
    from pulsewatch.domain.events import EngineEvent
    from tui.app import PulseWatchApp

pytestmark = [pytest.mark.slow, pytest.mark.asyncio]

SIZE = (120, 36)


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    if request.param == "mysql":
        reset_mysql_database(MYSQL_URL)
        url = MYSQL_URL
    else:
        url = f"sqlite:///{tmp_path / 'attach.db'}"
    opened = open_store(url)
    yield opened
    opened.close()


def http_check(name: str, url: str) -> Check:
    return Check(name=name, url=url, kind="http", interval=0.3, timeout=2.0,
                 conditions=(parse_condition("[STATUS] == 200"),))


def headless_engine(store: SqlStore, base: str) -> EmbeddedEngine:
    """A real engine with the production companions, in its own thread; its events go nowhere (a
    headless engine's host only logs): the console must learn everything from the database."""
    checks = [http_check("healthy", f"{base}/ok"), http_check("broken", f"{base}/status/503")]

    def make(emit: Callable[[EngineEvent], None]) -> Engine:
        return Engine(store, checks, name="e-headless", emit=emit, batch_delay=0.05,
                      companions=engine_companions(store))

    engine = EmbeddedEngine(make, name="e-headless")
    engine.start(lambda event: None)
    return engine


async def wait_until(pilot: Pilot[None], condition: Callable[[], bool], *, rounds: int = 300) -> None:
    """Poll the live console (0.1 s a round, 30 s at most) until `condition()` holds."""
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause(0.1)
    raise AssertionError("the console did not reach the expected state in 30 s")


def status_of(app: PulseWatchApp, name: str) -> str:
    table = app.screen.query_one(StatusTable)
    for row_index in range(table.row_count):
        row = table.get_row_at(row_index)
        if str(row[0]) == name:
            return str(row[1])
    return ""


def select(app: PulseWatchApp, name: str) -> None:
    """Put the grid's cursor on `name`'s row (the grid orders by status, so rows move)."""
    table = app.screen.query_one(StatusTable)
    row = next(i for i in range(table.row_count) if str(table.get_row_at(i)[0]) == name)
    table.move_cursor(row=row)


async def test_changes_show_and_a_pause_is_done_by_the_engine(store: SqlStore) -> None:
    with serve() as base:
        engine = headless_engine(store, base)
        try:
            app = attached_console_app(store, poll=0.1)
            messages: list[Message] = []
            async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
                # what the engine writes shows: both verdicts reached the grid through the database
                await wait_until(pilot, lambda: status_of(app, "healthy").startswith("UP")
                                 and status_of(app, "broken").startswith("DOWN"))
                assert app.sub_title.startswith("attached to ")
                healthy = next(v for v in app.board.views.values() if v.check.name == "healthy")
                assert healthy.state.last_checked_at is not None

                select(app, "healthy")
                await pilot.press("p")
                await wait_until(pilot, lambda: status_of(app, "healthy").startswith("PAUSED"))
                await wait_until(pilot, lambda: any("sent → done by engine e-headless" in n
                                                    for n in notifications(messages)))
                [done] = SqlCommandStore(store).commands(range(1, 10))
                assert (done.claimed_by, done.requested_by) == ("e-headless", "console")
                assert store.load_states()[healthy.check_id].status is Status.PAUSED

                select(app, "healthy")
                await pilot.press("p")
                await wait_until(pilot, lambda: status_of(app, "healthy").startswith("UP"))
                await pilot.press("q")
                await wait_until(pilot, lambda: not app.is_running)
            assert app.return_code == 0
        finally:
            await engine.stop()


async def test_people_sign_in_and_their_commands_run_as_them(store: SqlStore) -> None:
    accounts = Accounts(SqlAccountsStore(store), Argon2Hasher())
    system = Actor.for_system("test")
    accounts.add_user(system, "ana@example.com", org="default", role=Role.MEMBER, now=datetime.now(UTC),
                      password="ana-pass-12345")
    with serve() as base:
        engine = headless_engine(store, base)
        try:
            app = attached_console_app(store, poll=0.1)
            messages: list[Message] = []
            async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
                await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen))
                assert not app.board.views  # nothing of the database before someone signs in
                app.screen.query_one("#login-email", Input).value = "ana@example.com"
                app.screen.query_one("#login-password", Input).value = "ana-pass-12345"
                app.screen.query_one("#login-password", Input).focus()
                await pilot.press("enter")
                await asyncio.wait_for(app.workers.wait_for_complete(), timeout=30)
                await wait_until(pilot, lambda: isinstance(app.screen, ChecksScreen)
                                 and status_of(app, "healthy").startswith("UP"))
                select(app, "healthy")
                await pilot.press("p")
                await wait_until(pilot, lambda: status_of(app, "healthy").startswith("PAUSED"))
                await pilot.press("q")
                await wait_until(pilot, lambda: not app.is_running)
        finally:
            await engine.stop()
    audit = SqlAccountsStore(store).audit_entries(None)
    assert [e.actor for e in audit if e.action == "check.pause"] == ["ana@example.com"]


async def test_a_lost_database_shows_the_banner_until_it_answers_again(tmp_path: Path) -> None:
    """A private mariadbd is killed under the attached console, then started again."""
    server = PrivateMariaDB(tmp_path / "mariadb")
    server.install()
    server.start()
    try:
        with server.connect() as conn, conn.cursor() as cursor:
            cursor.execute("CREATE DATABASE pw CHARACTER SET utf8mb4")
        store = open_store(f"mysql://root@127.0.0.1:{server.port}/pw?connect_timeout=2")
        try:
            [api] = store.sync_checks([http_check("api", "http://127.0.0.1:9/")]).added
            app = attached_console_app(store, poll=0.1)
            messages: list[Message] = []
            async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
                await wait_until(pilot, lambda: status_of(app, "api") != "")
                assert "DATABASE UNREACHABLE" not in app.sub_title

                server.kill()
                await wait_until(pilot, lambda: app.board.storage_down is not None)
                assert "DATABASE UNREACHABLE" in app.sub_title
                assert any("database is unreachable" in n for n in notifications(messages))

                server.start()
                await wait_until(pilot, lambda: app.board.storage_down is None)
                assert "DATABASE UNREACHABLE" not in app.sub_title
                assert any("database is back" in n for n in notifications(messages))
                store.set_paused(api.id or 0, True, datetime.now(UTC))  # followed again after the outage
                await wait_until(pilot, lambda: status_of(app, "api").startswith("PAUSED"))
                await pilot.press("q")
                await wait_until(pilot, lambda: not app.is_running)
        finally:
            store.close()
    finally:
        server.kill()


async def test_acknowledge_and_resolve_are_done_by_the_engine(store: SqlStore) -> None:
    with serve() as base:
        engine = headless_engine(store, base)
        try:
            app = attached_console_app(store, poll=0.1)
            messages: list[Message] = []
            async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
                await wait_until(pilot, lambda: status_of(app, "broken").startswith("DOWN"))
                broken = next(v for v in app.board.views.values() if v.check.name == "broken")
                flip = Flip(broken.check_id, datetime.now(UTC), Status.UP, Status.DOWN, "HTTP 503")
                incident = AlertStore(store).apply_flip(flip, broken.check, Severity.CRITICAL)
                assert incident is not None
                assert incident.id is not None

                await pilot.press("2")
                await wait_until(pilot, lambda: isinstance(app.screen, IncidentsScreen)
                                 and app.screen.query_one("#table-open", DataTable).row_count == 1)
                await pilot.press("a")
                await wait_until(pilot, lambda: isinstance(app.screen, TextPrompt))
                app.screen.query_one(Input).value = "rolling back"
                await pilot.press("enter")
                await wait_until(pilot, lambda: isinstance(app.screen, IncidentsScreen)
                                 and app.screen.query_one("#table-acknowledged", DataTable).row_count == 1)
                await wait_until(pilot, lambda: any(f"ack incident #{incident.id}: sent → done by engine "
                                                    "e-headless" in n for n in notifications(messages)))
                await pilot.press("right_square_bracket")
                await pilot.press("r")
                await wait_until(pilot, lambda: AlertStore(store).incident(incident.id or 0).status
                                 is IncidentStatus.RESOLVED)
                await pilot.press("q")
                await wait_until(pilot, lambda: not app.is_running)
        finally:
            await engine.stop()
    stored = AlertStore(store).incident(incident.id)
    assert (stored.acknowledged_by, stored.ack_note) == ("console", "rolling back")
    assert stored.resolved_by == "console"
    done = SqlCommandStore(store).commands(range(1, 10))
    assert [(c.action.value, c.claimed_by, c.outcome) for c in done] == [
        ("ack", "e-headless", CommandOutcome.OK), ("resolve", "e-headless", CommandOutcome.OK)]


async def test_silence_from_the_detail_is_made_by_the_engine(store: SqlStore) -> None:
    with serve() as base:
        engine = headless_engine(store, base)
        try:
            app = attached_console_app(store, poll=0.1)
            messages: list[Message] = []
            async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
                await wait_until(pilot, lambda: status_of(app, "healthy").startswith("UP"))
                select(app, "healthy")
                await pilot.press("enter")
                await wait_until(pilot, lambda: isinstance(app.screen, DetailScreen))
                await pilot.press("s")
                await wait_until(pilot, lambda: isinstance(app.screen, SilencePrompt))
                app.screen.query_one("#silence-duration", Input).value = "2h"
                app.screen.query_one("#silence-reason", Input).value = "deploying"
                app.screen.query_one("#silence-reason", Input).focus()
                await pilot.press("enter")
                await wait_until(pilot, lambda: any("healthy silenced until" in n
                                                    for n in notifications(messages)))
                said = "silence healthy for 2h: sent → done by engine e-headless"
                await wait_until(pilot, lambda: any(said in n for n in notifications(messages)))
                await pilot.press("escape", "q")
                await wait_until(pilot, lambda: not app.is_running)
        finally:
            await engine.stop()
    [made] = AlertStore(store).silences(datetime.now(UTC))
    assert (made.scope.checks, made.reason, made.created_by) == (("healthy",), "deploying", "console")
