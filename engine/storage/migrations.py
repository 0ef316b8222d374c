"""Schema versions: an ordered list of idempotent steps behind the `schema_version` table.

An empty database gets the current schema in one go (the record classes always describe the newest
shape) and is stamped with the newest version. An older database gets each pending step, in
order, each stamped as it completes. Steps are idempotent — they check before they change —
because MySQL commits DDL implicitly: a step interrupted half-way must be safe to run again.

To change the schema: change the records, then append a `Migration` whose step brings an older
database to the same shape (`add_column_if_missing`, `add_index_if_missing`, `db.create_tables`).

Every engine, console and CLI command runs `upgrade()` when it opens the database, so several may
run it at once on the same database (engines started together on an empty MariaDB). The check
and the steps therefore run under one schema lock per database: MySQL's named lock
(`GET_LOCK`, held by the connection, released when it ends) and SQLite's write lock (`BEGIN
IMMEDIATE`: the whole upgrade is one transaction, as SQLite's DDL is transactional). The applied
version is read again once the lock is held, so the processes that waited find the work done.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import peewee
from playhouse.migrate import SchemaMigrator, migrate

from engine.storage.accounts_records import ACCOUNTS_RECORDS
from engine.storage.alerting_records import ALERTING_RECORDS
from engine.storage.apikey_records import APIKEY_RECORDS
from engine.storage.billing_records import BILLING_RECORDS
from engine.storage.cluster_records import CLUSTER_RECORDS
from engine.storage.command_records import COMMAND_RECORDS
from engine.storage.ping_records import PING_RECORDS
from engine.storage.records import AppliedMigration, BaseRecord, SchemaVersionRecord
from engine.storage.rollup_records import ROLLUP_RECORDS
from engine.storage.schema import ALL_RECORDS, MONITORING_RECORDS
from engine.storage.settings_records import SETTINGS_RECORDS
from pulsewatch.errors import StorageError

MYSQL_TABLE_SETTINGS = ("ENGINE=InnoDB", "DEFAULT CHARSET=utf8mb4", "COLLATE=utf8mb4_bin")
"""utf8mb4 so any name or message fits; the binary collation so that, as on SQLite, "API" and "api"
are different checks and names sort the same way on both backends."""

SCHEMA_LOCK_TIMEOUT = 60.0
"""Seconds an upgrade waits for another process's upgrade of the same database to finish."""
SCHEMA_LOCK_PREFIX = "pulsewatch_schema"
"""MySQL named locks are server-wide: the lock name carries the database's name (`pulsewatch_schema:db`)."""
_MYSQL_LOCK_NAME_LIMIT = 64


@dataclass(frozen=True)
class Migration:
    """One schema step: brings a database at `version - 1` to `version`; safe to run twice."""

    version: int
    description: str
    apply: Callable[[peewee.Database], None]


def create_tables(db: peewee.Database, records: Sequence[type[BaseRecord]]) -> None:
    """Create the tables (and their indexes) that do not exist yet, with the backend's table options."""
    settings = list(MYSQL_TABLE_SETTINGS) if isinstance(db, peewee.MySQLDatabase) else None
    for record in records:
        record._meta.table_settings = settings
    db.create_tables(list(records), safe=True)


def add_column_if_missing(db: peewee.Database, table: str, column: str, field: peewee.Field) -> None:
    """Add a column unless it is there. Give `field` a default or null=True: existing rows need a value."""
    if column not in {c.name for c in db.get_columns(table)}:
        migrate(SchemaMigrator.from_database(db).add_column(table, column, field))


def add_index_if_missing(
    db: peewee.Database, table: str, columns: Sequence[str], *, unique: bool = False
) -> None:
    """Add an index over `columns` unless an index over exactly those columns exists."""
    if any(list(i.columns) == list(columns) for i in db.get_indexes(table)):
        return
    migrate(SchemaMigrator.from_database(db).add_index(table, tuple(columns), unique))


def _initial_schema(db: peewee.Database) -> None:
    create_tables(db, (SchemaVersionRecord, *MONITORING_RECORDS))


def _accounts_tables(db: peewee.Database) -> None:
    create_tables(db, ACCOUNTS_RECORDS)


def _degraded_results(db: peewee.Database) -> None:
    add_column_if_missing(db, "results", "degraded", peewee.BooleanField(default=False))


def _commands_table(db: peewee.Database) -> None:
    create_tables(db, COMMAND_RECORDS)
    add_index_if_missing(db, "check_states", ["since"])


def _engine_load(db: peewee.Database) -> None:
    for column in ("lateness_p50_s", "lateness_p99_s", "probes_per_s"):
        add_column_if_missing(db, "engines", column, peewee.DoubleField(null=True))


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "checks, check states, results and flips", _initial_schema),
    Migration(2, "users, organizations, teams, memberships, audit log, sign-in attempts", _accounts_tables),
    Migration(3, "incidents, timeline, silences, notification outbox and attempts, channel health",
              lambda db: create_tables(db, ALERTING_RECORDS)),
    Migration(5, "results.degraded: passed the hard conditions, failed a soft one", _degraded_results),
    Migration(6, "minute, hour and day rollups", lambda db: create_tables(db, ROLLUP_RECORDS)),
    Migration(7, "billing: subscriptions, daily usage counters, invoices and their lines",
              lambda db: create_tables(db, BILLING_RECORDS)),
    Migration(8, "API keys: per organization, with a role, stored hashed",
              lambda db: create_tables(db, APIKEY_RECORDS)),
    Migration(9, "engines and shard leases: several engines on one database",
              lambda db: create_tables(db, CLUSTER_RECORDS)),
    Migration(10, "settings: the installation secret behind generated heartbeat tokens",
              lambda db: create_tables(db, SETTINGS_RECORDS)),
    Migration(11, "commands for the engines (attach mode); check_states.since indexed for its reads",
              _commands_table),
    Migration(12, "heartbeat pings in transit: received by one engine, applied by the check's owner",
              lambda db: create_tables(db, PING_RECORDS)),
    Migration(13, "engines: lateness p50/p99 and probes per second at each heartbeat", _engine_load),
)
"""Every schema step, oldest first; the last one's version is the version this code writes."""

CURRENT_VERSION = MIGRATIONS[-1].version


def read_version(db: peewee.Database) -> int:
    """The database's schema version; 0 when it has no `schema_version` table (an empty database)."""
    if not db.table_exists(SchemaVersionRecord._meta.table_name):
        return 0
    version = SchemaVersionRecord.select(peewee.fn.MAX(SchemaVersionRecord.version)).scalar()
    return int(version or 0)


def refuse_newer(version: int, migrations: Sequence[Migration] = MIGRATIONS) -> None:
    """Raise when the database was written by a newer PulseWatch, whose schema this code may corrupt.

    Raises:
        StorageError: the database's version is above the newest step this code knows.
    """
    newest = migrations[-1].version
    if version > newest:
        raise StorageError(
            f"database schema version {version} is newer than this PulseWatch ({newest}); upgrade PulseWatch"
        )


def upgrade(
    db: peewee.Database,
    migrations: Sequence[Migration] = MIGRATIONS,
    *,
    lock_timeout: float = SCHEMA_LOCK_TIMEOUT,
) -> tuple[int, int]:
    """Bring the schema to the newest version; safe when other processes do the same at once.

    Args:
        db: a connected database bound to the records.
        migrations: the steps, oldest first (tests pass extra steps).
        lock_timeout: seconds to wait for another process's upgrade (see `schema_lock`).

    Returns:
        (version before, version after); equal when there was nothing to do.

    Raises:
        StorageError: the database is newer than `migrations`, or the schema lock was not had in time.
    """
    before = read_version(db)
    refuse_newer(before, migrations)
    newest = migrations[-1].version
    if before == newest:  # the common case needs no lock: the newest version is stamped after every step
        return before, before
    with schema_lock(db, lock_timeout):
        before = read_version(db)  # again: whoever held the lock before us may have done it all
        refuse_newer(before, migrations)
        if before == newest:
            return before, before
        _apply(db, migrations, before)
    return before, newest


def _apply(db: peewee.Database, migrations: Sequence[Migration], before: int) -> None:
    newest = migrations[-1].version
    if before == 0 and not _has_any_table(db):
        with db.atomic():
            create_tables(db, ALL_RECORDS)
            _stamp(Migration(newest, "fresh schema", _initial_schema))
        return
    create_tables(db, (SchemaVersionRecord,))
    for step in migrations:
        if step.version > before:
            with db.atomic():
                step.apply(db)
                _stamp(step)


@contextmanager
def schema_lock(db: peewee.Database, timeout: float = SCHEMA_LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the database's schema lock: one process checks and applies migrations at a time.

    MySQL: the named lock `pulsewatch_schema:<database>` on this connection. SQLite: a `BEGIN
    IMMEDIATE` transaction around the whole body (SQLite takes its write lock at BEGIN and waits up
    to `timeout` for it), so the body's DDL commits together at the end.

    Raises:
        StorageError: the lock was not had within `timeout` seconds.
    """
    if isinstance(db, peewee.MySQLDatabase):
        with _mysql_lock(db, timeout):
            yield
        return
    with _sqlite_write_lock(db, timeout):
        yield


@contextmanager
def _mysql_lock(db: peewee.Database, timeout: float) -> Iterator[None]:
    name = schema_lock_name(str(db.database))
    got = _scalar(db, "SELECT GET_LOCK(%s, %s)", (name, math.ceil(timeout)))
    if got != 1:  # 0: timed out; NULL: the server refused (out of memory, killed)
        raise StorageError(
            f"could not take the schema lock {name!r} within {timeout:g}s: another PulseWatch process "
            "is creating or upgrading this database's schema (or hangs holding the lock); try again"
        )
    try:
        yield
    finally:
        _scalar(db, "SELECT RELEASE_LOCK(%s)", (name,))


@contextmanager
def _sqlite_write_lock(db: peewee.Database, timeout: float) -> Iterator[None]:
    previous = int(_scalar(db, "PRAGMA busy_timeout"))
    _scalar(db, f"PRAGMA busy_timeout = {max(int(timeout * 1000), 0)}")
    try:
        with ExitStack() as stack:
            try:
                stack.enter_context(db.atomic(lock_type="IMMEDIATE"))
            except peewee.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                raise StorageError(
                    f"could not take the schema lock within {timeout:g}s: another PulseWatch process is "
                    "writing to this SQLite database (creating or upgrading its schema); try again"
                ) from None
            yield  # the transaction commits when the body ends, or rolls back when it raises
    finally:
        _scalar(db, f"PRAGMA busy_timeout = {previous}")


def _scalar(db: peewee.Database, sql: str, params: tuple[object, ...] = ()) -> Any:
    """The first column of the first row of `sql` (None when it returns no row)."""
    row = db.execute_sql(sql, params).fetchone()  # type: ignore[no-untyped-call]
    return None if row is None else row[0]


def schema_lock_name(database: str) -> str:
    """The MySQL named lock of one database's schema (at most 64 characters, MySQL's limit)."""
    name = f"{SCHEMA_LOCK_PREFIX}:{database}"
    if len(name) <= _MYSQL_LOCK_NAME_LIMIT:
        return name
    return f"{SCHEMA_LOCK_PREFIX}:{hashlib.sha256(database.encode()).hexdigest()[:40]}"


def _has_any_table(db: peewee.Database) -> bool:
    names = {r._meta.table_name for r in ALL_RECORDS}
    return any(db.table_exists(name) for name in names)


def _stamp(step: Migration) -> None:
    applied = AppliedMigration(step.version, step.description[:200], datetime.now(UTC))
    # Another process may be upgrading the same database at the same moment: same row, same meaning.
    SchemaVersionRecord.insert(
        version=applied.version, description=applied.description, applied_at=applied.applied_at
    ).on_conflict_ignore().execute()
