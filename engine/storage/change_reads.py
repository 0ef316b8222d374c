"""Reads of what changed lately: for consoles attached to the database, and for engines following
check changes that other engines made.

An attached console polls every half second, so each question is answered from an index:
results and flips after an id (their primary keys), states whose status changed after an instant
(`check_states.since`, indexed by schema 11), the states of a few checks (primary key), and the
checks' revision — their count and newest `updated_at` — which changes with every stored check
change (config sync and REST API alike both stamp `updated_at`; a delete changes the count).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from peewee import fn

from engine.storage.records import CheckRecord, CheckStateRecord, FlipRecord, ResultRecord

if TYPE_CHECKING:
    from collections.abc import Collection
    from datetime import datetime

    from engine.storage.store import SqlStore
    from pulsewatch.domain.monitoring import Check, CheckState, Flip, ProbeResult

Revision = tuple[int, int]
"""(number of checks, newest `updated_at` in microseconds): equal revisions, same stored checks."""


@dataclass(frozen=True)
class Snapshot:
    """Everything an attaching console starts from."""

    checks: list[Check]
    states: dict[int, CheckState]
    last_result_id: int
    last_flip_id: int
    revision: Revision


@dataclass(frozen=True)
class Changes:
    """What one poll found."""

    results: list[tuple[int, ProbeResult]] = field(default_factory=list)
    """(id, result) of results after the cursor and of the holes asked about, by id."""
    states: dict[int, CheckState] = field(default_factory=dict)
    """Current states of the checks with new results, and of those whose status changed lately."""
    flips: list[Flip] = field(default_factory=list)
    """Flips after the flip cursor, oldest first (each with its id)."""
    revision: Revision = (0, 0)


class SqlChangeReads:
    """Incremental reads on the SqlStore's database. Thread-safe; each method is one session."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def snapshot(self) -> Snapshot:
        """Every check and state, and the cursors to follow changes from."""
        with self._store.session("read checks and states from"):
            checks = [r.to_domain() for r in CheckRecord.select().order_by(CheckRecord.org, CheckRecord.name)]
            states = {r.check_id: r.to_domain() for r in CheckStateRecord.select()}
            last_result = ResultRecord.select(fn.MAX(ResultRecord.id)).scalar() or 0
            last_flip = FlipRecord.select(fn.MAX(FlipRecord.id)).scalar() or 0
            revision = self._revision()
        return Snapshot(checks, states, int(last_result), int(last_flip), revision)

    def changes(
        self,
        *,
        after_result: int,
        holes: Collection[int],
        after_flip: int,
        flip_holes: Collection[int],
        status_since: datetime,
        limit: int,
    ) -> Changes:
        """Results after `after_result` (at most `limit`) and those among `holes`, flips after
        `after_flip` and among `flip_holes`, the states those results and flips belong to, the
        states whose status changed after `status_since`, and the checks' revision."""
        with self._store.session("read changes from"):
            rows = list(
                ResultRecord.select()
                .where(ResultRecord.id > after_result)
                .order_by(ResultRecord.id)
                .limit(limit)
            )
            if holes:
                rows += list(ResultRecord.select().where(ResultRecord.id.in_(list(holes))))
            flip_rows = list(
                FlipRecord.select().where(FlipRecord.id > after_flip).order_by(FlipRecord.id).limit(limit)
            )
            if flip_holes:
                flip_rows += list(FlipRecord.select().where(FlipRecord.id.in_(list(flip_holes))))
            flips = sorted((r.to_domain() for r in flip_rows), key=lambda flip: flip.id or 0)
            wanted = {r.check_id for r in rows} | {f.check_id for f in flips}
            states = {
                r.check_id: r.to_domain()
                for r in CheckStateRecord.select().where(CheckStateRecord.since > status_since)
            }
            missing = wanted - set(states)
            if missing:
                query = CheckStateRecord.select().where(CheckStateRecord.check_id.in_(list(missing)))
                states.update({r.check_id: r.to_domain() for r in query})
            revision = self._revision()
        results = sorted(((int(r.id), r.to_domain()) for r in rows), key=lambda pair: pair[0])
        return Changes(results, states, flips, revision)

    def revision(self) -> Revision:
        """The checks' revision: it changes whenever a check is added, changed or removed."""
        with self._store.session("read the checks' revision from"):
            return self._revision()

    def _revision(self) -> Revision:
        newest_stamp = fn.MAX(CheckRecord.updated_at).coerce(False)  # the raw microseconds
        count, newest = CheckRecord.select(fn.COUNT(CheckRecord.id), newest_stamp).scalar(as_tuple=True)
        return int(count or 0), int(newest or 0)
