"""The recorder's disk tier: records past the memory bound during an outage, and spools left behind.

During a long outage the recorder keeps at most `max_pending` records in memory; newer ones are
appended here to a spool file (engine.spool), fsync'd in batches, and read back in order once the
database takes writes again. At start, spools that no running engine holds (its own from an earlier
run, or a dead engine's) are replayed before anything new. Kept apart from engine.recorder, which owns
the memory tier and the write loop, so the file's rules (append in batches, commit only what was
written, never lose records the disk refuses) read in one place.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import trio

from engine.spool import Spool, orphans
from pulsewatch.errors import StorageError

if TYPE_CHECKING:
    from engine.evaluator import Record
    from engine.offload import RunSync
    from engine.recorder_outage import OutageTracker
    from engine.recorder_write import BatchWriter
    from engine.stats import EngineStats

log = logging.getLogger("pulsewatch.engine.recorder")


class SpoolTier:
    """The spool a recorder overflows into, or none (then the recorder pushes back on probes).

    Args:
        spool: the spool file (opened by `open`); None: no disk tier.
        run_sync: how blocking file calls reach a worker thread (see engine.offload).
        stats: where `records_spooled` is kept.
        engine: the engine's name, for logs.
        batch_size: the most records per spool append and per read.
    """

    def __init__(
        self, spool: Spool | None, *, run_sync: RunSync, stats: EngineStats, engine: str, batch_size: int
    ) -> None:
        self.spool = spool
        """The open spool; None without one, or once it could not be opened."""
        self._limiter = trio.CapacityLimiter(1)
        self._run_sync = run_sync
        self._stats = stats
        self._engine = engine
        self._batch_size = batch_size
        self._spill: list[Record] = []
        """Records bound for the spool, not yet appended (newer than everything in it)."""
        self._from_spool: tuple[int, int] | None = None
        """(offset, lines) of the batch last read from the spool: committed once written."""

    @property
    def backlog(self) -> int:
        """Records bound for or in the spool, not yet written to the database."""
        return len(self._spill) + self._spooled()

    def _spooled(self) -> int:
        return self.spool.unread if self.spool is not None else 0

    def tail_on_disk(self) -> bool:
        """Newer records queue behind the spool until it is empty (order is kept)."""
        return bool(self._spill) or self._spooled() > 0

    async def open(self) -> None:
        """Open the spool; without it (unwritable, or held by a namesake engine) outages stay in memory."""
        spool = self.spool
        if spool is None:
            return
        try:
            opened = await self._run_sync(spool.open, limiter=self._limiter)
        except OSError as exc:
            log.error("cannot open the spool %s, outages will hold records in memory only: %s",
                      spool.path, exc, extra={"engine": self._engine})
            opened = False
        if not opened:
            if spool.path.exists():
                log.warning("the spool %s is held by another engine of the same name; outages will hold "
                            "results in memory only", spool.path, extra={"engine": self._engine})
            self.spool = None
            return
        if spool.unread:  # an earlier run's leftovers: replayed like an orphan's, before anything new
            log.info("spool %s holds %d records from an earlier run", spool.path, spool.unread,
                     extra={"engine": self._engine, "rows": spool.unread})
            self._stats.records_spooled = spool.unread

    async def close(self) -> None:
        if self.spool is not None:
            await self._run_sync(self.spool.close, limiter=self._limiter)

    async def add(self, record: Record) -> None:
        """Queue `record` for the spool; a full batch is appended at once."""
        self._spill.append(record)
        if len(self._spill) >= self._batch_size:
            await self.flush()

    async def flush(self) -> None:
        """Append the queued records to the spool (kept in memory if the disk refuses)."""
        if not self._spill or self.spool is None:
            return
        spill, self._spill = self._spill, []
        try:
            await self._run_sync(self.spool.append, spill, limiter=self._limiter)
        except OSError as exc:
            # The disk refuses too: keep them in memory (beyond the bound) rather than lose them.
            log.error("cannot write the spool %s: %s", self.spool.path, exc, extra={"engine": self._engine})
            self._spill = spill + self._spill
            return
        self._stats.records_spooled = self.spool.unread

    async def read_batch(self) -> list[Record]:
        """The oldest batch on disk (after appending what is queued); empty when there is none.

        The batch stays in the spool until `commit` (after the database took it).
        """
        if self.spool is None or not self.tail_on_disk():
            return []
        await self.flush()
        records, offset, lines = await self._run_sync(
            self.spool.read, self._batch_size, limiter=self._limiter
        )
        self._from_spool = (offset, lines)
        if not records and lines:  # only unreadable lines: skip them
            await self.commit()
        return records

    async def commit(self) -> None:
        """The batch last read is written: drop it from the spool."""
        if self._from_spool is None or self.spool is None:
            return
        offset, lines = self._from_spool
        self._from_spool = None
        await self._run_sync(self.spool.commit, offset, lines, limiter=self._limiter)
        self._stats.records_spooled = self.spool.unread

    async def park(self, pending: list[Record]) -> list[Record]:
        """Stopping while the database is down: put `pending` (the oldest records) back in the spool.

        Returns:
            The records the disk refused too (empty: everything waits in the spool for the next start).
        """
        spool = self.spool
        if spool is None:  # no disk tier: all of it is refused
            return pending
        held = pending if self._from_spool is None else []  # read from the spool: still there
        self._from_spool = None
        with trio.CancelScope(shield=True):
            try:  # memory holds the oldest records: they go before what the spool has
                await self._run_sync(spool.prepend, held, limiter=self._limiter)
            except OSError as disk_error:
                log.error("cannot write the spool %s: %s", spool.path, disk_error,
                          extra={"engine": self._engine})
                self._spill = held + self._spill
            await self.flush()
        self._stats.records_spooled = spool.unread
        if not self._spill:
            log.warning(
                "the database is down at stop: %d records stay in the spool %s for the next start",
                spool.unread, spool.path,
                extra={"engine": self._engine, "rows": spool.unread},
            )
        refused, self._spill = self._spill, []
        return refused

    async def replay_leftovers(self, writer: BatchWriter, outage: OutageTracker) -> None:
        """Write the results and flips of spool files that no running engine holds (see engine.spool)."""
        if self.spool is None:
            return
        if self.spool.unread and await self._replay(self.spool, writer, outage):
            self._stats.records_spooled = self.spool.unread
        for path in orphans(self.spool.path.parent, self.spool.path):
            orphan = Spool(path)
            if not await self._run_sync(orphan.open, limiter=self._limiter):
                continue  # its engine runs
            try:
                written = await self._replay(orphan, writer, outage)
            finally:
                await self._run_sync(orphan.close, limiter=self._limiter)
            if written:
                log.info("wrote %d results left in the spool %s", written, path,
                         extra={"engine": self._engine, "rows": written})

    async def _replay(self, orphan: Spool, writer: BatchWriter, outage: OutageTracker) -> int:
        written = 0
        while orphan.unread:
            records, offset, lines = await self._run_sync(
                orphan.read, self._batch_size, limiter=self._limiter
            )
            try:
                await writer.write(records, states=False)
            except StorageError as exc:
                log.warning("left %s for later: %s", orphan.path, exc, extra={"engine": self._engine})
                return written
            outage.note_late(records)
            await self._run_sync(orphan.commit, offset, lines, limiter=self._limiter)
            written += len(records)
        await outage.catch_up()
        return written
