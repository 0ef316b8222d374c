"""Organization isolation in the scoped queries, on SQLite and MariaDB: org A never sees org B.

The seam for what comes next: every `*_in(orgs)` query adds one entry to QUERIES and is held to the
same isolation tests (incidents and silences are held to them too).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine.storage.alerting_store import AlertStore
from engine.storage.scoped_reads import SqlScopedReads
from engine.storage.store import SqlStore
from pulsewatch.domain.alerting import Scope, Severity, Silence
from pulsewatch.domain.monitoring import CheckState, Flip, ProbeResult, Status
from tests.storage.factories import at, make_check

World = dict[str, int]
"""Check name → id: acme/api, acme/web, beta/api (same name, other org), beta/db. Each check has
results, a state, a flip, an incident and a silence pinned to its organization."""

NOW = at(3600)
"""When the silences are asked for: all of the world's are in force."""

Query = Callable[[SqlScopedReads, "frozenset[str] | None", World], set[int]]
"""Runs one scoped query for `orgs` and returns the check ids of what came back."""

QUERIES: dict[str, Query] = {
    "checks_in": lambda r, orgs, w: {c.id or 0 for c in r.checks_in(orgs)},
    "status_rows_in": lambda r, orgs, w: {s.check_id for _, s in r.status_rows_in(orgs)},
    "results_in": lambda r, orgs, w: {x.check_id for i in w.values() for x in r.results_in(orgs, i, 10)},
    "flips_in": lambda r, orgs, w: {f.check_id for i in w.values() for f in r.flips_in(orgs, i, 10)},
    "recent_flips_in": lambda r, orgs, w: {f.check_id for f in r.recent_flips_in(orgs, 100)},
    "incidents_in": lambda r, orgs, w: {i.check_id for i in r.incidents_in(orgs)},
    "silences_in": lambda r, orgs, w: {
        w[f"{s.scope.org}/{s.scope.checks[0]}"] for s in r.silences_in(orgs, NOW)
    },
}

OWN_ORG_COLUMN = frozenset({"incidents_in", "silences_in"})
"""Queries whose rows carry their organization: they stay with it after their check is removed."""


@pytest.fixture
def world(store: SqlStore) -> World:
    plan = store.sync_checks([
        make_check("api", org="acme"), make_check("web", org="acme", team="front"),
        make_check("api", org="beta"), make_check("db", org="beta"),
    ])
    ids = {f"{c.org}/{c.name}": c.id or 0 for c in plan.added}
    results, states, flips = [], [], []
    for n, check_id in enumerate(ids.values()):
        results += [ProbeResult(check_id, at(n), 5.0, ok=False, error="timeout", message=f"r{check_id}")]
        states.append(CheckState(check_id, Status.DOWN, since=at(n), consecutive_failures=1))
        flips.append(Flip(check_id, at(n), Status.UNKNOWN, Status.DOWN, reason="timeout"))
    store.record(results, states, flips)
    alerts = AlertStore(store)
    for check in plan.added:
        flip = Flip(check.id or 0, at(10), Status.UP, Status.DOWN, reason="timeout")
        assert alerts.apply_flip(flip, check, Severity.CRITICAL) is not None
        scope = Scope(org=check.org, checks=(check.name,))
        alerts.add_silence(Silence(scope, at(7200), created_by="ops", reason="deploy", created_at=at(0)))
    return ids


def ids_of(world: World, *names: str) -> set[int]:
    return {world[n] for n in names}


@pytest.mark.parametrize("query", QUERIES)
class TestIsolation:
    def test_org_a_sees_only_its_own(self, store: SqlStore, world: World, query: str) -> None:
        reads = SqlScopedReads(store)
        assert QUERIES[query](reads, frozenset({"acme"}), world) == ids_of(world, "acme/api", "acme/web")
        assert QUERIES[query](reads, frozenset({"beta"}), world) == ids_of(world, "beta/api", "beta/db")

    def test_no_organization_sees_nothing_and_none_means_all(
        self, store: SqlStore, world: World, query: str
    ) -> None:
        reads = SqlScopedReads(store)
        assert QUERIES[query](reads, frozenset(), world) == set()
        assert QUERIES[query](reads, frozenset({"gamma"}), world) == set()
        assert QUERIES[query](reads, None, world) == set(world.values())
        assert QUERIES[query](reads, frozenset({"acme", "beta"}), world) == set(world.values())

    def test_a_removed_check_leaves_its_history_to_nobody_but_the_system_or_its_organization(
        self, store: SqlStore, world: World, query: str
    ) -> None:
        store.sync_checks([make_check("api", org="acme"), make_check("web", org="acme", team="front"),
                           make_check("api", org="beta")])
        reads = SqlScopedReads(store)
        seen_by_beta = world["beta/db"] in QUERIES[query](reads, frozenset({"beta"}), world)
        assert seen_by_beta == (query in OWN_ORG_COLUMN)
        assert world["beta/db"] not in QUERIES[query](reads, frozenset({"acme"}), world)


class TestAlerting:
    def test_a_silence_for_every_organization_is_seen_by_each_but_not_by_nobody(
        self, store: SqlStore, world: World
    ) -> None:
        everyone = AlertStore(store).add_silence(
            Silence(Scope(tags=("prod",)), at(7200), created_by="root", reason="dc move", created_at=at(0))
        )
        reads = SqlScopedReads(store)
        for orgs in ({"acme"}, {"beta"}, {"gamma"}, None):
            assert everyone.id in {s.id for s in reads.silences_in(orgs, NOW)}
        assert reads.silences_in(frozenset(), NOW) == []

    def test_ended_silences_and_resolved_incidents_only_on_request(
        self, store: SqlStore, world: World
    ) -> None:
        alerts, reads = AlertStore(store), SqlScopedReads(store)
        [acme_api] = [i for i in reads.incidents_in({"acme"}) if i.check_id == world["acme/api"]]
        alerts.resolve(acme_api.id or 0, "ana", at(20))
        [silence] = [s for s in reads.silences_in({"acme"}, NOW) if s.scope.checks == ("api",)]
        alerts.end_silence(silence.id or 0, at(30))
        assert {i.check_id for i in reads.incidents_in({"acme"}, open_only=True)} == {world["acme/web"]}
        assert len(reads.incidents_in({"acme"})) == 2
        assert [s.scope.checks for s in reads.silences_in({"acme"}, NOW)] == [("web",)]
        assert len(reads.silences_in({"acme"}, NOW, include_ended=True)) == 2
        assert reads.incidents_in({"acme"}, limit=1)[0].check_id == world["acme/web"]


def test_same_names_in_two_organizations_stay_apart(store: SqlStore, world: World) -> None:
    reads = SqlScopedReads(store)
    (acme_api,) = [c for c in reads.checks_in({"acme"}) if c.name == "api"]
    assert acme_api.id == world["acme/api"]
    assert reads.results_in({"acme"}, world["beta/api"], 10) == []
    assert [r.message for r in reads.results_in({"beta"}, world["beta/api"], 10)] == [f"r{world['beta/api']}"]


def test_rows_carry_states_and_order(store: SqlStore, world: World) -> None:
    rows = SqlScopedReads(store).status_rows_in({"beta", "acme"})
    assert [(c.org, c.name, s.status) for c, s in rows] == [
        ("acme", "api", Status.DOWN), ("acme", "web", Status.DOWN),
        ("beta", "api", Status.DOWN), ("beta", "db", Status.DOWN),
    ]
    assert [f.check_id for f in SqlScopedReads(store).recent_flips_in({"acme", "beta"}, 2)] == [
        world["beta/db"], world["beta/api"]
    ]
