"""A real engine executes what attached consoles leave in the commands table, and follows check changes
other engines store. Real SqlStore on an SQLite file, real worker threads, a real local HTTP target."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
import trio

from engine.check_watch import CheckWatch
from engine.commands import CommandRunner
from engine.runtime import Engine
from engine.storage.accounts_store import SqlAccountsStore
from engine.storage.alerting_store import AlertStore
from engine.storage.api_store import SqlApiStore
from engine.storage.change_reads import SqlChangeReads
from engine.storage.command_store import SqlCommandStore
from engine.storage.scoped_reads import SqlScopedReads
from engine.storage.store import open_store
from pulsewatch.domain.accounts import Membership, Organization, Role, User
from pulsewatch.domain.alerting import DEFAULT_SEVERITY, IncidentStatus
from pulsewatch.domain.commands import Command, CommandOutcome, new_command
from pulsewatch.domain.events import CheckUpdated
from pulsewatch.domain.monitoring import API_ORIGIN, Flip, Status
from pulsewatch.services.alerting_access import AlertingAccess
from pulsewatch.services.commands import AlertingCommands
from tests.engine.helpers import EventLog, bounded, http_check
from tests.engine.targets import serve

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from engine.storage.store import SqlStore

pytestmark = pytest.mark.trio


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_store(f"sqlite:///{tmp_path / 'commands.db'}")
    yield opened
    opened.close()


@pytest.fixture
def target() -> Iterator[str]:
    with serve() as base:
        yield base


def runner(store: SqlStore, *, accounts: bool = False) -> CommandRunner:
    if not accounts:
        return CommandRunner(SqlCommandStore(store), accounts=None, alerting=None, wall_clock=now, poll=0.05)
    people = SqlAccountsStore(store)
    access = AlertingAccess(AlertStore(store), SqlScopedReads(store), people)
    return CommandRunner(SqlCommandStore(store), accounts=people, alerting=AlertingCommands(access, people),
                         wall_clock=now, poll=0.05)


async def send(store: SqlStore, command: Command) -> int:
    stored = await trio.to_thread.run_sync(SqlCommandStore(store).add_command, command)
    assert stored.id is not None
    return stored.id


async def settled(store: SqlStore, command_id: int) -> Command:
    """Wait (the test's own bound applies) until the command ended; return it."""
    commands = SqlCommandStore(store)
    while True:
        [found] = await trio.to_thread.run_sync(commands.commands, [command_id])
        if found.settled:
            return found
        await trio.sleep(0.05)


def pause(check_id: int, *, paused: bool = True, by: str = "console", ago: float = 0.0) -> Command:
    return new_command("pause" if paused else "resume", org="default", requested_by=by,
                       now=now() - timedelta(seconds=ago), check_id=check_id)


class TestCheckCommands:
    @bounded(30)
    async def test_pause_resume_and_run_now_are_done_by_the_engine_and_acknowledged(
        self, store: SqlStore, target: str
    ) -> None:
        events = EventLog()
        api_check = http_check("api", url=f"{target}/ok", interval=3600.0)
        engine = Engine(store, [api_check], name="e1", emit=events, batch_delay=0.01,
                        companions=[runner(store)])
        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            [api] = engine.checks
            assert api.id is not None

            paused = await settled(store, await send(store, pause(api.id)))
            assert (paused.outcome, paused.claimed_by) == (CommandOutcome.OK, "e1")
            assert paused.message == "api paused"
            assert engine.states[api.id].status is Status.PAUSED
            assert api.id not in engine.running_checks
            stored = await trio.to_thread.run_sync(store.load_states)
            assert stored[api.id].status is Status.PAUSED  # the store has it when the console is told

            resumed = await settled(store, await send(store, pause(api.id, paused=False)))
            assert resumed.outcome is CommandOutcome.OK
            await events.wait_for(lambda _: engine.states[api.id or 0].status is Status.UP)  # probed at once
            probes = len(events.of(CheckUpdated))

            run = new_command("run_now", org="default", requested_by="console", now=now(), check_id=api.id)
            done = await settled(store, await send(store, run))
            assert (done.outcome, done.message) == (CommandOutcome.OK, "probe of api started")
            # the hour-long interval means only run-now can have probed it
            await events.wait_for(lambda log: len(log.of(CheckUpdated)) > probes)
            engine.stop()

    @bounded(30)
    async def test_roles_decide_and_a_pause_is_audited(self, store: SqlStore, target: str) -> None:
        people = SqlAccountsStore(store)
        people.save_organization(Organization("default", "Default"))
        for email, role in (("ana@acme.test", Role.MEMBER), ("vic@acme.test", Role.VIEWER)):
            people.save_user(User(email, password_hash="$argon2id$not-checked-here"))
            people.save_membership(Membership(email, "default", role))
        engine = Engine(store, [http_check("api", url=f"{target}/ok", interval=3600.0)], name="e1",
                        batch_delay=0.01, companions=[runner(store, accounts=True)])
        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            [api] = engine.checks
            assert api.id is not None

            refused = await settled(store, await send(store, pause(api.id, by="vic@acme.test")))
            assert refused.outcome is CommandOutcome.REFUSED
            assert "may not pause" in refused.message
            assert engine.states[api.id].status is not Status.PAUSED

            anonymous = await settled(store, await send(store, pause(api.id)))  # people can sign in
            assert anonymous.outcome is CommandOutcome.REFUSED
            assert "sign in" in anonymous.message

            done = await settled(store, await send(store, pause(api.id, by="ana@acme.test")))
            assert done.outcome is CommandOutcome.OK
            assert engine.states[api.id].status is Status.PAUSED
            engine.stop()
        audit = people.audit_entries(None)
        assert [(e.actor, e.action, e.target) for e in audit if e.action.startswith("check.")] == [
            ("ana@acme.test", "check.pause", "default/api")
        ]

    @bounded(30)
    async def test_unknown_checks_are_refused_and_abandoned_commands_failed(self, store: SqlStore) -> None:
        engine = Engine(store, [], name="e1", companions=[runner(store)])
        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            fresh = await send(store, pause(999))  # might be another engine's brand-new check: wait
            old = await send(store, pause(998, ago=20))
            refused = await settled(store, old)
            assert refused.outcome is CommandOutcome.REFUSED
            assert refused.message == "no check with id 998 (was it removed?)"
            [waiting] = await trio.to_thread.run_sync(SqlCommandStore(store).commands, [fresh])
            assert waiting.waiting

            ghost = await send(store, pause(997))
            commands = SqlCommandStore(store)
            long_ago = now() - timedelta(minutes=5)
            await trio.to_thread.run_sync(commands.claim_command, ghost, "ghost", long_ago)
            abandoned = await settled(store, ghost)
            assert (abandoned.outcome, abandoned.claimed_by) == (CommandOutcome.FAILED, "ghost")
            assert "ghost claimed it and stopped answering" in abandoned.message
            engine.stop()


class TestAlertingCommands:
    @bounded(30)
    async def test_ack_resolve_and_silence_run_as_the_requester(self, store: SqlStore) -> None:
        engine = Engine(store, [http_check("api", interval=3600.0, paused=True)], name="e1",
                        companions=[runner(store, accounts=True)])
        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            [api] = engine.checks
            assert api.id is not None
            alerts = AlertStore(store)
            down = Flip(api.id, now(), Status.UP, Status.DOWN, "503")
            incident = alerts.apply_flip(down, api, DEFAULT_SEVERITY)
            assert incident is not None
            assert incident.id is not None

            ack = new_command("ack", org="default", requested_by="console", now=now(), check_id=api.id,
                              args={"incident_id": incident.id, "note": "on it"})
            done = await settled(store, await send(store, ack))
            assert (done.outcome, done.claimed_by) == (CommandOutcome.OK, "e1")
            assert done.message == f"#{incident.id} api acknowledged by console"
            assert alerts.incident(incident.id).status is IncidentStatus.ACKNOWLEDGED

            silence = new_command("silence", org="default", requested_by="console", now=now(),
                                  args={"check": "api", "duration": 600, "reason": "deploy"})
            made = await settled(store, await send(store, silence))
            assert made.outcome is CommandOutcome.OK
            assert [s.reason for s in alerts.silences(now())] == ["deploy"]

            resolve = new_command("resolve", org="default", requested_by="console", now=now(),
                                  args={"incident_id": incident.id})
            assert (await settled(store, await send(store, resolve))).outcome is CommandOutcome.OK
            again = await settled(store, await send(store, ack))
            assert again.outcome is CommandOutcome.REFUSED  # resolved incidents cannot be acknowledged
            assert alerts.incident(incident.id).status is IncidentStatus.RESOLVED
            engine.stop()
        actions = [e.action for e in SqlAccountsStore(store).audit_entries(None)]
        assert {"incident.ack", "silence.add", "incident.resolve"} <= set(actions)


class TestFollowingOtherEngines:
    @bounded(30)
    async def test_a_check_another_engine_stored_is_picked_up_and_others_keep_their_state(
        self, store: SqlStore, target: str
    ) -> None:
        """No ReloadChecks is sent here: only the watch of the checks' revision can notice."""
        events = EventLog()
        watch = CheckWatch(SqlChangeReads(store), every=0.1)
        yaml_check = http_check("yaml", url=f"{target}/ok", interval=0.2)
        engine = Engine(store, [yaml_check], name="e1", emit=events, batch_delay=0.01, companions=[watch])
        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            [yaml] = engine.checks
            await events.wait_for(lambda _: engine.states[yaml.id or 0].status is Status.UP)
            up_since = engine.states[yaml.id or 0].since

            api = SqlApiStore(store)
            fresh, _ = await trio.to_thread.run_sync(
                api.add_api_check, http_check("fresh", url=f"{target}/ok", origin=API_ORIGIN, interval=60.0),
                now(),
            )
            await events.wait_for(lambda _: engine.states.get(fresh.id or 0) is not None
                                  and engine.states[fresh.id or 0].status is Status.UP)
            assert sorted(c.name for c in engine.checks) == ["fresh", "yaml"]
            assert engine.states[yaml.id or 0].since == up_since  # unchanged: its state is kept
            assert watch.reloads >= 1
            engine.stop()
