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
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import trio

from engine.spool import Spool, orphans
from pulsewatch.domain.events import StorageDown, StorageRestored
from pulsewatch.errors import StorageError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence
    from datetime import datetime

    from engine.evaluator import Record
    from engine.heartbeat_pings import PingConsumer
    from engine.metering import BatchMeter
    from engine.offload import RunSync
    from engine.stats import EngineStats
    from pulsewatch.domain.events import EngineEvent
    from pulsewatch.domain.monitoring import Flip, ProbeResult
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
        self._store = store
        self._meter = meter
        self._pings = pings
        self._limiter = write_limiter
        self._stats = stats
        self._engine = engine
        self._max_pending = max(max_pending, 1)
        self._batch_size = min(batch_size, self._max_pending)  # a batch never needs more than the bound
        self._batch_delay = batch_delay
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._run_sync = run_sync
        self._spool = spool
        self._spool_limiter = trio.CapacityLimiter(1)
        self._emit = emit
        self._wall_clock = wall_clock
        self._after_outage = after_outage
        self._pending: list[Record] = []
        """The oldest records held, in order (the next batch comes from here)."""
        self._from_spool: tuple[int, int] | None = None
        """(offset, lines) when `_pending` was read from the spool: committed once written."""
        self._spill: list[Record] = []
        """Records bound for the spool, not yet appended (newer than everything in it)."""
        self._closed = False
        self._abandoned = False
        self._parked = False
        """Stopping while the database is down: what is held stays in the spool for the next start."""
        self._backoff: trio.CancelScope | None = None
        self._down_since: float | None = None
        self._catching_up = False
        self._late_since: datetime | None = None

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
        return len(self._pending) + len(self._spill) + self._spooled()

    async def run(
        self,
        receive: trio.MemoryReceiveChannel[Record],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Write everything received until the channel is closed and drained, then return."""
        if self._spool is not None:
            await self._open_spool(self._spool)
        try:
            async with receive:
                task_status.started()
                await self._replay_orphans()
                while not (self._closed and (self._parked or not self.backlog)):
                    if self._parked or not self.backlog:
                        await self._receive_one(receive)
                        continue
                    if self._tail_on_disk() or len(self._pending) >= self._batch_size:
                        await self._take_ready(receive)
                    else:
                        with trio.move_on_after(self._batch_delay):
                            await self._fill(receive, self._batch_size)
                    if await self._next_batch():
                        await self._write_batch(receive)
                with trio.CancelScope(shield=True):
                    await self._flush_spill()
        finally:
            if self._spool is not None:
                with trio.CancelScope(shield=True):
                    await self._run_sync(self._spool.close, limiter=self._spool_limiter)

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
        while not self._closed and len(self._pending) < up_to and not self._tail_on_disk():
            await self._receive_one(receive)

    async def _take_ready(self, receive: trio.MemoryReceiveChannel[Record]) -> None:
        """Take what is already in the channel without waiting (while a backlog is being written)."""
        for _ in range(2 * self._batch_size):
            if self._closed or (self._spool is None and len(self._pending) >= self._max_pending):
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
            if self._spool is None and len(self._pending) >= self._max_pending:
                return  # no spool: stop reading; the bounded channel pushes back on the probes
            await self._receive_one(receive)

    async def _hold(self, record: Record) -> None:
        if self._spool is None or (
            not self._parked and not self._tail_on_disk() and len(self._pending) < self._max_pending
        ):
            self._pending.append(record)
            self._stats.records_pending = len(self._pending)
            return
        self._spill.append(record)
        if len(self._spill) >= self._batch_size:
            await self._flush_spill()

    # -- the spool ------------------------------------------------------------------------------

    def _spooled(self) -> int:
        return self._spool.unread if self._spool is not None else 0

    def _tail_on_disk(self) -> bool:
        """Newer records queue behind the spool until it is empty (order is kept)."""
        return bool(self._spill) or self._spooled() > 0

    async def _open_spool(self, spool: Spool) -> None:
        try:
            opened = await self._run_sync(spool.open, limiter=self._spool_limiter)
        except OSError as exc:
            log.error("cannot open the spool %s, outages will hold records in memory only: %s",
                      spool.path, exc, extra={"engine": self._engine})
            opened = False
        if not opened:
            if spool.path.exists():
                log.warning("the spool %s is held by another engine of the same name; outages will hold "
                            "results in memory only", spool.path, extra={"engine": self._engine})
            self._spool = None
            return
        if spool.unread:  # an earlier run's leftovers: replayed like an orphan's, before anything new
            log.info("spool %s holds %d records from an earlier run", spool.path, spool.unread,
                     extra={"engine": self._engine, "rows": spool.unread})
            self._stats.records_spooled = spool.unread

    async def _flush_spill(self) -> None:
        if not self._spill or self._spool is None:
            return
        spill, self._spill = self._spill, []
        try:
            await self._run_sync(self._spool.append, spill, limiter=self._spool_limiter)
        except OSError as exc:
            # The disk refuses too: keep them in memory (beyond the bound) rather than lose them.
            log.error("cannot write the spool %s: %s", self._spool.path, exc, extra={"engine": self._engine})
            self._spill = spill + self._spill
            return
        self._stats.records_spooled = self._spool.unread

    async def _next_batch(self) -> bool:
        """Make sure `_pending` holds the next batch in order; False when there is nothing to write."""
        if self._pending:
            return True
        if self._spool is None or not self._tail_on_disk():
            return False
        await self._flush_spill()
        records, offset, lines = await self._run_sync(
            self._spool.read, self._batch_size, limiter=self._spool_limiter
        )
        self._pending = records
        self._from_spool = (offset, lines)
        if not records and lines:  # only unreadable lines: skip them
            await self._commit_spool()
        return bool(records)

    async def _commit_spool(self) -> None:
        if self._from_spool is None or self._spool is None:
            return
        offset, lines = self._from_spool
        self._from_spool = None
        await self._run_sync(self._spool.commit, offset, lines, limiter=self._spool_limiter)
        self._stats.records_spooled = self._spool.unread

    async def _replay_orphans(self) -> None:
        """Write the results and flips of spool files that no running engine holds (see engine.spool)."""
        if self._spool is None:
            return
        if self._spool.unread and await self._replay(self._spool):
            self._stats.records_spooled = self._spool.unread
        for path in orphans(self._spool.path.parent, self._spool.path):
            orphan = Spool(path)
            if not await self._run_sync(orphan.open, limiter=self._spool_limiter):
                continue  # its engine runs
            try:
                written = await self._replay(orphan)
            finally:
                await self._run_sync(orphan.close, limiter=self._spool_limiter)
            if written:
                log.info("wrote %d results left in the spool %s", written, path,
                         extra={"engine": self._engine, "rows": written})

    async def _replay(self, orphan: Spool) -> int:
        written = 0
        while orphan.unread:
            records, offset, lines = await self._run_sync(
                orphan.read, self._batch_size, limiter=self._spool_limiter
            )
            try:
                await self._write(records, states=False)
            except StorageError as exc:
                log.warning("left %s for later: %s", orphan.path, exc, extra={"engine": self._engine})
                return written
            self._note_late(records)
            await self._run_sync(orphan.commit, offset, lines, limiter=self._spool_limiter)
            written += len(records)
        await self._catch_up()
        return written

    # -- writing --------------------------------------------------------------------------------

    async def _write_batch(self, receive: trio.MemoryReceiveChannel[Record]) -> None:
        """Write the oldest `batch_size` records, retrying with backoff until the store takes them
        (or, when the engine stops during an outage, until they are spooled or given up)."""
        batch = self._pending[: self._batch_size]
        delay = self._retry_initial
        while True:
            try:
                await self._write(batch)
            except StorageError as exc:
                self._stats.write_errors += 1
                self._outage(exc)
                if self._abandoned or (self._closed and self._spool is not None):
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
                await self._flush_spill()
                delay = min(delay * 2, self._retry_max)
                continue
            break
        if self._catching_up:
            self._note_late(batch)
        del self._pending[: len(batch)]
        self._stats.records_pending = len(self._pending)
        if not self._pending:
            await self._commit_spool()
        if self._down_since is not None:
            self._restored()
        if self._catching_up and not self.backlog:
            self._catching_up = False
            await self._catch_up()

    async def _write(self, batch: Sequence[Record], *, states: bool = True) -> None:
        started = time.perf_counter()
        # Not abandoned on cancel: a write in progress always completes, so what the store
        # committed and what the stats say agree.
        results, flips = await self._run_sync(self._record, batch, states, limiter=self._limiter)
        elapsed = time.perf_counter() - started
        self._stats.write_batches += 1
        self._stats.results_written += results
        self._stats.flips_written += flips
        self._stats.last_write_duration = elapsed
        self._stats.max_write_duration = max(self._stats.max_write_duration, elapsed)
        self._stats.write_latency.observe(elapsed)

    def _record(self, batch: Sequence[Record], states: bool) -> tuple[int, int]:
        """The store write (in a worker thread); returns the results and flips written.

        Records that apply stored heartbeat pings are written inside the transaction that deletes
        those pings; one whose ping is already gone (another engine's write applied it) is left out.
        """
        pings = [r.ping for r in batch if r.ping is not None]
        if not pings or self._pings is None:
            return self._record_rows(batch, states)
        with self._pings.consuming(pings) as present:
            return self._record_rows([r for r in batch if r.ping is None or r.ping in present], states)

    def _record_rows(self, batch: Sequence[Record], states: bool) -> tuple[int, int]:
        """`store.record`, inside the usage meter's transaction when metered."""
        results: list[ProbeResult] = [r.result for r in batch if r.result is not None]
        latest = {r.state.check_id: r.state for r in batch if r.writes_state} if states else {}
        flips: list[Flip] = [r.flip for r in batch if r.flip is not None]
        if self._meter is None or not results:
            self._store.record(results, list(latest.values()), flips)
        else:
            with self._meter.metering(results):
                self._store.record(results, list(latest.values()), flips)
        return len(results), len(flips)

    def _outage(self, exc: StorageError) -> None:
        if self._down_since is not None:
            return
        self._down_since = time.monotonic()
        self._catching_up = True
        self._stats.storage_down = True
        self._stats.outages += 1
        log.warning("database writes fail; probing goes on and results are held: %s", exc,
                    extra={"engine": self._engine, "pending": self.backlog})
        if self._wall_clock is not None:
            self._emit(
                StorageDown(engine=self._engine, at=self._wall_clock(), error=str(exc), pending=self.backlog)
            )

    def _restored(self) -> None:
        down_for = time.monotonic() - (self._down_since or time.monotonic())
        self._down_since = None
        self._stats.storage_down = False
        log.info("database writes work again after %.1fs; writing %d held records", down_for, self.backlog,
                 extra={"engine": self._engine, "rows": self.backlog})
        if self._wall_clock is not None:
            self._emit(StorageRestored(
                engine=self._engine, at=self._wall_clock(), down_for_s=round(down_for, 3),
                backlog=self.backlog,
            ))

    def _note_late(self, records: Sequence[Record]) -> None:
        for record in records:
            if record.result is not None and (
                self._late_since is None or record.result.started_at < self._late_since
            ):
                self._late_since = record.result.started_at

    async def _catch_up(self) -> None:
        since, self._late_since = self._late_since, None
        if since is not None and self._after_outage is not None:
            try:
                await self._after_outage(since)
            except StorageError as exc:
                log.warning(
                    "could not rewind rollups after an outage: %s", exc, extra={"engine": self._engine}
                )

    async def _give_up(self, exc: StorageError) -> None:
        """Stopping while the database is down: spool what is held, or drop it without a spool."""
        if self._spool is not None:
            held = self._pending if self._from_spool is None else []  # read from the spool: still there
            self._pending, self._from_spool = [], None
            with trio.CancelScope(shield=True):
                try:  # memory holds the oldest records: they go before what the spool has
                    await self._run_sync(self._spool.prepend, held, limiter=self._spool_limiter)
                except OSError as disk_error:
                    log.error("cannot write the spool %s: %s", self._spool.path, disk_error,
                              extra={"engine": self._engine})
                    self._spill = held + self._spill
                await self._flush_spill()
            self._stats.records_spooled = self._spool.unread
            if not self._spill:
                self._parked = True
                log.warning(
                    "the database is down at stop: %d records stay in the spool %s for the next start",
                    self._spool.unread, self._spool.path,
                    extra={"engine": self._engine, "rows": self._spool.unread},
                )
                self._stats.records_pending = 0
                return
            held, self._spill = self._spill, []
        else:
            held, self._pending = self._pending, []
        self._stats.records_pending = 0
        self._stats.records_abandoned += len(held)
        log.error("forced stop: %d records could not be written and are lost: %s", len(held), exc,
                  extra={"engine": self._engine, "rows": len(held)})
