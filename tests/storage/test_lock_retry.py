"""Lease claims survive MySQL lock conflicts: a claim rolled back over a lock is run again inside the store.

The MariaDB test holds a real row lock on the claiming engine's row from another connection, with the
claim's lock wait cut to 1 s: the first run of the claim fails with the server's own error 1205 and the
lock is released only once the store has logged its retry, so the claim succeeds on its second run.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

import peewee
import pymysql
import pytest

from engine.storage.cluster_store import ClusterStore
from engine.storage.db import parse_url
from engine.storage.lock_retry import lock_conflict_code, retry_lock_conflicts
from engine.storage.store import open_store
from pulsewatch.domain.cluster import SHARDS
from pulsewatch.errors import StorageError
from tests.storage.backends import MYSQL_URL, reset_mysql_database

if TYPE_CHECKING:
    from collections.abc import Iterator

    from engine.storage.store import SqlStore

DEADLOCK = pymysql.err.OperationalError(
    1213, "Deadlock found when trying to get lock; try restarting transaction"
)


class Flaky:
    """A transaction that the database aborts `failures` times with `error`, then commits."""

    def __init__(self, failures: int, error: BaseException) -> None:
        self.failures, self.error, self.runs = failures, error, 0

    def __call__(self) -> str:
        self.runs += 1
        if self.runs <= self.failures:
            raise self.error
        return "done"


class TestRetryLockConflicts:
    def test_a_deadlock_victim_is_run_again_after_a_short_jittered_pause(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        pauses: list[float] = []
        flaky = Flaky(1, DEADLOCK)
        with caplog.at_level(logging.DEBUG, logger="pulsewatch.storage.lock_retry"):
            done = retry_lock_conflicts(flaky, what="test claim", sleep=pauses.append, jitter=lambda: 0.5)
        assert done == "done"
        assert flaky.runs == 2
        assert pauses == [0.02]
        [record] = caplog.records
        assert record.levelno == logging.DEBUG
        assert "test claim: lock conflict (error 1213), retry 1 of 2" in record.getMessage()

    def test_peewee_wrapped_lock_wait_timeouts_are_retried_too(self) -> None:
        wrapped = peewee.OperationalError(pymysql.err.OperationalError(1205, "Lock wait timeout exceeded"))
        flaky = Flaky(2, wrapped)
        assert retry_lock_conflicts(flaky, what="claim", sleep=lambda _: None) == "done"
        assert flaky.runs == 3

    def test_the_last_conflict_is_raised_once_the_attempts_are_spent(self) -> None:
        flaky = Flaky(5, DEADLOCK)
        with pytest.raises(pymysql.err.OperationalError) as raised:
            retry_lock_conflicts(flaky, what="claim", sleep=lambda _: None)
        assert raised.value is DEADLOCK
        assert flaky.runs == 3

    def test_other_database_errors_are_raised_at_once(self) -> None:
        gone = pymysql.err.OperationalError(2006, "MySQL server has gone away")
        flaky = Flaky(1, gone)
        with pytest.raises(pymysql.err.OperationalError):
            retry_lock_conflicts(flaky, what="claim", sleep=lambda _: None)
        assert flaky.runs == 1
        assert lock_conflict_code(gone) is None
        assert lock_conflict_code(peewee.OperationalError(DEADLOCK)) == 1213


@pytest.fixture
def mysql_store() -> Iterator[SqlStore]:
    reset_mysql_database(MYSQL_URL)
    opened = open_store(MYSQL_URL)
    yield opened
    opened.close()


class _OnRetry(logging.Handler):
    """Sets `event` when the store logs a retry (so the lock is released only after the first failure)."""

    def __init__(self, event: threading.Event) -> None:
        super().__init__(logging.DEBUG)
        self.event = event
        self.codes: list[int] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.codes.append(int(getattr(record, "code", 0)))
        self.event.set()


def _hold_engine_row(engine: str, locked: threading.Event, release: threading.Event) -> None:
    target = parse_url(MYSQL_URL)
    conn = pymysql.connect(host=target.host, port=target.port, user=target.user, password=target.password,
                           database=target.database, connect_timeout=5)
    try:
        with conn.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT name FROM engines WHERE name = %s FOR UPDATE", (engine,))
            locked.set()
            release.wait(timeout=30)
        conn.commit()
    finally:
        conn.close()


@pytest.mark.mysql
def test_a_claim_blocked_past_the_lock_wait_timeout_is_retried_and_succeeds(mysql_store: SqlStore) -> None:
    cluster = ClusterStore(mysql_store)
    cluster.claim("e1", "", "1.0", 20.0, joining=True)
    locked, retried = threading.Event(), threading.Event()
    handler = _OnRetry(retried)
    logger = logging.getLogger("pulsewatch.storage.lock_retry")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    holder = threading.Thread(target=_hold_engine_row, args=("e1", locked, retried))
    holder.start()
    try:
        assert locked.wait(timeout=10)
        with mysql_store.session("shorten the lock wait of"):
            # The claim below reuses this session's connection: its heartbeat waits 1 s, not 50.
            mysql_store._db.execute_sql("SET SESSION innodb_lock_wait_timeout = 1")  # type: ignore[no-untyped-call]
            claim = cluster.claim("e1", "", "1.0", 20.0)
    finally:
        retried.set()
        holder.join(timeout=30)
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    assert handler.codes == [1205]
    assert claim.held == frozenset(range(SHARDS))


@pytest.mark.mysql
def test_a_claim_that_keeps_meeting_locks_fails_as_a_storage_error(mysql_store: SqlStore) -> None:
    cluster = ClusterStore(mysql_store)
    cluster.claim("e1", "", "1.0", 20.0, joining=True)
    locked, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_engine_row, args=("e1", locked, release))
    holder.start()
    try:
        assert locked.wait(timeout=10)
        with mysql_store.session("shorten the lock wait of"):
            mysql_store._db.execute_sql("SET SESSION innodb_lock_wait_timeout = 1")  # type: ignore[no-untyped-call]
            with pytest.raises(StorageError, match="1205"):
                cluster.claim("e1", "", "1.0", 20.0)
    finally:
        release.set()
        holder.join(timeout=30)
