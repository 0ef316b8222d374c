"""The engine: one trio nursery tree that schedules probes, judges results, records them and obeys commands.

The shape (DESIGN §5.1): `run()` syncs the configured checks into the store, loads their states,
then runs the scheduler (probes), the command loop and, in a nursery of its own, the recorder.
`stop()` cancels the probing side only; the recorder then writes every record already produced and
`run()` returns. That split is what makes SIGTERM safe: a result that was shown to the console (or
caused a flip) is in the database before the process exits.

This module is the composition and the lifecycle; the engine's behaviours live beside it, each fed
explicit parts: engine.startup (sync and placing checks at start), engine.command_loop (commands),
engine.reloading (config and API reloads), engine.listening (the HTTP listener), engine.stop_report.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx
import trio

from engine import heap
from engine.cluster import follow_leases
from engine.command_forward import CommandForwarder
from engine.command_loop import CommandLoop
from engine.config_reload import ConfigWatcher
from engine.evaluator import Evaluator, Record
from engine.heartbeat_pings import shared_pings
from engine.heartbeats import HeartbeatMonitor
from engine.listening import serve_listener
from engine.maintenance import Maintenance
from engine.probes import HttpClientPool, Prober
from engine.recorder import Recorder
from engine.reloading import reload_config_checks
from engine.scheduler import Scheduler
from engine.spool import Spool, spool_path
from engine.startup import checks_to_run, place_checks, sync_at_start
from engine.stats import EngineStats, LoadMeter
from engine.stop_report import describe, log_stopped
from pulsewatch.domain.events import EngineCommand, EngineStarted, EngineStopped

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path

    from engine.cluster import Cluster
    from engine.companions import Companion
    from engine.config_reload import ConfigSource
    from engine.http.api.backend import ApiBackend
    from engine.maintenance import MaintenanceStore, SeatMeter
    from engine.metering import BatchMeter
    from engine.notifier import Notifier
    from engine.offload import RunSync
    from pulsewatch.config_retention import RetentionSettings
    from pulsewatch.domain.events import EngineEvent
    from pulsewatch.domain.monitoring import Check, CheckState
    from pulsewatch.services.check_sync import CheckSyncPlan
    from pulsewatch.services.commands import CommandPort
    from pulsewatch.services.ports import MonitoringStore

log = logging.getLogger("pulsewatch.engine")

RESULTS_BUFFER = 1024
"""Records that may wait for the recorder before probes feel back-pressure (a burst, not a backlog)."""
COMMANDS_BUFFER = 64
"""Commands that may wait; past it `submit_nowait` raises trio.WouldBlock and the host says "busy"."""


def _ignore(event: EngineEvent) -> None:
    """The default event sink: a headless engine only logs."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Engine:
    """Probes `checks` on schedule, keeps their states, records everything to `store`.

    Args:
        store: where checks, states, results and flips live (sync; only called from worker threads).
        checks: the desired checks (from the config; ids are assigned by the store at start).
        name: this engine's name, stamped on results and logs.
        emit: the host's event sink, called on the trio thread; it must not block.
        concurrency: the most probes in flight at once.
        wall_clock: the clock for timestamps (tests freeze or derive it from trio's clock).
        batch_size: the most records per database write.
        batch_delay: how long a write batch may wait to fill, in seconds.
        http_transport: route every HTTP probe through this transport instead of the network
            (tests and benchmarks, e.g. `httpx.MockTransport`).
        run_sync: how blocking store calls reach a worker thread; see engine.offload for why
            this is a parameter at all.
        listen: HOST:PORT for the HTTP listener (pings, /healthz; port 0 picks a free port);
            None: no listener.
        rollups: where to roll up and prune (engine.maintenance); None: storage is not maintained.
        retention: how long data is kept and how often maintenance runs (with `rollups`).
        notifier: turns flips into incidents and notifications; it sees every event and outlives
            the probes like the recorder, so flips of the last probes are still alerted.
        api: what the REST API and the status pages need beyond the store (engine.http.api);
            None: the listener answers /api/v1/ and /status/ with 503.
        cluster: shard leases shared with other engines (engine.cluster); None: this engine runs
            every check, as when it is alone.
        config: the config file to reload on SIGHUP (`request_reload`) and when it changes.
        spool_dir: where results wait on disk while the database is down (engine.spool); None:
            in memory only, then back-pressure.
        buffer: records held in memory while the database is down, before the spool takes over.
        meter: counts recorded results as each organization's usage, in the same transaction (billing).
        seats: where maintenance records each organization's seats used per day (billing).
        companions: tasks that run beside the probes with this engine as their host (engine.companions:
            the commands table, following other engines' check changes); cancelled with the probes.
        command_table: with `cluster`, where run now, pause and resume of checks another engine holds
            are left for it (engine.command_forward); None: they are applied here.
    """

    def __init__(
        self,
        store: MonitoringStore,
        checks: Sequence[Check],
        *,
        name: str,
        emit: Callable[[EngineEvent], None] = _ignore,
        concurrency: int = 256,
        wall_clock: Callable[[], datetime] = _utc_now,
        batch_size: int = 500,
        batch_delay: float = 0.25,
        http_transport: httpx.AsyncBaseTransport | None = None,
        run_sync: RunSync = trio.to_thread.run_sync,
        listen: str | None = None,
        rollups: MaintenanceStore | None = None,
        retention: RetentionSettings | None = None,
        notifier: Notifier | None = None,
        api: ApiBackend | None = None,
        cluster: Cluster | None = None,
        config: ConfigSource | None = None,
        spool_dir: Path | None = None,
        buffer: int = 50_000,
        meter: BatchMeter | None = None,
        seats: SeatMeter | None = None,
        companions: Sequence[Companion] = (),
        command_table: CommandPort | None = None,
    ) -> None:
        if notifier is not None:  # first: every consumer of `emit` below must feed the notifier too
            emit = notifier.tee(emit)
        self.notifier = notifier
        self._api = api
        """Incidents and alerts (engine.notifier); None: this engine alerts nobody."""
        self.name = name
        self.listen = listen
        self.listen_address: str | None = None
        """The address the listener bound (port 0 resolved), once the engine has started."""
        self.stats = EngineStats()
        self.probe_limiter = trio.CapacityLimiter(concurrency)
        """Probe slots, shared by scheduled and run-now probes."""
        self.db_write_limiter = trio.CapacityLimiter(1)
        """The single database writer (SQLite has one): recorder batches, pause and resume."""
        self.db_read_limiter = trio.CapacityLimiter(4)
        """Concurrent history reads."""
        self._store = store
        self._companions = tuple(companions)
        self._command_table = command_table
        self._desired = tuple(checks)
        self._emit = emit
        self._wall_clock = wall_clock
        self._run_sync = run_sync
        # Both scopes exist before run() so stop() works before, during and after start-up.
        self._startup_scope = trio.CancelScope()
        self._scope = trio.CancelScope()
        self._commands_send, self._commands_receive = trio.open_memory_channel[EngineCommand](COMMANDS_BUFFER)
        self._records_send, self._records_receive = trio.open_memory_channel[Record](RESULTS_BUFFER)
        self._http = HttpClientPool(transport=http_transport)
        self._prober = Prober(engine=name, wall_clock=wall_clock, http_pool=self._http)
        self.settle_heap = False
        """Freeze the heap once loaded and relax the garbage collector (engine.heap): process-wide, so
        only a host that is nothing but this engine sets it (the headless command, benchmarks)."""
        self.cluster = cluster
        """This engine's shard leases; None: it runs every check."""
        if cluster is not None:  # each heartbeat tells the other engines and consoles how this one keeps up
            cluster.measure = LoadMeter(self.stats, trio.current_time).sample
        self._scheduler = Scheduler(
            self._probe_and_apply, limiter=self.probe_limiter, stats=self.stats,
            owns=cluster.owns if cluster is not None else None,
            epoch=(lambda: self._wall_clock().timestamp()) if cluster is not None else None,
        )
        self._rollups = rollups
        self._retention = retention
        # Heartbeat checks follow shard ownership when engines share the database (engine.heartbeat_pings).
        shared = shared_pings(cluster, engine=name, run_sync=run_sync, read_limiter=self.db_read_limiter,
                              write_limiter=self.db_write_limiter)
        self._recorder = Recorder(
            store, write_limiter=self.db_write_limiter, stats=self.stats, engine=name, batch_size=batch_size,
            batch_delay=batch_delay, run_sync=run_sync, max_pending=buffer, emit=emit, wall_clock=wall_clock,
            spool=Spool(spool_path(spool_dir, name)) if spool_dir is not None else None,
            after_outage=self._rewind_rollups, meter=meter, pings=shared,
        )
        self.watcher = ConfigWatcher(config, self.reload_config, engine=name) if config is not None else None
        """Reloads the config file on `request_reload()` and when it changes; None without a file."""
        self._checks: dict[int, Check] = {}
        self._evaluator = Evaluator({}, (), emit=emit, engine=name)
        self.maintenance: Maintenance | None = None
        """Rollups and pruning (with `rollups` and `retention`), on the database writer slot."""
        if rollups is not None and retention is not None:
            self.maintenance = Maintenance(
                rollups, retention, write_limiter=self.db_write_limiter, wall_clock=wall_clock,
                engine=name, run_sync=run_sync, seats=seats,
            )
        self.heartbeats = HeartbeatMonitor(
            engine=name, wall_clock=wall_clock, emit=emit, evaluator=lambda: self._evaluator,
            send=self._send_record, store=store, run_sync=run_sync, read_limiter=self.db_read_limiter,
            shared=shared,
        )
        """Pings in, late results out, for heartbeat (push) checks."""

    @property
    def checks(self) -> tuple[Check, ...]:
        """The checks this engine runs, with their ids (empty before start-up)."""
        return tuple(self._checks.values())

    @property
    def states(self) -> Mapping[int, CheckState]:
        """The current state of every check, by id."""
        return self._evaluator.states

    @property
    def running_checks(self) -> frozenset[int]:
        """Ids of the checks this engine probes on schedule now (held shards, not paused)."""
        return self._scheduler.running()

    @property
    def queue_depth(self) -> int:
        """Records waiting between the probes and the recorder."""
        return self._records_send.statistics().current_buffer_used

    # -- host interface (trio thread) -----------------------------------------------------------

    def stop(self) -> None:
        """Stop probing; `run()` then writes every record already produced and returns.

        A second call is a forced stop: records the database refuses are then left in the spool for
        the next start (or, without a spool, given up) instead of retried forever. With a spool, a
        first stop during an outage already does that.
        """
        if self._scope.cancel_called:
            log.warning("forced stop: unwritable records will be dropped", extra={"engine": self.name})
            self._recorder.abandon()
        self._startup_scope.cancel()
        self._scope.cancel()

    def request_reload(self) -> None:
        """Reload the config file now (SIGHUP); a no-op for an engine built without one."""
        if self.watcher is not None:
            self.watcher.request()

    async def reload_config(self, desired: Sequence[Check]) -> CheckSyncPlan | None:
        """Sync `desired` into the store and run what changed; unchanged checks keep their state.

        Returns:
            The applied sync plan, or None when the database refused (logged; nothing changed).
        """
        plan = await reload_config_checks(
            self._store, desired, engine=self.name, run_sync=self._run_sync,
            read_limiter=self.db_read_limiter, write_limiter=self.db_write_limiter, checks=self._checks,
            scheduler=self._scheduler, evaluator=self._evaluator, heartbeats=self.heartbeats, emit=self._emit,
        )
        if plan is not None:
            self._desired = tuple(desired)
            self.stats.reloads += 1
        return plan

    def submit_nowait(self, command: EngineCommand) -> None:
        """Queue a command for the engine.

        Raises:
            trio.WouldBlock: when the command queue is full.
        """
        self._commands_send.send_nowait(command)

    # -- lifecycle ------------------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Start, report started through `task_status`, run until `stop()`, flush, emit EngineStopped.

        Raises:
            StorageError: when the store cannot sync or load the checks at start-up.
        """
        log.info("engine %s starting", self.name, extra={"engine": self.name, "checks": len(self._desired)})
        error: str | None = None
        try:
            await self._run(task_status)
        except Exception as exc:
            error = describe(exc)
            raise
        finally:
            self._emit(EngineStopped(engine=self.name, at=self._wall_clock(), error=error))
            log_stopped(self.name, self.stats, error)

    async def _run(self, task_status: trio.TaskStatus[None]) -> None:
        with self._startup_scope:
            startup_records = await self._load()
        if self.settle_heap and not self._startup_scope.cancelled_caught:
            self._http.prepare(self._checks.values())  # their request plans live as long as the run
            heap.settle()
        started = False
        if not self._startup_scope.cancelled_caught:
            async with trio.open_nursery() as keeper:
                # The recorder lives outside the scope stop() cancels: it must outlive the probes.
                await keeper.start(self._recorder.run, self._records_receive)
                if self.notifier is not None:
                    await keeper.start(self.notifier.run)
                try:
                    with self._scope:
                        for record in startup_records:
                            await self._records_send.send(record)
                        async with trio.open_nursery() as nursery:
                            await nursery.start(self._scheduler.run)
                            if self.cluster is not None:
                                await nursery.start(self.cluster.run, self._follow_leases)
                            if self.watcher is not None:
                                await nursery.start(self.watcher.run)
                            await nursery.start(self.heartbeats.run)
                            if self.maintenance is not None:
                                await nursery.start(self.maintenance.run)
                            if self.listen is not None:
                                self.listen_address = await nursery.start(self._serve_http, self.listen)
                            nursery.start_soon(self._commands().run, self._commands_receive)
                            for companion in self._companions:
                                await nursery.start(companion.run, self)
                            log.info("engine %s started with %d checks", self.name, len(self._checks),
                                     extra={"engine": self.name, "checks": len(self._checks)})
                            task_status.started()
                            started = True
                finally:
                    # Probing is over: closing the channel lets the recorder write what is left and end.
                    self._records_send.close()
                    if self.notifier is not None:
                        self.notifier.finish()
                    with trio.CancelScope(shield=True):
                        await self._http.aclose()
        if not started:  # stop() came during start-up: still a clean start-and-stop for the host
            task_status.started()

    async def _load(self) -> list[Record]:
        """Sync the checks into the store, load states, emit EngineStarted, schedule what is not paused.

        Returns:
            State-only records to write once the recorder runs (config-paused checks becoming PAUSED).
        """
        plan = await sync_at_start(self._store, self._desired, engine=self.name, run_sync=self._run_sync,
                                   write_limiter=self.db_write_limiter)
        stored = await self._run_sync(self._store.load_states, limiter=self.db_read_limiter)
        checks_to_run(plan, self._desired, into=self._checks)
        self._evaluator = Evaluator(stored, self._checks, emit=self._emit, engine=self.name)
        if self.cluster is not None:
            await self.cluster.join(self._follow_leases)
        records = place_checks(self._checks, self._evaluator, scheduler=self._scheduler,
                               heartbeats=self.heartbeats, now=self._wall_clock())
        self._emit(
            EngineStarted(
                engine=self.name,
                checks=tuple(self._checks.values()),
                states=tuple(self._evaluator.states[i] for i in self._checks),
            )
        )
        return records

    # -- probing --------------------------------------------------------------------------------

    async def _probe_and_apply(self, check: Check) -> None:
        if self.cluster is not None and not self.cluster.lease_valid():
            return  # stalled past the lease: another engine may own it now; the next claim tells
        result = await self._prober.probe(check)
        self.stats.probes_total += 1
        if not result.ok:
            self.stats.probe_failures += 1
        current = self._checks.get(result.check_id, check)
        if self.cluster is not None:
            record = await self.cluster.judge(
                self._evaluator, current, result, self._wall_clock(), self._emit
            )
        else:
            record = self._evaluator.apply(current, result, self._wall_clock())
        await self._send_record(record)

    async def _follow_leases(self, gained: frozenset[int]) -> None:
        if self.cluster is not None:
            self.stats.leases_held = len(self.cluster.held)
            await follow_leases(self.cluster, gained, checks=self._checks, evaluator=self._evaluator,
                                scheduler=self._scheduler, emit=self._emit)
            await self.heartbeats.take_over(gained)

    async def _rewind_rollups(self, since: datetime) -> None:
        """Results reached the database late (an outage): roll their minutes up again."""
        rewind = getattr(self._rollups, "rewind", None)
        if rewind is not None and self._retention is not None:
            await self._run_sync(
                rewind, since, self._wall_clock(), self._retention, limiter=self.db_write_limiter
            )

    async def _send_record(self, record: Record) -> None:
        try:
            # Room in the buffer is the usual case: no checkpoint needed (one probe task less to
            # reschedule per result).
            self._records_send.send_nowait(record)
            return
        except trio.WouldBlock:
            pass
        # Shielded: once a result has been shown (CheckUpdated) it must reach the recorder, even if
        # stop() lands right now. The recorder outlives this task, so the send always completes.
        with trio.CancelScope(shield=True):
            await self._records_send.send(record)

    def _commands(self) -> CommandLoop:
        """The command handlers, built once start-up has loaded the checks and their states."""
        forwarder = None if self.cluster is None or self._command_table is None else CommandForwarder(
            self._command_table, engine=self.name, emit=self._emit, run_sync=self._run_sync,
            write_limiter=self.db_write_limiter, wall_clock=self._wall_clock)
        return CommandLoop(
            engine=self.name, store=self._store, checks=self._checks, evaluator=self._evaluator,
            scheduler=self._scheduler, heartbeats=self.heartbeats, records=self._records_send,
            emit=self._emit, run_sync=self._run_sync, read_limiter=self.db_read_limiter,
            write_limiter=self.db_write_limiter, wall_clock=self._wall_clock,
            owns=self.cluster.owns if self.cluster is not None else None, forwarder=forwarder,
        )

    async def _serve_http(self, listen: str, *, task_status: trio.TaskStatus[str]) -> None:
        await serve_listener(
            self, listen, check_count=lambda: len(self._checks), pings=self.heartbeats, store=self._store,
            run_sync=self._run_sync, submit=self._commands_send.send, api=self._api, task_status=task_status,
        )

