"""Attach mode's engine link: follow the database that headless engines write, and leave commands.

`AttachedDatabase` runs no probes. A thread of its own reads the shared database every `poll`
seconds and posts the same events an engine in the process would — EngineStarted with every check,
CheckUpdated per new result, CheckFlipped, CheckChanged — so every console screen works unchanged.
Commands from the screens (run now, pause, resume) become rows of the `commands` table; the engine
holding the check executes them and the link reports the outcome as a CommandSettled event
("pause api: sent → done by engine e1"). LoadHistory is answered from the database directly.

Reading only what changed (engine.storage.change_reads):

* results and flips by id after a cursor. Ids are handed out at insert but become visible at
  commit, so two engines committing out of order can show id 120 before id 119: ids skipped by the
  cursor are kept as *holes* and asked for again for a few seconds (engine.attach_cursor);
* states whose status changed (`since`) within STATUS_WINDOW of the newest change seen: a pause
  or resume writes a state without a result. A full read of the states every RESYNC_SECONDS catches
  what clock skew between engines could hide from that window;
* the checks' revision: when it moves, the checks are read again (added, changed, removed).

A database that stops answering becomes StorageDown (the console's outage banner) and, once it
answers again, StorageRestored followed by a fresh read of the states.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from engine.attach_cursor import IdCursor
from pulsewatch.domain.commands import (
    Command,
    CommandAction,
    CommandError,
    CommandOutcome,
    CommandSettled,
    new_command,
)
from pulsewatch.domain.events import (
    CheckChanged,
    CheckFlipped,
    CheckUpdated,
    EngineStarted,
    EngineStopped,
    HistoryLoaded,
    LoadHistory,
    RunNow,
    SetPaused,
    StorageDown,
    StorageRestored,
)
from pulsewatch.domain.monitoring import CheckState
from pulsewatch.errors import StorageError
from pulsewatch.services.commands import give_up_if_unclaimed

if TYPE_CHECKING:
    from collections.abc import Callable

    from engine.storage.change_reads import Changes, Revision, SqlChangeReads
    from pulsewatch.domain.events import EngineCommand, EngineEvent
    from pulsewatch.domain.monitoring import Check
    from pulsewatch.services.commands import CommandPort
    from pulsewatch.services.ports import MonitoringStore

log = logging.getLogger("pulsewatch.attach")

POLL_SECONDS = 0.5
"""Between two reads of the database: a change shows in the console within about this."""
DOWN_POLL_SECONDS = 1.0
"""Between two tries while the database does not answer."""
READ_LIMIT = 5000
"""Results (and flips) read per query; a backlog is read in several, without waiting in between."""
CATCH_UP_READS = 4
"""Full reads in a row before the loop waits again (a backlog never starves the commands)."""
STATUS_WINDOW = timedelta(seconds=60)
"""How far back from the newest status change seen the changed states are read again."""
RESYNC_SECONDS = 30.0
"""Between two full reads of the states (the safety net under STATUS_WINDOW)."""
OUTBOX = 64
"""Commands that may wait for the link's thread; past it `send` says the console is busy."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class AttachedDatabase:
    """Follows a shared database in a thread of its own and turns screen commands into table rows.

    Args:
        reads: the incremental reads.
        store: checks, states and history.
        commands: the commands table.
        requester: who is acting now (the signed-in person's email, or "console").
        name: how the console names what it shows ("attached to mysql://…").
        clock: "now" for commands and give-ups.
        poll: seconds between two reads.
    """

    def __init__(
        self,
        reads: SqlChangeReads,
        store: MonitoringStore,
        commands: CommandPort,
        *,
        requester: Callable[[], str],
        name: str,
        clock: Callable[[], datetime] = _utc_now,
        poll: float = POLL_SECONDS,
    ) -> None:
        self._reads = reads
        self._store = store
        self._commands = commands
        self._requester = requester
        self.name = name
        self._clock = clock
        self._poll = poll
        self._outbox: queue.Queue[EngineCommand] = queue.Queue(OUTBOX)
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._tracked: dict[int, tuple[Command, str | None, bool]] = {}
        # The following are the link thread's own.
        self._checks: dict[int, Check] = {}
        self._states: dict[int, CheckState] = {}
        self._results = IdCursor(0)
        self._flips = IdCursor(0)
        self._status_mark = datetime.min.replace(tzinfo=UTC)
        self._revision: Revision = (0, 0)
        self._resync_at = 0.0
        self._down_since: datetime | None = None
        self._started = False

    # -- the console's side (any thread) ----------------------------------------------------------

    def start(self, post: Callable[[EngineEvent], None]) -> None:
        """Start following the database; the first event is EngineStarted with every stored check."""
        if self._thread is not None:
            raise RuntimeError("this attach link was already started")
        self._thread = threading.Thread(target=self._main, args=(post,), name="pulsewatch-attach",
                                        daemon=True)
        self._thread.start()

    def send(self, command: EngineCommand) -> bool:
        """Queue a screen's command for the link's thread; False when the queue is full or it stopped."""
        if self._stopping or not isinstance(command, RunNow | SetPaused | LoadHistory):
            return False
        try:
            self._outbox.put_nowait(command)
        except queue.Full:
            return False
        self._wake.set()
        return True

    def track(self, command: Command, *, report_failures: bool = False) -> None:
        """Follow a command someone else inserted (the incident desk) and report when it is done.

        Refusals and failures of the desk's commands reach the person through the desk itself, so
        by default only success is reported here ("done by engine e1").
        """
        if command.id is not None:
            with self._lock:
                self._tracked[command.id] = (command, None, report_failures)
            self._wake.set()

    def close(self) -> None:
        """Stop the thread and wait for it (blocking). Safe to call more than once."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    # -- the link's thread ------------------------------------------------------------------------

    def _main(self, post: Callable[[EngineEvent], None]) -> None:
        try:
            while not self._stopping:
                reads_left = CATCH_UP_READS
                while self._step(post) and reads_left > 0 and not self._stopping:
                    reads_left -= 1  # a full read: more is waiting, read on at once
                self._wake.wait(self._poll if self._down_since is None else DOWN_POLL_SECONDS)
                self._wake.clear()
        except Exception as error:  # a bug must reach the console as an error screen, not vanish
            log.exception("the attach link crashed")
            post(EngineStopped(engine=self.name, at=self._clock(), error=f"{type(error).__name__}: {error}"))

    def _step(self, post: Callable[[EngineEvent], None]) -> bool:
        """One round: start or follow, send queued commands, look at tracked ones; True when a read
        came back full (more is waiting)."""
        try:
            if not self._started:
                self._attach(post)
            self._send_queued(post)
            full = self._follow(post)
            self._look_at_tracked(post)
        except StorageError as exc:
            if self._down_since is None:
                self._down_since = self._clock()
                log.warning("the database does not answer: %s", exc)
                post(StorageDown(engine=self.name, at=self._down_since, error=exc.message, pending=0))
            return False
        if self._down_since is not None:
            now = self._clock()
            post(StorageRestored(engine=self.name, at=now,
                                 down_for_s=(now - self._down_since).total_seconds(), backlog=0))
            self._down_since = None
            self._resync_at = 0.0  # what changed during the outage: read every state again now
        return full

    def _attach(self, post: Callable[[EngineEvent], None]) -> None:
        snapshot = self._reads.snapshot()
        self._checks = {c.id: c for c in snapshot.checks if c.id is not None}
        self._states = dict(snapshot.states)
        self._results = IdCursor(snapshot.last_result_id)
        self._flips = IdCursor(snapshot.last_flip_id)
        self._revision = snapshot.revision
        self._status_mark = max((s.since for s in self._states.values() if s.since), default=self._clock())
        self._resync_at = time.monotonic() + RESYNC_SECONDS
        self._started = True
        post(self._started_event())

    def _started_event(self) -> EngineStarted:
        return EngineStarted(
            engine=self.name,
            checks=tuple(self._checks.values()),
            states=tuple(self._states.get(i) or _unknown(i) for i in self._checks),
        )

    def _follow(self, post: Callable[[EngineEvent], None]) -> bool:
        changes = self._reads.changes(
            after_result=self._results.last, holes=self._results.holes, after_flip=self._flips.last,
            flip_holes=self._flips.holes, status_since=self._status_mark - STATUS_WINDOW, limit=READ_LIMIT,
        )
        if changes.revision != self._revision:
            self._reload_checks(post, changes.revision)
        self._apply(post, changes)
        if time.monotonic() >= self._resync_at:
            self._resync(post)
        return len(changes.results) >= READ_LIMIT or len(changes.flips) >= READ_LIMIT

    def _apply(self, post: Callable[[EngineEvent], None], changes: Changes) -> None:
        mono = time.monotonic()
        fresh_results = self._results.take((i for i, _ in changes.results), mono)
        updated: set[int] = set()
        for result_id, result in changes.results:
            if result_id not in fresh_results or result.check_id not in self._checks:
                continue
            state = changes.states.get(result.check_id) or self._states.get(result.check_id)
            if state is None:
                continue
            post(CheckUpdated(state=state, result=result))
            updated.add(result.check_id)
        fresh_flips = self._flips.take((f.id for f in changes.flips if f.id is not None), mono)
        for flip in changes.flips:
            if flip.id in fresh_flips and flip.check_id in self._checks:
                post(CheckFlipped(flip=flip))
        for check_id, state in changes.states.items():
            if state.since is not None and state.since > self._status_mark:
                self._status_mark = state.since
            if self._states.get(check_id) == state:
                continue
            self._states[check_id] = state
            check = self._checks.get(check_id)
            if check is not None and check_id not in updated:
                post(CheckChanged(check=check, state=state))  # a pause or resume: no result with it

    def _resync(self, post: Callable[[EngineEvent], None]) -> None:
        states = self._store.load_states()
        self._resync_at = time.monotonic() + RESYNC_SECONDS
        for check_id, state in states.items():
            check = self._checks.get(check_id)
            if check is not None and self._states.get(check_id) != state:
                self._states[check_id] = state
                post(CheckChanged(check=check, state=state))

    def _reload_checks(self, post: Callable[[EngineEvent], None], revision: Revision) -> None:
        stored = {c.id: c for c in self._store.load_checks() if c.id is not None}
        states = self._store.load_states()
        self._revision = revision
        if set(stored) != set(self._checks):
            self._checks, self._states = stored, dict(states)
            post(self._started_event())  # checks came or went: the grid is rebuilt from the new list
            return
        for check_id, check in stored.items():
            if check != self._checks[check_id]:
                self._checks[check_id] = check
                state = states.get(check_id) or _unknown(check_id)
                self._states[check_id] = state
                post(CheckChanged(check=check, state=state))

    # -- commands ---------------------------------------------------------------------------------

    def _send_queued(self, post: Callable[[EngineEvent], None]) -> None:
        while True:
            try:
                command = self._outbox.get_nowait()
            except queue.Empty:
                return
            if isinstance(command, LoadHistory):
                results = self._store.recent_results(command.check_id, command.limit)
                flips = self._store.recent_flips(command.check_id, command.limit)
                post(HistoryLoaded(check_id=command.check_id, results=tuple(results), flips=tuple(flips),
                                   limit=command.limit))
            elif isinstance(command, RunNow | SetPaused):
                self._insert(post, command)

    def _insert(self, post: Callable[[EngineEvent], None], command: RunNow | SetPaused) -> None:
        if isinstance(command, RunNow):
            action = CommandAction.RUN_NOW
        else:
            action = CommandAction.PAUSE if command.paused else CommandAction.RESUME
        check = self._checks.get(command.check_id)
        now = self._clock()
        try:
            row = new_command(action, org=check.org if check else "?", requested_by=self._requester(),
                              now=now, check_id=command.check_id)
        except CommandError as error:
            post(CommandSettled(_failed(action, command.check_id, now, error.message)))
            return
        if check is None:
            post(CommandSettled(_failed(action, command.check_id, now, "no such check in the database")))
            return
        try:
            stored = self._commands.add_command(row)
        except StorageError as exc:
            post(CommandSettled(replace(row, done_at=now, outcome=CommandOutcome.FAILED,
                                        message=f"not sent: {exc.message}"), check.name))
            raise
        if stored.id is not None:
            with self._lock:
                self._tracked[stored.id] = (stored, check.name, True)

    def _look_at_tracked(self, post: Callable[[EngineEvent], None]) -> None:
        with self._lock:
            tracked = dict(self._tracked)
        if not tracked:
            return
        now = self._clock()
        for command in self._commands.commands(list(tracked)):
            assert command.id is not None  # noqa: S101 - read from the table
            _, check_name, report_failures = tracked[command.id]
            if command.settled:
                with self._lock:
                    self._tracked.pop(command.id, None)
                if report_failures or command.outcome is CommandOutcome.OK:
                    post(CommandSettled(command, check_name))
            else:
                give_up_if_unclaimed(self._commands, command, now, check_name)


def _unknown(check_id: int) -> CheckState:
    return CheckState(check_id=check_id)


def _failed(action: CommandAction, check_id: int, now: datetime, message: str) -> Command:
    return Command(action, "?", "console", now, check_id=check_id, claimed_by=None, done_at=now,
                   outcome=CommandOutcome.FAILED, message=message)
