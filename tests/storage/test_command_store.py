"""The commands table on both backends: insert, claim exactly once (also with engines racing), finish,
give up, prune; and the schema step that brings an older database to it."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from playhouse.migrate import SchemaMigrator, migrate

from engine.storage.cluster_records import EngineRecord
from engine.storage.command_records import CommandRecord
from engine.storage.command_store import SqlCommandStore
from engine.storage.migrations import MIGRATIONS
from engine.storage.store import SqlStore, open_store
from pulsewatch.domain.commands import CLAIM_TIMEOUT, Command, CommandAction, CommandOutcome, new_command
from pulsewatch.services.commands import give_up_if_unclaimed
from tests.storage.backends import raw_sql
from tests.storage.factories import T0, at


def pause(check_id: int = 7, *, when: float = 0.0, by: str = "ana@acme.test") -> Command:
    return new_command(CommandAction.PAUSE, org="acme", requested_by=by, now=at(when), check_id=check_id)


@pytest.fixture
def commands(store: SqlStore) -> SqlCommandStore:
    return SqlCommandStore(store)


class TestInsertAndRead:
    def test_a_command_round_trips_with_its_arguments(self, commands: SqlCommandStore) -> None:
        silence = new_command(
            "silence", org="acme", requested_by="ana@acme.test", now=T0,
            args={"check": "api", "duration": 3600, "reason": "deploy — ünïcode"},
        )
        stored = commands.add_command(silence)
        assert stored.id is not None
        [read] = commands.commands([stored.id])
        assert read == stored
        assert read.waiting
        assert not read.settled
        assert read.args == {"check": "api", "duration": 3600, "reason": "deploy — ünïcode"}

    def test_open_commands_are_the_unfinished_ones_oldest_first(self, commands: SqlCommandStore) -> None:
        first, second, third = (commands.add_command(pause(i)) for i in (1, 2, 3))
        assert first.id
        assert second.id
        assert third.id
        assert commands.claim_command(second.id, "e1", at(1))
        assert commands.finish_command(third.id, "e1", CommandOutcome.OK, "", at(1)) is False  # not its
        assert commands.claim_command(third.id, "e1", at(1))
        assert commands.finish_command(third.id, "e1", CommandOutcome.OK, "paused", at(2))
        assert [c.id for c in commands.open_commands()] == [first.id, second.id]
        assert commands.commands([]) == []


class TestClaiming:
    def test_a_command_is_claimed_once_and_finished_only_by_its_claimer(
        self, commands: SqlCommandStore
    ) -> None:
        command_id = commands.add_command(pause()).id
        assert command_id is not None
        assert commands.claim_command(command_id, "e1", at(1))
        assert not commands.claim_command(command_id, "e2", at(1))
        assert not commands.finish_command(command_id, "e2", CommandOutcome.OK, "", at(2))
        assert commands.finish_command(command_id, "e1", CommandOutcome.REFUSED, "viewer  may\nnot", at(2))
        assert not commands.finish_command(command_id, "e1", CommandOutcome.OK, "twice", at(3))
        [done] = commands.commands([command_id])
        assert (done.claimed_by, done.claimed_at, done.done_at) == ("e1", at(1), at(2))
        assert (done.outcome, done.message) == (CommandOutcome.REFUSED, "viewer may not")
        assert not commands.claim_command(command_id, "e3", at(4))

    def test_giving_up_and_claiming_race_for_one_row(self, commands: SqlCommandStore) -> None:
        waiting, claimed = (commands.add_command(pause(i)).id for i in (1, 2))
        assert waiting is not None
        assert claimed is not None
        assert commands.claim_command(claimed, "e1", at(1))
        assert not commands.expire_command(claimed, "too late", at(40))  # e1 has it: not given up
        assert commands.expire_command(waiting, "no engine is running", at(40))
        assert not commands.claim_command(waiting, "e1", at(41))  # given up: nobody may take it now
        [expired] = commands.commands([waiting])
        assert (expired.outcome, expired.claimed_by, expired.message) == (
            CommandOutcome.FAILED, None, "no engine is running")
        assert commands.abandon_command(claimed, "e1", "e1 died", at(200))
        assert commands.commands([claimed])[0].outcome is CommandOutcome.FAILED

    @pytest.mark.parametrize("claimers", [2, 4])
    def test_engines_claiming_at_once_each_get_distinct_commands(
        self, commands: SqlCommandStore, claimers: int
    ) -> None:
        """Threads with their own connections race for every command; each is won exactly once."""
        ids = [commands.add_command(pause(i)).id for i in range(1, 41)]
        won: dict[str, list[int]] = {f"e{n}": [] for n in range(claimers)}
        barrier = threading.Barrier(claimers)
        errors: list[BaseException] = []

        def claim_all(engine: str) -> None:
            try:
                barrier.wait(timeout=10)
                for command in commands.open_commands():
                    assert command.id is not None
                    if commands.claim_command(command.id, engine, at(1)):
                        won[engine].append(command.id)
            except BaseException as error:  # reported below: a thread's assert would vanish
                errors.append(error)

        threads = [threading.Thread(target=claim_all, args=(name,)) for name in won]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors
        every = [i for wins in won.values() for i in wins]
        assert sorted(every) == sorted(i for i in ids if i is not None)  # each once, none lost
        stored = {c.id: c.claimed_by for c in commands.commands([i for i in ids if i is not None])}
        assert all(stored[i] == engine for engine, wins in won.items() for i in wins)


class TestHousekeeping:
    def test_pruning_deletes_only_what_finished_before_the_cutoff(self, commands: SqlCommandStore) -> None:
        old, recent, running = (commands.add_command(pause(i)).id for i in (1, 2, 3))
        assert old
        assert recent
        assert running
        for command_id, done in ((old, at(10)), (recent, at(100))):
            commands.claim_command(command_id, "e1", at(5))
            commands.finish_command(command_id, "e1", CommandOutcome.OK, "", done)
        commands.claim_command(running, "e1", at(5))
        assert commands.prune_commands(at(50), limit=10) == 1
        assert commands.prune_commands(at(50), limit=10) == 0
        assert {c.id for c in commands.commands([old, recent, running])} == {recent, running}

    def test_live_engines_are_recent_and_not_stopped(
        self, store: SqlStore, commands: SqlCommandStore
    ) -> None:
        now = T0
        with store.session("test"):
            for name, heartbeat, stopped in (
                ("alive", now - timedelta(seconds=5), None),
                ("silent", now - timedelta(hours=1), None),
                ("stopped", now, now),
            ):
                EngineRecord.insert(name=name, region="", started_at=now, heartbeat_at=heartbeat,
                                    version="x", stopped_at=stopped).execute()
        assert commands.live_engines(now) == 1


def test_a_database_of_the_previous_version_gets_the_table_and_the_index(store_url: str) -> None:
    """Schema 11 on a version-10 database: `commands` appears, `check_states.since` is indexed."""
    up_to_10 = tuple(m for m in MIGRATIONS if m.version <= 10)
    older = open_store(store_url, migrations=up_to_10)  # an empty database gets today's tables: undo 11
    try:
        [since] = [i for i in older._db.get_indexes("check_states") if list(i.columns) == ["since"]]
        migrate(SchemaMigrator.from_database(older._db).drop_index("check_states", since.name))
        older._db.drop_tables([CommandRecord])
    finally:
        older.close()
    store = open_store(store_url, upgrade=False)
    try:
        assert "commands" not in store._db.get_tables()
        assert store.upgrade() == (10, MIGRATIONS[-1].version)
        assert "commands" in store._db.get_tables()
        assert any(list(i.columns) == ["since"] for i in store._db.get_indexes("check_states"))
        SqlCommandStore(store).add_command(pause())
        assert raw_sql(store, "SELECT COUNT(*) FROM commands") == [(1,)]
    finally:
        store.close()


class TestGivingUp:
    def test_a_console_gives_up_on_a_command_nobody_took_and_says_why(
        self, store: SqlStore, commands: SqlCommandStore
    ) -> None:
        waiting = commands.add_command(pause(when=0))
        assert not give_up_if_unclaimed(commands, waiting, at(CLAIM_TIMEOUT), "api")  # not yet
        assert give_up_if_unclaimed(commands, waiting, at(CLAIM_TIMEOUT + 1), "api")
        [failed] = commands.commands([waiting.id or 0])
        assert failed.outcome is CommandOutcome.FAILED
        assert failed.message == "no engine took it within 30 s: no engine is running"
        assert not give_up_if_unclaimed(commands, failed, at(CLAIM_TIMEOUT + 2), "api")  # once

        with store.session("test"):
            EngineRecord.insert(name="e1", region="", started_at=at(60), heartbeat_at=at(60),
                                version="x").execute()
        other = commands.add_command(pause(when=30))
        assert give_up_if_unclaimed(commands, other, at(61), "api")
        assert "no engine owns api" in commands.commands([other.id or 0])[0].message
