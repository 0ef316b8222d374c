"""The notifier: flips → incidents → outbox rows → Apprise, without noise and without loss.

It runs beside the engine (started in the engine's keeper nursery, so it outlives the probes) and
has two loops:
  - intake: takes flips from the engine (a bounded channel fed by `observe`), opens and resolves
    incidents, tracks flapping, then runs one planning round (`plan_notifications`) and writes what
    it returns — also every `tick` seconds, for escalations, reminders, and holds and suppressions
    that end. Each round also reconciles incidents with the checks' states, so a flip that was
    missed (a full queue, a crash) still opens or resolves its incident;
  - dispatch: claims due outbox rows (written *before* sending) and sends each through Apprise's
    sync API in a worker thread under a named CapacityLimiter, with a timeout; every attempt is
    recorded, failures retry with exponential backoff, exhausted or permanent ones fail and mark
    the channel failing. Rows a crash left in "sending" are sent again at the next start.
When the engine stops, intake drains the flips already produced, plans one last time, the dispatcher
sends what is due and waits for deliveries in flight; later retries wait in the outbox.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import trio

from engine.notify.dispatcher import Dispatcher, Sender, apprise_send
from engine.storage.alerting_store import stale_cutoff
from pulsewatch.domain.alerting_plan import degraded_notices, plan_notifications
from pulsewatch.domain.alerting_policy import (
    AlertWorld,
    FlapState,
    flap_policy_of,
    micros,
    reconcile,
    track_flip,
)
from pulsewatch.domain.events import CheckChanged, CheckFlipped, CheckUpdated, EngineStarted
from pulsewatch.domain.monitoring import Flip, Status
from pulsewatch.domain.notifications import DeliveryStatus, RetryPolicy
from pulsewatch.errors import StorageError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from engine.metering import DeliveryGate
    from engine.offload import RunSync
    from engine.storage.alerting_store import AlertStore
    from pulsewatch.domain.alerting import AlertingConfig, Incident, Silence
    from pulsewatch.domain.events import EngineEvent
    from pulsewatch.domain.monitoring import Check, CheckState
    from pulsewatch.domain.notifications import Notification

log = logging.getLogger("pulsewatch.engine.notifier")

FLIPS_BUFFER = 256
"""Flips that may wait for the notifier; past it a flip is left to reconciliation (logged)."""
FLIP_BATCH = 256
"""Most flips applied before a planning round."""
SEED_SPAN = timedelta(days=1)
"""How far back flips and flapping notices are read at start-up to restore flap detection."""
VERDICT_WAIT_CAP = 300.0
"""At start-up, sending waits at most this long (seconds) for checks with open incidents to be probed."""


class Notifier:
    """Turns the engine's flips into incidents and delivered notifications.

    Args:
        store: incidents, silences and the outbox (sync; called from worker threads).
        config: channels, policies, routes, maintenance windows, canaries, severities.
        engine: this engine's name (claims and attempts carry it).
        wall_clock: the clock for `now` (tests derive it from trio's clock).
        run_sync: how store calls reach a thread (tests on MockClock run them inline).
        send_sync: how sends reach a thread; production abandons a thread past its timeout.
        sender: delivers one notification to a channel's URLs (Apprise; tests use local receivers).
        tick: seconds between planning rounds when no flip arrives.
        send_timeout: connect/read timeout of one URL's delivery, in seconds.
        concurrency: deliveries in flight at once.
        retry: backoff and attempt limits.
        gate: asked before each delivery and told after it (SMS quotas, usage: engine.metering).
    """

    def __init__(
        self,
        store: AlertStore,
        config: AlertingConfig,
        *,
        engine: str,
        wall_clock: Callable[[], datetime],
        run_sync: RunSync = trio.to_thread.run_sync,
        send_sync: RunSync | None = None,
        sender: Sender = apprise_send,
        tick: float = 5.0,
        send_timeout: float = 10.0,
        concurrency: int = 8,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen
        gate: DeliveryGate | None = None,
    ) -> None:
        self.config = config
        self.engine = engine
        self.store = store
        self.db_limiter = trio.CapacityLimiter(1)
        """Notifier's database calls, one at a time (SQLite has one writer)."""
        self._wall_clock = wall_clock
        self._run_sync = run_sync
        self._tick = tick
        self._send_timeout = send_timeout
        self._checks: dict[int, Check] = {}
        self._states: dict[int, CheckState] = {}
        self._flaps: dict[int, FlapState] = {}
        # None is a nudge: plan now (a page finished sending; its incident may await a recovery notice).
        self._flips_send, self._flips_receive = trio.open_memory_channel[Flip | None](FLIPS_BUFFER)
        self._closing = False
        self._started_at: datetime | None = None
        self._rounds_started = 0
        self._rounds_done = 0
        self._round_done = trio.Event()
        self._awaiting: dict[int, datetime] = {}
        """At start-up: checks with open incidents → until when sending waits for their first verdict."""
        self.dispatcher = Dispatcher(
            store,
            config,
            engine=engine,
            wall_clock=wall_clock,
            run_sync=run_sync,
            db_limiter=self.db_limiter,
            send_sync=send_sync,
            sender=sender,
            tick=tick,
            send_timeout=send_timeout,
            concurrency=concurrency,
            retry=retry,
            on_settled=self._nudge,
            gate=gate,
        )
        """Sends the outbox rows this notifier writes."""

    # -- the engine's side (trio thread) --------------------------------------------------------

    def tee(self, emit: Callable[[EngineEvent], None]) -> Callable[[EngineEvent], None]:
        """`emit` that also lets the notifier see every engine event (checks, states, flips)."""

        def both(event: EngineEvent) -> None:
            emit(event)
            self.observe(event)

        return both

    def observe(self, event: EngineEvent) -> None:
        """Keep the checks and states current and queue flips; never blocks."""
        if isinstance(event, EngineStarted):
            self._checks = {c.id: c for c in event.checks if c.id is not None}
            self._states = {s.check_id: s for s in event.states}
        elif isinstance(event, CheckUpdated):
            self._states[event.state.check_id] = event.state
        elif isinstance(event, CheckChanged):
            if event.check.id is not None:
                self._checks[event.check.id] = event.check
            self._states[event.state.check_id] = event.state
        elif isinstance(event, CheckFlipped):
            try:
                self._flips_send.send_nowait(event.flip)
            except (trio.WouldBlock, trio.ClosedResourceError):
                log.warning(
                    "notifier queue full: flip of check %d left to reconciliation",
                    event.flip.check_id,
                    extra={"engine": self.engine},
                )

    def _nudge(self, delivered: Notification) -> None:
        """A page settled: plan now rather than at the next tick, in case its incident has resolved."""
        if delivered.event.pages and delivered.incident_id is not None:
            with contextlib.suppress(trio.WouldBlock, trio.ClosedResourceError):
                self._flips_send.send_nowait(None)

    def finish(self) -> None:
        """Probing is over: drain the queued flips, plan once more, send what is due, then return."""
        self._flips_send.close()

    # -- lifecycle ------------------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Recover what a previous run left, report started, run until `finish()`."""
        try:
            await self._startup()
        except StorageError as exc:
            log.warning(
                "notifier start-up could not read the database: %s", exc, extra={"engine": self.engine}
            )
        task_status.started()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._dispatch)
            await self._intake_loop()
            self._closing = True
            self.dispatcher.close()
            self._round_done.set()  # nobody waits for a round that will never come

    async def _startup(self) -> None:
        now = self._wall_clock()
        self._started_at = now
        incidents = await self._run_sync(self.store.unsettled_incidents, limiter=self.db_limiter)
        for incident in incidents:
            check = self._checks.get(incident.check_id)
            if incident.is_open and check is not None:
                wait = min(VERDICT_WAIT_CAP, check.interval + check.timeout + self._tick)
                self._awaiting[check.id or 0] = now + timedelta(seconds=wait)
        released = await self._run_sync(
            self.store.release_stale,
            self.engine,
            stale_cutoff(now, self._send_timeout),
            now,
            limiter=self.db_limiter,
        )
        if released:
            log.info(
                "%d notifications left unconfirmed by a previous run will be sent again",
                released,
                extra={"engine": self.engine},
            )
        flips = await self._run_sync(self.store.recent_flips, now - SEED_SPAN, limiter=self.db_limiter)
        for flip in flips:
            self._track(flip)
        episodes = await self._run_sync(
            self.store.open_flap_episodes, now - SEED_SPAN, limiter=self.db_limiter
        )
        for check_id, start in episodes.items():
            state = self._flaps.get(check_id, FlapState())
            last = max(state.last_flip or start, start)
            self._flaps[check_id] = replace(state, episode_start=start, last_flip=last)

    # -- intake ---------------------------------------------------------------------------------

    async def _intake_loop(self) -> None:
        closed = False
        while not closed:
            flips: list[Flip | None] = []
            with trio.move_on_after(self._tick):
                try:
                    flips.append(await self._flips_receive.receive())
                except trio.EndOfChannel:
                    closed = True
            while not closed and len(flips) < FLIP_BATCH:
                try:
                    flips.append(self._flips_receive.receive_nowait())
                except trio.WouldBlock:
                    break
                except trio.EndOfChannel:
                    closed = True
            for flip in flips:
                if flip is not None:
                    await self._apply_flip(flip)
            await self._plan_round()

    def _track(self, flip: Flip) -> None:
        check = self._checks.get(flip.check_id)
        if check is not None:
            policy = flap_policy_of(check, self.config)
            self._flaps[flip.check_id] = track_flip(
                self._flaps.get(flip.check_id, FlapState()), flip.at, policy
            )

    async def _apply_flip(self, flip: Flip) -> None:
        check = self._checks.get(flip.check_id)
        if check is None:
            return
        self._track(flip)
        try:
            incident = await self._run_sync(
                self.store.apply_flip, flip, check, self.config.severity_of(check), limiter=self.db_limiter
            )
            if flip.new == Status.DEGRADED:
                now = self._wall_clock()
                plan = degraded_notices(check, flip.at, flip.reason, self._world([]), now)
                await self._run_sync(
                    self.store.write_plan, plan.notifications, (), (), now, limiter=self.db_limiter
                )
        except StorageError as exc:
            log.warning(
                "could not record the flip of %s: %s (reconciliation will catch up)",
                check.name,
                exc,
                extra={"engine": self.engine, "check": check.name},
            )
            return
        if incident is not None:
            log.info(
                "incident #%s %s: %s",
                incident.id,
                incident.status.value,
                check.name,
                extra={"engine": self.engine, "check": check.name, "incident": incident.id},
            )

    def _world(self, silences: Sequence[Silence]) -> AlertWorld:
        return AlertWorld(self.config, dict(self._checks), dict(self._states), silences, dict(self._flaps))

    async def _plan_round(self) -> None:
        self._rounds_started += 1
        number = self._rounds_started
        try:
            await self._plan(self._wall_clock())
        finally:
            self._rounds_done = max(self._rounds_done, number)
            self._round_done.set()
            self._round_done = trio.Event()

    async def _plan(self, now: datetime) -> None:
        try:
            incidents = await self._run_sync(self.store.unsettled_incidents, limiter=self.db_limiter)
            if await self._reconcile(incidents, now):
                incidents = await self._run_sync(self.store.unsettled_incidents, limiter=self.db_limiter)
            prefixes = [
                f"flap:{check_id}:{micros(state.episode_start)}:"
                for check_id, state in self._flaps.items()
                if state.episode_start is not None
            ]
            ids = [i.id for i in incidents if i.id is not None]
            rows = await self._run_sync(self.store.planning_rows, ids, prefixes, limiter=self.db_limiter)
            silences = await self._run_sync(self.store.silences, now, limiter=self.db_limiter)
            plan = plan_notifications(incidents, rows, self._world(silences), now)
            if plan.notifications or plan.holds or plan.settled:
                await self._run_sync(
                    self.store.write_plan,
                    plan.notifications,
                    plan.holds,
                    plan.settled,
                    now,
                    limiter=self.db_limiter,
                )
        except StorageError as exc:
            log.warning(
                "notification planning failed: %s (retrying next round)", exc, extra={"engine": self.engine}
            )
            return
        for check_id in plan.flaps_ended:
            self._flaps[check_id] = replace(self._flaps[check_id], episode_start=None)
        self._forget_quiet_flaps(now)
        if any(n.status == DeliveryStatus.PENDING for n in plan.notifications):
            self.dispatcher.wake()

    async def _reconcile(self, incidents: Sequence[Incident], now: datetime) -> bool:
        """Open or resolve incidents whose flip was missed; True when something changed."""
        open_ones = [i for i in incidents if i.is_open]
        # Only verdicts of this run count: a stored state may lag its incident (a crash lost the
        # recorder's last batch), and resolving on it would drop a page that is still due.
        started = self._started_at or now
        fresh = {
            i: s
            for i, s in self._states.items()
            if s.status == Status.PAUSED or (s.last_checked_at is not None and s.last_checked_at >= started)
        }
        to_resolve, down = reconcile(open_ones, self._checks, fresh)
        for incident, why in to_resolve:
            await self._run_sync(
                self.store.resolve, incident.id or 0, why, now, f"resolved: {why}", limiter=self.db_limiter
            )
        opened = 0
        for check_id in down:
            check = self._checks[check_id]
            state = self._states[check_id]
            if await self._run_sync(
                self.store.open_from_state,
                check,
                state,
                self.config.severity_of(check),
                now,
                limiter=self.db_limiter,
            ):
                opened += 1
        return bool(to_resolve) or opened > 0

    def _forget_quiet_flaps(self, now: datetime) -> None:
        for check_id, state in list(self._flaps.items()):
            check = self._checks.get(check_id)
            window = flap_policy_of(check, self.config).window if check is not None else 0.0
            quiet = state.last_flip is None or now - state.last_flip > timedelta(seconds=window)
            if state.episode_start is None and quiet:
                del self._flaps[check_id]

    # -- dispatch -------------------------------------------------------------------------------

    async def _dispatch(self) -> None:
        await self._await_verdicts()
        await self.dispatcher.run()

    async def _await_verdicts(self) -> None:
        """After a restart, let each check with an open incident be probed once before sending: a page
        for an outage that ended while the engine was stopped is then superseded instead of sent."""
        if not self._awaiting:
            return
        while self._awaiting and not self._closing:
            now = self._wall_clock()
            started = self._started_at or now
            for check_id, until in list(self._awaiting.items()):
                probed = self._states.get(check_id)
                if now >= until or (probed and probed.last_checked_at and probed.last_checked_at >= started):
                    del self._awaiting[check_id]
            if self._awaiting:
                await trio.sleep(min(0.25, self._tick))
        # The verdicts' flips may still be queued: wait for a planning round that began after now.
        mark = self._rounds_started
        while self._rounds_done <= mark and not self._closing:
            await self._round_done.wait()
