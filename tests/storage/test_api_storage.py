"""Storage of the REST API on both backends: API keys (migration 8), API-owned checks that config sync keeps,
pages of checks with filters and cursors, incidents of one organization."""

from __future__ import annotations

from dataclasses import replace

import pytest

from engine.storage.accounts_store import SqlAccountsStore
from engine.storage.alerting_store import AlertStore
from engine.storage.api_store import CheckFilter, SqlApiStore
from engine.storage.apikey_store import SqlApiKeyStore
from engine.storage.store import SqlStore, open_store
from pulsewatch.domain.accounts import Role
from pulsewatch.domain.alerting import IncidentStatus, Severity
from pulsewatch.domain.api_keys import hash_key, new_api_key
from pulsewatch.domain.monitoring import API_ORIGIN, CONFIG_ORIGIN, Flip, Status
from pulsewatch.errors import NotFoundError
from pulsewatch.services.api_checks import CheckConflict
from tests.storage.backends import raw_sql
from tests.storage.factories import T0, at, make_check

KEY = "pwk_" + "k" * 43


class TestApiKeys:
    def test_a_key_is_found_by_its_hash_listed_and_revoked(self, store: SqlStore) -> None:
        keys = SqlApiKeyStore(store)
        stored = keys.add_key(
            new_api_key(KEY, org="acme", role=Role.ADMIN, name="ci", created_by="ana@x.test", now=T0)
        )
        other = keys.add_key(
            new_api_key("pwk_" + "o" * 43, org="globex", role=Role.VIEWER, name="", created_by="b", now=T0)
        )
        assert stored.id is not None
        assert (stored.key_hash, stored.prefix) == (hash_key(KEY), KEY[:12])
        assert keys.key_by_hash(hash_key(KEY)) == stored
        assert keys.key_by_hash(hash_key("pwk_" + "z" * 43)) is None
        assert [k.id for k in keys.list_keys({"acme"})] == [stored.id]
        assert [k.id for k in keys.list_keys(None)] == [stored.id, other.id]
        assert keys.list_keys(set()) == []
        revoked = keys.revoke_key(stored.id, at(60))
        assert (revoked.revoked_at, revoked.active) == (at(60), False)
        assert keys.revoke_key(stored.id, at(120)).revoked_at == at(60)  # the first revocation stands
        with pytest.raises(NotFoundError):
            keys.revoke_key(9999, at(1))

    def test_migration_8_adds_the_api_keys_table_to_an_older_database(self, store_url: str) -> None:
        old = open_store(store_url)
        old.sync_checks([make_check("api")])
        raw_sql(old, "DROP TABLE api_keys")
        raw_sql(old, "DELETE FROM schema_version")
        raw_sql(old, "INSERT INTO schema_version (version, description, applied_at) VALUES (6, 'v6', 0)")
        old.close()
        store = open_store(store_url, upgrade=False)
        try:
            assert store.upgrade()[0] == 6
            assert "api_keys" in store._db.get_tables()
            assert [c.name for c in store.load_checks()] == ["api"]
            SqlApiKeyStore(store).add_key(
                new_api_key(KEY, org="default", role=Role.VIEWER, name="", created_by="x", now=T0)
            )
        finally:
            store.close()


class TestApiChecks:
    def test_config_sync_keeps_api_checks_and_the_yaml_can_take_one_over(self, store: SqlStore) -> None:
        api = SqlApiStore(store)
        store.sync_checks([make_check("yaml")])
        created, state = api.add_api_check(make_check("made", origin=API_ORIGIN), T0)
        assert (created.id is not None, state.status) == (True, Status.UNKNOWN)
        assert store.load_checks()[0].origin == API_ORIGIN

        plan = store.sync_checks([])  # the file no longer declares "yaml"; it never declared "made"
        assert ([c.name for c in plan.removed], [c.name for c in plan.kept]) == (["yaml"], ["made"])
        assert [(c.name, c.origin, c.id) for c in store.load_checks()] == [("made", API_ORIGIN, created.id)]

        plan = store.sync_checks([make_check("made")])  # now the file declares it: the file owns it
        assert [c.name for c in plan.changed] == ["made"]
        assert [(c.origin, c.id) for c in store.load_checks()] == [(CONFIG_ORIGIN, created.id)]

    def test_add_update_delete_in_one_organization(self, store: SqlStore) -> None:
        api = SqlApiStore(store)
        first, _ = api.add_api_check(make_check("a", org="acme", origin=API_ORIGIN), T0)
        api.add_api_check(make_check("b", org="acme", origin=API_ORIGIN, paused=True), T0)
        with pytest.raises(CheckConflict):
            api.add_api_check(make_check("a", org="acme", origin=API_ORIGIN), T0)
        api.add_api_check(make_check("a", org="globex", origin=API_ORIGIN), T0)  # names are per organization
        assert api.check_in("globex", first.id or 0) is None
        check, state = api.check_in("acme", first.id or 0) or (None, None)
        assert (check, state and state.status) == (first, Status.UNKNOWN)

        renamed, fresh = api.update_api_check(replace(first, name="c", interval=5.0, paused=True), at(1))
        assert (renamed.name, fresh.status) == ("c", Status.PAUSED)
        assert api.check_in("acme", first.id or 0) == (renamed, fresh)
        with pytest.raises(CheckConflict):
            api.update_api_check(replace(renamed, name="b"), at(2))
        api.delete_check(first.id or 0)
        assert api.check_in("acme", first.id or 0) is None
        assert first.id not in store.load_states()

    def test_pages_filters_and_cursors(self, store: SqlStore) -> None:
        api = SqlApiStore(store)
        store.sync_checks(
            [
                make_check(
                    f"c{n:02}",
                    org="acme",
                    tags=("even",) if n % 2 == 0 else (),
                    team="web" if n < 3 else None,
                )
                for n in range(12)
            ]
            + [make_check("x", org="globex", tags=("even",))]
        )
        ids = {c.name: c.id or 0 for c in store.load_checks()}
        store.set_paused(ids["c04"], True, T0)

        def names(where: CheckFilter, **page: object) -> list[str]:
            return [c.name for c, _ in api.check_page(where, **page)]  # type: ignore[arg-type]

        acme = CheckFilter(org="acme")
        assert names(acme, limit=4) == ["c00", "c01", "c02", "c03", "c04"]  # one more: "there is a next page"
        assert names(acme, after="c09", limit=4) == ["c10", "c11"]
        assert names(acme, offset=8, limit=3) == ["c08", "c09", "c10", "c11"]
        assert names(CheckFilter(org="acme", tag="even"), limit=50) == [f"c{n:02}" for n in range(0, 12, 2)]
        assert names(CheckFilter(org="acme", team="web")) == ["c00", "c01", "c02"]
        assert names(CheckFilter(org="acme", text="C1")) == ["c10", "c11"]
        assert names(CheckFilter(org="acme", status=Status.PAUSED)) == ["c04"]
        assert len(names(CheckFilter(org="acme", status=Status.UNKNOWN), limit=50)) == 11
        assert names(CheckFilter(org="globex", tag="even")) == ["x"]
        rows = api.check_page(CheckFilter(org="acme", status=Status.PAUSED))
        assert rows[0][1].status == Status.PAUSED

    def test_a_long_scan_for_a_rare_tag_reads_in_chunks(self, store: SqlStore) -> None:
        checks = [
            make_check(f"n{n:04}", tags=("rare",) if n in (3, 450) else ("common",)) for n in range(460)
        ]
        store.sync_checks(checks)
        found = SqlApiStore(store).check_page(CheckFilter(org="default", tag="rare"), limit=1)
        assert [c.name for c, _ in found] == ["n0003", "n0450"]


def test_incidents_of_one_organization_newest_first(store: SqlStore) -> None:
    store.sync_checks([make_check("a", org="acme"), make_check("g", org="globex")])
    checks = {c.name: c for c in store.load_checks()}
    alerts = AlertStore(store)
    for n in range(3):
        for name in ("a", "g"):
            check = checks[name]
            alerts.apply_flip(
                Flip(check.id or 0, at(10 * n), Status.UP, Status.DOWN, "down"), check, Severity.CRITICAL
            )
            alerts.apply_flip(
                Flip(check.id or 0, at(10 * n + 5), Status.DOWN, Status.UP, "up"), check, Severity.CRITICAL
            )
    alerts.apply_flip(
        Flip(checks["a"].id or 0, at(40), Status.UP, Status.DOWN, "down"), checks["a"], Severity.CRITICAL
    )
    api = SqlApiStore(store)
    found = api.incidents_in("acme", limit=2)
    assert len(found) == 3
    assert {i.org for i in found} == {"acme"}
    assert [i.opened_at for i in found] == [at(40), at(20), at(10)]
    older = api.incidents_in("acme", before_id=found[1].id, limit=10)
    assert [i.opened_at for i in older] == [at(10), at(0)]
    assert [i.status for i in api.incidents_in("acme", status=IncidentStatus.OPEN)] == [IncidentStatus.OPEN]
    assert SqlAccountsStore(store).list_teams("acme") == []
