"""The state rule: thresholds decide when a check goes down and comes back, and every change is one Flip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pulsewatch.domain.monitoring import Check, CheckState, ProbeResult, Status, evaluate

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def make_check(failure_threshold: int = 1, success_threshold: int = 1) -> Check:
    return Check(
        name="api",
        url="http://127.0.0.1/",
        kind="http",
        failure_threshold=failure_threshold,
        success_threshold=success_threshold,
        id=7,
    )


def run(check: Check, outcomes: str, start: Status = Status.UNKNOWN) -> tuple[CheckState, list[str]]:
    """Apply a sequence like "ffss" (f = failed probe, s = succeeded) and return the final state and flips."""
    state = CheckState(check_id=7, status=start)
    flips: list[str] = []
    for i, outcome in enumerate(outcomes):
        now = T0 + timedelta(seconds=i)
        ok = outcome == "s"
        result = ProbeResult(
            check_id=7, started_at=now, duration_ms=12.5, ok=ok,
            error=None if ok else "http", message="" if ok else "expected [STATUS] == 200, got 503",
        )
        state, flip = evaluate(state, result, check, now)
        if flip is not None:
            flips.append(f"{i}:{flip.old.value}->{flip.new.value}")
    return state, flips


@pytest.mark.parametrize(
    ("fail_t", "succ_t", "start", "outcomes", "final", "flips"),
    [
        # first verdict: one success is enough, failures need the threshold
        (3, 2, Status.UNKNOWN, "s", Status.UP, ["0:unknown->up"]),
        (3, 2, Status.UNKNOWN, "ff", Status.UNKNOWN, []),
        (3, 2, Status.UNKNOWN, "fff", Status.DOWN, ["2:unknown->down"]),
        # going down needs consecutive failures; a success in between resets the count
        (3, 2, Status.UP, "ffsff", Status.UP, []),
        (3, 2, Status.UP, "fffff", Status.DOWN, ["2:up->down"]),
        (1, 1, Status.UP, "f", Status.DOWN, ["0:up->down"]),
        # coming back needs consecutive successes
        (3, 2, Status.DOWN, "sfs", Status.DOWN, []),
        (3, 2, Status.DOWN, "ss", Status.UP, ["1:down->up"]),
        (1, 3, Status.DOWN, "sss", Status.UP, ["2:down->up"]),
        # a flapping target with threshold 1 flips every time
        (1, 1, Status.UP, "fsfs", Status.UP, ["0:up->down", "1:down->up", "2:up->down", "3:down->up"]),
        # resumed from pause: first success decides
        (3, 2, Status.PAUSED, "s", Status.UP, ["0:paused->up"]),
    ],
)
def test_thresholds(
    fail_t: int, succ_t: int, start: Status, outcomes: str, final: Status, flips: list[str]
) -> None:
    state, seen = run(make_check(fail_t, succ_t), outcomes, start)
    assert state.status == final
    assert seen == flips


def test_it_keeps_since_until_the_status_changes() -> None:
    check = make_check(failure_threshold=2)
    state, _ = run(check, "sff")
    assert state.status == Status.DOWN
    assert state.since == T0 + timedelta(seconds=2)
    assert state.consecutive_failures == 2
    assert state.last_error == "expected [STATUS] == 200, got 503"


def test_the_flip_carries_the_failure_reason() -> None:
    check = make_check()
    state = CheckState(check_id=7, status=Status.UP, since=T0)
    result = ProbeResult(check_id=7, started_at=T0, duration_ms=5000.0, ok=False, error="timeout",
                         message="timeout after 5s")
    new, flip = evaluate(state, result, check, T0 + timedelta(seconds=5))
    assert flip is not None
    assert (flip.old, flip.new, flip.reason) == (Status.UP, Status.DOWN, "timeout after 5s")
    assert flip.at == T0 + timedelta(seconds=5)
    assert new.last_latency_ms == 5000.0
    assert new.last_checked_at == T0


def test_a_success_clears_the_last_error() -> None:
    state, _ = run(make_check(), "fs", Status.UP)
    assert state.last_error == ""
    assert state.consecutive_successes == 1
