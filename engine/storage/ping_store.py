"""PingStore: heartbeat pings in transit from the engine that received them to the engine that owns the check.

`add` is the receiver's durable write (the HTTP answer waits for it). `pending` is the owner's poll:
one query over the `(shard, id)` index. `consuming` is the owner's write of what the pings did: the
recorder runs its batch inside it, so a ping's row disappears in the same transaction that stores
its result — a crash before that leaves the ping for the next owner, a crash after leaves nothing to
apply again, and a ping another engine's write already took is left out of this one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.storage.ping_records import HeartbeatPingRecord
from engine.storage.records import WORD_LIMIT
from pulsewatch.domain.heartbeats import Ping, PingKind

if TYPE_CHECKING:
    from datetime import datetime

    from engine.storage.store import SqlStore


@dataclass(frozen=True)
class PendingPing:
    """A stored ping its check's owner has not applied yet."""

    id: int
    check_id: int
    received_at: datetime
    ping: Ping
    engine: str
    """The engine that received it."""


class PingStore:
    """The `heartbeat_pings` table on the SqlStore's database (thread-safe like it)."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def add(self, check_id: int, shard: int, ping: Ping, received_at: datetime, engine: str) -> int:
        """Store a received ping (committed when this returns); returns its id.

        Raises:
            StorageError: the database failed; the ping is not stored.
        """
        with self._store.session("store a heartbeat ping in"), self._store.atomic():
            return int(
                HeartbeatPingRecord.insert(
                    check_id=check_id, shard=shard, received_at=received_at, kind=ping.kind.value,
                    exit_status=ping.exit_status, body=ping.body, engine=engine[:WORD_LIMIT],
                ).execute()
            )

    def pending(self, shards: Collection[int], limit: int, skip: Collection[int] = ()) -> list[PendingPing]:
        """The oldest `limit` stored pings of checks in `shards`, oldest first, leaving out the ids in `skip`.

        Raises:
            StorageError: the database failed.
        """
        if not shards or limit <= 0:
            return []
        where = HeartbeatPingRecord.shard.in_(sorted(shards))
        if skip:
            where &= HeartbeatPingRecord.id.not_in(sorted(skip))
        with self._store.session("read heartbeat pings from"):
            query = HeartbeatPingRecord.select().where(where).order_by(HeartbeatPingRecord.id).limit(limit)
            return [
                PendingPing(
                    id=r.id, check_id=r.check_id, received_at=r.received_at,
                    ping=Ping(PingKind(r.kind), exit_status=r.exit_status, body=r.body), engine=r.engine,
                )
                for r in query
            ]

    @contextmanager
    def consuming(self, ids: Collection[int]) -> Iterator[frozenset[int]]:
        """A transaction that deletes the pings `ids` and yields those that were still there.

        The caller writes what the yielded pings did inside the block; pings missing from it were
        applied by someone else already (a shard that changed hands mid-write) and must be left out.

        Raises:
            StorageError: the database failed; nothing was deleted.
        """
        with self._store.session("apply heartbeat pings in"), self._store.atomic(claim=True):
            query = HeartbeatPingRecord.select(HeartbeatPingRecord.id).where(
                HeartbeatPingRecord.id.in_(sorted(ids))
            )
            if self._store.is_mysql:
                query = query.for_update()
            present = frozenset(r.id for r in query)
            if present:
                HeartbeatPingRecord.delete().where(HeartbeatPingRecord.id.in_(sorted(present))).execute()
            yield present

    def drop(self, ids: Collection[int]) -> None:
        """Delete pings that will never be applied (their check no longer exists).

        Raises:
            StorageError: the database failed.
        """
        if not ids:
            return
        with self._store.session("drop heartbeat pings from"), self._store.atomic():
            HeartbeatPingRecord.delete().where(HeartbeatPingRecord.id.in_(sorted(ids))).execute()
