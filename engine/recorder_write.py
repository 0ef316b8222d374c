"""The recorder's write core: one batch of records into the store, in one transaction, counted.

Kept apart from engine.recorder (which decides *when* to write and what to do when a write fails) so
the transaction's contents read in one place: results, the latest state per check and flips, with the
usage meter (billing) and the consumed heartbeat pings inside the same transaction, so counters,
pings and results never disagree whichever engine wrote them.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    import trio

    from engine.evaluator import Record
    from engine.heartbeat_pings import PingConsumer
    from engine.metering import BatchMeter
    from engine.offload import RunSync
    from engine.stats import EngineStats
    from pulsewatch.domain.monitoring import Flip, ProbeResult
    from pulsewatch.services.ports import MonitoringStore


class BatchWriter:
    """Writes batches of records to the store from a worker thread under `write_limiter`.

    Args:
        store: the store (sync, blocking: only ever called in a thread).
        write_limiter: the database writer slot, shared with every other store write.
        stats: where written rows, batches and write durations are counted.
        run_sync: how blocking store calls reach a worker thread (see engine.offload).
        meter: counts each batch's results as usage (engine.metering) in the batch's transaction.
        pings: deletes the stored heartbeat pings a batch applies, in the batch's transaction
            (engine.heartbeat_pings); None: no record carries one.
    """

    def __init__(
        self,
        store: MonitoringStore,
        *,
        write_limiter: trio.CapacityLimiter,
        stats: EngineStats,
        run_sync: RunSync,
        meter: BatchMeter | None = None,
        pings: PingConsumer | None = None,
    ) -> None:
        self._store = store
        self._limiter = write_limiter
        self._stats = stats
        self._run_sync = run_sync
        self._meter = meter
        self._pings = pings

    async def write(self, batch: Sequence[Record], *, states: bool = True) -> None:
        """Write `batch` in one transaction; `states=False` writes results and flips only (replays
        of records older than the states the store already has).

        Raises:
            StorageError: when the store refuses; nothing of the batch is written then.
        """
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
