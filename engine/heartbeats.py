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

With several engines on one database (`shared`, engine.heartbeat_pings) only the engine that owns a
check's shard judges it; pings for checks owned elsewhere are stored for their owner, which polls
them, and a check whose shard arrives is judged from its last ping read back from the database.
"""

from __future__ import annotations

import logging
import math
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

import trio

from engine.evaluator import Record
from engine.heartbeat_pings import POLL_EVERY, later_times
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
    from engine.heartbeat_pings import SharedPings
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
        shared: the checks' owners and the pings in transit when engines share the database;
            None: this engine judges every heartbeat check.
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
        shared: SharedPings | None = None,
    ) -> None:
        self._engine = engine
        self._wall_clock = wall_clock
        self._emit = emit
        self._evaluator = evaluator
        self._send = send
        self._store = store
        self._run_sync = run_sync
        self._read_limiter = read_limiter
        self._shared = shared
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
        log pings are recorded with the check's state unchanged. A check another engine owns gets
        the ping through the database (stored here, applied there).

        Raises:
            StorageError: the ping had to be stored for its owner and the database refused it.
        """
        check_id = self._tokens.get(token)
        if check_id is None:
            return False
        now = self._wall_clock()
        if self._shared is not None and not self._shared.owns(check_id):
            await self._shared.forward(check_id, ping, now)
            return True
        await self._apply(check_id, ping, now, engine=self._engine)
        return True

    async def _apply(
        self, check_id: int, ping: Ping, at: datetime, *, engine: str, stored: int | None = None
    ) -> None:
        """Apply a ping received at `at` (by `engine`; `stored`: its id in the ping queue)."""
        check, _spec = self._checks[check_id]
        before = self._times.get(check_id) or HeartbeatTimes(anchor=at)
        times, result = receive_ping(check_id, before, ping, at)
        if stored is None or before.last_ping is None or at >= before.last_ping:
            self._times[check_id] = times
        # else: stored elsewhere before a ping applied here already; recorded, the schedule stays
        result = replace(result, engine=engine)
        record = self._evaluator().apply(check, result, at) if ping.kind.is_verdict else self._note(result)
        await self._send(record if stored is None else replace(record, ping=stored))
        self.wake()

    def _note(self, result: ProbeResult) -> Record:
        """A result that judges nothing: the state is written back as it is."""
        states = self._evaluator().states
        state = states.get(result.check_id) or CheckState(check_id=result.check_id)
        self._emit(CheckUpdated(state=state, result=result))
        return Record(result=result, state=state)

    async def _take_pings(self) -> None:
        """Apply the pings other engines stored for checks this engine owns."""
        if self._shared is None or not any(self._shared.owns(i) for i in self._checks):
            return
        for stored in await self._shared.take(self._checks.keys(), self._wall_clock()):
            if stored.check_id not in self._checks:  # removed while earlier ones were applied
                self._shared.give_back(stored.id)
                continue
            await self._apply(
                stored.check_id, stored.ping, stored.received_at, engine=stored.engine, stored=stored.id
            )

    async def take_over(self, shards: frozenset[int]) -> None:
        """Shards came to this engine: judge their heartbeat checks from their last stored ping."""
        if self._shared is None or not shards:
            return
        gained = [i for i in self._checks if self._shared.in_shards(i, shards)]
        if gained:
            await self._recover(gained, again=True)
            self.wake()

    # -- the lateness clock ---------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Recover each check's last ping from the store, report started, then watch deadlines
        (and, shared with other engines, poll the pings they stored for this engine's checks)."""
        await self._recover([i for i in self._checks if i not in self._times and self._judges(i)])
        task_status.started()
        if self._shared is None:
            await self._watch()
            return
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._follow_pings)
            await self._watch()

    async def _watch(self) -> None:
        while True:
            earliest = await self._judge_all()
            self._wakeup = trio.Event()
            delay = MAX_SLEEP if self._checks else math.inf  # no heartbeat checks: sleep until one comes
            if earliest is not None:
                delay = min(max((earliest - self._wall_clock()).total_seconds(), 0.0), MAX_SLEEP)
            with trio.move_on_after(delay):
                await self._wakeup.wait()

    async def _follow_pings(self) -> None:
        while True:
            await trio.sleep(POLL_EVERY)
            await self._take_pings()

    def _judges(self, check_id: int) -> bool:
        return self._shared is None or self._shared.owns(check_id)

    async def _judge_all(self) -> datetime | None:
        """Apply a late result to every watched check past its deadline; returns the next deadline."""
        settle = self._shared.settle if self._shared is not None else timedelta(0)
        if self._shared is not None and self._overdue(settle):
            await self._take_pings()  # pings in transit come first: one received in time wins
        earliest: datetime | None = None
        for check_id, (check, spec) in list(self._checks.items()):
            due = self._watched_deadline(check_id, spec)
            if due is None:
                continue
            if self._shared is not None and self._wall_clock() >= due.at + settle:
                due = await self._confirm(check_id, spec)  # the database may know a later ping
                if due is None:
                    continue
            now = self._wall_clock()
            times = self._times[check_id]
            if now < due.at + settle:
                if earliest is None or due.at + settle < earliest:
                    earliest = due.at + settle
                continue
            late = late_result(check_id, spec, times, now, due=due)
            if late is not None:
                self._times[check_id] = mark_reported(times, due)
                record = self._evaluator().apply(check, replace(late, engine=self._engine), now)
                await self._send(record)
        return earliest

    def _watched_deadline(self, check_id: int, spec: HeartbeatSpec) -> Deadline | None:
        """The check's deadline when this engine watches it and has not reported it yet; else None."""
        state = self._evaluator().states.get(check_id)
        times = self._times.get(check_id)
        if times is None or state is None or state.status in _UNWATCHED or not self._judges(check_id):
            return None
        due = self._deadline(check_id, spec, times)
        return None if times.reported == due.at else due

    def _overdue(self, settle: timedelta) -> bool:
        now = self._wall_clock()
        for check_id, (_check, spec) in self._checks.items():
            due = self._watched_deadline(check_id, spec)
            if due is not None and now >= due.at + settle:
                return True
        return False

    async def _confirm(self, check_id: int, spec: HeartbeatSpec) -> Deadline | None:
        """Before a late verdict with engines sharing the database: move the check's times on to the
        last ping stored in its results (written by another engine, or by the previous owner)."""
        results = await self._read_results(check_id)
        if check_id not in self._checks or check_id not in self._times:
            return None
        if results is not None:
            stored = recover_times(results, anchor=self._times[check_id].anchor)
            self._times[check_id] = later_times(self._times[check_id], stored)
        return self._watched_deadline(check_id, spec)

    def _deadline(self, check_id: int, spec: HeartbeatSpec, times: HeartbeatTimes) -> Deadline:
        """The check's deadline, computed once per change of its times (cron fires are not free)."""
        cached = self._deadlines.get(check_id)
        if cached is None or cached[0] is not times or cached[1] is not spec:
            cached = (times, spec, deadline(spec, times))
            self._deadlines[check_id] = cached
        return cached[2]

    async def _recover(self, check_ids: list[int], *, again: bool = False) -> None:
        """Read the last ping of each check back from its stored results.

        Args:
            check_ids: the checks to read.
            again: the checks were known already (their shard came back to this engine): keep
                what is known only where it is later than what the database says.
        """
        now = self._wall_clock()
        for check_id in check_ids:
            results = await self._read_results(check_id)
            entry = self._checks.get(check_id)
            if entry is None:
                continue
            recovered = recover_times(results or [], anchor=now)
            known = self._times.get(check_id)
            if again and known is not None:
                recovered = later_times(recovered, known)
            self._times[check_id] = recovered

    async def _read_results(self, check_id: int) -> list[ProbeResult] | None:
        """The check's latest stored results, newest first; None (logged) when the store fails."""
        try:
            return await self._run_sync(
                self._store.recent_results, check_id, RECOVERY_RESULTS, limiter=self._read_limiter
            )
        except StorageError as exc:
            name = self._checks[check_id][0].name if check_id in self._checks else str(check_id)
            log.warning(
                "could not read the last ping of %s, judging from what this engine knows: %s",
                name,
                exc,
                extra={"engine": self._engine, "check": name},
            )
            return None
