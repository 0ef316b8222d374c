"""Database URLs → connected peewee databases, and database errors → StorageError without secrets.

The engine calls the store from trio worker threads that vary from call to call, and peewee keeps
connections per thread. So file databases are *pooled* (playhouse.pool): each store call checks a
connection out and gives it back, whichever thread it runs on. SQLite `:memory:` is the exception —
every new connection would be a new, empty database — so it keeps one connection for the life of
the store and the store serialises access with a lock.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

import peewee
import pymysql
from playhouse.pool import MaxConnectionsExceeded, PooledMySQLDatabase, PooledSqliteDatabase
from playhouse.shortcuts import ReconnectMixin

from pulsewatch.errors import StorageError

SQLITE_PRAGMAS = (
    # First: a second process (console, `pulsewatch status`, an engine started at the same moment)
    # waits instead of failing, already while the next pragma switches a new file to WAL.
    ("busy_timeout", 10_000),
    ("journal_mode", "wal"),  # readers (the console in attach mode) never block the engine's writer
    ("foreign_keys", 1),
    ("synchronous", "normal"),  # safe with WAL; FULL would fsync on every batch commit
)
"""Applied by peewee to every new SQLite connection."""

SQLITE_BEGIN = "IMMEDIATE"
"""How every transaction on a SQLite file begins: with the write lock (waiting for it up to
`busy_timeout`). A plain (deferred) BEGIN starts as a reader, and in WAL mode its first write is
refused at once — "database is locked", no waiting — when another connection committed since its
first read. Nearly every transaction here reads before it writes (claims, incidents, check syncs)
while the recorder commits several times a second, so deferred transactions failed now and then:
a refused outbox claim once held an alert back for a whole notifier tick (bench.alert_latency)."""

PRAGMA_RETRY_S = 10.0
"""How long a new SQLite connection retries its pragmas while another process switches the file to WAL."""

MYSQL_DEFAULT_PORT = 3306
CONNECT_TIMEOUT_S = 5
"""How long opening a MySQL connection may take before the store reports the server unreachable."""

POOL_SIZE = 16
"""Connections a store may hold at once: more than the engine's writer plus a few readers need."""

POOL_WAIT_S = 10
"""How long a call waits for a free pooled connection before failing."""

MYSQL_STALE_S = 3600
"""Pooled MySQL connections are recycled after this, well inside the server's `wait_timeout`."""

DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    peewee.PeeweeException,
    pymysql.MySQLError,
    sqlite3.Error,
    MaxConnectionsExceeded,
)
"""What a database call may raise that is the database's fault rather than a bug in PulseWatch."""


class PatientPooledSqliteDatabase(PooledSqliteDatabase):  # type: ignore[misc]
    """A pooled SQLite database whose new connections wait out a concurrent switch to WAL.

    Processes opening a new file at the same moment (engines started together) all run `PRAGMA
    journal_mode=wal`; SQLite may answer "database is locked" at once there, without calling the
    busy handler that `busy_timeout` installs. The pragmas (all idempotent) are retried briefly.
    """

    def _set_pragmas(self, conn: sqlite3.Connection) -> None:
        deadline = time.monotonic() + PRAGMA_RETRY_S
        while True:
            try:
                super()._set_pragmas(conn)
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)


class ReconnectingPooledMySQLDatabase(ReconnectMixin, PooledMySQLDatabase):  # type: ignore[misc]
    """A pooled MySQL database that reconnects once when the server dropped an idle connection.

    The pool pings a connection when it is checked out; the mixin covers a connection lost between
    the ping and the query. It never retries inside a transaction, so nothing is written twice.
    """


@dataclass(frozen=True)
class Target:
    """A parsed database URL. `password` is kept apart so no message can include it by accident."""

    backend: str
    """"sqlite" or "mysql"."""
    display: str
    """The URL with the password replaced by `***`: the only form that goes into messages."""
    path: str = ""
    """SQLite: the file path, or ":memory:"."""
    host: str = ""
    port: int = MYSQL_DEFAULT_PORT
    user: str = ""
    password: str = ""
    database: str = ""
    connect_timeout: float = CONNECT_TIMEOUT_S

    @property
    def in_memory(self) -> bool:
        """True for `sqlite:///:memory:`: one connection for the life of the store."""
        return self.backend == "sqlite" and self.path == ":memory:"

    def scrub(self, text: str) -> str:
        """The text with the password (if any) blanked out."""
        return text.replace(self.password, "***") if self.password else text


def redact_url(url: str) -> str:
    """The URL with any password replaced by `***`, for messages and logs."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<unparsable database URL>"
    if not password:
        return url
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[-1]
    return parts._replace(netloc=f"{user}:***@{host}").geturl()


def parse_url(url: str) -> Target:
    """Read a database URL.

    Accepted: `sqlite:///relative/path.db`, `sqlite:////absolute/path.db`, `sqlite:///:memory:`,
    `mysql://user:pass@host:port/db` (`mariadb://` is the same). MySQL takes one query parameter,
    `connect_timeout` in seconds.

    Raises:
        StorageError: the URL cannot be used; the message never includes the password.
    """
    display = redact_url(url)
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        raise StorageError(f"invalid database URL {display}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        return _parse_sqlite(parts, display)
    if scheme in ("mysql", "mariadb", "mysql+pymysql"):
        return _parse_mysql(parts, display)
    raise StorageError(
        f"unsupported database URL {display}: use sqlite:///path/to/file.db or "
        "mysql://user:password@host:3306/database"
    )


def _parse_sqlite(parts: SplitResult, display: str) -> Target:
    if parts.netloc or not parts.path.startswith("/") or len(parts.path) < 2:
        raise StorageError(
            f"invalid SQLite URL {display}: use sqlite:///relative/path.db, sqlite:////absolute/path.db "
            "or sqlite:///:memory:"
        )
    if parts.query:
        raise StorageError(f"invalid SQLite URL {display}: SQLite URLs take no ?parameters")
    path = unquote(parts.path[1:])  # sqlite:///x.db → "x.db"; sqlite:////abs/x.db → "/abs/x.db"
    return Target(backend="sqlite", display=display, path=path)


def _parse_mysql(parts: SplitResult, display: str) -> Target:
    try:
        port = parts.port or MYSQL_DEFAULT_PORT
    except ValueError:
        raise StorageError(f"invalid MySQL URL {display}: the port is not a number") from None
    database = unquote(parts.path.lstrip("/"))
    if not database or "/" in database:
        raise StorageError(
            f"invalid MySQL URL {display}: name the database, as in mysql://user@host/pulsewatch"
        )
    if not parts.username:
        raise StorageError(f"invalid MySQL URL {display}: name the user, as in mysql://user@host/pulsewatch")
    timeout: float = CONNECT_TIMEOUT_S
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key != "connect_timeout":
            raise StorageError(
                f"invalid MySQL URL {display}: unknown parameter {key!r} (known: connect_timeout)"
            )
        try:
            timeout = float(value)
        except ValueError:
            raise StorageError(f"invalid MySQL URL {display}: connect_timeout must be seconds") from None
    return Target(
        backend="mysql",
        display=display,
        host=parts.hostname or "localhost",
        port=port,
        user=unquote(parts.username),
        password=unquote(parts.password or ""),
        database=database,
        connect_timeout=timeout,
    )


def make_database(target: Target) -> peewee.Database:
    """Build (but do not connect) the peewee database for a parsed URL.

    Raises:
        StorageError: the SQLite file's directory cannot be created.
    """
    if target.backend == "sqlite":
        if target.in_memory:
            # thread_safe=False shares the one connection between threads; the store's lock serialises it.
            return peewee.SqliteDatabase(
                ":memory:", pragmas=SQLITE_PRAGMAS, check_same_thread=False, thread_safe=False
            )
        path = Path(target.path).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(
                f"cannot create the directory for {target.display}: {exc.strerror or exc}"
            ) from None
        pooled: peewee.Database = PatientPooledSqliteDatabase(
            str(path),
            pragmas=SQLITE_PRAGMAS,
            lock_type=SQLITE_BEGIN,
            check_same_thread=False,
            max_connections=POOL_SIZE,
            timeout=POOL_WAIT_S,
        )
        return pooled
    mysql: peewee.Database = ReconnectingPooledMySQLDatabase(
        target.database,
        host=target.host,
        port=target.port,
        user=target.user,
        password=target.password,
        charset="utf8mb4",
        connect_timeout=target.connect_timeout,
        max_connections=POOL_SIZE,
        stale_timeout=MYSQL_STALE_S,
        timeout=POOL_WAIT_S,
    )
    return mysql


def raise_storage_error(target: Target, exc: BaseException, doing: str) -> NoReturn:
    """Re-raise a driver/peewee error as StorageError naming the database, never the password.

    Args:
        target: the database the error came from.
        exc: the driver's or peewee's exception.
        doing: what was being attempted, e.g. "connect to" or "record results in".
    """
    raise StorageError(target.scrub(f"cannot {doing} {target.display}: {describe_error(exc)}")) from None


def describe_error(exc: BaseException) -> str:
    """The driver's own words: pymysql errors carry (code, message) in their args."""
    args: tuple[Any, ...] = exc.args
    if args and isinstance(args[0], BaseException):  # peewee wraps the driver's error as its first arg
        return describe_error(args[0])
    if len(args) == 2 and isinstance(args[0], int) and isinstance(args[1], str):
        code, message = args
        if code in (2003, 2005):  # can't connect / unknown host
            return f"the server cannot be reached ({message})"
        if code == 1045:
            return f"access denied: check the user and password ({message})"
        if code == 1049:
            return f"the database does not exist: create it first ({message})"
        return f"{message} (error {code})"
    return str(exc) or type(exc).__name__
