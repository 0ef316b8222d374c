"""The engine's start-up sync is audited (as `engine:<name>`), on both backends, in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.storage.accounts_store import SqlAccountsStore
from engine.storage.store import SqlStore
from pulsewatch.cli.audited_sync import AuditedSyncStore
from pulsewatch.errors import StorageError
from tests.storage.backends import raw_sql
from tests.storage.factories import make_check

NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)


def entries(store: SqlStore) -> list[tuple[str, str, str]]:
    found = SqlAccountsStore(store).audit_entries(None, limit=100)
    return sorted((e.actor, e.action, e.target) for e in found)


def test_what_the_sync_changed_is_recorded_under_the_engines_name(store: SqlStore) -> None:
    store.sync_checks([make_check("old", org="acme"), make_check("api", org="acme")])
    audited = AuditedSyncStore(store, "eu-1", clock=lambda: NOW)
    plan = audited.sync_checks([
        make_check("api", org="acme", url="http://127.0.0.1:8080/v2"), make_check("new", org="beta"),
    ])
    assert [c.name for c in (*plan.added, *plan.changed, *plan.removed)] == ["new", "api", "old"]
    assert entries(store) == [
        ("engine:eu-1", "check.create", "beta/new"),
        ("engine:eu-1", "check.delete", "acme/old"),
        ("engine:eu-1", "check.update", "acme/api"),
    ]
    [update] = [e for e in SqlAccountsStore(store).audit_entries({"acme"}) if e.action == "check.update"]
    assert update.at == NOW
    assert ("url", "http://127.0.0.1:8080/api", "http://127.0.0.1:8080/v2") in update.changes()


def test_an_unchanged_config_records_nothing(store: SqlStore) -> None:
    checks = [make_check("api", org="acme")]
    store.sync_checks(checks)
    AuditedSyncStore(store, "eu-1").sync_checks(checks)
    assert entries(store) == []


def test_the_sync_and_its_entries_commit_together(store: SqlStore) -> None:
    raw_sql(store, "DROP TABLE audit_log")  # the entries cannot be written: the sync must roll back
    with pytest.raises(StorageError):
        AuditedSyncStore(store, "eu-1").sync_checks([make_check("api", org="acme")])
    assert store.load_checks() == []


def test_everything_else_is_the_store(store: SqlStore) -> None:
    audited = AuditedSyncStore(store, "eu-1")
    audited.sync_checks([make_check("api")])
    assert audited.load_checks() == store.load_checks()
    assert audited.status_rows() == store.status_rows()  # not in the port: passed through
    assert audited.actor == "engine:eu-1"
