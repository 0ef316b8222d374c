"""The single writer: drains the results channel into batched `store.record` calls, losing nothing.

Batches close at `batch_size` records or `batch_delay` seconds after their first record, whichever
comes first: hundreds of rows per transaction at load, a quarter-second delay at worst when quiet.
If the database fails, the batch is kept and retried with exponential backoff while new records
keep being buffered, up to a bound; past it the recorder stops reading and the bounded channel
pushes back on the probes. When the channel closes (engine stop) everything still held is written
before `run` returns.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import trio

from pulsewatch.errors import StorageError

if TYPE_CHECKING:
    from engine.evaluator import Record
    from engine.offload import RunSync
    from engine.stats import EngineStats
    from pulsewatch.domain.monitoring import CheckState, Flip, ProbeResult
    from pulsewatch.services.ports import MonitoringStore

log = logging.getLogger("pulsewatch.engine.recorder")


class Recorder:
    """Writes records to the store in batches from a worker thread under `write_limiter`.

    Args:
        store: the store (sync, blocking: only ever called in a thread).
        write_limiter: the database writer slot, shared with every other store write.
        stats: where written rows, batches, write errors and durations are counted.
        engine: the engine's name, for logs.
        batch_size: the most records per `store.record` call.
        batch_delay: how long a batch may wait for more records, in seconds.
        max_pending: the most records held while the database is failing.
        retry_initial: the first backoff delay after a failed write, in seconds; it doubles each time.
        retry_max: the longest backoff delay, in seconds.
        run_sync: how blocking store calls reach a worker thread (see engine.offload).
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
        retry_max: float = 30.0,
        run_sync: RunSync = trio.to_thread.run_sync,
    ) -> None:
        self._store = store
        self._limiter = write_limiter
        self._stats = stats
        self._engine = engine
        self._batch_size = batch_size
        self._batch_delay = batch_delay
        self._max_pending = max(max_pending, batch_size)
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._run_sync = run_sync
        self._pending: list[Record] = []
        self._closed = False
        self._abandoned = False
        self._backoff: trio.CancelScope | None = None

    def abandon(self) -> None:
        """Give up on records the database refuses (a forced stop): the next failed write drops them.

        While writes succeed, everything is still written; only an unreachable database loses data.
        """
        self._abandoned = True
        if self._backoff is not None:
            self._backoff.cancel()

    async def run(
        self,
        receive: trio.MemoryReceiveChannel[Record],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Write everything received until the channel is closed and drained, then return."""
        async with receive:
            task_status.started()
            while not (self._closed and not self._pending):
                if not self._pending:
                    await self._receive_one(receive)
                    if not self._pending:
                        continue
                with trio.move_on_after(self._batch_delay):
                    await self._fill(receive, self._batch_size)
                await self._write_batch(receive)

    async def _receive_one(self, receive: trio.MemoryReceiveChannel[Record]) -> None:
        try:
            self._pending.append(await receive.receive())
        except trio.EndOfChannel:
            self._closed = True
        self._stats.records_pending = len(self._pending)

    async def _fill(self, receive: trio.MemoryReceiveChannel[Record], up_to: int) -> None:
        """Receive until `up_to` records are held or the channel ends."""
        while not self._closed and len(self._pending) < up_to:
            await self._receive_one(receive)

    async def _write_batch(self, receive: trio.MemoryReceiveChannel[Record]) -> None:
        """Write the oldest `batch_size` records, retrying with backoff until the store takes them."""
        batch = self._pending[: self._batch_size]
        delay = self._retry_initial
        failures = 0
        while True:
            try:
                await self._write(batch)
            except StorageError as exc:
                self._stats.write_errors += 1
                failures += 1
                if self._abandoned:
                    self._drop(len(batch), exc)
                    return
                log.warning(
                    "writing %d records failed, retrying in %gs: %s",
                    len(batch),
                    delay,
                    exc,
                    extra={
                        "engine": self._engine,
                        "rows": len(batch),
                        "pending": len(self._pending),
                        "retry_in": delay,
                    },
                )
                # Keep reading while waiting, so probes are not held up until the buffer bound.
                with trio.move_on_after(delay) as self._backoff:
                    await self._fill(receive, self._max_pending)
                    await trio.sleep_forever()  # buffer full or channel closed: wait out the delay
                self._backoff = None
                delay = min(delay * 2, self._retry_max)
                continue
            if failures:
                log.info(
                    "database writes recovered after %d failed attempts",
                    failures,
                    extra={"engine": self._engine, "rows": len(batch)},
                )
            del self._pending[: len(batch)]
            self._stats.records_pending = len(self._pending)
            return

    async def _write(self, batch: list[Record]) -> None:
        results: list[ProbeResult] = [r.result for r in batch if r.result is not None]
        latest: dict[int, CheckState] = {r.state.check_id: r.state for r in batch}
        flips: list[Flip] = [r.flip for r in batch if r.flip is not None]
        started = time.perf_counter()
        # Not abandoned on cancel: a write in progress always completes, so what the store
        # committed and what the stats say agree.
        await self._run_sync(self._store.record, results, list(latest.values()), flips, limiter=self._limiter)
        elapsed = time.perf_counter() - started
        self._stats.write_batches += 1
        self._stats.results_written += len(results)
        self._stats.flips_written += len(flips)
        self._stats.last_write_duration = elapsed
        self._stats.max_write_duration = max(self._stats.max_write_duration, elapsed)

    def _drop(self, count: int, exc: StorageError) -> None:
        del self._pending[:count]
        self._stats.records_pending = len(self._pending)
        self._stats.records_abandoned += count
        log.error(
            "forced stop: %d records could not be written and are lost: %s",
            count,
            exc,
            extra={"engine": self._engine, "rows": count},
        )
