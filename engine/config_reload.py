"""Config as code while the engine runs: reload the YAML on SIGHUP or when the file changes.

`ConfigWatcher` polls the file's (mtime, size, inode) every `engine.watch` seconds — no inotify dependency,
and it also notices an editor that replaces the file — and reloads at once when asked (`request()`,
which the headless engine calls on SIGHUP). A file that does not load (a typo, a half-written save)
is logged with every problem and ignored: the engine keeps running what it has, and the next change
is tried again.

A reload goes through the store like a start-up does (`sync_checks`: one transaction), then
`plan_config_reload` compares the synced checks with the ones the engine runs, by id and fingerprint:
unchanged checks keep their state, schedule and phase; changed ones take their fresh stored state and
are probed at once; removed ones stop. Checks created through the REST API are not the file's to
change (engine.check_reload handles them). Several engines reading the same file converge: the first
sync changes the database, the others find it already done and still update what they run, because
they compare with what *they* run, not with the plan of their own sync.

Only checks are reloaded; channels, routes and listener settings still need a restart.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import trio

from engine.check_reload import ReloadPlan, apply_reload
from pulsewatch.domain.events import CheckChanged
from pulsewatch.domain.monitoring import API_ORIGIN, CheckState, Status
from pulsewatch.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping, Sequence
    from pathlib import Path

    from engine.evaluator import Evaluator
    from engine.heartbeats import HeartbeatMonitor
    from engine.scheduler import Scheduler
    from pulsewatch.domain.events import EngineEvent
    from pulsewatch.domain.monitoring import Check
    from pulsewatch.services.check_sync import CheckSyncPlan

log = logging.getLogger("pulsewatch.engine.config")

POLL_SECONDS = 2.0
"""How often the config file's modification time is looked at."""


@dataclass(frozen=True)
class ConfigSource:
    """Where the engine's checks come from: a file, and how to load its checks (blocking)."""

    path: Path
    load: Callable[[], Sequence[Check]]
    """Read and validate the file; raises ConfigError."""
    poll: float = POLL_SECONDS
    """Seconds between looks at the file; 0: reload only on request (SIGHUP)."""


def plan_config_reload(running: Mapping[int, Check], synced: CheckSyncPlan) -> ReloadPlan:
    """What changed among the config-owned checks, compared with what the engine runs.

    `paused` is compared through the sync (a check the config pauses or resumes is in
    `synced.changed`), not through the running copy: the engine mirrors operator pauses in it.
    """
    wanted = {c.id: c for c in (*synced.added, *synced.changed, *synced.unchanged) if c.id is not None}
    resynced = {c.id for c in synced.changed}
    added = tuple(c for i, c in wanted.items() if i not in running)
    changed = tuple(
        c for i, c in wanted.items()
        if i in running
        and (i in resynced or replace(running[i], paused=c.paused).fingerprint() != c.fingerprint())
    )
    removed = tuple(i for i, c in running.items() if c.origin != API_ORIGIN and i not in wanted)
    return ReloadPlan(added, changed, removed)


class ConfigWatcher:
    """Reloads the config on `request()` and whenever its file changes.

    Args:
        source: the file, its loader and how often to look at it.
        apply: awaited with the loaded checks (the engine syncs and reschedules).
        engine: the engine's name, for logs.
    """

    def __init__(
        self,
        source: ConfigSource,
        apply: Callable[[Sequence[Check]], Awaitable[object]],
        *,
        engine: str = "",
    ) -> None:
        self._source = source
        self._apply = apply
        self._poll = source.poll if source.poll > 0 else math.inf
        self._engine = engine
        self._requested = trio.Event()

    def request(self) -> None:
        """Reload now (SIGHUP); call on the trio thread."""
        self._requested.set()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Watch until cancelled."""
        seen = await self._signature()
        task_status.started()
        while True:
            with trio.move_on_after(self._poll):
                await self._requested.wait()
            asked = self._requested.is_set()
            self._requested = trio.Event()
            current = await self._signature()
            if not asked and current == seen:
                continue
            seen = current
            await self._reload("SIGHUP" if asked else "file change")

    async def _signature(self) -> tuple[int, int, int] | None:
        try:
            stat = await trio.Path(self._source.path).stat()
        except OSError:
            return None  # gone for a moment (an editor's rename): the next look sees it again
        return (stat.st_mtime_ns, stat.st_size, stat.st_ino)

    async def _reload(self, why: str) -> None:
        extra = {"engine": self._engine, "config": str(self._source.path)}
        try:
            checks = await trio.to_thread.run_sync(self._source.load)
        except ConfigError as exc:
            problems = "; ".join(exc.problems) or exc.message
            log.error("config not reloaded (%s): %s", why, problems, extra=extra)
            return
        log.info("reloading the config (%s): %d checks", why, len(checks), extra=extra)
        await self._apply(checks)


def apply_config_reload(
    plan: ReloadPlan,
    states: Mapping[int, CheckState],
    *,
    checks: dict[int, Check],
    scheduler: Scheduler,
    evaluator: Evaluator,
    heartbeats: HeartbeatMonitor,
    emit: Callable[[EngineEvent], None],
) -> None:
    """Make the engine run what `plan` says (on the trio thread).

    Probed checks go through `engine.check_reload.apply_reload` (the REST API's path: fresh stored
    state, probed at once unless PAUSED); heartbeat checks are handed to the heartbeat monitor
    instead of the scheduler.
    """
    pushed = tuple(c for c in (*plan.added, *plan.changed) if c.heartbeat is not None)
    probed = ReloadPlan(
        added=tuple(c for c in plan.added if c.heartbeat is None),
        changed=tuple(c for c in plan.changed if c.heartbeat is None),
        removed=plan.removed,
    )
    for check_id in plan.removed:
        if checks.get(check_id) is not None and checks[check_id].heartbeat is not None:
            heartbeats.remove(check_id)
    apply_reload(probed, states, checks=checks, scheduler=scheduler, evaluator=evaluator, emit=emit)
    for check in pushed:
        check_id = check.id or 0
        state = states.get(check_id) or CheckState(check_id=check_id)
        check = replace(check, paused=state.status == Status.PAUSED)
        checks[check_id] = check
        evaluator.states[check_id] = state
        scheduler.remove(check_id)  # a probed check that became a heartbeat check
        heartbeats.add(check)
        emit(CheckChanged(check=check, state=state))
