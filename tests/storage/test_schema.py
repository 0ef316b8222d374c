"""Schema creation, versions and migrations, on both backends."""

from __future__ import annotations

import peewee
import pytest

from engine.storage import migrations
from engine.storage.migrations import CURRENT_VERSION, MIGRATIONS, Migration, add_column_if_missing
from engine.storage.store import SqlStore, open_store
from pulsewatch.errors import StorageError
from tests.storage.backends import raw_sql
from tests.storage.factories import T0, make_check

NOTE = Migration(
    CURRENT_VERSION + 1,
    "flips get a note",
    lambda db: add_column_if_missing(db, "flips", "note", peewee.TextField(null=True)),
)
"""A next step as a future PulseWatch would add one."""


def columns(store: SqlStore, table: str) -> set[str]:
    return {c.name for c in store._db.get_columns(table)}


class TestCreation:
    def test_an_empty_database_gets_the_current_schema(self, store: SqlStore) -> None:
        assert store.schema_version() == CURRENT_VERSION
        assert set(store._db.get_tables()) >= {"schema_version", "checks", "check_states", "results", "flips"}

    def test_upgrade_on_a_current_database_does_nothing_every_time(self, store: SqlStore) -> None:
        assert store.upgrade() == (CURRENT_VERSION, CURRENT_VERSION)
        assert store.upgrade() == (CURRENT_VERSION, CURRENT_VERSION)
        assert store.schema_version() == CURRENT_VERSION

    def test_reopening_keeps_the_data(self, store_url: str) -> None:
        first = open_store(store_url)
        first.sync_checks([make_check("api")])
        first.close()

        again = open_store(store_url)
        try:
            assert [c.name for c in again.load_checks()] == ["api"]
            assert again.schema_version() == CURRENT_VERSION
        finally:
            again.close()

    def test_without_upgrade_an_empty_database_is_left_for_upgrade_to_create(self, store_url: str) -> None:
        store = open_store(store_url, upgrade=False)
        try:
            assert store.schema_version() == 0
            assert store.upgrade() == (0, CURRENT_VERSION)
            assert store.upgrade() == (CURRENT_VERSION, CURRENT_VERSION)
            store.sync_checks([make_check("api")])
        finally:
            store.close()


class TestMigrations:
    def test_a_pending_step_is_applied_once_and_reported(self, store_url: str) -> None:
        open_store(store_url).close()  # a database at the current version
        steps = (*MIGRATIONS, NOTE)

        store = open_store(store_url, upgrade=False, migrations=steps)
        try:
            assert store.schema_version() == CURRENT_VERSION
            assert "note" not in columns(store, "flips")
            assert store.upgrade() == (CURRENT_VERSION, NOTE.version)
            assert "note" in columns(store, "flips")
            assert store.upgrade() == (NOTE.version, NOTE.version)
            NOTE.apply(store._db)  # a step interrupted after its change but before its stamp runs again
            assert store.schema_version() == NOTE.version
        finally:
            store.close()

    def test_open_store_applies_pending_steps_itself(self, store_url: str) -> None:
        open_store(store_url).close()

        store = open_store(store_url, migrations=(*MIGRATIONS, NOTE))
        try:
            assert store.schema_version() == NOTE.version
            assert "note" in columns(store, "flips")
        finally:
            store.close()

    def test_a_database_without_a_version_reruns_every_step_safely(self, store_url: str) -> None:
        store = open_store(store_url)
        try:
            store.sync_checks([make_check("api")])
            raw_sql(store, "DELETE FROM schema_version")  # as if stamped by nothing
            assert store.schema_version() == 0

            assert store.upgrade() == (0, CURRENT_VERSION)
            assert [c.name for c in store.load_checks()] == ["api"]
        finally:
            store.close()

    def test_a_newer_database_is_refused(self, store_url: str) -> None:
        store = open_store(store_url, migrations=(*MIGRATIONS, NOTE))
        store.close()

        with pytest.raises(StorageError) as caught:
            open_store(store_url)

        assert str(caught.value) == (
            f"database schema version {NOTE.version} is newer than this PulseWatch ({CURRENT_VERSION}); "
            "upgrade PulseWatch"
        )

    def test_a_newer_database_is_refused_without_upgrade_too(self, store_url: str) -> None:
        open_store(store_url, migrations=(*MIGRATIONS, NOTE)).close()

        with pytest.raises(StorageError, match="is newer than this PulseWatch"):
            open_store(store_url, upgrade=False)

    def test_the_steps_are_ordered_and_unique(self) -> None:
        versions = [m.version for m in migrations.MIGRATIONS]
        assert versions == sorted(set(versions))
        assert versions[0] == 1
        assert versions[-1] == migrations.CURRENT_VERSION


def test_the_stamp_records_when(store: SqlStore) -> None:
    """Each applied version is a row with a time, so `db upgrade` history can be shown."""
    rows = raw_sql(store, "SELECT version, applied_at FROM schema_version")
    assert [r[0] for r in rows] == [CURRENT_VERSION]
    assert rows[0][1] > int(T0.timestamp() * 1_000_000)
