"""Monitoring reads limited to some organizations, in SQL: the tenancy boundary of every query.

Results and flips carry only a check id, so they are filtered through the checks of the allowed
organizations (`check_id IN (SELECT id FROM checks WHERE org IN ...)`): a result whose check is gone
belongs to no organization and is shown to nobody but the system actor. `orgs=None` means every
organization; an empty collection means none — never "no filter".

Incidents and silences carry their own `org` column and are filtered on it: an incident stays with
its organization after its check is removed (its history still reads). A silence without an `org`
was made for every organization and is shown to each. The seam for the contexts to come (channels
with an organization, deliveries): add `*_in(orgs, ...)` here, filtering on their own `org` column or
through `_check_ids_in`, and give the org-isolation tests in tests/storage/test_scoped_reads.py one
line each.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from engine.storage.alerting_records import IncidentRecord, SilenceRecord
from engine.storage.records import CheckRecord, CheckStateRecord, FlipRecord, ResultRecord
from engine.storage.store import SqlStore
from pulsewatch.domain.alerting import Incident, IncidentStatus, Silence
from pulsewatch.domain.monitoring import Check, CheckState, Flip, ProbeResult


class SqlScopedReads:
    """Implements `pulsewatch.services.ports.OrgScopedReads` (and the incidents and silences of
    `pulsewatch.services.alerting_access.AlertReads`) on the SqlStore's database."""

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

    def incidents_in(
        self, orgs: Collection[str] | None, *, open_only: bool = False, limit: int = 100
    ) -> list[Incident]:
        if _nothing(orgs) or limit <= 0:
            return []
        with self._sql.session("read incidents from"):
            query = IncidentRecord.select()
            if orgs is not None:
                query = query.where(IncidentRecord.org.in_(sorted(orgs)))
            if open_only:
                query = query.where(IncidentRecord.status != IncidentStatus.RESOLVED.value)
            query = query.order_by(IncidentRecord.opened_at.desc(), IncidentRecord.id.desc()).limit(limit)
            return [r.to_domain() for r in query]

    def silences_in(
        self, orgs: Collection[str] | None, now: datetime, *, include_ended: bool = False
    ) -> list[Silence]:
        if _nothing(orgs):
            return []
        with self._sql.session("read silences from"):
            query = SilenceRecord.select()
            if orgs is not None:
                query = query.where(SilenceRecord.org.in_(sorted(orgs)) | SilenceRecord.org.is_null())
            if not include_ended:
                query = query.where(
                    (SilenceRecord.until > now)
                    & SilenceRecord.ended_at.is_null()
                    & (SilenceRecord.created_at <= now)
                )
            return [r.to_domain() for r in query.order_by(SilenceRecord.id.desc())]


def _nothing(orgs: Collection[str] | None) -> bool:
    return orgs is not None and not orgs


def _check_ids_in(orgs: Collection[str]) -> Any:
    """The subquery of the ids of the checks of `orgs`."""
    return CheckRecord.select(CheckRecord.id).where(CheckRecord.org.in_(sorted(orgs)))
