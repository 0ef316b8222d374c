"""A FakeEngine that replays canned events, and the canned data the console tests share.

The FakeEngine is the second implementation of `tui.bridge.EngineLink` (the first is the real
EmbeddedEngine): it records the commands it is sent and answers LoadHistory from canned history, so
tests drive the console exactly as the engine would, without threads or network.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from pulsewatch.domain.conditions import parse_condition
from pulsewatch.domain.events import (
    CheckUpdated,
    EngineStarted,
    HistoryLoaded,
    LoadHistory,
)
from pulsewatch.domain.monitoring import Check, CheckState, Flip, ProbeResult, Status

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from pulsewatch.domain.events import EngineCommand, EngineEvent

NOW = datetime(2025, 3, 14, 9, 30, 0, tzinfo=UTC)
"""The frozen instant every console test runs at."""


def frozen_clock() -> datetime:
    """The console's clock in tests: always NOW."""
    return NOW


class FakeEngine:
    """An EngineLink that replays `events` on start and records what it is sent.

    Args:
        events: delivered, in order, as soon as the console starts the link.
        histories: canned answers to LoadHistory, by check id (delivered at once when asked).
        accept: what `send()` answers; False plays an engine whose command queue is full.
    """

    def __init__(
        self,
        events: Iterable[EngineEvent] = (),
        *,
        histories: Mapping[int, HistoryLoaded] | None = None,
        accept: bool = True,
    ) -> None:
        self.initial = tuple(events)
        self.histories = dict(histories or {})
        self.accept = accept
        self.sent: list[EngineCommand] = []
        self.started = False
        self.stop_calls = 0
        self._post: Callable[[EngineEvent], None] | None = None

    def start(self, post: Callable[[EngineEvent], None]) -> None:
        self.started = True
        self._post = post
        self.emit(*self.initial)

    def emit(self, *events: EngineEvent) -> None:
        """Deliver events as the engine would (through the console's `post`)."""
        assert self._post is not None, "the console has not started the link"
        for event in events:
            self._post(event)

    def send(self, command: EngineCommand) -> bool:
        self.sent.append(command)
        if not self.accept:
            return False
        if isinstance(command, LoadHistory) and command.check_id in self.histories:
            canned = self.histories[command.check_id]  # cut to the request and naming it, as the engine does
            limit = command.limit
            self.emit(replace(canned, results=canned.results[:limit], flips=canned.flips[:limit],
                              limit=limit))
        return True

    async def stop(self) -> None:
        self.stop_calls += 1


# --- canned data -------------------------------------------------------------------------------


def make_check(check_id: int, name: str, **fields: object) -> Check:
    """A stored HTTP check with an id, as the engine reports them."""
    base = Check(name=name, url=f"https://{name}.example.test/health", kind="https", id=check_id,
                 interval=30.0, timeout=5.0,
                 conditions=(parse_condition("[STATUS] == 200"),))
    return replace(base, **fields)  # type: ignore[arg-type]


def ago(**delta: float) -> datetime:
    """NOW minus a timedelta, e.g. ago(minutes=3)."""
    return NOW - timedelta(**delta)


CHECKS: tuple[Check, ...] = (
    make_check(1, "api", conditions=(parse_condition("[STATUS] == 200"),
                                     parse_condition("[RESPONSE_TIME] < 500")),
               failure_threshold=3, success_threshold=2, team="web"),
    make_check(2, "checkout", failure_threshold=2),
    make_check(3, "search", conditions=(parse_condition("[RESPONSE_TIME] < 1000"),)),
    make_check(4, "billing-worker", paused=True),
    make_check(5, "cdn", interval=60.0),
    make_check(6, "auth"),
    make_check(7, "reports", interval=300.0),
)
"""Seven checks, one in each interesting situation (see STATES)."""

STATES: tuple[CheckState, ...] = (
    CheckState(1, Status.UP, since=ago(hours=3, minutes=5), last_checked_at=ago(seconds=12),
               last_latency_ms=142.0, consecutive_successes=40),
    CheckState(2, Status.DOWN, since=ago(minutes=3), last_checked_at=ago(seconds=4),
               last_latency_ms=88.0, consecutive_failures=6,
               last_error="expected [STATUS] == 200, got 503"),
    CheckState(3, Status.DEGRADED, since=ago(minutes=10), last_checked_at=ago(seconds=20),
               last_latency_ms=1850.0, last_error="expected [RESPONSE_TIME] < 1000, got 1850"),
    CheckState(4, Status.PAUSED, since=ago(hours=1), last_checked_at=ago(hours=1, minutes=1),
               last_latency_ms=51.0),
    CheckState(5, Status.UP, since=ago(days=2, hours=4), last_checked_at=ago(seconds=33),
               last_latency_ms=23.4),
    CheckState(6, Status.UNKNOWN),
    CheckState(7, Status.MAINTENANCE, since=ago(hours=2), last_checked_at=ago(minutes=4),
               last_latency_ms=310.0),
)

STARTED = EngineStarted(engine="test-engine", checks=CHECKS, states=STATES)
"""The first event of every scenario: seven checks in mixed statuses."""


def result(check_id: int, at: datetime, ms: float, *, code: int | None = 200, ok: bool = True,
           message: str = "", error: str | None = None) -> ProbeResult:
    """One probe result of a check."""
    return ProbeResult(check_id=check_id, started_at=at, duration_ms=ms, ok=ok, status_code=code,
                       error=error if error is not None else (None if ok else "condition"),
                       message=message, engine="test-engine")


def updated(state: CheckState, at: datetime, ms: float, **fields: object) -> CheckUpdated:
    """A CheckUpdated moving `state` to a new probe at `at` taking `ms`."""
    new_state = replace(state, last_checked_at=at, last_latency_ms=ms, **fields)  # type: ignore[arg-type]
    ok = new_state.status is not Status.DOWN
    return CheckUpdated(new_state, result(state.check_id, at, ms, ok=ok, code=200 if ok else 503,
                                          message="" if ok else new_state.last_error))


CHECKOUT_HISTORY = HistoryLoaded(
    check_id=2,
    results=tuple(
        result(2, ago(seconds=4 + 30 * i), 88.0 + 7 * i, ok=False, code=503,
               message="expected [STATUS] == 200, got 503")
        for i in range(6)
    ) + tuple(
        result(2, ago(seconds=184 + 30 * i), 61.0 + 3 * i) for i in range(6)
    ),
    flips=(
        Flip(2, ago(minutes=3), Status.UP, Status.DOWN, reason="expected [STATUS] == 200, got 503", id=12),
        Flip(2, ago(days=1, hours=2), Status.DOWN, Status.UP, reason="recovered", id=9),
        Flip(2, ago(days=1, hours=2, minutes=14), Status.UP, Status.DOWN,
             reason="connection refused", id=8),
        Flip(2, ago(days=3), Status.UNKNOWN, Status.UP, reason="first successful probe", id=1),
    ),
)
"""Twelve results (six failing, newest first) and four flips of 'checkout'."""


def series(check_id: int, latest: float, base: float, spread: float, *, failing: tuple[int, ...] = (),
           every: float = 30.0, count: int = 16, message: str = "") -> HistoryLoaded:
    """`count` stored results of a check, newest first, the newest `latest` seconds ago.

    Latencies wander between `base` and `base + 4 * spread`; the results numbered in `failing`
    (0 is the newest) failed with `message`.
    """
    return HistoryLoaded(
        check_id=check_id,
        results=tuple(
            result(check_id, ago(seconds=latest + every * i), base + spread * ((i * 7) % 5),
                   ok=i not in failing, code=503 if i in failing else 200,
                   message=message if i in failing else "")
            for i in range(count)
        ),
        flips=(),
    )


TREND_HISTORIES: tuple[HistoryLoaded, ...] = (
    series(1, 12, 120.0, 9.0),
    CHECKOUT_HISTORY,
    series(3, 20, 900.0, 240.0, failing=(0, 1, 4), message="expected [RESPONSE_TIME] < 1000, got 1850"),
    series(4, 3660, 45.0, 3.0),
    series(5, 33, 18.0, 2.5, every=60.0),
    series(7, 240, 290.0, 15.0, every=300.0, count=6),
)
"""Stored results that give every probed check a sparkline and uptime figures in the grid."""
