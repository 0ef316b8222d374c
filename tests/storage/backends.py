"""The database servers behind the storage tests, and raw SQL for tests that must reach under the store."""

from __future__ import annotations

import os
from typing import Any

import pymysql
import pytest

from engine.storage.db import parse_url
from engine.storage.store import SqlStore

MYSQL_URL = os.environ.get("PULSEWATCH_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/pulsewatch_test")


def reset_mysql_database(url: str) -> None:
    """Create the test database if missing and drop every PulseWatch table in it."""
    target = parse_url(url)
    try:
        conn = pymysql.connect(
            host=target.host,
            port=target.port,
            user=target.user,
            password=target.password,
            connect_timeout=5,
            read_timeout=30,
            write_timeout=30,
        )
    except pymysql.MySQLError as exc:
        pytest.fail(f"MySQL test server at {target.display} unusable ({exc}); run with -m 'not mysql'")
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{target.database}` CHARACTER SET utf8mb4")
            cursor.execute(f"USE `{target.database}`")
            # Every table, not only ALL_RECORDS: a test of a newer schema may have left others.
            cursor.execute("SHOW TABLES")
            for (table,) in cursor.fetchall():
                cursor.execute(f"DROP TABLE IF EXISTS `{table}`")
    finally:
        conn.close()


def kill_mysql_connection(url: str, connection_id: int) -> None:
    """Drop one server connection, as a server restart or `wait_timeout` would."""
    target = parse_url(url)
    conn = pymysql.connect(
        host=target.host, port=target.port, user=target.user, password=target.password, connect_timeout=5
    )
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"KILL {int(connection_id)}")
    finally:
        conn.close()


def raw_sql(store: SqlStore, sql: str) -> list[tuple[Any, ...]]:
    """Run SQL on the store's own database, for tests that set up what the store's API cannot."""
    with store._db.connection_context():
        rows = store._db.execute_sql(sql).fetchall()  # type: ignore[no-untyped-call]
    return [tuple(r) for r in rows]
