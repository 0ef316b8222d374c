"""Picking up checks created, changed or deleted through the REST API while the engine runs.

The API stores the change (one transaction, audited), then sends the engine `ReloadChecks`. The
engine reads the stored checks again and compares only the API-owned ones with what it runs: the
YAML's checks are the engine's own desired state and change only with a restart or `config apply`.

A check's `paused` flag is not part of the comparison: pausing changes the stored state, not the
stored definition, and the engine mirrors the state in the flag (see `CommandLoop._set_paused`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from pulsewatch.domain.events import CheckChanged, CheckRemoved
from pulsewatch.domain.monitoring import API_ORIGIN, CheckState, Status

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from engine.evaluator import Evaluator
    from engine.scheduler import Scheduler
    from pulsewatch.domain.events import EngineEvent
    from pulsewatch.domain.monitoring import Check


@dataclass(frozen=True)
class ReloadPlan:
    """What changed among the API-owned checks since the engine last looked."""

    added: tuple[Check, ...] = ()
    changed: tuple[Check, ...] = ()
    removed: tuple[int, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.changed or self.removed)


def plan_reload(running: Mapping[int, Check], stored: Iterable[Check]) -> ReloadPlan:
    """Compare the API-owned checks the engine runs with the API-owned checks in the store, by id."""
    wanted = {c.id: c for c in stored if c.origin == API_ORIGIN and c.id is not None}
    added = tuple(c for i, c in wanted.items() if i not in running)
    changed = tuple(
        c
        for i, c in wanted.items()
        if i in running and replace(running[i], paused=c.paused).fingerprint() != c.fingerprint()
    )
    removed = tuple(i for i, c in running.items() if c.origin == API_ORIGIN and i not in wanted)
    return ReloadPlan(added, changed, removed)


def apply_reload(
    plan: ReloadPlan,
    states: Mapping[int, CheckState],
    *,
    checks: dict[int, Check],
    scheduler: Scheduler,
    evaluator: Evaluator,
    emit: Callable[[EngineEvent], None],
) -> None:
    """Make the engine's checks, states and schedule follow `plan` (on the trio thread).

    New and redefined checks take their stored state (the API wrote a fresh one) and, unless it is
    PAUSED, are probed at once; removed ones stop being scheduled (a probe in flight still finishes
    and is recorded, and the next config sync sweeps its state).
    """
    for check_id in plan.removed:
        scheduler.remove(check_id)
        checks.pop(check_id, None)
        evaluator.states.pop(check_id, None)
        emit(CheckRemoved(check_id=check_id))
    for check in (*plan.added, *plan.changed):
        check_id = check.id or 0
        state = states.get(check_id) or CheckState(check_id=check_id)
        paused = state.status == Status.PAUSED
        check = replace(check, paused=paused)
        checks[check_id] = check
        evaluator.states[check_id] = state
        if paused:
            scheduler.remove(check_id)
        else:
            scheduler.add(check, immediately=True)
        emit(CheckChanged(check=check, state=state))
