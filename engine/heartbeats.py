"""The heartbeat monitor: receives pings for push checks and notices, on the clock, the pings that never came.

It lives on the engine's trio thread next to the scheduler. A ping becomes a ProbeResult exactly like a
probe's: success and failure pings go through the engine's evaluator (state, flips, CheckUpdated and
CheckFlipped events) and the recorder; start and log pings are recorded with the state unchanged.

One task sleeps until the earliest deadline of every watched check (`pulsewatch.domain.heartbeats`
says when that is) and, when a deadline passes without a ping, applies a failed "late" result, which
turns the check DOWN through the normal evaluator. Checks already DOWN or PAUSED are not watched: the
first alert says everything, and a later ping brings the check back. Deadlines are wall-clock instants
(cron fires in a time zone), so the task never sleeps longer than MAX_SLEEP at a time: a wall clock
that jumps (NTP, a suspended laptop) is noticed within that.

After a restart the last ping and any open run are read back from the check's stored results; a check
that has never been pinged is judged from the moment the engine started watching it.
"""

from __future__ import annotations

import logging
import math
from dataclasses import replace
from typing import TYPE_CHECKING

import trio

from engine.evaluator import Record
from pulsewatch.domain.events import CheckUpdated
from pulsewatch.domain.heartbeats import (
    HeartbeatTimes,
    deadline,
    late_result,
    mark_reported,
    receive_ping,
    recover_times,
)
from pulsewatch.domain.monitoring import CheckState, Status
from pulsewatch.errors import StorageError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from datetime import datetime

    from engine.evaluator import Evaluator
    from engine.offload import RunSync
    from pulsewatch.domain.events import EngineEvent
    from pulsewatch.domain.heartbeats import Deadline, HeartbeatSpec, Ping
    from pulsewatch.domain.monitoring import Check, ProbeResult
    from pulsewatch.services.ports import MonitoringStore

log = logging.getLogger("pulsewatch.engine.heartbeats")

MAX_SLEEP = 60.0
"""Longest sleep between two looks at the wall clock, in seconds."""
RECOVERY_RESULTS = 200
"""Stored results read per check at start-up to find its last ping (log pings in between are skipped)."""
_UNWATCHED = (Status.DOWN, Status.PAUSED)


class HeartbeatMonitor:
    """Pings in, late results out, for every heartbeat check the engine runs.

    Args:
        engine: the engine's name, stamped on results.
        wall_clock: the engine's clock.
        emit: the host's event sink.
        evaluator: returns the engine's current evaluator (it is replaced when the engine loads).
        send: hands a record to the recorder (the engine's shielded send).
        store: read at start-up for each check's last ping.
        run_sync: how blocking store calls reach a worker thread.
        read_limiter: the engine's limiter for store reads.
    """

    def __init__(
        self,
        *,
        engine: str,
        wall_clock: Callable[[], datetime],
        emit: Callable[[EngineEvent], None],
        evaluator: Callable[[], Evaluator],
        send: Callable[[Record], Awaitable[None]],
        store: MonitoringStore,
        run_sync: RunSync,
        read_limiter: trio.CapacityLimiter,
    ) -> None:
        self._engine = engine
        self._wall_clock = wall_clock
        self._emit = emit
        self._evaluator = evaluator
        self._send = send
        self._store = store
        self._run_sync = run_sync
        self._read_limiter = read_limiter
        self._checks: dict[int, tuple[Check, HeartbeatSpec]] = {}
        self._tokens: dict[str, int] = {}
        self._times: dict[int, HeartbeatTimes] = {}
        self._deadlines: dict[int, tuple[HeartbeatTimes, HeartbeatSpec, Deadline]] = {}
        self._wakeup = trio.Event()

    # -- the set of heartbeat checks (trio thread) ----------------------------------------------

    def add(self, check: Check) -> None:
        """Take pings for `check` (it must have an id and a heartbeat spec); paused ones included."""
        if check.id is None or check.heartbeat is None:
            raise ValueError(f"check {check.name!r} is not a saved heartbeat check")
        self._checks[check.id] = (check, check.heartbeat)
        self._tokens[check.heartbeat.token] = check.id
        self.wake()

    def remove(self, check_id: int) -> None:
        """Stop taking pings for a check and watching its deadline (it left the config)."""
        entry = self._checks.pop(check_id, None)
        if entry is not None:
            self._tokens.pop(entry[1].token, None)
        self._times.pop(check_id, None)
        self._deadlines.pop(check_id, None)

    def resume(self, check: Check) -> None:
        """A resumed check starts afresh: its next ping is due one schedule step after now."""
        self.add(check)
        if check.id is not None:
            self._times[check.id] = HeartbeatTimes(anchor=self._wall_clock())

    def knows(self, token: str) -> bool:
        """Whether `token` belongs to a heartbeat check of this engine."""
        return token in self._tokens

    def wake(self) -> None:
        """Look at every deadline now (a ping arrived, a check changed, someone asked to run it)."""
        self._wakeup.set()

    # -- pings ----------------------------------------------------------------------------------

    async def receive(self, token: str, ping: Ping) -> bool:
        """Record a ping for the check with `token`; False when no check has that token.

        Success and failure pings are judged by the evaluator (they may flip the check); start and
        log pings are recorded with the check's state unchanged.
        """
        check_id = self._tokens.get(token)
        if check_id is None:
            return False
        check, _spec = self._checks[check_id]
        now = self._wall_clock()
        times = self._times.get(check_id) or HeartbeatTimes(anchor=now)
        times, result = receive_ping(check_id, times, ping, now)
        self._times[check_id] = times
        result = replace(result, engine=self._engine)
        if ping.kind.is_verdict:
            await self._send(self._evaluator().apply(check, result, now))
        else:
            await self._note(result)
        self.wake()
        return True

    async def _note(self, result: ProbeResult) -> None:
        """Record a result that judges nothing: the state is written back as it is."""
        states = self._evaluator().states
        state = states.get(result.check_id) or CheckState(check_id=result.check_id)
        self._emit(CheckUpdated(state=state, result=result))
        await self._send(Record(result=result, state=state))

    # -- the lateness clock ---------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Recover each check's last ping from the store, report started, then watch deadlines."""
        await self._recover()
        task_status.started()
        while True:
            earliest = await self._judge_all()
            self._wakeup = trio.Event()
            delay = MAX_SLEEP if self._checks else math.inf  # no heartbeat checks: sleep until one comes
            if earliest is not None:
                delay = min(max((earliest - self._wall_clock()).total_seconds(), 0.0), MAX_SLEEP)
            with trio.move_on_after(delay):
                await self._wakeup.wait()

    async def _judge_all(self) -> datetime | None:
        """Apply a late result to every watched check past its deadline; returns the next deadline."""
        earliest: datetime | None = None
        now = self._wall_clock()
        states = self._evaluator().states
        for check_id, (check, spec) in list(self._checks.items()):
            state = states.get(check_id)
            times = self._times.get(check_id)
            if times is None or state is None or state.status in _UNWATCHED:
                continue
            due = self._deadline(check_id, spec, times)
            late = late_result(check_id, spec, times, now, due=due)
            if late is not None:
                self._times[check_id] = mark_reported(times, due)
                record = self._evaluator().apply(check, replace(late, engine=self._engine), now)
                await self._send(record)
            elif times.reported != due.at and (earliest is None or due.at < earliest):
                earliest = due.at
        return earliest

    def _deadline(self, check_id: int, spec: HeartbeatSpec, times: HeartbeatTimes) -> Deadline:
        """The check's deadline, computed once per change of its times (cron fires are not free)."""
        cached = self._deadlines.get(check_id)
        if cached is None or cached[0] is not times or cached[1] is not spec:
            cached = (times, spec, deadline(spec, times))
            self._deadlines[check_id] = cached
        return cached[2]

    async def _recover(self) -> None:
        now = self._wall_clock()
        for check_id, (check, _spec) in list(self._checks.items()):
            if check_id in self._times:
                continue
            try:
                results = await self._run_sync(
                    self._store.recent_results, check_id, RECOVERY_RESULTS, limiter=self._read_limiter
                )
            except StorageError as exc:
                log.warning(
                    "could not read the last ping of %s, counting from now: %s",
                    check.name,
                    exc,
                    extra={"engine": self._engine, "check": check.name},
                )
                results = []
            self._times[check_id] = recover_times(results, anchor=now)
