"""The recorder's view of a database outage: when it began and ended, and which results arrived late.

An outage is what the operator sees (`StorageDown` / `StorageRestored` events and log lines) and what
maintenance must repair: results written after their minute was rolled up are rolled up again
(`after_outage`, the engine's rollup rewind). engine.recorder decides when a write failed or worked;
this module keeps the outage's state and says so, once per outage.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from pulsewatch.domain.events import StorageDown, StorageRestored
from pulsewatch.errors import StorageError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence
    from datetime import datetime

    from engine.evaluator import Record
    from engine.stats import EngineStats
    from pulsewatch.domain.events import EngineEvent

log = logging.getLogger("pulsewatch.engine.recorder")


class OutageTracker:
    """Tracks one recorder's outages: events, stats, and the oldest result written late.

    Args:
        engine: the engine's name, for logs and events.
        stats: where `storage_down` and `outages` are kept.
        emit: the host's event sink, for StorageDown and StorageRestored.
        wall_clock: timestamps of those events; None: no events (logs and stats only).
        after_outage: awaited with the start time of the oldest result written late, once an outage's
            backlog (or an orphaned spool) has been written.
    """

    def __init__(
        self,
        *,
        engine: str,
        stats: EngineStats,
        emit: Callable[[EngineEvent], None],
        wall_clock: Callable[[], datetime] | None,
        after_outage: Callable[[datetime], Awaitable[None]] | None,
    ) -> None:
        self._engine = engine
        self._stats = stats
        self._emit = emit
        self._wall_clock = wall_clock
        self._after_outage = after_outage
        self._down_since: float | None = None
        self.catching_up = False
        """An outage's backlog is being written: what is written now is late."""
        self._late_since: datetime | None = None

    @property
    def down(self) -> bool:
        """Whether the last write failed (an outage is going on)."""
        return self._down_since is not None

    def begin(self, exc: StorageError, *, backlog: int) -> None:
        """A write failed: start an outage, unless one is going on already."""
        if self._down_since is not None:
            return
        self._down_since = time.monotonic()
        self.catching_up = True
        self._stats.storage_down = True
        self._stats.outages += 1
        log.warning("database writes fail; probing goes on and results are held: %s", exc,
                    extra={"engine": self._engine, "pending": backlog})
        if self._wall_clock is not None:
            self._emit(
                StorageDown(engine=self._engine, at=self._wall_clock(), error=str(exc), pending=backlog)
            )

    def end(self, *, backlog: int) -> None:
        """A write worked again: the outage is over; `backlog` records are still to be written."""
        down_for = time.monotonic() - (self._down_since or time.monotonic())
        self._down_since = None
        self._stats.storage_down = False
        log.info("database writes work again after %.1fs; writing %d held records", down_for, backlog,
                 extra={"engine": self._engine, "rows": backlog})
        if self._wall_clock is not None:
            self._emit(StorageRestored(
                engine=self._engine, at=self._wall_clock(), down_for_s=round(down_for, 3),
                backlog=backlog,
            ))

    def note_late(self, records: Sequence[Record]) -> None:
        """Remember the oldest result among `records`, written later than it was probed."""
        for record in records:
            if record.result is not None and (
                self._late_since is None or record.result.started_at < self._late_since
            ):
                self._late_since = record.result.started_at

    async def catch_up(self) -> None:
        """Everything late is written: have the minutes since the oldest late result rolled up again."""
        since, self._late_since = self._late_since, None
        if since is not None and self._after_outage is not None:
            try:
                await self._after_outage(since)
            except StorageError as exc:
                log.warning(
                    "could not rewind rollups after an outage: %s", exc, extra={"engine": self._engine}
                )
