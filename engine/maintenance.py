"""Keeping storage bounded: every `retention.interval`, roll results up, then prune what has aged out.

Each step is one short call in a worker thread under the engine's database write limiter — one
piece of roll-up work for a batch of checks, one delete batch — so the recorder's result batches
get the database between any two of them (trio's CapacityLimiter is fair: waiters are served in
order). Delete batches are also spaced by `pause`, so pruning a large backlog is a trickle rather
than a wave of locks. Several engines may run this at once: the store's work is idempotent.

How long raw results stay is decided per organization: its plan's `retention_days` when its
subscription is on a plan that sets one — longer or shorter than `retention.raw`, the plan decides —
else `retention.raw`. The composition hands in `engine.storage.plan_prune.PlanRetentionRollups` as
the store then; it prunes the same way, in the same small batches, one target per retention.

A pass ends by metering seats (billing): every organization's member count recorded as the UTC
day's high-water mark (engine.storage.billing_store), one short call; engines doing it at once
leave the same figure, not a sum.

A failing database is logged and retried at the next interval; it never stops the engine.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Protocol, TypeVar, TypeVarTuple, Unpack

import trio

from pulsewatch.errors import StorageError

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date, datetime

    from engine.offload import RunSync
    from engine.storage.rollup_store import PruneBatch, PruneTarget, RollupWork
    from pulsewatch.config_retention import RetentionSettings

log = logging.getLogger("pulsewatch.engine.maintenance")

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

PRUNE_BATCH = 2000
"""Rows per delete: a few milliseconds of work and locks on either backend."""

PRUNE_PAUSE = 0.05
"""Seconds between delete batches."""


class MaintenanceStore(Protocol):
    """What maintenance needs from storage (engine.storage.rollup_store.RollupStore; a fake in tests)."""

    @property
    def checks_per_batch(self) -> int:
        """How many checks one `roll_up` call should cover."""
        ...

    def next_work(self, now: datetime, delay: float) -> RollupWork | None:
        """The next piece of roll-up work, or None."""
        ...

    def roll_up(self, work: RollupWork, check_ids: tuple[int, ...]) -> int:
        """Build the work's buckets for these checks; returns buckets written."""
        ...

    def finish(self, work: RollupWork) -> bool:
        """Record the work as done."""
        ...

    def prune_targets(self, now: datetime, retention: RetentionSettings) -> list[PruneTarget]:
        """What is due for pruning."""
        ...

    def prune_batch(self, target: PruneTarget, batch: int, resume_after: int) -> PruneBatch:
        """Delete one batch."""
        ...


class SeatMeter(Protocol):
    """What maintenance needs to meter seats (engine.storage.billing_store.SqlBillingStore)."""

    def record_seats(self, day: date) -> int:
        """Record each organization's members as `day`'s high-water mark; returns organizations."""
        ...


@dataclass
class MaintenanceStats:
    """What maintenance has done since the engine started (updated on the trio thread only)."""

    passes: int = 0
    buckets_written: int = 0
    rows_pruned: int = 0
    errors: int = 0
    seats_metered: int = 0
    """Organizations whose seats the latest pass recorded."""
    last_pass_s: float = 0.0
    """Wall time of the latest complete pass, in seconds."""


class Maintenance:
    """Runs roll-up and pruning passes on a fixed rhythm.

    Args:
        store: the rollup store.
        retention: how long each kind of data is kept, the roll-up delay and the pass interval.
        write_limiter: the engine's database writer slot.
        wall_clock: "now" for marks and cutoffs.
        engine: the engine's name, for logs.
        run_sync: how blocking calls reach a worker thread (engine.offload).
        prune_batch: rows per delete batch.
        pause: seconds between delete batches.
        seats: where each pass records the organizations' seats used (billing); None: not metered.
    """

    def __init__(
        self,
        store: MaintenanceStore,
        retention: RetentionSettings,
        *,
        write_limiter: trio.CapacityLimiter,
        wall_clock: Callable[[], datetime],
        engine: str = "",
        run_sync: RunSync = trio.to_thread.run_sync,
        prune_batch: int = PRUNE_BATCH,
        pause: float = PRUNE_PAUSE,
        seats: SeatMeter | None = None,
    ) -> None:
        self.stats = MaintenanceStats()
        self._store = store
        self._retention = retention
        self._limiter = write_limiter
        self._wall_clock = wall_clock
        self._engine = engine
        self._run_sync = run_sync
        self._prune_batch = prune_batch
        self._pause = pause
        self._seats = seats

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """A pass now, then one every `retention.interval` seconds, until cancelled.

        The rhythm does not drift, and a pass that overran its interval is followed by the next one
        at once, not by a burst of the ones missed.
        """
        task_status.started()
        interval = self._retention.interval
        next_at = trio.current_time()
        while True:
            await self.run_once()
            next_at = max(next_at + interval, trio.current_time())
            await trio.sleep_until(next_at)

    async def run_once(self) -> None:
        """One pass: all pending roll-up work, every prune target until done, then seats."""
        started = time.monotonic()
        try:
            written = await self._roll_up()
            pruned = await self._prune()
            if self._seats is not None:
                day = self._wall_clock().astimezone(UTC).date()
                self.stats.seats_metered = await self._call(self._seats.record_seats, day)
        except StorageError as exc:
            self.stats.errors += 1
            log.warning("storage maintenance failed: %s", exc, extra={"engine": self._engine})
            return
        self.stats.passes += 1
        self.stats.last_pass_s = time.monotonic() - started
        if written or pruned:
            log.info(
                "storage maintenance: %d rollup buckets written, %d rows pruned",
                written,
                pruned,
                extra={"engine": self._engine, "buckets": written, "pruned": pruned},
            )

    async def _roll_up(self) -> int:
        now = self._wall_clock()
        written = 0
        delay = self._retention.delay
        while (work := await self._call(self._store.next_work, now, delay)) is not None:
            size = max(1, self._store.checks_per_batch)
            for start in range(0, len(work.check_ids), size):
                ids = work.check_ids[start : start + size]
                count = await self._call(self._store.roll_up, work, ids)
                written += count
                self.stats.buckets_written += count
            await self._call(self._store.finish, work)
        return written

    async def _prune(self) -> int:
        now = self._wall_clock()
        pruned = 0
        for target in await self._call(self._store.prune_targets, now, self._retention):
            resume_after, more = 0, True
            while more:
                batch = await self._call(self._store.prune_batch, target, self._prune_batch, resume_after)
                pruned += batch.deleted
                self.stats.rows_pruned += batch.deleted
                resume_after, more = batch.resume_after, batch.more
                if more:
                    await trio.sleep(self._pause)
        return pruned

    async def _call(self, fn: Callable[[Unpack[Ts]], T], *args: *Ts) -> T:
        return await self._run_sync(fn, *args, limiter=self._limiter)
