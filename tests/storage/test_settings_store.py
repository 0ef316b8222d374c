"""The installation secret (schema version 10, `settings`) on both backends: made once, then kept."""

from __future__ import annotations

from pathlib import Path

from engine.storage.migrations import MIGRATIONS
from engine.storage.settings_store import SECRET_BYTES, installation_secret
from engine.storage.store import SqlStore, open_store
from tests.storage.backends import raw_sql


def test_the_secret_is_random_made_once_and_kept_across_reopening(store_url: str) -> None:
    store = open_store(store_url)
    try:
        secret = installation_secret(store)
        assert len(secret) == SECRET_BYTES
        assert installation_secret(store) == secret
        assert raw_sql(store, "SELECT COUNT(*) FROM settings") == [(1,)]
    finally:
        store.close()
    store = open_store(store_url)
    try:
        assert installation_secret(store) == secret
    finally:
        store.close()


def test_two_databases_get_two_secrets(store: SqlStore, tmp_path: Path) -> None:
    other = f"sqlite:///{tmp_path / 'other.db'}"
    mine = installation_secret(store)
    store.close()
    second = open_store(other)
    try:
        assert installation_secret(second) != mine
    finally:
        second.close()


def test_a_version_9_database_gets_the_settings_table(store_url: str) -> None:
    old = open_store(store_url)
    raw_sql(old, "DROP TABLE settings")
    raw_sql(old, "DELETE FROM schema_version")
    raw_sql(old, "INSERT INTO schema_version (version, description, applied_at) VALUES (9, 'v9', 0)")
    old.close()

    store = open_store(store_url, upgrade=False)
    try:
        assert store.upgrade() == (9, MIGRATIONS[-1].version)
        assert len(installation_secret(store)) == SECRET_BYTES
        step = next(m for m in MIGRATIONS if m.version == 10)
        step.apply(store._db)  # interrupted before its stamp: running it again keeps the secret
        assert raw_sql(store, "SELECT COUNT(*) FROM settings") == [(1,)]
    finally:
        store.close()
