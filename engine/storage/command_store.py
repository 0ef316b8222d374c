"""SqlCommandStore: the commands table on the SqlStore's database (pulsewatch.services.commands.CommandPort).

Exactly-once claiming needs no lock and no `FOR UPDATE`: a claim is one conditional UPDATE
(`… SET claimed_by = me WHERE id = ? AND claimed_by IS NULL AND done_at IS NULL`), which both
backends apply atomically to the row; of several engines racing for a command, exactly one sees
one changed row. Giving up on a command (nobody claimed it in time) is the same kind of UPDATE, so a
claim and a give-up racing for one row also end with exactly one winner.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from engine.storage.cluster_records import EngineRecord
from engine.storage.command_records import CommandRecord, cut_message
from engine.storage.records import WORD_LIMIT
from pulsewatch.domain.commands import CommandOutcome

if TYPE_CHECKING:
    from collections.abc import Collection
    from datetime import datetime

    from engine.storage.store import SqlStore
    from pulsewatch.domain.commands import Command

LIVE_WITHIN = timedelta(seconds=60)
"""An engine whose heartbeat (every lease/3, i.e. 5 s by default) is older than this is not running."""


class SqlCommandStore:
    """The commands table. Thread-safe; every method is one unit of work."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def add_command(self, command: Command) -> Command:
        """Insert `command` (waiting); returns it with its id."""
        record = CommandRecord.from_domain(command)
        data = {f: getattr(record, f) for f in CommandRecord._meta.fields if f != "id"}
        with self._store.session("send a command through"), self._store.atomic():
            command_id = CommandRecord.insert(**data).execute()
        return command.with_id(int(command_id))

    def commands(self, ids: Collection[int]) -> list[Command]:
        """These commands as stored now, by id (missing ids are left out)."""
        if not ids:
            return []
        with self._store.session("read commands from"):
            query = CommandRecord.select().where(CommandRecord.id.in_(list(ids))).order_by(CommandRecord.id)
            return [r.to_domain() for r in query]

    def open_commands(self, limit: int = 200) -> list[Command]:
        """Commands not finished yet (waiting or claimed), oldest first."""
        with self._store.session("read commands from"):
            query = (
                CommandRecord.select()
                .where(CommandRecord.done_at.is_null())
                .order_by(CommandRecord.id)
                .limit(limit)
            )
            return [r.to_domain() for r in query]

    def claim_command(self, command_id: int, engine: str, now: datetime) -> bool:
        """Take a waiting command for `engine`; False when another engine (or a give-up) came first."""
        with self._store.session("claim a command in"), self._store.atomic():
            changed = (
                CommandRecord.update(claimed_by=engine[:WORD_LIMIT], claimed_at=now)
                .where(
                    (CommandRecord.id == command_id)
                    & CommandRecord.claimed_by.is_null()
                    & CommandRecord.done_at.is_null()
                )
                .execute()
            )
        return bool(changed)

    def finish_command(
        self, command_id: int, engine: str, outcome: CommandOutcome, message: str, now: datetime
    ) -> bool:
        """Write the outcome of a command `engine` claimed; False when it is no longer its to finish."""
        with self._store.session("finish a command in"), self._store.atomic():
            changed = (
                CommandRecord.update(done_at=now, outcome=outcome.value, message=cut_message(message))
                .where(
                    (CommandRecord.id == command_id)
                    & (CommandRecord.claimed_by == engine[:WORD_LIMIT])
                    & CommandRecord.done_at.is_null()
                )
                .execute()
            )
        return bool(changed)

    def expire_command(self, command_id: int, message: str, now: datetime) -> bool:
        """Fail a command nobody claimed; False when someone claimed or ended it meanwhile."""
        with self._store.session("give up on a command in"), self._store.atomic():
            changed = (
                CommandRecord.update(done_at=now, outcome=CommandOutcome.FAILED.value,
                                     message=cut_message(message))
                .where(
                    (CommandRecord.id == command_id)
                    & CommandRecord.claimed_by.is_null()
                    & CommandRecord.done_at.is_null()
                )
                .execute()
            )
        return bool(changed)

    def abandon_command(self, command_id: int, engine: str, message: str, now: datetime) -> bool:
        """Fail a command `engine` claimed and never finished (it died mid-way)."""
        return self.finish_command(command_id, engine, CommandOutcome.FAILED, message, now)

    def prune_commands(self, done_before: datetime, limit: int) -> int:
        """Delete up to `limit` commands that ended before `done_before`, oldest first."""
        with self._store.session("prune commands in"), self._store.atomic():
            ids = [
                r.id
                for r in CommandRecord.select(CommandRecord.id)
                .where(CommandRecord.done_at < done_before)
                .order_by(CommandRecord.done_at)
                .limit(limit)
            ]
            if not ids:
                return 0
            return int(CommandRecord.delete().where(CommandRecord.id.in_(ids)).execute())

    def live_engines(self, now: datetime) -> int:
        """Engines whose heartbeat is recent and that have not stopped."""
        with self._store.session("read engines from"):
            return int(
                EngineRecord.select()
                .where((EngineRecord.heartbeat_at >= now - LIVE_WITHIN) & EngineRecord.stopped_at.is_null())
                .count()
            )
