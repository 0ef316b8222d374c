"""Opening stores: URLs, connection failures (messages never carry the password), threads, lifecycle."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from engine.storage.db import parse_url, redact_url
from engine.storage.store import SqlStore, open_store
from pulsewatch.domain.monitoring import CheckState, ProbeResult, Status
from pulsewatch.errors import StorageError
from tests.storage.backends import MYSQL_URL, kill_mysql_connection, raw_sql, reset_mysql_database
from tests.storage.factories import T0, at, make_check

SECRET = "s3cret-Pa55"


class TestUrls:
    @pytest.mark.parametrize(
        ("url", "path"),
        [
            ("sqlite:///pulsewatch.db", "pulsewatch.db"),
            ("sqlite:///data/pw.db", "data/pw.db"),
            ("sqlite:////var/lib/pw.db", "/var/lib/pw.db"),
            ("sqlite:///:memory:", ":memory:"),
            ("SQLite:///with%20space.db", "with space.db"),
        ],
    )
    def test_sqlite_urls(self, url: str, path: str) -> None:
        target = parse_url(url)
        assert (target.backend, target.path) == ("sqlite", path)

    @pytest.mark.parametrize("scheme", ["mysql", "mariadb"])
    def test_mysql_urls(self, scheme: str) -> None:
        target = parse_url(f"{scheme}://pw:p%40ss%3Aword@db.internal/pulse?connect_timeout=2.5")
        assert (target.backend, target.host, target.port, target.user) == ("mysql", "db.internal", 3306, "pw")
        assert (target.password, target.database, target.connect_timeout) == ("p@ss:word", "pulse", 2.5)
        assert "p@ss" not in target.display
        assert "p%40ss" not in target.display

    @pytest.mark.parametrize(
        ("url", "words"),
        [
            ("postgres://u@h/db", "unsupported database URL"),
            ("pulsewatch.db", "unsupported database URL"),
            ("sqlite://", "invalid SQLite URL"),
            ("sqlite://host/file.db", "invalid SQLite URL"),
            ("sqlite:///x.db?mode=ro", r"take no \?parameters"),
            (f"mysql://root:{SECRET}@127.0.0.1:3306", "name the database"),
            (f"mysql://:{SECRET}@127.0.0.1/db", "name the user"),
            (f"mysql://root:{SECRET}@127.0.0.1:port/db", "port is not a number"),
            (f"mysql://root:{SECRET}@127.0.0.1/db?ssl=1", "unknown parameter 'ssl'"),
            (f"mysql://root:{SECRET}@127.0.0.1/db?connect_timeout=soon", "connect_timeout must be seconds"),
        ],
    )
    def test_bad_urls_say_why_without_the_password(self, url: str, words: str) -> None:
        with pytest.raises(StorageError, match=words) as caught:
            open_store(url)
        assert SECRET not in str(caught.value)

    def test_redact_url(self) -> None:
        assert redact_url(f"mysql://root:{SECRET}@h:3306/db") == "mysql://root:***@h:3306/db"
        assert redact_url("mysql://root@h/db") == "mysql://root@h/db"
        assert redact_url("sqlite:///x.db") == "sqlite:///x.db"


class TestSqliteFiles:
    def test_a_relative_path_is_under_the_working_directory_and_its_folders_are_made(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)

        store = open_store("sqlite:///state/deep/pulsewatch.db")
        store.close()

        assert (tmp_path / "state" / "deep" / "pulsewatch.db").is_file()

    def test_the_file_is_in_wal_mode_with_foreign_keys(self, tmp_path: Path) -> None:
        store = open_store(f"sqlite:///{tmp_path / 'pw.db'}")
        try:
            pragmas = {
                name: raw_sql(store, f"PRAGMA {name}")[0][0]
                for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
            }
        finally:
            store.close()
        assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "synchronous": 1, "busy_timeout": 10_000}

    def test_a_file_that_is_not_a_database(self, tmp_path: Path) -> None:
        junk = tmp_path / "notes.db"
        junk.write_bytes(b"these are my notes, not a database" * 100)

        with pytest.raises(StorageError, match=r"cannot open sqlite:///.*notes\.db: file is not a database"):
            open_store(f"sqlite:///{junk}")

    def test_a_directory_that_cannot_be_made(self, tmp_path: Path) -> None:
        (tmp_path / "file").write_text("x")

        with pytest.raises(StorageError, match="cannot create the directory"):
            open_store(f"sqlite:///{tmp_path / 'file' / 'sub' / 'pw.db'}")

    def test_memory_database_is_shared_by_every_thread(self) -> None:
        store = open_store("sqlite:///:memory:")
        try:
            (check,) = store.sync_checks([make_check("api")]).added
            assert check.id is not None
            cid = check.id
            worker = threading.Thread(
                target=store.record,
                args=([ProbeResult(check_id=cid, started_at=T0, duration_ms=1.0, ok=True)], [], []),
            )
            worker.start()
            worker.join(timeout=30)
            assert len(store.recent_results(cid, 10)) == 1
        finally:
            store.close()


def lose_the_connection_in_a_transaction(store: SqlStore) -> None:
    with store.session("test"), store._db.atomic():
        ((in_use,),) = store._db.execute_sql("SELECT CONNECTION_ID()").fetchall()  # type: ignore[no-untyped-call]
        kill_mysql_connection(MYSQL_URL, in_use)
        store._db.execute_sql("SELECT 1")  # type: ignore[no-untyped-call]


class TestServerFailures:
    def test_an_unreachable_server(self) -> None:
        url = f"mysql://root:{SECRET}@127.0.0.1:1/pulsewatch_test?connect_timeout=3"

        with pytest.raises(StorageError, match="cannot be reached") as caught:
            open_store(url)

        message = str(caught.value)
        assert SECRET not in message
        assert "mysql://root:***@127.0.0.1:1/pulsewatch_test" in message

    @pytest.mark.mysql
    def test_a_wrong_password(self) -> None:
        reset_mysql_database(MYSQL_URL)
        target = parse_url(MYSQL_URL)
        url = f"mysql://{target.user}:{SECRET}@{target.host}:{target.port}/{target.database}"

        with pytest.raises(StorageError, match="access denied") as caught:
            open_store(url)

        assert SECRET not in str(caught.value)
        assert ":***@" in str(caught.value)

    @pytest.mark.mysql
    def test_a_connection_the_server_dropped_is_replaced(self) -> None:
        reset_mysql_database(MYSQL_URL)
        store = open_store(MYSQL_URL)
        try:
            store.sync_checks([make_check("api")])
            ((idle,),) = raw_sql(store, "SELECT CONNECTION_ID()")
            kill_mysql_connection(MYSQL_URL, idle)

            # The pool notices the dead connection when it hands it out, and opens another.
            assert [c.name for c in store.load_checks()] == ["api"]
            ((in_use,),) = raw_sql(store, "SELECT CONNECTION_ID()")
            assert in_use != idle

            # A connection lost while checked out is re-opened once by the reconnecting class.
            with store.session("test"):
                ((in_use,),) = store._db.execute_sql("SELECT CONNECTION_ID()").fetchall()  # type: ignore[no-untyped-call]
                kill_mysql_connection(MYSQL_URL, in_use)
                ((replaced,),) = store._db.execute_sql("SELECT CONNECTION_ID()").fetchall()  # type: ignore[no-untyped-call]
            assert replaced != in_use
            assert [c.name for c in store.load_checks()] == ["api"]

            # A connection lost inside a transaction is not retried (the batch would be half-written):
            # the call fails as a StorageError, and the next call works on a fresh connection.
            with pytest.raises(StorageError, match="cannot test"):
                lose_the_connection_in_a_transaction(store)
            assert [c.name for c in store.load_checks()] == ["api"]
        finally:
            store.close()

    @pytest.mark.mysql
    def test_a_missing_database(self) -> None:
        target = parse_url(MYSQL_URL)
        url = f"mysql://{target.user}@{target.host}:{target.port}/pulsewatch_no_such_db"

        with pytest.raises(StorageError, match="the database does not exist"):
            open_store(url)


class TestLifecycle:
    def test_many_threads_write_and_read_at_once(self, store: SqlStore) -> None:
        checks = store.sync_checks([make_check(f"c{i}") for i in range(8)]).added
        ids = [c.id for c in checks if c.id is not None]

        def work(cid: int) -> int:
            for n in range(20):
                result = ProbeResult(check_id=cid, started_at=at(n), duration_ms=float(n), ok=True)
                state = CheckState(check_id=cid, status=Status.UP, since=T0, consecutive_successes=n + 1)
                store.record([result], [state], [])
                store.load_states()
            return len(store.recent_results(cid, 100))

        with ThreadPoolExecutor(max_workers=4) as pool:
            counts = list(pool.map(work, ids, timeout=120))

        assert counts == [20] * len(ids)
        assert {s.consecutive_successes for s in store.load_states().values()} == {20}

    def test_a_closed_store_refuses_work(self, store: SqlStore) -> None:
        store.close()
        store.close()  # idempotent

        with pytest.raises(StorageError, match="is closed"):
            store.load_checks()

    def test_a_second_open_store_displaces_the_first_loudly(self, store: SqlStore, tmp_path: Path) -> None:
        other = open_store(f"sqlite:///{tmp_path / 'other.db'}")
        try:
            with pytest.raises(StorageError, match="another store was opened"):
                store.load_checks()
            assert other.load_checks() == []
        finally:
            other.close()
