"""The engine's start-up: bring the configured checks into the store, then decide what each one does.

Split from engine.runtime so the order of start-up stays readable in `Engine._load` while the rules
live here: the retried sync (engines starting together race for the same new rows), which checks the
engine runs (the config's, in config order, then the API-created ones the sync keeps), and where each
goes once its stored state is known (scheduled, heartbeat-watched, or recorded as PAUSED).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import trio

from pulsewatch.domain.monitoring import CheckState, Status
from pulsewatch.errors import StorageError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from engine.evaluator import Evaluator, Record
    from engine.heartbeats import HeartbeatMonitor
    from engine.offload import RunSync
    from engine.scheduler import Scheduler
    from pulsewatch.domain.monitoring import Check
    from pulsewatch.services.check_sync import CheckSyncPlan
    from pulsewatch.services.ports import MonitoringStore

log = logging.getLogger("pulsewatch.engine")

STARTUP_SYNC_ATTEMPTS = 3
"""Tries of the start-up check sync before the engine gives up (see `sync_at_start`)."""


async def sync_at_start(
    store: MonitoringStore,
    desired: Sequence[Check],
    *,
    engine: str,
    run_sync: RunSync,
    write_limiter: trio.CapacityLimiter,
) -> CheckSyncPlan:
    """Sync the configured checks, retried a little: engines starting together race to insert the
    same new checks and the loser's transaction fails (the winner's rows are there on retry).

    Raises:
        StorageError: when the last attempt fails too.
    """
    delay = 0.5
    for attempt in range(1, STARTUP_SYNC_ATTEMPTS + 1):
        try:
            return await run_sync(store.sync_checks, desired, limiter=write_limiter)
        except StorageError as exc:
            if attempt == STARTUP_SYNC_ATTEMPTS:
                raise
            log.warning("syncing the checks failed (attempt %d), retrying in %gs: %s", attempt, delay,
                        exc, extra={"engine": engine})
            await trio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def checks_to_run(plan: CheckSyncPlan, desired: Sequence[Check], into: dict[int, Check]) -> None:
    """Fill `into` (the engine's checks by id) with what the synced store says the engine runs.

    The config's checks come first, in config order, with the ids the store assigned; then the ones
    created through the REST API, which the config sync keeps and the engine runs too.

    Raises:
        StorageError: when the store returned a check without an id.
    """
    by_key = {c.key: c for c in (*plan.added, *plan.changed, *plan.unchanged)}
    checks = [by_key[c.key] for c in desired if c.key in by_key]
    checks += plan.kept
    for check in checks:
        if check.id is None:
            raise StorageError(f"the store returned check {check.name!r} without an id")
        into[check.id] = check


def place_checks(
    checks: dict[int, Check],
    evaluator: Evaluator,
    *,
    scheduler: Scheduler,
    heartbeats: HeartbeatMonitor,
    now: datetime,
) -> list[Record]:
    """Hand each loaded check to what runs it, by its config and its stored state.

    Heartbeat checks are pinged, never scheduled (paused ones still record pings); checks the config
    pauses become PAUSED; the rest are scheduled unless an operator paused them.

    Returns:
        State-only records to write once the recorder runs (config-paused checks becoming PAUSED).
    """
    records: list[Record] = []
    for check_id, check in checks.items():
        state = evaluator.states[check_id]
        if check.heartbeat is not None:
            heartbeats.add(check)
        if check.paused and state.status != Status.PAUSED:
            paused = CheckState(check_id=check_id, status=Status.PAUSED, since=now)
            records.append(evaluator.replace_state(paused))
        elif not check.paused and state.status != Status.PAUSED and check.heartbeat is None:
            scheduler.add(check)
    return records
