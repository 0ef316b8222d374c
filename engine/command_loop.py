"""The engine's command loop: run now, pause and resume, history reads and API check reloads.

In a cluster, run now, pause and resume of a check another engine holds are not applied here (the
owner's next result would undo a pause, and a run-now belongs where the check is probed): they are
forwarded to the owner through the commands table (engine.command_forward).

Commands come from the console, the HTTP listener and companions through the engine's bounded
channel (`Engine.submit_nowait`); this module reads them on one task and answers each. It lives apart
from engine.runtime because the handlers are the engine's whole operator-facing behaviour, and it
gets the parts it drives passed in explicitly rather than a reference to the engine, so what a
command can touch is visible in one constructor.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

import trio

from engine.reloading import reload_api_checks
from pulsewatch.domain.events import CheckChanged, HistoryLoaded, LoadHistory, ReloadChecks, RunNow, SetPaused
from pulsewatch.errors import NotFoundError, StorageError

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from engine.command_forward import CommandForwarder
    from engine.evaluator import Evaluator, Record
    from engine.heartbeats import HeartbeatMonitor
    from engine.offload import RunSync
    from engine.scheduler import Scheduler
    from pulsewatch.domain.events import EngineCommand, EngineEvent
    from pulsewatch.domain.monitoring import Check
    from pulsewatch.services.ports import MonitoringStore

log = logging.getLogger("pulsewatch.engine")

FORWARD_BUFFER = 16
"""Commands for other engines' checks that may wait for their row to be written before the loop waits."""

Forward = tuple[RunNow | SetPaused, "Check"]
"""A command for a check another engine holds, and that check."""


class CommandLoop:
    """Answers an engine's commands, in order, on the task that runs `run`.

    Args:
        engine: the engine's name, for logs.
        store: the engine's store (sync; only called through `run_sync`).
        checks: the engine's checks by id — the same dict the engine keeps; pausing updates it.
        evaluator: the engine's check states.
        scheduler: what probes checks on schedule (run now, pause, resume).
        heartbeats: what judges heartbeat checks (they are woken or resumed, never probed).
        records: the channel to the recorder; pause and resume states are written through it.
        emit: the host's event sink.
        run_sync: how blocking store calls reach a worker thread (engine.offload).
        read_limiter: the engine's concurrent-reads slots (history, reloads).
        write_limiter: the engine's single database writer (pause and resume).
        wall_clock: the clock for the time of a pause or resume.
        owns: whether this engine holds a check's shard (engine.cluster `Cluster.owns`); None: it runs
            every check, as when it is alone.
        forwarder: leaves run now, pause and resume of a check another engine holds for that engine
            (engine.command_forward); None: they are applied here, whoever holds the check.
    """

    def __init__(
        self,
        *,
        engine: str,
        store: MonitoringStore,
        checks: dict[int, Check],
        evaluator: Evaluator,
        scheduler: Scheduler,
        heartbeats: HeartbeatMonitor,
        records: trio.MemorySendChannel[Record],
        emit: Callable[[EngineEvent], None],
        run_sync: RunSync,
        read_limiter: trio.CapacityLimiter,
        write_limiter: trio.CapacityLimiter,
        wall_clock: Callable[[], datetime],
        owns: Callable[[int], bool] | None = None,
        forwarder: CommandForwarder | None = None,
    ) -> None:
        self._engine = engine
        self._store = store
        self._checks = checks
        self._evaluator = evaluator
        self._scheduler = scheduler
        self._heartbeats = heartbeats
        self._records = records
        self._emit = emit
        self._run_sync = run_sync
        self._read_limiter = read_limiter
        self._write_limiter = write_limiter
        self._wall_clock = wall_clock
        self._owns = owns
        self._forwarder = forwarder

    async def run(self, commands: trio.MemoryReceiveChannel[EngineCommand]) -> None:
        """Answer every command received until cancelled (history reads and forwards run beside the loop)."""
        forward_send, forward_receive = trio.open_memory_channel[Forward](FORWARD_BUFFER)
        async with trio.open_nursery() as nursery, forward_send:
            if self._forwarder is not None:
                nursery.start_soon(self._forward_in_order, self._forwarder, forward_receive)
            async for command in commands:
                if isinstance(command, RunNow | SetPaused) and self._held_elsewhere(command):
                    # Handed to one task, in order (a pause then a resume must reach the owner in that
                    # order); the loop waits only when FORWARD_BUFFER commands are still being written.
                    await forward_send.send((command, self._checks[command.check_id]))
                elif isinstance(command, RunNow):
                    check = self._known(command.check_id, command)
                    if check is not None and check.heartbeat is not None:
                        self._heartbeats.wake()  # nothing to probe: judge its deadline now
                    elif check is not None:
                        self._scheduler.run_now(check)
                elif isinstance(command, SetPaused):
                    # In order, on this task: a pause followed by a resume must end resumed.
                    await self._set_paused(command)
                elif isinstance(command, LoadHistory):
                    nursery.start_soon(self._load_history, command)
                elif isinstance(command, ReloadChecks):
                    await reload_api_checks(
                        self._store, engine=self._engine, run_sync=self._run_sync,
                        read_limiter=self._read_limiter, checks=self._checks, scheduler=self._scheduler,
                        evaluator=self._evaluator, emit=self._emit,
                    )

    @staticmethod
    async def _forward_in_order(
        forwarder: CommandForwarder, forwards: trio.MemoryReceiveChannel[Forward]
    ) -> None:
        async with forwards:
            async for command, check in forwards:
                await forwarder.forward(command, check)

    def _held_elsewhere(self, command: RunNow | SetPaused) -> bool:
        """Whether `command` is about a known check another engine holds (and can be forwarded there).

        An unknown check falls through to the local path, which logs it; so does everything when this
        engine has no cluster or no forwarder.
        """
        if self._owns is None or self._forwarder is None or command.check_id not in self._checks:
            return False
        return not self._owns(command.check_id)

    def _known(self, check_id: int, command: EngineCommand) -> Check | None:
        check = self._checks.get(check_id)
        if check is None:
            log.warning("ignoring %r: no such check", command, extra={"engine": self._engine})
        return check

    async def _set_paused(self, command: SetPaused) -> None:
        check = self._known(command.check_id, command)
        if check is None:
            return
        try:
            state = await self._run_sync(
                self._store.set_paused,
                command.check_id,
                command.paused,
                self._wall_clock(),
                limiter=self._write_limiter,
            )
        except (StorageError, NotFoundError) as exc:
            log.warning(
                "could not %s %s: %s",
                "pause" if command.paused else "resume",
                check.name,
                exc,
                extra={"engine": self._engine, "check": check.name},
            )
            return
        check = replace(check, paused=command.paused)
        self._checks[command.check_id] = check
        record = self._evaluator.replace_state(state)
        if command.paused:
            self._scheduler.remove(command.check_id)
        elif check.heartbeat is not None:
            self._heartbeats.resume(check)
        else:
            self._scheduler.add(check, immediately=True)  # a verdict now, not one interval later
        log.info(
            "%s %s",
            check.name,
            "paused" if command.paused else "resumed",
            extra={"engine": self._engine, "check": check.name},
        )
        self._emit(CheckChanged(check=check, state=state))
        # Written through the recorder, after any batch that still holds an older state of this check,
        # so the stored state ends as the operator left it.
        with trio.CancelScope(shield=True):
            await self._records.send(record)

    async def _load_history(self, command: LoadHistory) -> None:
        try:
            results = await self._run_sync(
                self._store.recent_results, command.check_id, command.limit, limiter=self._read_limiter
            )
            flips = await self._run_sync(
                self._store.recent_flips, command.check_id, command.limit, limiter=self._read_limiter
            )
        except StorageError as exc:
            log.warning("could not load history of check %d: %s", command.check_id, exc,
                        extra={"engine": self._engine})
            return
        self._emit(HistoryLoaded(check_id=command.check_id, results=tuple(results), flips=tuple(flips),
                                 limit=command.limit))
