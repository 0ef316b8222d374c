"""The ports the use cases and the engine depend on, as Protocols.

A Protocol earns its place here only where a second real implementation exists: the SQL store
(SQLite/MySQL) and the in-memory fake the engine tests use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from pulsewatch.domain.monitoring import Check, CheckState, Flip, ProbeResult
    from pulsewatch.services.check_sync import CheckSyncPlan


class MonitoringStore(Protocol):
    """Where checks, their states, results and flips are kept. Every method is sync and blocking:
    the engine calls them from worker threads, never on its event loop."""

    def sync_checks(self, desired: Sequence[Check]) -> CheckSyncPlan:
        """Make the stored checks match `desired` in one transaction and return the applied plan.

        Added checks get ids and an UNKNOWN state; changed checks keep their id but their state is
        reset to UNKNOWN (what was true of the old definition says nothing of the new one);
        unchanged checks keep id and state; removed checks are deleted with their state (their
        results and flips age out with retention). The returned plan carries ids everywhere.
        """
        ...

    def load_checks(self) -> list[Check]:
        """Every stored check, ordered by (org, name)."""
        ...

    def load_states(self) -> dict[int, CheckState]:
        """The state of every stored check, by check id."""
        ...

    def record(
        self, results: Sequence[ProbeResult], states: Sequence[CheckState], flips: Sequence[Flip]
    ) -> None:
        """Write one batch atomically: results appended, states upserted, flips appended."""
        ...

    def set_paused(self, check_id: int, paused: bool, now: datetime) -> CheckState:
        """An operator's pause or resume: the state becomes PAUSED, or UNKNOWN again on resume."""
        ...

    def recent_results(self, check_id: int, limit: int) -> list[ProbeResult]:
        """The check's latest results, newest first."""
        ...

    def recent_flips(self, check_id: int, limit: int) -> list[Flip]:
        """The check's latest flips, newest first."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
