"""Reads of what changed lately (attach mode, check following), on both backends."""

from __future__ import annotations

import pytest

from engine.storage.change_reads import SqlChangeReads
from engine.storage.store import SqlStore
from pulsewatch.domain.monitoring import CheckState, Flip, ProbeResult, Status
from tests.storage.backends import raw_sql
from tests.storage.factories import at, make_check


def ok(check_id: int, seconds: float) -> ProbeResult:
    return ProbeResult(check_id=check_id, started_at=at(seconds), duration_ms=3.0, ok=True, status_code=200,
                       engine="e1")


@pytest.fixture
def reads(store: SqlStore) -> SqlChangeReads:
    return SqlChangeReads(store)


@pytest.fixture
def ids(store: SqlStore) -> tuple[int, int]:
    api, web = store.sync_checks([make_check("api"), make_check("web")]).added
    assert api.id is not None
    assert web.id is not None
    return api.id, web.id


class TestSnapshot:
    def test_it_has_every_check_and_state_and_the_cursors(
        self, store: SqlStore, reads: SqlChangeReads, ids: tuple[int, int]
    ) -> None:
        api, _ = ids
        store.record([ok(api, 1), ok(api, 2)], [CheckState(api, Status.UP, since=at(1))],
                     [Flip(api, at(1), Status.UNKNOWN, Status.UP)])
        snap = reads.snapshot()
        assert [c.name for c in snap.checks] == ["api", "web"]
        assert snap.states[api].status is Status.UP
        [(last_result,)] = raw_sql(store, "SELECT MAX(id) FROM results")
        assert (snap.last_result_id, snap.last_flip_id) == (last_result, 1)
        assert snap.revision[0] == 2


class TestChanges:
    def test_results_after_the_cursor_come_with_their_checks_states(
        self, store: SqlStore, reads: SqlChangeReads, ids: tuple[int, int]
    ) -> None:
        api, web = ids
        store.record([ok(api, 1)], [CheckState(api, Status.UP, since=at(1))], [])
        cursor = reads.snapshot().last_result_id
        store.record([ok(web, 2), ok(api, 3)],
                     [CheckState(web, Status.UP, since=at(2)), CheckState(api, Status.UP, since=at(1),
                                                                          consecutive_successes=2)], [])
        changes = reads.changes(after_result=cursor, holes=(), after_flip=0, flip_holes=(),
                                status_since=at(10_000), limit=100)
        assert [(r.check_id, r.started_at) for _, r in changes.results] == [(web, at(2)), (api, at(3))]
        assert [i for i, _ in changes.results] == sorted(i for i, _ in changes.results)
        assert changes.states[api].consecutive_successes == 2
        assert set(changes.states) == {api, web}

    def test_holes_are_read_again_by_id(
        self, store: SqlStore, reads: SqlChangeReads, ids: tuple[int, int]
    ) -> None:
        api, _ = ids
        store.record([ok(api, 1), ok(api, 2), ok(api, 3)], [], [])
        [(first,)] = raw_sql(store, "SELECT MIN(id) FROM results")
        changes = reads.changes(after_result=first + 2, holes=(first + 1,), after_flip=0, flip_holes=(),
                                status_since=at(10_000), limit=100)
        assert [(i, r.started_at) for i, r in changes.results] == [(first + 1, at(2))]

    def test_states_whose_status_changed_lately_come_without_results(
        self, store: SqlStore, reads: SqlChangeReads, ids: tuple[int, int]
    ) -> None:
        api, web = ids
        store.set_paused(web, True, at(50))  # a pause: a state, no result
        changes = reads.changes(after_result=10**9, holes=(), after_flip=0, flip_holes=(),
                                status_since=at(40), limit=100)
        assert list(changes.states) == [web]
        assert changes.states[web].status is Status.PAUSED
        later = reads.changes(after_result=10**9, holes=(), after_flip=0, flip_holes=(),
                              status_since=at(60), limit=100)
        assert later.states == {}
        assert api not in later.states

    def test_flips_after_the_cursor_oldest_first(self, store: SqlStore, reads: SqlChangeReads,
                                                 ids: tuple[int, int]) -> None:
        api, web = ids
        flips = [Flip(api, at(1), Status.UNKNOWN, Status.UP), Flip(web, at(2), Status.UP, Status.DOWN)]
        store.record([], [], flips)
        changes = reads.changes(after_result=0, holes=(), after_flip=1, flip_holes=(),
                                status_since=at(10_000), limit=100)
        assert [(f.check_id, f.new) for f in changes.flips] == [(web, Status.DOWN)]
        assert list(changes.states) == [web]  # the flipped check's state comes with its flip


class TestRevision:
    def test_it_moves_with_every_added_changed_or_removed_check(
        self, store: SqlStore, reads: SqlChangeReads
    ) -> None:
        empty = reads.revision()
        assert empty == (0, 0)
        store.sync_checks([make_check("api"), make_check("web")])
        two = reads.revision()
        assert two[0] == 2
        assert two != empty
        assert reads.revision() == two  # nothing changed, nothing moves
        store.sync_checks([make_check("api", interval=5.0), make_check("web")])
        changed = reads.revision()
        assert changed[0] == 2
        assert changed[1] >= two[1]
        assert changed != two
        store.sync_checks([make_check("api", interval=5.0)])
        assert reads.revision()[0] == 1
