"""Monitoring reads limited to some organizations, in SQL: the tenancy boundary of every query.

Results and flips carry only a check id, so they are filtered through the checks of the allowed
organizations (`check_id IN (SELECT id FROM checks WHERE org IN ...)`): a result whose check is gone
belongs to no organization and is shown to nobody but the system actor. `orgs=None` means every
organization; an empty collection means none — never "no filter".

The seam for the contexts to come: incidents and channels add `incidents_in(orgs, ...)` and
`channels_in(orgs, ...)` here (filtering on their own `org` column, or through `_check_ids_in`), and
the org-isolation tests in tests/storage/test_scoped_reads.py gain one line each.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from engine.storage.records import CheckRecord, CheckStateRecord, FlipRecord, ResultRecord
from engine.storage.store import SqlStore
from pulsewatch.domain.monitoring import Check, CheckState, Flip, ProbeResult


class SqlScopedReads:
    """Implements `pulsewatch.services.ports.OrgScopedReads` on the SqlStore's database."""

    def __init__(self, sql: SqlStore) -> None:
        self._sql = sql

    def checks_in(self, orgs: Collection[str] | None) -> list[Check]:
        if _nothing(orgs):
            return []
        with self._sql.session("read checks from"):
            query = CheckRecord.select().order_by(CheckRecord.org, CheckRecord.name)
            if orgs is not None:
                query = query.where(CheckRecord.org.in_(sorted(orgs)))
            return [r.to_domain() for r in query]

    def status_rows_in(self, orgs: Collection[str] | None) -> list[tuple[Check, CheckState]]:
        if _nothing(orgs):
            return []
        with self._sql.session("read check states from"):
            checks = self.checks_in(orgs)
            states = CheckStateRecord.select()
            if orgs is not None:
                states = states.where(CheckStateRecord.check_id.in_(_check_ids_in(orgs)))
            by_id = {r.check_id: r.to_domain() for r in states}
        return [(c, by_id.get(c.id or 0) or CheckState(check_id=c.id or 0)) for c in checks]

    def results_in(self, orgs: Collection[str] | None, check_id: int, limit: int) -> list[ProbeResult]:
        if _nothing(orgs) or limit <= 0:
            return []
        with self._sql.session("read results from"):
            query = (
                ResultRecord.select()
                .where(ResultRecord.check_id == check_id)
                .order_by(ResultRecord.started_at.desc(), ResultRecord.id.desc())
                .limit(limit)
            )
            if orgs is not None:
                query = query.where(ResultRecord.check_id.in_(_check_ids_in(orgs)))
            return [r.to_domain() for r in query]

    def flips_in(self, orgs: Collection[str] | None, check_id: int, limit: int) -> list[Flip]:
        if _nothing(orgs) or limit <= 0:
            return []
        with self._sql.session("read flips from"):
            query = (
                FlipRecord.select()
                .where(FlipRecord.check_id == check_id)
                .order_by(FlipRecord.at.desc(), FlipRecord.id.desc())
                .limit(limit)
            )
            if orgs is not None:
                query = query.where(FlipRecord.check_id.in_(_check_ids_in(orgs)))
            return [r.to_domain() for r in query]

    def recent_flips_in(self, orgs: Collection[str] | None, limit: int) -> list[Flip]:
        if _nothing(orgs) or limit <= 0:
            return []
        with self._sql.session("read flips from"):
            query = FlipRecord.select().order_by(FlipRecord.at.desc(), FlipRecord.id.desc()).limit(limit)
            if orgs is not None:
                query = query.where(FlipRecord.check_id.in_(_check_ids_in(orgs)))
            return [r.to_domain() for r in query]


def _nothing(orgs: Collection[str] | None) -> bool:
    return orgs is not None and not orgs


def _check_ids_in(orgs: Collection[str]) -> Any:
    """The subquery of the ids of the checks of `orgs`."""
    return CheckRecord.select(CheckRecord.id).where(CheckRecord.org.in_(sorted(orgs)))
