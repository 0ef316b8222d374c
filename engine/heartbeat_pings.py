"""Heartbeat checks on several engines: the owner of a check's shard judges it; pings cross the database.

A job's ping lands on whichever engine its HTTP request reaches, but only one engine may judge a
heartbeat check — the one holding its shard and deciding it (engine.cluster) — or every engine
would report it late and record its pings twice. So:

- **Received by the owner**: applied at once, as on a lone engine (no added latency).
- **Received by another engine**: stored in `heartbeat_pings` (engine.storage.ping_store); the HTTP
  answer "OK" waits for the commit, so an acknowledged ping is never lost, and a database that
  refuses it turns into a 503 the job can retry.
- **The owner** polls the pings of its shards every POLL_EVERY seconds (one indexed query, and none
  while it owns no heartbeat check) and applies them as if received at their `received_at`. The
  record of each carries the ping's id, and the recorder deletes the ping in the transaction that
  writes the result (`consuming`): applied exactly once, even across a crash or a shard changing
  hands mid-write. Ids applied but not yet written are remembered, so the next poll skips them.
- **Lateness**: while other engines are live, a deadline is given SETTLE more seconds for pings in
  transit, the queue is read once more, and the check's last ping is read back from the stored
  results before a "late" result is made — a ping any engine received in time always wins.
- **Handover**: when shards move (an engine stopped or died), the new owner reads each gained
  check's last ping back from the stored results (`recover_times`) and judges from there.

Without a cluster with a ping queue (a lone engine built by tests, or an engine without the
database table) there is nothing shared: every engine judges every heartbeat check, as before.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Collection, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

import trio

from pulsewatch.domain.cluster import shard_of
from pulsewatch.errors import StorageError

if TYPE_CHECKING:
    from datetime import datetime

    from engine.cluster import Cluster
    from engine.offload import RunSync
    from engine.storage.ping_store import PendingPing
    from pulsewatch.domain.heartbeats import HeartbeatTimes, Ping

log = logging.getLogger("pulsewatch.engine.heartbeats")

POLL_EVERY = 1.0
"""Seconds between two looks for pings other engines received for checks this engine owns."""
POLL_BATCH = 500
"""Most pings applied per poll; more wait for the next one."""
SETTLE = 2.0
"""Extra seconds a deadline waits, while other engines are live, for a ping received in time elsewhere."""
FORGET_UNKNOWN_AFTER = timedelta(hours=1)
"""A stored ping of a check this engine does not know (deleted since, or not yet reloaded here) is
kept this long for a config reload to bring the check, then dropped."""


class PingConsumer(Protocol):
    """What the recorder needs: a transaction around a batch that deletes the stored pings it applies."""

    def consuming(self, ids: Collection[int]) -> AbstractContextManager[frozenset[int]]:
        """Delete the pings `ids`; yield those that were still there (the others are left out)."""
        ...


class PingQueue(Protocol):
    """The stored pings (engine.storage.ping_store.PingStore); blocking, called in worker threads."""

    def add(self, check_id: int, shard: int, ping: Ping, received_at: datetime, engine: str) -> int: ...

    def pending(
        self, shards: Collection[int], limit: int, skip: Collection[int] = ()
    ) -> list[PendingPing]: ...

    def consuming(self, ids: Collection[int]) -> AbstractContextManager[frozenset[int]]: ...

    def drop(self, ids: Collection[int]) -> None: ...


class SharedPings:
    """This engine's part in heartbeat checks shared with other engines.

    Args:
        cluster: the engine's shard leases (who owns what, how many engines are live).
        queue: the stored pings.
        engine: this engine's name, stamped on the pings it stores.
        run_sync: how blocking calls reach a worker thread.
        read_limiter: the engine's limiter for database reads (the polls).
        write_limiter: the engine's database writer slot (storing a ping).
    """

    def __init__(
        self,
        cluster: Cluster,
        queue: PingQueue,
        *,
        engine: str,
        run_sync: RunSync,
        read_limiter: trio.CapacityLimiter,
        write_limiter: trio.CapacityLimiter,
    ) -> None:
        self._cluster = cluster
        self._queue = queue
        self._engine = engine
        self._run_sync = run_sync
        self._read_limiter = read_limiter
        self._write_limiter = write_limiter
        self._in_flight: set[int] = set()
        """Stored pings applied here whose record the recorder has not written yet."""
        self._written: deque[int] = deque()
        """Ids the recorder is done with; appended in its worker thread (deque appends are atomic)."""
        self._unknown: dict[int, PendingPing] = {}
        """Stored pings of checks this engine does not know, kept until it does or they are old."""
        self._poll_failing = False

    # -- who judges (trio thread) ---------------------------------------------------------------

    def owns(self, check_id: int) -> bool:
        """Whether this engine judges the heartbeat check: it holds and decides its shard."""
        return self._cluster.owns(check_id) and self._cluster.decides(check_id)

    def in_shards(self, check_id: int, shards: Collection[int]) -> bool:
        """Whether the check belongs to one of `shards`."""
        return shard_of(check_id, self._cluster.shards) in shards

    @property
    def settle(self) -> timedelta:
        """How much longer than its deadline a check waits before it is late (pings in transit)."""
        return timedelta(seconds=SETTLE if self._cluster.live_engines > 1 else 0.0)

    # -- pings in transit ---------------------------------------------------------------------

    async def forward(self, check_id: int, ping: Ping, received_at: datetime) -> None:
        """Store a ping for the check's owner; returns once it is committed.

        Raises:
            StorageError: the database refused; the ping is not stored (the caller answers 503).
        """
        shard = shard_of(check_id, self._cluster.shards)
        await self._run_sync(
            self._queue.add, check_id, shard, ping, received_at, self._engine, limiter=self._write_limiter
        )

    async def take(self, known: Collection[int], now: datetime) -> list[PendingPing]:
        """The stored pings of owned checks not applied yet, in the order they were received.

        Each one returned counts as applied from now on (the caller applies it at once, on the trio
        thread, and hands its record to the recorder). Database failures are logged, not raised: the
        pings wait in the database for the next poll.
        """
        self._forget_written()
        shards = self._cluster.deciding & self._cluster.held if self._cluster.lease_valid() else frozenset()
        if not shards:
            return []
        skip = self._in_flight | self._unknown.keys()
        try:
            pending = await self._run_sync(
                self._queue.pending, shards, POLL_BATCH, frozenset(skip), limiter=self._read_limiter
            )
        except StorageError as exc:
            if not self._poll_failing:
                log.warning("cannot read heartbeat pings other engines received: %s", exc,
                            extra={"engine": self._engine})
            self._poll_failing = True
            return []
        self._poll_failing = False
        for ping_id, stored in list(self._unknown.items()):
            if not self.in_shards(stored.check_id, shards):  # the shard moved: its new owner has it
                del self._unknown[ping_id]
        found = [*self._unknown.values(), *pending]
        ready: list[PendingPing] = []
        stale: list[int] = []
        for stored in found:
            if stored.id in self._in_flight:  # a concurrent poll returned it too
                continue
            if stored.check_id in known:
                self._unknown.pop(stored.id, None)
                ready.append(stored)
            elif now - stored.received_at > FORGET_UNKNOWN_AFTER:
                stale.append(stored.id)
            else:
                self._unknown[stored.id] = stored
        self._in_flight.update(p.id for p in ready)
        if stale:
            await self._drop(stale)
        return sorted(ready, key=lambda p: (p.received_at, p.id))

    def give_back(self, ping_id: int) -> None:
        """A ping `take` returned was not applied after all (its check went away meanwhile)."""
        self._in_flight.discard(ping_id)

    @contextmanager
    def consuming(self, ids: Collection[int]) -> Iterator[frozenset[int]]:
        """The recorder's transaction for a batch applying stored pings (see PingConsumer).

        Runs in the recorder's worker thread; once the batch is committed the ids are done with.
        """
        with self._queue.consuming(ids) as present:
            yield present
        self._written.extend(ids)

    def _forget_written(self) -> None:
        while self._written:
            self._in_flight.discard(self._written.popleft())

    async def _drop(self, ids: list[int]) -> None:
        try:
            await self._run_sync(self._queue.drop, ids, limiter=self._write_limiter)
        except StorageError as exc:
            log.warning("cannot drop %d heartbeat pings of unknown checks: %s", len(ids), exc,
                        extra={"engine": self._engine})
            return
        for ping_id in ids:
            self._unknown.pop(ping_id, None)
        log.warning("dropped %d heartbeat pings of checks that no longer exist", len(ids),
                    extra={"engine": self._engine})


def shared_pings(
    cluster: Cluster | None,
    *,
    engine: str,
    run_sync: RunSync,
    read_limiter: trio.CapacityLimiter,
    write_limiter: trio.CapacityLimiter,
) -> SharedPings | None:
    """The engine's SharedPings when its cluster has a ping queue; None: it judges every heartbeat check."""
    if cluster is None or cluster.pings is None:
        return None
    return SharedPings(cluster, cluster.pings, engine=engine, run_sync=run_sync, read_limiter=read_limiter,
                       write_limiter=write_limiter)


def later_times(known: HeartbeatTimes, stored: HeartbeatTimes) -> HeartbeatTimes:
    """`known` (this engine's view of a check's pings), moved on to `stored`'s last ping when that is later.

    `stored` is read back from the results table: it includes pings other engines applied while
    this one was not the owner, or that an owner wrote just before handing the check over.
    """
    if stored.last_ping is None or (known.last_ping is not None and stored.last_ping <= known.last_ping):
        return known
    return replace(known, last_ping=stored.last_ping, last_start=stored.last_start, reported=None)
