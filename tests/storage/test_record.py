"""The engine's writes: result batches, state upserts, flips, pause and resume."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from engine.storage.store import SqlStore
from pulsewatch.domain.monitoring import CheckState, ConditionOutcome, Flip, ProbeResult, Status
from pulsewatch.errors import NotFoundError, StorageError
from tests.storage.backends import raw_sql
from tests.storage.factories import T0, at, make_check


@pytest.fixture
def check_id(store: SqlStore) -> int:
    (check,) = store.sync_checks([make_check("api")]).added
    assert check.id is not None
    return check.id


def failure(check_id: int, seconds: float) -> ProbeResult:
    return ProbeResult(
        check_id=check_id,
        started_at=at(seconds),
        duration_ms=1234.567891,
        ok=False,
        status_code=503,
        error="condition",
        message="expected [STATUS] == 200, got 503 — «service unavailable»",
        outcomes=(
            ConditionOutcome("[STATUS] == 200", False, "expected [STATUS] == 200, got 503"),
            ConditionOutcome("[RESPONSE_TIME] < 5000", True, "[RESPONSE_TIME] < 5000"),
        ),
        engine="engine-eu-1",
    )


def success(check_id: int, seconds: float) -> ProbeResult:
    return ProbeResult(
        check_id=check_id,
        started_at=at(seconds),
        duration_ms=12.5,
        ok=True,
        status_code=200,
        engine="engine-eu-1",
    )


class TestResults:
    def test_a_batch_reads_back_identical_newest_first(self, store: SqlStore, check_id: int) -> None:
        batch = [success(check_id, 0), failure(check_id, 1), success(check_id, 2.000001)]

        store.record(batch, [], [])

        assert store.recent_results(check_id, 10) == batch[::-1]

    def test_instants_come_back_aware_utc_to_the_microsecond(self, store: SqlStore, check_id: int) -> None:
        paris = timezone(timedelta(hours=2))
        started = datetime(2025, 6, 1, 14, 0, 0, 123_457, tzinfo=paris)
        store.record([ProbeResult(check_id=check_id, started_at=started, duration_ms=0.25, ok=True)], [], [])

        (result,) = store.recent_results(check_id, 1)

        assert result.started_at == started
        assert result.started_at.tzinfo == UTC
        assert result.started_at.utcoffset() == timedelta(0)
        assert result.started_at.microsecond == 123_457

    def test_outcomes_are_kept_for_failures_only(self, store: SqlStore, check_id: int) -> None:
        passed = (ConditionOutcome("[STATUS] == 200", True, "[STATUS] == 200"),)
        ok = ProbeResult(check_id=check_id, started_at=T0, duration_ms=1.0, ok=True, outcomes=passed)

        store.record([ok], [], [])

        (stored,) = store.recent_results(check_id, 1)
        assert stored.outcomes == ()
        assert stored == ProbeResult(check_id=check_id, started_at=T0, duration_ms=1.0, ok=True)

    def test_a_big_batch_is_stored_whole_and_limit_takes_the_newest(
        self, store: SqlStore, check_id: int
    ) -> None:
        batch = [success(check_id, i) if i % 7 else failure(check_id, i) for i in range(1_234)]

        store.record(batch, [], [])

        assert store.recent_results(check_id, 5_000) == batch[::-1]
        assert store.recent_results(check_id, 3) == batch[:-4:-1]
        assert store.recent_results(check_id, 0) == []

    def test_results_of_other_checks_are_not_mixed_in(self, store: SqlStore) -> None:
        a, b = store.sync_checks([make_check("a"), make_check("b")]).added
        assert a.id is not None
        assert b.id is not None
        store.record([success(a.id, 0), success(b.id, 1), failure(a.id, 2)], [], [])

        assert [r.started_at for r in store.recent_results(a.id, 10)] == [at(2), at(0)]
        assert [r.started_at for r in store.recent_results(b.id, 10)] == [at(1)]

    def test_overlong_texts_are_cut_not_refused(self, store: SqlStore, check_id: int) -> None:
        huge = ProbeResult(
            check_id=check_id,
            started_at=T0,
            duration_ms=1.0,
            ok=False,
            error="e" * 500,
            message="m" * 100_000,
        )

        store.record([huge], [], [])

        (stored,) = store.recent_results(check_id, 1)
        assert stored.error == "e" * 63 + "…"
        assert stored.message == "m" * 3999 + "…"

    def test_a_naive_datetime_is_a_bug_and_writes_nothing(self, store: SqlStore, check_id: int) -> None:
        naive = ProbeResult(check_id=check_id, started_at=datetime(2025, 1, 1), duration_ms=1.0, ok=True)

        with pytest.raises(ValueError, match="naive datetime"):
            store.record([success(check_id, 0), naive], [], [])

        assert store.recent_results(check_id, 10) == []


class TestStatesAndFlips:
    def test_upserting_a_state_twice_keeps_the_last(self, store: SqlStore, check_id: int) -> None:
        first = CheckState(check_id=check_id, status=Status.DOWN, since=at(1), consecutive_failures=3)
        second = CheckState(
            check_id=check_id,
            status=Status.UP,
            since=at(2),
            consecutive_successes=2,
            last_checked_at=at(2.5),
            last_latency_ms=17.25,
            last_error="",
            flapping=True,
        )

        store.record([], [first], [])
        assert store.load_states() == {check_id: first}
        store.record([], [second], [])
        assert store.load_states() == {check_id: second}
        store.record([], [first, second], [])  # the last state of a check in one batch wins
        assert store.load_states() == {check_id: second}

    def test_a_state_with_every_field_set_round_trips(self, store: SqlStore, check_id: int) -> None:
        state = CheckState(
            check_id=check_id,
            status=Status.DEGRADED,
            since=at(0.000001),
            consecutive_failures=7,
            consecutive_successes=0,
            last_checked_at=at(9.999999),
            last_latency_ms=0.001,
            last_error="connection refused ✗",
            flapping=True,
        )

        store.record([], [state], [])

        loaded = store.load_states()[check_id]
        assert loaded == state
        assert loaded.since is not None
        assert loaded.since.tzinfo == UTC

    def test_flips_round_trip_with_ids_newest_first(self, store: SqlStore, check_id: int) -> None:
        flips = [
            Flip(check_id, at(0), Status.UNKNOWN, Status.UP, "first successful probe"),
            Flip(check_id, at(60), Status.UP, Status.DOWN, "expected [STATUS] == 200, got 503"),
            Flip(check_id, at(120), Status.DOWN, Status.UP, "recovered"),
        ]

        store.record([], [], flips)

        loaded = store.recent_flips(check_id, 10)
        assert [f.id for f in loaded] == sorted((f.id for f in loaded if f.id is not None), reverse=True)
        assert [Flip(f.check_id, f.at, f.old, f.new, f.reason) for f in loaded] == flips[::-1]
        assert all(f.at.tzinfo == UTC for f in loaded)
        assert store.recent_flips(check_id, 1) == loaded[:1]

    def test_one_batch_is_all_or_nothing(self, store: SqlStore, check_id: int) -> None:
        before = CheckState(check_id=check_id, status=Status.UP, since=T0)
        store.record([], [before], [])
        raw_sql(store, "DROP TABLE flips")  # the last write of the batch will fail

        with pytest.raises(StorageError, match="cannot record results in"):
            store.record(
                [failure(check_id, 1)],
                [CheckState(check_id=check_id, status=Status.DOWN, since=at(1))],
                [Flip(check_id, at(1), Status.UP, Status.DOWN, "down")],
            )

        assert store.recent_results(check_id, 10) == []
        assert store.load_states() == {check_id: before}

    def test_an_empty_batch_writes_nothing(self, store: SqlStore, check_id: int) -> None:
        store.record([], [], [])

        assert store.recent_results(check_id, 10) == []
        assert store.recent_flips(check_id, 10) == []


class TestPause:
    def test_pause_then_resume(self, store: SqlStore, check_id: int) -> None:
        store.record(
            [], [CheckState(check_id=check_id, status=Status.DOWN, since=T0, consecutive_failures=4)], []
        )

        paused = store.set_paused(check_id, True, at(10))

        assert (paused.status, paused.since, paused.consecutive_failures) == (Status.PAUSED, at(10), 0)
        assert store.load_states()[check_id] == paused
        resumed = store.set_paused(check_id, False, at(20))
        assert (resumed.status, resumed.since) == (Status.UNKNOWN, at(20))
        assert store.load_states()[check_id] == resumed

    def test_pausing_twice_or_resuming_a_running_check_changes_nothing(
        self, store: SqlStore, check_id: int
    ) -> None:
        up = CheckState(check_id=check_id, status=Status.UP, since=T0, consecutive_successes=9)
        store.record([], [up], [])

        assert store.set_paused(check_id, False, at(5)) == up
        paused = store.set_paused(check_id, True, at(10))
        assert store.set_paused(check_id, True, at(30)) == paused
        assert store.load_states()[check_id] == paused

    def test_pausing_an_unknown_check_is_not_found(self, store: SqlStore, check_id: int) -> None:
        with pytest.raises(NotFoundError, match="no check with id"):
            store.set_paused(check_id + 1000, True, T0)
