"""The engine's two reloads, store side included: the config file's checks, and checks changed via the API.

engine.config_reload and engine.check_reload decide what changed and apply it on the trio thread;
this module is the I/O around them — read the store through the worker thread, give up on a storage
error with a log line rather than crash a running engine, then apply. Kept out of engine.runtime so
the Engine class stays its lifecycle, and both reload paths read side by side.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from engine.check_reload import apply_reload, plan_reload
from engine.config_reload import apply_config_reload, plan_config_reload
from pulsewatch.errors import StorageError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import trio

    from engine.evaluator import Evaluator
    from engine.heartbeats import HeartbeatMonitor
    from engine.offload import RunSync
    from engine.scheduler import Scheduler
    from pulsewatch.domain.events import EngineEvent
    from pulsewatch.domain.monitoring import Check
    from pulsewatch.services.check_sync import CheckSyncPlan
    from pulsewatch.services.ports import MonitoringStore

log = logging.getLogger("pulsewatch.engine")


async def reload_config_checks(
    store: MonitoringStore,
    desired: Sequence[Check],
    *,
    engine: str,
    run_sync: RunSync,
    read_limiter: trio.CapacityLimiter,
    write_limiter: trio.CapacityLimiter,
    checks: dict[int, Check],
    scheduler: Scheduler,
    evaluator: Evaluator,
    heartbeats: HeartbeatMonitor,
    emit: Callable[[EngineEvent], None],
) -> CheckSyncPlan | None:
    """Sync the config file's `desired` checks into the store and run what changed in `checks`.

    Unchanged checks keep their state.

    Returns:
        The applied sync plan, or None when the database refused (logged; nothing changed).
    """
    try:
        plan = await run_sync(store.sync_checks, desired, limiter=write_limiter)
        states = await run_sync(store.load_states, limiter=read_limiter)
    except StorageError as exc:
        log.error("config not reloaded: %s", exc, extra={"engine": engine})
        return None
    changes = plan_config_reload(checks, plan)
    apply_config_reload(changes, states, checks=checks, scheduler=scheduler,
                        evaluator=evaluator, heartbeats=heartbeats, emit=emit)
    log.info(
        "config reloaded: %d added, %d changed, %d removed", len(changes.added), len(changes.changed),
        len(changes.removed), extra={"engine": engine, "checks": len(checks)},
    )
    return plan


async def reload_api_checks(
    store: MonitoringStore,
    *,
    engine: str,
    run_sync: RunSync,
    read_limiter: trio.CapacityLimiter,
    checks: dict[int, Check],
    scheduler: Scheduler,
    evaluator: Evaluator,
    emit: Callable[[EngineEvent], None],
) -> None:
    """Pick up API-owned checks created, changed or deleted since start-up (engine.check_reload).

    A storage error is logged and changes nothing: the next `ReloadChecks` reads everything again.
    """
    try:
        stored = await run_sync(store.load_checks, limiter=read_limiter)
        states = await run_sync(store.load_states, limiter=read_limiter)
    except StorageError as exc:
        log.warning("could not reload checks: %s", exc, extra={"engine": engine})
        return
    plan = plan_reload(checks, stored)
    apply_reload(plan, states, checks=checks, scheduler=scheduler, evaluator=evaluator, emit=emit)
