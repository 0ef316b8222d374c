"""The command loop in a cluster: run now, pause and resume of a check this engine holds are applied
here; of a check another engine holds, they become a row of the real commands table (SQLite and
MariaDB) for that engine, in the order they were sent, and the host is told — never applied here.

The leases are a fake (FakeLeases: this engine holds shards 1 and 2 of 4, so checks 1 and 2 are its
own and checks 3 and 4 another engine's); the monitoring store is FakeStore; the commands table is
the real SqlCommandStore.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import trio

from engine.cluster import Cluster
from engine.runtime import Engine
from engine.storage.command_store import SqlCommandStore
from engine.storage.store import open_store
from pulsewatch.domain.commands import CONSOLE_REQUESTER, CommandAction, CommandForwarded
from pulsewatch.domain.events import CheckChanged, RunNow, SetPaused
from pulsewatch.domain.monitoring import Status
from pulsewatch.errors import StorageError
from tests.engine.fakes import FakeStore
from tests.engine.helpers import EventLog, ScriptedTarget, bounded, http_check, run_inline, trio_wall_clock
from tests.engine.test_engine_cluster import LEASE, SHARDS, FakeLeases
from tests.storage.backends import MYSQL_URL, reset_mysql_database

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from trio.testing import MockClock

    from engine.storage.store import SqlStore
    from pulsewatch.domain.commands import Command
    from pulsewatch.services.commands import CommandPort

pytestmark = pytest.mark.trio


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def table_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """A store holding the commands table, on each backend."""
    if request.param == "mysql":
        reset_mysql_database(MYSQL_URL)
        url = MYSQL_URL
    else:
        url = f"sqlite:///{tmp_path / 'commands.db'}"
    opened = open_store(url)
    yield opened
    opened.close()


class RefusingCommands(SqlCommandStore):
    """The commands table while the database refuses writes."""

    def add_command(self, command: Command) -> Command:
        raise StorageError("the database is down (test)")


def make_engine(store: FakeStore, target: ScriptedTarget, events: EventLog, table: CommandPort) -> Engine:
    leases = FakeLeases(store, held={1, 2})  # check ids 1..4 → shards 1, 2, 3, 0
    return Engine(
        store, [http_check(f"c{i}", interval=3600) for i in range(1, 5)], name="e1", emit=events,
        wall_clock=trio_wall_clock, http_transport=target.transport(), run_sync=run_inline,
        cluster=Cluster(leases, engine="e1", lease=LEASE, run_sync=run_inline, shards=SHARDS),
        command_table=table,
    )


def rows(table: SqlCommandStore) -> list[tuple[CommandAction, int | None, str, str]]:
    return [(c.action, c.check_id, c.org, c.requested_by) for c in table.open_commands()]


class TestForwarding:
    @bounded(120)
    async def test_own_checks_are_handled_here_and_others_are_left_for_their_engine_in_order(
        self, autojump_clock: MockClock, table_store: SqlStore
    ) -> None:
        store, events, target = FakeStore(), EventLog(), ScriptedTarget()
        table = SqlCommandStore(table_store)
        engine = make_engine(store, target, events, table)

        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            await trio.sleep(1)
            probed = dict(target.calls)
            engine.submit_nowait(SetPaused(1, True, requested_by="ana@acme.test"))  # its own
            engine.submit_nowait(RunNow(2))  # its own
            engine.submit_nowait(SetPaused(3, True, requested_by="ana@acme.test"))  # another engine's
            engine.submit_nowait(SetPaused(3, False, requested_by="ana@acme.test"))
            engine.submit_nowait(RunNow(4))  # the host itself asks: acts as the console
            await events.wait_for(lambda log: len(log.of(CommandForwarded)) == 3)
            await trio.sleep(1)
            engine.stop()

        # Its own: applied here, nothing left in the table.
        assert store.states[1].status is Status.PAUSED
        assert target.calls.get("c2.test", 0) == probed.get("c2.test", 0) + 1
        # Another engine's: left for it, in order, as the requester; nothing applied or probed here.
        assert rows(table) == [
            (CommandAction.PAUSE, 3, "default", "ana@acme.test"),
            (CommandAction.RESUME, 3, "default", "ana@acme.test"),
            (CommandAction.RUN_NOW, 4, "default", CONSOLE_REQUESTER),
        ]
        assert engine.states[3].status is not Status.PAUSED
        assert 3 not in store.states or store.states[3].status is not Status.PAUSED
        assert "c3.test" not in target.calls
        assert "c4.test" not in target.calls
        forwarded = events.of(CommandForwarded)
        assert [f.command.id for f in forwarded] == [c.id for c in table.open_commands()]
        first = forwarded[0].command.id
        assert forwarded[0].text == f"pause c3: forwarded to the engine holding it as command #{first}"
        assert all(f.error is None for f in forwarded)

    @bounded(120)
    async def test_a_refused_write_is_reported_and_the_loop_goes_on(
        self, autojump_clock: MockClock, table_store: SqlStore
    ) -> None:
        store, events, target = FakeStore(), EventLog(), ScriptedTarget()
        engine = make_engine(store, target, events, RefusingCommands(table_store))

        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            engine.submit_nowait(SetPaused(3, True))
            await events.wait_for(lambda log: bool(log.of(CommandForwarded)))
            engine.submit_nowait(SetPaused(1, True))  # the loop still answers
            await events.wait_for(lambda log: any(c.check.id == 1 for c in log.of(CheckChanged)))
            engine.stop()

        assert store.states[1].status is Status.PAUSED

        [refused] = events.of(CommandForwarded)
        assert refused.error == "the database is down (test)"
        assert refused.text == ("pause c3: another engine holds it, and the command for it was not stored: "
                                "the database is down (test)")
