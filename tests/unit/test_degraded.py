"""DEGRADED in the state rule: soft failures degrade, hard ones take the check down, health brings it back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pulsewatch.domain.monitoring import Check, CheckState, ProbeResult, Status, evaluate

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SLOW = "expected [RESPONSE_TIME] < 800, got 1203"
DOWN = "connection refused"


def result(kind: str, i: int) -> ProbeResult:
    """s = healthy, d = degraded (passed its conditions, failed a soft one), f = failed."""
    at = T0 + timedelta(seconds=i)
    if kind == "s":
        return ProbeResult(check_id=7, started_at=at, duration_ms=12.0, ok=True)
    if kind == "d":
        return ProbeResult(
            check_id=7,
            started_at=at,
            duration_ms=1203.0,
            ok=True,
            error="degraded",
            message=SLOW,
            degraded=True,
        )
    return ProbeResult(check_id=7, started_at=at, duration_ms=3.0, ok=False, error="refused", message=DOWN)


def run(
    outcomes: str, *, fail_t: int = 1, succ_t: int = 1, start: Status = Status.UP
) -> tuple[CheckState, list[str]]:
    check = Check(
        name="api", url="http://x/", kind="http", failure_threshold=fail_t, success_threshold=succ_t, id=7
    )
    # A check that is DOWN or DEGRADED got there through a full unhealthy streak.
    streak = fail_t if start in (Status.DOWN, Status.DEGRADED) else 0
    state = CheckState(check_id=7, status=start, consecutive_failures=streak)
    flips = []
    for i, kind in enumerate(outcomes):
        state, flip = evaluate(state, result(kind, i), check, T0 + timedelta(seconds=i))
        if flip is not None:
            flips.append(f"{i}:{flip.old.value}->{flip.new.value}:{flip.reason}")
    return state, flips


@pytest.mark.parametrize(
    ("outcomes", "fail_t", "succ_t", "start", "final", "flips"),
    [
        # a soft failure alone degrades, with its reason
        ("d", 1, 1, Status.UP, Status.DEGRADED, [f"0:up->degraded:{SLOW}"]),
        # ... after the failure threshold, like going down
        ("dd", 3, 1, Status.UP, Status.UP, []),
        ("ddd", 3, 1, Status.UP, Status.DEGRADED, [f"2:up->degraded:{SLOW}"]),
        ("ddsdd", 3, 1, Status.UP, Status.UP, []),
        # recovery: success_threshold healthy probes
        ("ds", 1, 1, Status.UP, Status.UP, [f"0:up->degraded:{SLOW}", "1:degraded->up:recovered"]),
        ("dsds", 1, 2, Status.UP, Status.DEGRADED, [f"0:up->degraded:{SLOW}"]),
        ("dss", 1, 2, Status.UP, Status.UP, [f"0:up->degraded:{SLOW}", "2:degraded->up:recovered"]),
        # degraded and failed probes share the streak; the latest one decides which
        ("ddf", 3, 1, Status.UP, Status.DOWN, [f"2:up->down:{DOWN}"]),
        ("ffd", 3, 1, Status.UP, Status.DEGRADED, [f"2:up->degraded:{SLOW}"]),
        # from DEGRADED a hard failure goes DOWN at once, and back
        ("df", 1, 1, Status.UP, Status.DOWN, [f"0:up->degraded:{SLOW}", f"1:degraded->down:{DOWN}"]),
        ("fd", 1, 1, Status.UP, Status.DEGRADED, [f"0:up->down:{DOWN}", f"1:down->degraded:{SLOW}"]),
        ("f", 1, 1, Status.DEGRADED, Status.DOWN, [f"0:degraded->down:{DOWN}"]),
        # a down check answering slowly is degraded, then up after enough healthy probes
        ("dss", 3, 2, Status.DOWN, Status.UP, [f"0:down->degraded:{SLOW}", "2:degraded->up:recovered"]),
        # no verdict yet: degraded needs the threshold, a healthy probe is UP at once
        ("d", 2, 1, Status.UNKNOWN, Status.UNKNOWN, []),
        ("dd", 2, 1, Status.UNKNOWN, Status.DEGRADED, [f"1:unknown->degraded:{SLOW}"]),
        ("ds", 2, 1, Status.UNKNOWN, Status.UP, ["1:unknown->up:first successful probe"]),
    ],
)
def test_the_state_rule_with_degraded_probes(
    outcomes: str, fail_t: int, succ_t: int, start: Status, final: Status, flips: list[str]
) -> None:
    state, seen = run(outcomes, fail_t=fail_t, succ_t=succ_t, start=start)
    assert state.status == final
    assert seen == flips


def test_a_degraded_state_shows_the_soft_reason_and_counts_the_streak() -> None:
    state, _ = run("dd", fail_t=5)
    assert (state.last_error, state.consecutive_failures, state.consecutive_successes) == (SLOW, 2, 0)
    healthy, _ = run("dds", fail_t=5)
    assert (healthy.last_error, healthy.consecutive_failures, healthy.consecutive_successes) == ("", 0, 1)
