"""The engine's store, with its start-up config sync recorded in the audit log.

An engine brings the checks of its config into the database when it starts (`Engine._load` calls
`sync_checks`). That is a change like `config apply`'s and is audited the same way — one entry per
added, changed and removed check — under the name `engine:<name>`. The engine itself knows nothing
of accounts: the composition (`wiring.make_engine_factory`) hands it this wrapper instead of the
bare store, and the sync and its audit entries commit in one transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from engine.storage.store import SqlStore
    from pulsewatch.domain.monitoring import Check, CheckState, Flip, ProbeResult
    from pulsewatch.services.check_sync import CheckSyncPlan


def _utc_now() -> datetime:
    return datetime.now(UTC)


class AuditedSyncStore:
    """A `MonitoringStore` that is `store`, except that `sync_checks` also appends audit entries.

    Everything else is passed through unchanged (other SqlStore methods too, for code that needs
    more than the port).

    Args:
        store: the SqlStore the engine runs on.
        engine_name: the engine's name; the audit log shows `engine:<name>` as who made the change.
        clock: the time stamped on the entries (the wall clock; tests pass a fixed one).
    """

    def __init__(
        self, store: SqlStore, engine_name: str, *, clock: Callable[[], datetime] = _utc_now
    ) -> None:
        self._store = store
        self.actor = f"engine:{engine_name}"
        self._clock = clock

    def sync_checks(self, desired: Sequence[Check]) -> CheckSyncPlan:
        """Sync like the store does, and record what changed, in the same transaction."""
        from engine.storage.accounts_store import SqlAccountsStore
        from pulsewatch.services.accounts_config import check_audit_entries

        accounts = SqlAccountsStore(self._store)
        with accounts.transaction():
            stored = self._store.load_checks()
            plan = self._store.sync_checks(desired)
            accounts.append_audit(check_audit_entries(plan, stored, self.actor, self._clock()))
        return plan

    def load_checks(self) -> list[Check]:
        return self._store.load_checks()

    def load_states(self) -> dict[int, CheckState]:
        return self._store.load_states()

    def record(
        self, results: Sequence[ProbeResult], states: Sequence[CheckState], flips: Sequence[Flip]
    ) -> None:
        self._store.record(results, states, flips)

    def set_paused(self, check_id: int, paused: bool, now: datetime) -> CheckState:
        return self._store.set_paused(check_id, paused, now)

    def recent_results(self, check_id: int, limit: int) -> list[ProbeResult]:
        return self._store.recent_results(check_id, limit)

    def recent_flips(self, check_id: int, limit: int) -> list[Flip]:
        return self._store.recent_flips(check_id, limit)

    def close(self) -> None:
        self._store.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)
