"""This engine as one of several on a database: its leases, which checks it runs, which it decides.

`Cluster.join()` registers the engine and claims its first shards before the scheduler starts;
`Cluster.run()` renews every `lease/3` (heartbeat, renewal, free shards, rebalancing) and, on a clean
stop, gives every lease back so the others take over at once. The rules are in
`pulsewatch.domain.cluster`; the SQL in `engine.storage.cluster_store`.

**Ownership.** The scheduler asks `owns(check_id)`: the check's shard is held and the lease is
still valid by this engine's own clock (the last successful claim plus the lease TTL), so an engine
that was stalled past its lease stops probing before it learns that another engine took over.
While the database cannot be reached, leases count as valid: nobody can take them over then, and
probing goes on (if only this engine lost the database, its checks are probed twice until it comes
back: availability wins over exclusivity in a partition). Shards over the fair share are released
only after the scheduler has stopped running them, so a check changing hands is never probed twice
in a round (the slots are on the wall-clock grid every engine shares). Heartbeat checks follow the
same ownership: the owner alone judges their deadlines, and pings other engines receive reach it
through the database (engine.heartbeat_pings, with `pings`).

**Deciding and quorum.** Results of checks this engine holds but does not decide (another region
decides) are recorded as observations: the result is stored, the state is left alone. The decider,
when the state rule says DOWN and `quorum` > 1, reads the other regions' latest results for that
check from the store and turns it DOWN only when `quorum` regions failed (capped by the number of
live regions); otherwise the check keeps its status and the failure streak, and the next failure
asks again. If the store cannot be read, the check is not turned DOWN (it cannot be confirmed).
"""

from __future__ import annotations

import logging
import math
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

import trio

from engine.evaluator import Record
from pulsewatch import __version__
from pulsewatch.domain.cluster import SHARDS, LeaseTiming, quorum_reached, shard_of
from pulsewatch.domain.events import CheckChanged, CheckUpdated
from pulsewatch.domain.monitoring import CheckState, Status, evaluate
from pulsewatch.errors import StorageError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Collection
    from datetime import datetime

    from engine.evaluator import Evaluator
    from engine.heartbeat_pings import PingQueue
    from engine.offload import RunSync
    from engine.scheduler import Scheduler
    from engine.storage.cluster_store import LeaseClaim, RegionVerdicts
    from pulsewatch.domain.engines import EngineLoad
    from pulsewatch.domain.events import EngineEvent
    from pulsewatch.domain.monitoring import Check, ProbeResult

log = logging.getLogger("pulsewatch.engine.cluster")


class ClusterPort(Protocol):
    """What the cluster needs from storage (engine.storage.cluster_store.ClusterStore)."""

    def claim(
        self, engine: str, region: str, version: str, ttl: float, *, joining: bool = False,
        load: EngineLoad | None = None,
    ) -> LeaseClaim:
        """Heartbeat (with the load figures), renew, take free shards; see ClusterStore.claim."""
        ...

    def release(self, engine: str, region: str, shards: Collection[int]) -> None:
        """Give shards back."""
        ...

    def leave(self, engine: str, region: str) -> None:
        """Release every lease and mark the engine stopped."""
        ...

    def region_verdicts(self, check_id: int, since: datetime, region: str, ttl: float) -> RegionVerdicts:
        """Other regions' latest verdicts on a check."""
        ...

    def states_of(self, check_ids: Collection[int]) -> dict[int, CheckState]:
        """Stored states of some checks."""
        ...


class Cluster:
    """One engine's membership of the engines sharing a database.

    Args:
        store: engines and leases (sync; called in worker threads).
        engine: this engine's name.
        region: its region ("": the one default region).
        lease: the lease period in seconds (engine.lease).
        quorum: regions that must agree before a check goes DOWN (engine.quorum).
        run_sync: how blocking store calls reach a worker thread.
        shards: shards per region (tests use fewer).
        pings: heartbeat pings in transit from the engine that received them to the check's owner
            (engine.heartbeat_pings); None: every engine judges every heartbeat check itself.
    """

    def __init__(
        self,
        store: ClusterPort,
        *,
        engine: str,
        region: str = "",
        lease: float = LeaseTiming.period,
        quorum: int = 1,
        run_sync: RunSync = trio.to_thread.run_sync,
        shards: int = SHARDS,
        pings: PingQueue | None = None,
    ) -> None:
        self.engine = engine
        self.region = region
        self.timing = LeaseTiming(lease)
        self.quorum = quorum
        self.shards = shards
        self.pings = pings
        self.held: frozenset[int] = frozenset()
        """Shards this engine holds and runs."""
        self.deciding: frozenset[int] = frozenset()
        """Held shards whose checks this engine decides."""
        self.live_engines = 0
        self.live_regions = 0
        self._store = store
        self._run_sync = run_sync
        self.measure: Callable[[], EngineLoad] | None = None
        """Samples this engine's load for each heartbeat (the Engine sets it: it owns the counters);
        None: heartbeats carry no load figures."""
        self._limiter = trio.CapacityLimiter(2)
        self._valid_until = -math.inf
        self._unreachable = False

    # -- ownership (trio thread) ----------------------------------------------------------------

    def lease_valid(self) -> bool:
        """Whether this engine may probe: its last claim is fresh, or the database is unreachable."""
        return self._unreachable or trio.current_time() < self._valid_until

    def owns(self, check_id: int) -> bool:
        """Whether this engine runs the check now."""
        return shard_of(check_id, self.shards) in self.held and self.lease_valid()

    def decides(self, check_id: int) -> bool:
        """Whether this engine applies the check's results to its state (else it only records them)."""
        return shard_of(check_id, self.shards) in self.deciding

    # -- lifecycle ------------------------------------------------------------------------------

    async def join(self, on_change: Callable[[frozenset[int]], Awaitable[None]]) -> None:
        """Register and claim the first shards (before the scheduler starts).

        Raises:
            StorageError: the database refused.
        """
        await self._claim(on_change, joining=True)
        log.info(
            "engine %s joined region %r holding %d of %d shards (%d live engines)",
            self.engine, self.region, len(self.held), self.shards, self.live_engines,
            extra={"engine": self.engine, "region": self.region, "shards": len(self.held)},
        )

    async def run(
        self,
        on_change: Callable[[frozenset[int]], Awaitable[None]],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Renew every `lease/3` until cancelled; then give every lease back.

        Args:
            on_change: awaited after each successful claim with the shards newly gained, before
                shards over the fair share are released (the engine stops and starts checks in it).
        """
        task_status.started()
        try:
            while True:
                await trio.sleep(self.timing.renew_every)
                try:
                    await self._claim(on_change)
                except StorageError as exc:
                    if not self._unreachable:
                        log.warning(
                            "cannot renew shard leases, probing goes on with the %d held: %s",
                            len(self.held), exc, extra={"engine": self.engine},
                        )
                    self._unreachable = True
        finally:
            with trio.CancelScope(shield=True):
                await self._leave()

    async def _claim(
        self, on_change: Callable[[frozenset[int]], Awaitable[None]], *, joining: bool = False
    ) -> None:
        started = trio.current_time()
        # Sampled here, on the trio thread: the counters are only ever touched from it.
        load = self.measure() if self.measure is not None else None
        claim = await self._run_sync(self._claim_sync, joining, load, limiter=self._limiter)
        self._valid_until = started + self.timing.ttl
        if self._unreachable:
            log.info("shard leases renewed again", extra={"engine": self.engine})
        self._unreachable = False
        keep = claim.held - frozenset(claim.release)
        gained = keep - self.held
        if keep != self.held:
            log.info(
                "engine %s now holds %d shards (+%d, -%d)",
                self.engine, len(keep), len(gained), len(self.held - keep),
                extra={"engine": self.engine, "shards": len(keep), "live_engines": claim.live_engines},
            )
        self.held, self.deciding = keep, claim.deciding & keep
        self.live_engines, self.live_regions = claim.live_engines, claim.live_regions
        await on_change(gained)
        if claim.release:
            await self._run_sync(
                self._store.release, self.engine, self.region, claim.release, limiter=self._limiter
            )

    def _claim_sync(self, joining: bool, load: EngineLoad | None) -> LeaseClaim:
        return self._store.claim(self.engine, self.region, __version__, self.timing.ttl, joining=joining,
                                 load=load)

    async def _leave(self) -> None:
        self.held = self.deciding = frozenset()
        try:
            await self._run_sync(self._store.leave, self.engine, self.region, limiter=self._limiter)
        except StorageError as exc:
            log.warning("could not give the shard leases back (they expire by themselves): %s", exc,
                        extra={"engine": self.engine})

    async def states_of(self, check_ids: Collection[int]) -> dict[int, CheckState]:
        """The stored states of checks whose shard this engine just gained."""
        return await self._run_sync(self._store.states_of, check_ids, limiter=self._limiter)

    # -- judging results ------------------------------------------------------------------------

    async def judge(
        self,
        evaluator: Evaluator,
        check: Check,
        result: ProbeResult,
        now: datetime,
        emit: Callable[[EngineEvent], None],
    ) -> Record:
        """Apply a result as the decider (quorum-gated DOWN), or record it as an observation."""
        state = evaluator.states.get(result.check_id) or CheckState(check_id=result.check_id)
        if not self.decides(result.check_id):
            emit(CheckUpdated(state=state, result=result))
            return Record(result=result, state=state, writes_state=False)
        if self.quorum > 1 and state.status not in (Status.PAUSED, Status.DOWN):
            _, flip = evaluate(state, result, check, now)
            if flip is not None and flip.new == Status.DOWN and not await self._quorum_agrees(check, result):
                held, _ = evaluate(state, result, check, now)
                held = replace(held, status=state.status, since=state.since)
                evaluator.states[result.check_id] = held
                emit(CheckUpdated(state=held, result=result))
                return Record(result=result, state=held)
        return evaluator.apply(check, result, now)

    async def _quorum_agrees(self, check: Check, result: ProbeResult) -> bool:
        since = result.started_at - timedelta(seconds=2 * check.interval + check.timeout)
        try:
            verdicts = await self._run_sync(
                self._store.region_verdicts, result.check_id, since, self.region, self.timing.ttl,
                limiter=self._limiter,
            )
        except StorageError as exc:
            log.warning("%s: cannot read other regions' results, not turning it DOWN: %s", check.name, exc,
                        extra={"engine": self.engine, "check": check.name})
            return False
        agrees = quorum_reached(
            quorum=self.quorum, own_failed=not result.ok, other_regions_failed=verdicts.failed,
            live_regions=verdicts.live_regions,
        )
        if not agrees:
            others = sorted(verdicts.failed.items())
            seen = ", ".join(f"{r or 'default'}: {'failed' if f else 'ok'}" for r, f in others)
            log.info(
                "%s fails here but the quorum of %d regions is not reached (%s)", check.name, self.quorum,
                seen or "no other region reported", extra={"engine": self.engine, "check": check.name},
            )
        return agrees


async def follow_leases(
    cluster: Cluster,
    gained: frozenset[int],
    *,
    checks: dict[int, Check],
    evaluator: Evaluator,
    scheduler: Scheduler,
    emit: Callable[[EngineEvent], None],
) -> None:
    """After a claim: take over the stored states of checks in gained shards, then start and stop
    checks in the scheduler to match the leases (on the trio thread).

    States first: the engine that held them until now wrote newer states than the ones this engine
    loaded at start-up, and a probe must not be judged against the old one.
    """
    moved = [i for i in checks if shard_of(i, cluster.shards) in gained]
    if moved and scheduler.started:
        try:
            states = await cluster.states_of(moved)
        except StorageError as exc:
            log.warning("cannot read the states of %d checks taken over, keeping what is known: %s",
                        len(moved), exc, extra={"engine": cluster.engine})
            states = {}
        for check_id, state in states.items():
            check = checks.get(check_id)
            if check is None:
                continue
            evaluator.states[check_id] = state
            emit(CheckChanged(check=check, state=state))
    scheduler.reconsider()
