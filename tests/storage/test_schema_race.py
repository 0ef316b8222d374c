"""Several processes create or upgrade one database's schema at the same moment (engines started together).

Each worker is a separate process with its own connection, released together by a barrier right
before `open_store` runs the upgrade. A counting step (not idempotent on purpose) shows that a
pending migration runs exactly once, not merely that its version row is written once.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
from contextlib import closing
from typing import TYPE_CHECKING, Any

import peewee
import pymysql
import pytest

from engine.storage import migrations
from engine.storage.db import parse_url
from engine.storage.migrations import CURRENT_VERSION, MIGRATIONS, Migration, schema_lock_name
from engine.storage.schema import ALL_RECORDS
from engine.storage.store import open_store
from pulsewatch.errors import StorageError
from tests.storage.backends import raw_sql

if TYPE_CHECKING:
    from multiprocessing.queues import Queue
    from multiprocessing.synchronize import Barrier

pytestmark = pytest.mark.slow

WORKERS = 4


def _count_a_run(db: peewee.Database) -> None:
    db.execute_sql("CREATE TABLE IF NOT EXISTS step_runs (n INTEGER)")  # type: ignore[no-untyped-call]
    db.execute_sql("INSERT INTO step_runs (n) VALUES (1)")  # type: ignore[no-untyped-call]


COUNTING = Migration(CURRENT_VERSION + 1, "counts its own runs (tests)", _count_a_run)
WITH_COUNTING = (*MIGRATIONS, COUNTING)


def _upgrade_in_a_process(url: str, counting: bool, barrier: Barrier, answers: Queue[str]) -> None:
    """A worker: wait for the others, then open the store (which creates or upgrades the schema)."""
    barrier.wait(timeout=60)
    try:
        open_store(url, migrations=WITH_COUNTING if counting else MIGRATIONS).close()
    except StorageError as exc:
        answers.put(f"error: {exc}")
        return
    answers.put("ok")


def race(url: str, *, counting: bool = False) -> list[str]:
    """Run WORKERS upgrades of `url` at once, in processes; their answers."""
    context = multiprocessing.get_context("spawn")  # a clean interpreter: no forked pytest or pool state
    barrier = context.Barrier(WORKERS)
    answers: Queue[str] = context.Queue()
    workers = [
        context.Process(target=_upgrade_in_a_process, args=(url, counting, barrier, answers))
        for _ in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert all(w.exitcode == 0 for w in workers), [w.exitcode for w in workers]
    return [answers.get(timeout=5) for _ in workers]


def stamps(url: str, steps: tuple[Migration, ...] = MIGRATIONS) -> tuple[list[tuple[Any, ...]], set[str]]:
    """The schema_version rows (version, how many rows) and the table names of the database at `url`."""
    store = open_store(url, upgrade=False, migrations=steps)
    try:
        rows = raw_sql(store, "SELECT version, COUNT(*) FROM schema_version GROUP BY version ORDER BY 1")
        return [(int(v), int(n)) for v, n in rows], set(store._db.get_tables())
    finally:
        store.close()


class TestConcurrentUpgrades:
    def test_an_empty_database_gets_one_complete_schema_however_many_start_at_once(
        self, store_url: str
    ) -> None:
        assert race(store_url) == ["ok"] * WORKERS

        versions, tables = stamps(store_url)
        assert versions == [(CURRENT_VERSION, 1)]
        assert tables >= {r._meta.table_name for r in ALL_RECORDS}
        store = open_store(store_url)
        try:
            assert store.schema_version() == CURRENT_VERSION
        finally:
            store.close()

    def test_a_pending_step_runs_exactly_once_however_many_upgrade_at_once(self, store_url: str) -> None:
        open_store(store_url).close()  # a database at the current version, the counting step pending

        assert race(store_url, counting=True) == ["ok"] * WORKERS

        versions, _ = stamps(store_url, WITH_COUNTING)
        assert versions == [(CURRENT_VERSION, 1), (COUNTING.version, 1)]
        store = open_store(store_url, upgrade=False, migrations=WITH_COUNTING)
        try:
            assert raw_sql(store, "SELECT COUNT(*) FROM step_runs") == [(1,)]
        finally:
            store.close()


class TestLockTimeout:
    def test_an_upgrade_that_cannot_get_the_lock_in_time_says_so_and_changes_nothing(
        self, store_url: str
    ) -> None:
        open_store(store_url).close()
        store = open_store(store_url, upgrade=False, migrations=WITH_COUNTING)
        try:
            with (
                holding_the_schema_lock(store_url),
                store.session("upgrade"),
                pytest.raises(StorageError) as err,
            ):
                migrations.upgrade(store._db, WITH_COUNTING, lock_timeout=1)
            assert "could not take the schema lock" in str(err.value)
            assert "within 1s" in str(err.value)
            assert store.schema_version() == CURRENT_VERSION
            assert store.upgrade() == (CURRENT_VERSION, COUNTING.version)  # free again: it goes through
        finally:
            store.close()


class holding_the_schema_lock:
    """Another process's upgrade in progress: the MySQL named lock, or SQLite's write lock, held."""

    def __init__(self, url: str) -> None:
        self._target = parse_url(url)
        self._conn: Any = None

    def __enter__(self) -> None:
        t = self._target
        if t.backend == "mysql":
            self._conn = pymysql.connect(host=t.host, port=t.port, user=t.user, password=t.password,
                                         database=t.database, connect_timeout=5, autocommit=True)
            with closing(self._conn.cursor()) as cursor:
                cursor.execute("SELECT GET_LOCK(%s, 0)", (schema_lock_name(t.database),))
                assert cursor.fetchone()[0] == 1
        else:
            self._conn = sqlite3.connect(t.path, isolation_level=None)
            self._conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, *exc: object) -> None:
        if self._target.backend == "sqlite":
            self._conn.execute("ROLLBACK")
        self._conn.close()
