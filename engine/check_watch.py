"""Following check changes that other engines stored: the periodic half of engine.check_reload.

The REST API of engine X stores a new or changed check and tells X (ReloadChecks); engines Y and Z
sharing the database were only told at their next restart. This companion reads the checks'
revision — their count and newest `updated_at`, one indexed aggregate — every `every` seconds and,
when it moved, sends its own engine the same ReloadChecks the API sends. The reload compares by id
and fingerprint, so unchanged checks keep their state, schedule and phase, and a revision bumped by
this engine's own API costs one cheap reload that finds nothing to do.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

import trio

from pulsewatch.domain.events import ReloadChecks
from pulsewatch.errors import StorageError

if TYPE_CHECKING:
    from engine.companions import EngineHost
    from engine.offload import RunSync

log = logging.getLogger("pulsewatch.engine.checks")

WATCH_SECONDS = 5.0
"""How often the checks' revision is read: another engine's check change reaches this one within it."""


class RevisionPort(Protocol):
    """The checks' revision (engine.storage.change_reads.SqlChangeReads)."""

    def revision(self) -> tuple[int, int]:
        """A value that changes whenever a check is added, changed or removed."""
        ...


class CheckWatch:
    """Reloads the engine's API-owned checks when the stored checks changed (an engine companion).

    Args:
        reads: where the revision comes from.
        every: seconds between two reads.
        run_sync: how blocking store calls reach a worker thread.
    """

    def __init__(
        self,
        reads: RevisionPort,
        *,
        every: float = WATCH_SECONDS,
        run_sync: RunSync = trio.to_thread.run_sync,
    ) -> None:
        self._reads = reads
        self._every = every
        self._run_sync = run_sync
        self.reloads = 0
        """Reloads this watch asked for."""

    async def run(
        self, host: EngineHost, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Take the revision now (the engine has just loaded its checks), then compare every `every` s."""
        task_status.started()
        seen = await self._revision(host)
        while True:
            await trio.sleep(self._every)
            now = await self._revision(host)
            if now is None or now == seen:
                continue
            try:
                host.submit_nowait(ReloadChecks())
            except trio.WouldBlock:
                continue  # the engine is busy: the revision still differs next time, so it is asked again
            self.reloads += 1
            log.info("stored checks changed (revision %s → %s): reloading", seen, now,
                     extra={"engine": host.name})
            seen = now

    async def _revision(self, host: EngineHost) -> tuple[int, int] | None:
        try:
            return await self._run_sync(self._reads.revision, limiter=host.db_read_limiter)
        except StorageError:
            return None  # the recorder reports outages; the next read tries again
