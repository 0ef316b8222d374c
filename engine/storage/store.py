"""SqlStore: the MonitoringStore on SQLite or MySQL/MariaDB, and `open_store(url)`.

Every public method is one unit of work: it checks a connection out of the pool (whatever thread it
runs on), does its work — in one transaction where it writes — and gives the connection back.
Database failures surface as StorageError, never as peewee or driver exceptions.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import peewee
from playhouse.pool import PooledDatabase

from engine.storage import migrations as schema
from engine.storage.db import (
    DATABASE_ERRORS,
    Target,
    make_database,
    parse_url,
    raise_storage_error,
)
from engine.storage.migrations import MIGRATIONS, Migration
from engine.storage.records import (
    CheckRecord,
    CheckStateRecord,
    FlipRecord,
    ResultRecord,
    database,
)
from pulsewatch.domain.monitoring import Check, CheckState, Flip, ProbeResult, Status
from pulsewatch.errors import NotFoundError, StorageError
from pulsewatch.services.check_sync import CheckSyncPlan, plan_check_sync


def open_store(url: str, *, upgrade: bool = True, migrations: Sequence[Migration] = MIGRATIONS) -> SqlStore:
    """Open the database at `url`, ready to use.

    An empty database gets the current schema; an older one gets the pending migrations (unless
    `upgrade=False`, for `pulsewatch db upgrade`, which then calls `SqlStore.upgrade()` itself and
    reports what it did). One store is open per process: the records are bound to its database.

    Args:
        url: `sqlite:///relative.db`, `sqlite:////absolute.db`, `sqlite:///:memory:`,
            `mysql://user:password@host:3306/database` (or `mariadb://`).
        upgrade: create or upgrade the schema as needed.
        migrations: the schema steps (tests add some).

    Raises:
        StorageError: bad URL, unreachable server, refused login, unusable file, or a schema newer
            than this code. The message never includes the password.
    """
    target = parse_url(url)
    store = SqlStore(make_database(target), target, migrations=migrations)
    try:
        with store.session("open"):
            if upgrade:
                schema.upgrade(store._db, migrations)
            else:
                schema.refuse_newer(schema.read_version(store._db), migrations)
    except BaseException:
        store.close()
        raise
    return store


class SqlStore:
    """Checks, states, results and flips in SQL. Implements `pulsewatch.services.ports.MonitoringStore`.

    Thread-safe: methods may be called from any thread, including several at once.
    """

    def __init__(
        self, db: peewee.Database, target: Target, *, migrations: Sequence[Migration] = MIGRATIONS
    ) -> None:
        self._db = db
        self._target = target
        self._migrations = tuple(migrations)
        self._is_mysql = target.backend == "mysql"
        self._lock = threading.RLock()  # only for :memory:, whose one connection all threads share
        self._closed = False
        database.initialize(db)

    @property
    def url(self) -> str:
        """The database URL with any password replaced by `***`."""
        return self._target.display

    def atomic(self, *, claim: bool = False) -> Any:
        """A transaction (or savepoint) on this store's database; use inside `session()`.

        Args:
            claim: for read-then-write claims that several engines race for (shard leases): SQLite
                takes the write lock at BEGIN (`BEGIN IMMEDIATE`), MySQL reads committed rows, so
                `FOR UPDATE SKIP LOCKED` skips only the rows another claim is changing right now.
        """
        if not claim:
            return self._db.atomic()
        if self._is_mysql:
            return self._db.atomic(isolation_level="READ COMMITTED")
        return self._db.atomic(lock_type="IMMEDIATE")

    @property
    def is_mysql(self) -> bool:
        """True on MySQL/MariaDB (for the few statements whose SQL differs between backends)."""
        return self._is_mysql

    @property
    def backend(self) -> str:
        """Which backend: "sqlite" or "mysql"."""
        return self._target.backend

    # -- schema ---------------------------------------------------------------------------------

    def schema_version(self) -> int:
        """The database's schema version (0 for an empty database)."""
        with self.session("read the schema version of"):
            return schema.read_version(self._db)

    def upgrade(self) -> tuple[int, int]:
        """Apply pending migrations; returns (version before, version after), equal when up to date.

        Raises:
            StorageError: the database is newer than this code, or a step failed.
        """
        with self.session("upgrade"):
            return schema.upgrade(self._db, self._migrations)

    # -- checks ---------------------------------------------------------------------------------

    def sync_checks(self, desired: Sequence[Check]) -> CheckSyncPlan:
        """Make the stored checks match `desired` in one transaction; returns the applied plan.

        Added and changed checks get a fresh state (PAUSED when the config pauses them, else UNKNOWN);
        unchanged ones keep theirs; removed ones lose check and state (results and flips stay until
        retention). The plan carries ids everywhere.
        """
        now = datetime.now(UTC)
        with self.session("save checks in"), self._db.atomic():
            plan = plan_check_sync(desired, self._select_checks())
            added = tuple(replace(c, id=self._insert_check(c, now)) for c in plan.added)
            for check in plan.changed:
                self._update_check(check, now)
            gone = [c.id for c in plan.removed]
            if gone:
                CheckRecord.delete().where(CheckRecord.id.in_(gone)).execute()
            # Also sweeps states that a late engine batch wrote for checks removed earlier.
            CheckStateRecord.delete().where(
                CheckStateRecord.check_id.not_in(CheckRecord.select(CheckRecord.id))
            ).execute()
            fresh = [_fresh_state(c) for c in (*added, *plan.changed)]
            self._upsert_states(fresh)
        return CheckSyncPlan(
            added=added, changed=plan.changed, removed=plan.removed, unchanged=plan.unchanged,
            kept=plan.kept,
        )

    def load_checks(self) -> list[Check]:
        """Every stored check, ordered by (org, name)."""
        with self.session("read checks from"):
            return self._select_checks()

    def check_by_name(self, name: str, org: str | None = None) -> Check:
        """The check called `name` (in `org`, or in whichever organization has one by that name).

        Raises:
            NotFoundError: no such check, or (without `org`) several organizations have one.
        """
        with self.session("read checks from"):
            query = CheckRecord.select().where(CheckRecord.name == name)
            if org is not None:
                query = query.where(CheckRecord.org == org)
            found = [r.to_domain() for r in query.order_by(CheckRecord.org)]
        if not found:
            where = f" in organization {org!r}" if org is not None else ""
            raise NotFoundError(f"no check named {name!r}{where}")
        if len(found) > 1:
            orgs = ", ".join(c.org for c in found)
            raise NotFoundError(
                f"several checks are named {name!r} (organizations {orgs}); name the organization"
            )
        return found[0]

    # -- states ---------------------------------------------------------------------------------

    def load_states(self) -> dict[int, CheckState]:
        """The state of every stored check that has one, by check id."""
        with self.session("read check states from"):
            query = CheckStateRecord.select().where(
                CheckStateRecord.check_id.in_(CheckRecord.select(CheckRecord.id))
            )
            return {r.check_id: r.to_domain() for r in query}

    def status_rows(self) -> list[tuple[Check, CheckState]]:
        """Every check with its state, ordered by (org, name); a check never judged shows UNKNOWN."""
        with self.session("read check states from"):
            checks = self._select_checks()
            states = {r.check_id: r.to_domain() for r in CheckStateRecord.select()}
        return [(c, states.get(_id(c)) or CheckState(check_id=_id(c))) for c in checks]

    def set_paused(self, check_id: int, paused: bool, now: datetime) -> CheckState:
        """Pause (state PAUSED) or resume (state UNKNOWN, to be judged afresh) one check.

        Pausing a paused check or resuming one that is not paused changes nothing.

        Raises:
            NotFoundError: no check has this id.
        """
        with self.session("pause or resume a check in"), self._db.atomic():
            if not CheckRecord.select().where(CheckRecord.id == check_id).exists():
                raise NotFoundError(f"no check with id {check_id}")
            record = CheckStateRecord.get_or_none(CheckStateRecord.check_id == check_id)
            state = record.to_domain() if record is not None else CheckState(check_id=check_id)
            if paused == (state.status == Status.PAUSED):
                return state
            state = replace(
                state,
                status=Status.PAUSED if paused else Status.UNKNOWN,
                since=now,
                consecutive_failures=0,
                consecutive_successes=0,
                flapping=False,
            )
            self._upsert_states([state])
            return state

    # -- results and flips ----------------------------------------------------------------------

    def record(
        self, results: Sequence[ProbeResult], states: Sequence[CheckState], flips: Sequence[Flip]
    ) -> None:
        """Write one batch atomically: results appended, states upserted, flips appended.

        This is the engine's hot path. Peewee's `insert_many` spends ~95% of its time building SQL
        text, so the statements are built by peewee once per store and the rows go to the driver's
        `executemany`: SQLite runs one prepared statement per row, pymysql folds the rows into
        multi-row INSERTs of up to 1 MB. Measured for 500 results + 500 states: 41 → 7 ms on
        SQLite, 63 → 26 ms on MariaDB. Rows are built before the transaction opens.
        """
        if not (results or states or flips):
            return
        result_rows = [ResultRecord.row(r) for r in results]
        state_rows = _state_rows(states)
        flip_rows = [FlipRecord.row(f) for f in flips]
        with self.session("record results in"), self._db.atomic():
            cursor = self._cursor()
            if result_rows:
                cursor.executemany(self._statements.insert_results, result_rows)
            if state_rows:
                cursor.executemany(self._statements.upsert_states, state_rows)
            if flip_rows:
                cursor.executemany(self._statements.insert_flips, flip_rows)

    def recent_results(self, check_id: int, limit: int) -> list[ProbeResult]:
        """The check's latest results, newest first."""
        if limit <= 0:
            return []
        with self.session("read results from"):
            query = (
                ResultRecord.select()
                .where(ResultRecord.check_id == check_id)
                .order_by(ResultRecord.started_at.desc(), ResultRecord.id.desc())
                .limit(limit)
            )
            return [r.to_domain() for r in query]

    def recent_flips(self, check_id: int, limit: int) -> list[Flip]:
        """The check's latest flips, newest first."""
        if limit <= 0:
            return []
        with self.session("read flips from"):
            query = (
                FlipRecord.select()
                .where(FlipRecord.check_id == check_id)
                .order_by(FlipRecord.at.desc(), FlipRecord.id.desc())
                .limit(limit)
            )
            return [r.to_domain() for r in query]

    # -- lifecycle ------------------------------------------------------------------------------

    def close(self) -> None:
        """Close every connection. Idempotent; the store cannot be used afterwards."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                if isinstance(self._db, PooledDatabase):
                    self._db.close_all()
                else:
                    self._db.close()
            except DATABASE_ERRORS:
                pass  # closing a connection the server already dropped: nothing left to release
            if database.obj is self._db:
                database.initialize(None)

    # -- internals ------------------------------------------------------------------------------

    @contextmanager
    def session(self, doing: str) -> Iterator[None]:
        """One connection for the duration of a unit of work, and database errors as StorageError.

        The stores of other contexts (accounts, alerting...) share this store's database and run
        their queries inside `with sql_store.session("what it does"), sql_store.atomic():`.

        Args:
            doing: completes "could not ... the database" in error messages, e.g. "save users in".
        """
        if self._closed:
            raise StorageError(f"the store for {self._target.display} is closed")
        if database.obj is not self._db:
            raise StorageError(
                f"another store was opened in this process after the one for {self._target.display}; "
                "only one store may be open at a time"
            )
        try:
            if self._target.in_memory:
                with self._lock:
                    if self._db.is_closed():
                        self._db.connect()
                    yield
            else:
                with self._checked_out():
                    yield
        except DATABASE_ERRORS as exc:
            raise_storage_error(self._target, exc, doing)

    @contextmanager
    def _checked_out(self) -> Iterator[None]:
        """This thread's pooled connection, checked out for the outermost session and given back after.

        Not peewee's `connection_context()`: when the reconnecting MySQL class replaces a dropped
        connection mid-call it resets the thread's connection state, and `connection_context()`
        then fails on exit (IndexError) instead of returning the new connection to the pool.
        """
        if not self._db.is_closed():  # a session inside a session: the outer one gives it back
            yield
            return
        self._db.connect()
        try:
            yield
        finally:
            if not self._db.is_closed():
                self._db.close()

    def _select_checks(self) -> list[Check]:
        query = CheckRecord.select().order_by(CheckRecord.org, CheckRecord.name)
        return [r.to_domain() for r in query]

    def _insert_check(self, check: Check, now: datetime) -> int:
        data = _check_columns(CheckRecord.from_domain(check, now=now))
        data.update(created_at=now, updated_at=now)
        return int(CheckRecord.insert(**data).execute())

    def _update_check(self, check: Check, now: datetime) -> None:
        data = _check_columns(CheckRecord.from_domain(check, now=now))
        data["updated_at"] = now
        CheckRecord.update(**data).where(CheckRecord.id == check.id).execute()

    def _upsert_states(self, states: Sequence[CheckState]) -> None:
        rows = _state_rows(states)
        if rows:
            self._cursor().executemany(self._statements.upsert_states, rows)

    def _cursor(self) -> Any:
        """A DB-API cursor on this thread's connection: for `executemany`, which peewee does not offer."""
        return self._db.cursor()  # type: ignore[no-untyped-call]

    @functools.cached_property
    def _statements(self) -> _Statements:
        return _Statements.build(self._is_mysql)


@dataclass(frozen=True)
class _Statements:
    """The batch statements, as SQL text with one row of placeholders, built by peewee for the dialect."""

    insert_results: str
    upsert_states: str
    insert_flips: str

    @classmethod
    def build(cls, is_mysql: bool) -> _Statements:
        def one_row(record: type[peewee.Model], columns: Sequence[str]) -> peewee.Insert:
            fields = [getattr(record, c) for c in columns]
            return record.insert_many([tuple(None for _ in fields)], fields=fields)

        upsert = one_row(CheckStateRecord, CheckStateRecord.COLUMNS)
        keep = [getattr(CheckStateRecord, c) for c in CheckStateRecord.COLUMNS[1:]]
        if is_mysql:
            upsert = upsert.on_conflict(preserve=keep)  # ON DUPLICATE KEY UPDATE col = VALUE(col)
        else:
            upsert = upsert.on_conflict(conflict_target=[CheckStateRecord.check_id], preserve=keep)
        return cls(
            insert_results=one_row(ResultRecord, ResultRecord.COLUMNS).sql()[0],
            upsert_states=upsert.sql()[0],
            insert_flips=one_row(FlipRecord, FlipRecord.COLUMNS).sql()[0],
        )


def _state_rows(states: Sequence[CheckState]) -> list[tuple[Any, ...]]:
    latest = {s.check_id: s for s in states}  # the last state of a check in a batch wins
    return [CheckStateRecord.row(s) for s in latest.values()]


def _check_columns(record: CheckRecord) -> dict[str, Any]:
    """The columns a sync writes: everything but the id and the creation stamp."""
    return {
        "org": record.org,
        "name": record.name,
        "kind": record.kind,
        "url": record.url,
        "spec": record.spec,
        "fingerprint": record.fingerprint,
    }


def _fresh_state(check: Check) -> CheckState:
    return CheckState(check_id=_id(check), status=Status.PAUSED if check.paused else Status.UNKNOWN)


def _id(check: Check) -> int:
    if check.id is None:  # stored checks always have one; this guards the type, not a real case
        raise StorageError(f"check {check.org}/{check.name} has no id")
    return check.id
