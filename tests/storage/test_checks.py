"""Checks in the store: config sync, loading, lookup by name and the status view."""

from __future__ import annotations

from dataclasses import replace

import pytest

from engine.storage.store import SqlStore
from pulsewatch.domain.conditions import parse_condition
from pulsewatch.domain.monitoring import CheckState, ProbeResult, Status
from pulsewatch.errors import NotFoundError
from tests.storage.backends import raw_sql
from tests.storage.factories import T0, at, make_check, rich_check


class TestSyncChecks:
    def test_added_checks_get_ids_and_an_unknown_state(self, store: SqlStore) -> None:
        plan = store.sync_checks([make_check("web"), make_check("api")])

        assert [c.name for c in plan.added] == ["web", "api"]
        assert all(c.id is not None for c in plan.added)
        assert len({c.id for c in plan.added}) == 2
        assert plan.changed == plan.removed == plan.unchanged == ()
        states = store.load_states()
        assert states == {c.id: CheckState(check_id=c.id) for c in plan.added if c.id is not None}

    def test_every_check_field_round_trips(self, store: SqlStore) -> None:
        check = rich_check()
        (added,) = store.sync_checks([check]).added

        assert added == replace(check, id=added.id)
        assert store.load_checks() == [added]

    def test_conditions_are_stored_as_source_and_parsed_again(self, store: SqlStore) -> None:
        conditions = tuple(
            parse_condition(s) for s in ("[STATUS] == 200", "[BODY].status == ok", "[RESPONSE_TIME] < 500")
        )
        (added,) = store.sync_checks([make_check("api", conditions=conditions)]).added

        (loaded,) = store.load_checks()
        assert loaded.conditions == conditions
        assert [c.source for c in loaded.conditions] == [
            "[STATUS] == 200",
            "[BODY].status == ok",
            "[RESPONSE_TIME] < 500",
        ]
        assert loaded.fingerprint() == added.fingerprint()

    def test_changed_checks_keep_id_and_restart_unknown_unchanged_keep_state_removed_go(
        self, store: SqlStore
    ) -> None:
        first = store.sync_checks([make_check("same"), make_check("edited"), make_check("dropped")])
        ids = {c.name: c.id for c in first.added}
        assert all(isinstance(i, int) for i in ids.values())
        store.record(
            [],
            [
                CheckState(check_id=ids["same"] or 0, status=Status.UP, since=T0, consecutive_successes=4),
                CheckState(check_id=ids["edited"] or 0, status=Status.DOWN, since=T0, consecutive_failures=2),
                CheckState(check_id=ids["dropped"] or 0, status=Status.UP, since=T0),
            ],
            [],
        )

        plan = store.sync_checks([make_check("same"), make_check("edited", interval=5.0), make_check("new")])

        assert [(c.name, c.id) for c in plan.unchanged] == [("same", ids["same"])]
        assert [(c.name, c.id, c.interval) for c in plan.changed] == [("edited", ids["edited"], 5.0)]
        assert [(c.name, c.id) for c in plan.removed] == [("dropped", ids["dropped"])]
        assert [c.name for c in plan.added] == ["new"]
        states = store.load_states()
        assert states[ids["same"] or 0] == CheckState(
            check_id=ids["same"] or 0, status=Status.UP, since=T0, consecutive_successes=4
        )
        assert states[ids["edited"] or 0] == CheckState(check_id=ids["edited"] or 0)
        assert ids["dropped"] not in states
        assert [c.name for c in store.load_checks()] == ["edited", "new", "same"]
        assert [c.interval for c in store.load_checks() if c.name == "edited"] == [5.0]

    def test_syncing_the_same_checks_again_changes_nothing(self, store: SqlStore) -> None:
        checks = [rich_check("a"), make_check("b", conditions=(parse_condition("[STATUS] == 200"),))]
        store.sync_checks(checks)

        plan = store.sync_checks(checks)

        assert plan.is_empty
        assert [c.name for c in plan.unchanged] == ["a", "b"]
        assert store.load_checks() == sorted(plan.unchanged, key=lambda c: c.key)

    def test_results_and_flips_of_a_removed_check_stay(self, store: SqlStore) -> None:
        (check,) = store.sync_checks([make_check("gone")]).added
        assert check.id is not None
        store.record([ProbeResult(check_id=check.id, started_at=T0, duration_ms=1.0, ok=True)], [], [])

        store.sync_checks([])

        assert store.load_checks() == []
        assert len(store.recent_results(check.id, 10)) == 1

    def test_ids_of_removed_checks_are_never_reused(self, store: SqlStore) -> None:
        a, b = store.sync_checks([make_check("a"), make_check("b")]).added
        store.sync_checks([make_check("a")])  # removes b, the highest id

        (c,) = store.sync_checks([make_check("a"), make_check("c")]).added

        assert a.id is not None
        assert b.id is not None
        assert c.id is not None
        assert c.id > b.id > a.id

    def test_a_state_written_for_a_removed_check_is_ignored_then_swept(self, store: SqlStore) -> None:
        (gone,) = store.sync_checks([make_check("gone")]).added
        store.sync_checks([])
        assert gone.id is not None
        # A late engine batch for the check the sync just removed must not fail the batch.
        store.record([], [CheckState(check_id=gone.id, status=Status.DOWN, since=T0)], [])
        assert store.load_states() == {}

        store.sync_checks([make_check("other")])

        assert gone.id not in store.load_states()
        assert [c.name for c, _ in store.status_rows()] == ["other"]

    def test_a_check_paused_in_the_config_starts_paused(self, store: SqlStore) -> None:
        (check,) = store.sync_checks([make_check("quiet", paused=True)]).added

        assert check.id is not None
        assert store.load_states()[check.id].status == Status.PAUSED

    def test_names_are_case_sensitive_and_keep_any_unicode(self, store: SqlStore) -> None:
        names = ["API", "api", "café ☕", "日本"]
        store.sync_checks([make_check(n) for n in names])

        assert sorted(c.name for c in store.load_checks()) == sorted(names)
        assert store.check_by_name("café ☕").name == "café ☕"


class TestLookups:
    def test_load_checks_orders_by_org_then_name(self, store: SqlStore) -> None:
        store.sync_checks([make_check("b", org="zeta"), make_check("c"), make_check("a", org="acme")])

        assert [c.key for c in store.load_checks()] == [("acme", "a"), ("default", "c"), ("zeta", "b")]

    def test_check_by_name_finds_one_check(self, store: SqlStore) -> None:
        store.sync_checks([rich_check("api"), make_check("web")])

        found = store.check_by_name("api")

        assert found.key == ("acme", "api")
        assert store.check_by_name("api", org="acme") == found

    def test_check_by_name_raises_not_found(self, store: SqlStore) -> None:
        store.sync_checks([make_check("web")])

        with pytest.raises(NotFoundError, match="no check named 'nope'"):
            store.check_by_name("nope")
        with pytest.raises(NotFoundError, match="in organization 'acme'"):
            store.check_by_name("web", org="acme")

    def test_check_by_name_without_org_refuses_to_guess(self, store: SqlStore) -> None:
        store.sync_checks([make_check("api", org="acme"), make_check("api", org="beta")])

        with pytest.raises(NotFoundError, match=r"organizations acme, beta"):
            store.check_by_name("api")
        assert store.check_by_name("api", org="beta").org == "beta"


class TestStatusRows:
    def test_rows_are_ordered_by_org_and_name_with_their_states(self, store: SqlStore) -> None:
        plan = store.sync_checks([make_check("web"), make_check("db", org="acme"), make_check("api")])
        by_name = {c.name: c for c in plan.added}
        web_id = by_name["web"].id
        assert web_id is not None
        up = CheckState(
            check_id=web_id, status=Status.UP, since=at(1), last_checked_at=at(1), last_latency_ms=3.5
        )
        store.record([], [up], [])

        rows = store.status_rows()

        assert [(c.org, c.name) for c, _ in rows] == [("acme", "db"), ("default", "api"), ("default", "web")]
        assert rows[2] == (by_name["web"], up)
        assert rows[0][1] == CheckState(check_id=by_name["db"].id or 0)

    def test_a_check_without_a_state_row_shows_unknown(self, store: SqlStore) -> None:
        (check,) = store.sync_checks([make_check("api")]).added
        assert check.id is not None
        raw_sql(store, "DELETE FROM check_states")  # a check that never had a state row

        ((row_check, state),) = store.status_rows()

        assert row_check == check
        assert state == CheckState(check_id=check.id, status=Status.UNKNOWN)
