"""An in-memory MonitoringStore for engine tests (the cosmicpython fake: the second real implementation)."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from pulsewatch.domain.monitoring import CheckState, Status
from pulsewatch.errors import NotFoundError, StorageError
from pulsewatch.services.check_sync import CheckSyncPlan, plan_check_sync

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from pulsewatch.domain.monitoring import Check, Flip, ProbeResult


@dataclass(frozen=True)
class RecordCall:
    """One `record()` call as the store received it."""

    results: tuple[ProbeResult, ...]
    states: tuple[CheckState, ...]
    flips: tuple[Flip, ...]


class FakeStore:
    """Keeps everything in lists and dicts; thread-safe because the engine calls it from worker threads.

    Args:
        fail_record: how many `record()` calls fail (StorageError) before they start succeeding;
            a negative number fails them all until `fail_record` is set to 0.
    """

    def __init__(self, *, fail_record: int = 0) -> None:
        self.fail_record = fail_record
        self.checks: dict[int, Check] = {}
        self.states: dict[int, CheckState] = {}
        self.results: list[ProbeResult] = []
        self.flips: list[Flip] = []
        self.calls: list[RecordCall] = []
        self.failed_calls = 0
        self.closed = False
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def sync_checks(self, desired: Sequence[Check]) -> CheckSyncPlan:
        with self._lock:
            plan = plan_check_sync(desired, self.checks.values())
            added = tuple(replace(c, id=next(self._ids)) for c in plan.added)
            for check in (*added, *plan.changed):
                assert check.id is not None
                self.checks[check.id] = check
                self.states[check.id] = CheckState(check_id=check.id)
            for check in plan.removed:
                assert check.id is not None
                del self.checks[check.id]
                self.states.pop(check.id, None)
            return CheckSyncPlan(added, plan.changed, plan.removed, plan.unchanged)

    def load_checks(self) -> list[Check]:
        with self._lock:
            return sorted(self.checks.values(), key=lambda c: c.key)

    def load_states(self) -> dict[int, CheckState]:
        with self._lock:
            return dict(self.states)

    def record(
        self, results: Sequence[ProbeResult], states: Sequence[CheckState], flips: Sequence[Flip]
    ) -> None:
        with self._lock:
            if self.fail_record:
                if self.fail_record > 0:
                    self.fail_record -= 1
                self.failed_calls += 1
                raise StorageError("database is locked (fake)")
            self.calls.append(RecordCall(tuple(results), tuple(states), tuple(flips)))
            self.results.extend(results)
            self.flips.extend(flips)
            for state in states:
                self.states[state.check_id] = state

    def set_paused(self, check_id: int, paused: bool, now: datetime) -> CheckState:
        with self._lock:
            if check_id not in self.checks:
                raise NotFoundError(f"no check with id {check_id}")
            state = self.states.get(check_id) or CheckState(check_id=check_id)
            if paused != (state.status == Status.PAUSED):
                state = CheckState(
                    check_id=check_id, status=Status.PAUSED if paused else Status.UNKNOWN, since=now
                )
                self.states[check_id] = state
            return state

    def recent_results(self, check_id: int, limit: int) -> list[ProbeResult]:
        with self._lock:
            mine = [r for r in self.results if r.check_id == check_id]
            return sorted(mine, key=lambda r: r.started_at, reverse=True)[:limit]

    def recent_flips(self, check_id: int, limit: int) -> list[Flip]:
        with self._lock:
            mine = [f for f in self.flips if f.check_id == check_id]
            return sorted(mine, key=lambda f: f.at, reverse=True)[:limit]

    def close(self) -> None:
        self.closed = True
