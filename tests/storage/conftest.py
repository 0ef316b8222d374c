"""Storage fixtures: the same tests on SQLite (a file in tmp_path) and on MariaDB/MySQL.

MySQL runs against $PULSEWATCH_TEST_MYSQL_URL (default mysql://root@127.0.0.1:3306/pulsewatch_test);
the database is created when missing and every PulseWatch table is dropped before each test. Those
tests carry the `mysql` mark: `pytest -m "not mysql"` runs without a server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.storage.store import SqlStore, open_store
from tests.storage.backends import MYSQL_URL, reset_mysql_database


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL to an empty database on each backend."""
    if request.param == "mysql":
        reset_mysql_database(MYSQL_URL)
        return MYSQL_URL
    return f"sqlite:///{tmp_path / 'data' / 'pulsewatch.db'}"


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    """An open store on an empty database, closed after the test."""
    opened = open_store(store_url)
    yield opened
    opened.close()
