"""SqlApiStore: the REST API's reads and writes that no other store has, always within one organization.

- Pages of checks with their states, filtered by status, tag, team and text, in name order, for
  cursor (`after` a name) or page (offset) pagination. Organization, status and the cursor are SQL;
  team, tag and text are narrowed in SQL and confirmed in Python (team and tags live in the JSON
  spec, and LIKE differs between backends), reading only as many rows as a page needs.
- API-owned checks: add, update, delete, each with its state, in the caller's transaction.
- Incidents of one organization, newest first, keyed by id for cursors.

Implements `pulsewatch.services.api_checks.ApiCheckPort`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from peewee import JOIN, fn

from engine.storage.alerting_records import IncidentRecord
from engine.storage.records import CheckRecord, CheckStateRecord
from engine.storage.store import SqlStore
from pulsewatch.domain.alerting import Incident, IncidentStatus
from pulsewatch.domain.monitoring import Check, CheckState, Status
from pulsewatch.services.api_checks import CheckConflict

SCAN_CHUNK = 200
"""Rows read per round while Python-side filters (tag, text) skip non-matching checks."""


@dataclass(frozen=True)
class CheckFilter:
    """Which checks of one organization a list shows. None: no filter on that field."""

    org: str
    status: Status | None = None
    tag: str | None = None
    team: str | None = None
    text: str | None = None
    """Case-insensitive substring of the name or the URL."""

    @property
    def filters_in_python(self) -> bool:
        """Whether some rows SQL returns may still be dropped by `matches`."""
        return self.team is not None or self.tag is not None or self.text is not None

    def matches(self, check: Check) -> bool:
        """The Python half of the filter: SQL has narrowed team, tag and text, this confirms them."""
        if self.team is not None and check.team != self.team:
            return False
        if self.tag is not None and self.tag not in check.tags:
            return False
        if self.text is not None:
            needle = self.text.lower()
            return needle in check.name.lower() or needle in check.url.lower()
        return True


class SqlApiStore:
    """The API's queries on the SqlStore's database. Thread-safe like the SqlStore under it."""

    def __init__(self, sql: SqlStore) -> None:
        self._sql = sql

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A change of checks decided on what it reads: one transaction that cannot be overtaken.

        SQLite takes the write lock at BEGIN (`BEGIN IMMEDIATE`, waiting its busy timeout): a deferred
        transaction that reads first fails with "database is locked" when another writer (the
        recorder, the notifier) commits between its read and its write. MySQL keeps REPEATABLE READ,
        whose locking read (`org_checks`) also locks the gap new checks would go into.
        """
        atomic = self._sql.atomic() if self._sql.is_mysql else self._sql.atomic(claim=True)
        with self._sql.session("change checks in"), atomic:
            yield

    # -- check lists ----------------------------------------------------------------------------

    def check_page(
        self, where: CheckFilter, *, after: str | None = None, offset: int = 0, limit: int = 50
    ) -> list[tuple[Check, CheckState]]:
        """Up to `limit` + 1 matching checks in name order (one more than asked: "is there a next page").

        Args:
            where: the filter.
            after: only names after this one (cursor pagination).
            offset: skip this many matches first (page pagination).
            limit: the page size.
        """
        wanted = offset + limit + 1
        found: list[Check] = []
        with self._sql.session("read checks from"):
            last = after
            while len(found) < wanted:
                query = self._filtered(where)
                if last is not None:
                    query = query.where(CheckRecord.name > last)
                # Without Python-side filters every row matches: read exactly what the page needs.
                chunk = SCAN_CHUNK if where.filters_in_python else wanted - len(found)
                rows = list(query.order_by(CheckRecord.name).limit(chunk))
                for row in rows:
                    check = row.to_domain()
                    if where.matches(check):
                        found.append(check)
                if len(rows) < chunk:
                    break
                last = rows[-1].name
            page = found[offset:wanted]
            states = self._states([c.id for c in page if c.id is not None])
        return [(c, states.get(c.id or 0) or CheckState(check_id=c.id or 0)) for c in page]

    def check_in(self, org: str, check_id: int) -> tuple[Check, CheckState] | None:
        """The check with this id in `org`, with its state; None when there is none (in `org`)."""
        with self._sql.session("read checks from"):
            record = CheckRecord.get_or_none((CheckRecord.id == check_id) & (CheckRecord.org == org))
            if record is None:
                return None
            state = self._states([check_id]).get(check_id) or CheckState(check_id=check_id)
            return record.to_domain(), state

    def states_in(self, org: str) -> list[tuple[Check, CheckState]]:
        """Every check of `org` with its state, by name."""
        with self._sql.session("read check states from"):
            checks = [
                r.to_domain()
                for r in CheckRecord.select().where(CheckRecord.org == org).order_by(CheckRecord.name)
            ]
            states = self._states([c.id for c in checks if c.id is not None])
        return [(c, states.get(c.id or 0) or CheckState(check_id=c.id or 0)) for c in checks]

    def org_checks(self, org: str) -> list[Check]:
        """Every check of `org` (the file's and the API's), by name: what the plan's limits count.

        On MySQL the read locks the organization's check rows and the index gap after them until the
        caller's transaction ends, so two engines admitting a check to the same organization at once
        take turns and the second counts the first's (SQLite serializes writers by itself).
        """
        with self._sql.session("read checks from"):
            query = CheckRecord.select().where(CheckRecord.org == org).order_by(CheckRecord.name)
            if self._sql.is_mysql:
                query = query.for_update()
            return [r.to_domain() for r in query]

    # -- API-owned checks -----------------------------------------------------------------------

    def add_api_check(self, check: Check, now: datetime) -> tuple[Check, CheckState]:
        """Insert a check and its fresh state (UNKNOWN, or PAUSED).

        Raises:
            CheckConflict: the organization has a check with this name.
        """
        with self._sql.session("save a check in"), self._sql.atomic():
            self._refuse_taken(check.org, check.name, None)
            data = _columns(check, now)
            data["created_at"] = now
            check = replace(check, id=int(CheckRecord.insert(**data).execute()))
            state = _fresh_state(check, now)
            _put_state(state)
        return check, state

    def update_api_check(self, check: Check, now: datetime) -> tuple[Check, CheckState]:
        """Rewrite a stored check (same id) and give it a fresh state.

        Raises:
            CheckConflict: renamed to a name another check of the organization has.
        """
        with self._sql.session("save a check in"), self._sql.atomic():
            self._refuse_taken(check.org, check.name, check.id)
            CheckRecord.update(**_columns(check, now)).where(CheckRecord.id == check.id).execute()
            state = _fresh_state(check, now)
            _put_state(state)
        return check, state

    def delete_check(self, check_id: int) -> None:
        """Delete a check and its state (results and flips stay until retention removes them)."""
        with self._sql.session("delete a check from"), self._sql.atomic():
            CheckRecord.delete().where(CheckRecord.id == check_id).execute()
            CheckStateRecord.delete().where(CheckStateRecord.check_id == check_id).execute()

    def set_paused(self, check_id: int, paused: bool, now: datetime) -> CheckState:
        """Pause or resume (see SqlStore.set_paused)."""
        return self._sql.set_paused(check_id, paused, now)

    # -- incidents ------------------------------------------------------------------------------

    def incidents_in(
        self, org: str, *, status: IncidentStatus | None = None, before_id: int | None = None, limit: int = 50
    ) -> list[Incident]:
        """Incidents of `org`, newest (highest id) first; up to `limit` + 1 (is there a next page)."""
        with self._sql.session("read incidents from"):
            query = IncidentRecord.select().where(IncidentRecord.org == org)
            if status is not None:
                query = query.where(IncidentRecord.status == status.value)
            if before_id is not None:
                query = query.where(IncidentRecord.id < before_id)
            query = query.order_by(IncidentRecord.id.desc()).limit(limit + 1)
            return [r.to_domain() for r in query]

    # -- internals ------------------------------------------------------------------------------

    def _filtered(self, where: CheckFilter) -> Any:
        query = CheckRecord.select(CheckRecord).where(CheckRecord.org == where.org)
        for value in (where.team, where.tag):
            if value is not None and _like_safe(json.dumps(value)):
                query = query.where(CheckRecord.spec.contains(json.dumps(value)))
        if where.text is not None and _like_safe(where.text):
            needle = where.text.lower()
            query = query.where(
                fn.LOWER(CheckRecord.name).contains(needle) | fn.LOWER(CheckRecord.url).contains(needle)
            )
        if where.status is not None:
            query = query.join(
                CheckStateRecord, JOIN.LEFT_OUTER, on=(CheckStateRecord.check_id == CheckRecord.id)
            )
            condition = CheckStateRecord.status == where.status.value
            if where.status is Status.UNKNOWN:
                condition = condition | CheckStateRecord.status.is_null()
            query = query.where(condition)
        return query

    def _states(self, check_ids: list[int]) -> dict[int, CheckState]:
        if not check_ids:
            return {}
        rows = CheckStateRecord.select().where(CheckStateRecord.check_id.in_(check_ids))
        return {r.check_id: r.to_domain() for r in rows}

    def _refuse_taken(self, org: str, name: str, check_id: int | None) -> None:
        query = CheckRecord.select(CheckRecord.id).where(
            (CheckRecord.org == org) & (CheckRecord.name == name)
        )
        if check_id is not None:
            query = query.where(CheckRecord.id != check_id)
        if query.exists():
            raise CheckConflict(f"organization {org} already has a check named {name!r}")


def _like_safe(text: str) -> bool:
    """Whether `text` means the same inside LIKE and LOWER on both backends: ASCII (SQLite lowers only
    ASCII) without backslashes (MySQL reads one as an escape). Wildcards only widen the SQL narrowing,
    which Python then confirms."""
    return text.isascii() and "\\" not in text


def _columns(check: Check, now: datetime) -> dict[str, Any]:
    record = CheckRecord.from_domain(check, now=now)
    return {
        "org": record.org,
        "name": record.name,
        "kind": record.kind,
        "url": record.url,
        "spec": record.spec,
        "fingerprint": record.fingerprint,
        "updated_at": now,
    }


def _fresh_state(check: Check, now: datetime) -> CheckState:
    status = Status.PAUSED if check.paused else Status.UNKNOWN
    return CheckState(check_id=check.id or 0, status=status, since=now)


def _put_state(state: CheckState) -> None:
    row = dict(zip(CheckStateRecord.COLUMNS, CheckStateRecord.row(state), strict=True))
    CheckStateRecord.insert(**row).on_conflict_replace().execute()
