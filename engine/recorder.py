"""The single writer: drains the results channel into batched `store.record` calls, losing nothing.

Batches close at `batch_size` records or `batch_delay` seconds after their first record, whichever
comes first: hundreds of rows per transaction at load, a quarter-second delay at worst when quiet.

**Database outages.** A failed write starts an outage: `StorageDown` is emitted and logged, the
batch is retried with exponential backoff, and the recorder keeps receiving so probes never wait.
Records are held in memory up to `max_pending`; past it, with a spool (engine.spool), newer records
go to a local append-only file, fsync'd in batches, so memory stays bounded however long the outage
lasts. When a write succeeds again (`StorageRestored`), everything is written back in order: the
memory head first, then the spool from its read offset, while records that keep arriving queue
behind the spool until it is empty. Without a spool (tests), a full memory bound stops the reading
and the bounded channel pushes back on the probes instead.

**Stopping.** When the channel closes (engine stop) everything held is written before `run`
returns. If the database is down at that moment, a recorder with a spool puts what it holds in the
spool and returns: the next start of an engine on this host writes it. Without a spool it retries
until `abandon()` (a forced stop) drops what the database refuses.

The recorder owns the loop and the memory tier; its parts live beside it: engine.recorder_write (one
batch in one transaction), engine.recorder_spool (the disk tier and leftover spools) and
engine.recorder_outage (outage events and the rollup rewind after late writes).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import trio

from engine.recorder_outage import OutageTracker
from engine.recorder_spool import SpoolTier
from engine.recorder_write import BatchWriter
from pulsewatch.errors import StorageError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from datetime import datetime

    from engine.evaluator import Record
    from engine.heartbeat_pings import PingConsumer
    from engine.metering import BatchMeter
    from engine.offload import RunSync
    from engine.spool import Spool
    from engine.stats import EngineStats
    from pulsewatch.domain.events import EngineEvent
    from pulsewatch.services.ports import MonitoringStore

log = logging.getLogger("pulsewatch.engine.recorder")


def _ignore(event: EngineEvent) -> None:
    """No host listens."""


class Recorder:
    """Writes records to the store in batches from a worker thread under `write_limiter`.

    Args:
        store: the store (sync, blocking: only ever called in a thread).
        write_limiter: the database writer slot, shared with every other store write.
        stats: where written rows, batches, write errors and durations are counted.
        engine: the engine's name, for logs and events.
        batch_size: the most records per `store.record` call (and per spool append).
        batch_delay: how long a batch may wait for more records, in seconds.
        max_pending: the most records held in memory while the database is failing.
        retry_initial: the first backoff delay after a failed write, in seconds; it doubles each time.
        retry_max: the longest backoff delay, in seconds.
        run_sync: how blocking store and file calls reach a worker thread (see engine.offload).
        spool: the spool file past `max_pending` (opened by `run`); None: back-pressure instead.
        emit: the host's event sink, for StorageDown and StorageRestored.
        wall_clock: timestamps of those events.
        after_outage: awaited with the start time of the oldest result written late, once an outage's
            backlog (or an orphaned spool) has been written (the engine rewinds its rollups).
        meter: counts each batch's results as usage (engine.metering) in the batch's own transaction:
            the counters and the results table never disagree, whichever engine wrote them.
        pings: deletes the stored heartbeat pings a batch applies, in the batch's transaction
            (engine.heartbeat_pings); None: no record carries one.
    """

    def __init__(
        self,
        store: MonitoringStore,
        *,
        write_limiter: trio.CapacityLimiter,
        stats: EngineStats,
        engine: str,
        batch_size: int = 500,
        batch_delay: float = 0.25,
        max_pending: int = 50_000,
        retry_initial: float = 0.5,
        retry_max: float = 10.0,
        run_sync: RunSync = trio.to_thread.run_sync,
        spool: Spool | None = None,
        emit: Callable[[EngineEvent], None] = _ignore,
        wall_clock: Callable[[], datetime] | None = None,
        after_outage: Callable[[datetime], Awaitable[None]] | None = None,
        meter: BatchMeter | None = None,
        pings: PingConsumer | None = None,
    ) -> None:
        self._stats = stats
        self._engine = engine
        self._max_pending = max(max_pending, 1)
        self._batch_size = min(batch_size, self._max_pending)  # a batch never needs more than the bound
        self._batch_delay = batch_delay
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._writer = BatchWriter(
            store, write_limiter=write_limiter, stats=stats, run_sync=run_sync, meter=meter, pings=pings
        )
        self._spool = SpoolTier(
            spool, run_sync=run_sync, stats=stats, engine=engine, batch_size=self._batch_size
        )
        self._outage = OutageTracker(
            engine=engine, stats=stats, emit=emit, wall_clock=wall_clock, after_outage=after_outage
        )
        self._pending: list[Record] = []
        """The oldest records held, in order (the next batch comes from here)."""
        self._closed = False
        self._abandoned = False
        self._parked = False
        """Stopping while the database is down: what is held stays in the spool for the next start."""
        self._backoff: trio.CancelScope | None = None

    def abandon(self) -> None:
        """A forced stop: stop retrying. Held records go to the spool, or are dropped without one.

        While writes succeed, everything is still written; only an unreachable database loses data,
        and only without a spool.
        """
        self._abandoned = True
        if self._backoff is not None:
            self._backoff.cancel()

    @property
    def backlog(self) -> int:
        """Records held and not yet written (memory and spool)."""
        return len(self._pending) + self._spool.backlog

    async def run(
        self,
        receive: trio.MemoryReceiveChannel[Record],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Write everything received until the channel is closed and drained, then return."""
        await self._spool.open()
        try:
            async with receive:
                task_status.started()
                await self._spool.replay_leftovers(self._writer, self._outage)
                while not (self._closed and (self._parked or not self.backlog)):
                    if self._parked or not self.backlog:
                        await self._receive_one(receive)
                        continue
                    if self._spool.tail_on_disk() or len(self._pending) >= self._batch_size:
                        await self._take_ready(receive)
                    else:
                        with trio.move_on_after(self._batch_delay):
                            await self._fill(receive, self._batch_size)
                    if await self._next_batch():
                        await self._write_batch(receive)
                with trio.CancelScope(shield=True):
                    await self._spool.flush()
        finally:
            with trio.CancelScope(shield=True):
                await self._spool.close()

    # -- receiving ------------------------------------------------------------------------------

    async def _receive_one(self, receive: trio.MemoryReceiveChannel[Record]) -> None:
        try:
            record = await receive.receive()
        except trio.EndOfChannel:
            self._closed = True
            return
        await self._hold(record)

    async def _fill(self, receive: trio.MemoryReceiveChannel[Record], up_to: int) -> None:
        """Receive until `up_to` records are in memory or the channel ends."""
        while not self._closed and len(self._pending) < up_to and not self._spool.tail_on_disk():
            await self._receive_one(receive)

    async def _take_ready(self, receive: trio.MemoryReceiveChannel[Record]) -> None:
        """Take what is already in the channel without waiting (while a backlog is being written)."""
        for _ in range(2 * self._batch_size):
            if self._closed or (self._spool.spool is None and len(self._pending) >= self._max_pending):
                return
            try:
                record = receive.receive_nowait()
            except trio.WouldBlock:
                return
            except trio.EndOfChannel:
                self._closed = True
                return
            await self._hold(record)

    async def _absorb(self, receive: trio.MemoryReceiveChannel[Record]) -> None:
        """During a backoff: keep receiving (to the spool past the memory bound), so probes never wait."""
        while not self._closed:
            if self._spool.spool is None and len(self._pending) >= self._max_pending:
                return  # no spool: stop reading; the bounded channel pushes back on the probes
            await self._receive_one(receive)

    async def _hold(self, record: Record) -> None:
        if self._spool.spool is None or (
            not self._parked and not self._spool.tail_on_disk() and len(self._pending) < self._max_pending
        ):
            self._pending.append(record)
            self._stats.records_pending = len(self._pending)
            return
        await self._spool.add(record)

    async def _next_batch(self) -> bool:
        """Make sure `_pending` holds the next batch in order; False when there is nothing to write."""
        if self._pending:
            return True
        self._pending = await self._spool.read_batch()
        return bool(self._pending)

    # -- writing --------------------------------------------------------------------------------

    async def _write_batch(self, receive: trio.MemoryReceiveChannel[Record]) -> None:
        """Write the oldest `batch_size` records, retrying with backoff until the store takes them
        (or, when the engine stops during an outage, until they are spooled or given up)."""
        batch = self._pending[: self._batch_size]
        delay = self._retry_initial
        while True:
            try:
                await self._writer.write(batch)
            except StorageError as exc:
                self._stats.write_errors += 1
                self._outage.begin(exc, backlog=self.backlog)
                if self._abandoned or (self._closed and self._spool.spool is not None):
                    await self._give_up(exc)
                    return
                log.warning(
                    "writing %d records failed, retrying in %gs: %s", len(batch), delay, exc,
                    extra={
                        "engine": self._engine, "rows": len(batch), "pending": self.backlog,
                        "retry_in": delay,
                    },
                )
                with trio.move_on_after(delay) as self._backoff:
                    await self._absorb(receive)
                    await trio.sleep_forever()  # buffer full or channel closed: wait out the delay
                self._backoff = None
                await self._spool.flush()
                delay = min(delay * 2, self._retry_max)
                continue
            break
        if self._outage.catching_up:
            self._outage.note_late(batch)
        del self._pending[: len(batch)]
        self._stats.records_pending = len(self._pending)
        if not self._pending:
            await self._spool.commit()
        if self._outage.down:
            self._outage.end(backlog=self.backlog)
        if self._outage.catching_up and not self.backlog:
            self._outage.catching_up = False
            await self._outage.catch_up()

    async def _give_up(self, exc: StorageError) -> None:
        """Stopping while the database is down: spool what is held, or drop it without a spool."""
        if self._spool.spool is not None:
            pending, self._pending = self._pending, []
            held = await self._spool.park(pending)
            if not held:
                self._parked = True
                self._stats.records_pending = 0
                return
        else:
            held, self._pending = self._pending, []
        self._stats.records_pending = 0
        self._stats.records_abandoned += len(held)
        log.error("forced stop: %d records could not be written and are lost: %s", len(held), exc,
                  extra={"engine": self._engine, "rows": len(held)})
