"""Schema migration 2 (accounts tables) on both backends: from a version-1 database, and fresh."""

from __future__ import annotations

from engine.storage.accounts_records import ACCOUNTS_RECORDS
from engine.storage.accounts_store import SqlAccountsStore
from engine.storage.migrations import MIGRATIONS
from engine.storage.store import SqlStore, open_store
from pulsewatch.domain.accounts import Organization
from tests.storage.backends import raw_sql
from tests.storage.factories import make_check

ACCOUNT_TABLES = {r._meta.table_name for r in ACCOUNTS_RECORDS}


def test_the_accounts_tables(store: SqlStore) -> None:
    expected = {"users", "organizations", "teams", "memberships", "audit_log", "login_attempts"}
    assert expected == ACCOUNT_TABLES
    assert set(store._db.get_tables()) >= ACCOUNT_TABLES
    assert store.schema_version() >= 2


def test_a_version_1_database_gets_the_accounts_tables_and_keeps_its_checks(store_url: str) -> None:
    old = open_store(store_url)
    old.sync_checks([make_check("api")])
    for table in ACCOUNT_TABLES:  # back to what PulseWatch wrote before accounts existed
        raw_sql(old, f"DROP TABLE {table}")
    raw_sql(old, "DELETE FROM schema_version")  # a fresh database is stamped with the newest version only
    raw_sql(old, "INSERT INTO schema_version (version, description, applied_at) VALUES (1, 'v1', 0)")
    assert not ACCOUNT_TABLES & set(old._db.get_tables())
    old.close()

    store = open_store(store_url, upgrade=False)
    try:
        assert store.schema_version() == 1
        before, after = store.upgrade()
        assert (before, after) == (1, MIGRATIONS[-1].version)
        assert set(store._db.get_tables()) >= ACCOUNT_TABLES
        assert [c.name for c in store.load_checks()] == ["api"]
        SqlAccountsStore(store).save_organization(Organization("acme", "Acme"))
        step = next(m for m in MIGRATIONS if m.version == 2)
        step.apply(store._db)  # interrupted before its stamp: running it again is harmless
        assert SqlAccountsStore(store).list_organizations() == [Organization("acme", "Acme")]
    finally:
        store.close()
