"""`later_times`: which view of a heartbeat check's pings wins when the database knows more than the engine
does (a ping another engine applied, or the previous owner wrote just before a handover)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.heartbeat_pings import later_times
from pulsewatch.domain.heartbeats import HeartbeatTimes

T0 = datetime(2025, 6, 1, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("known", "stored", "expected"),
    [
        pytest.param(HeartbeatTimes(anchor=at(0), last_ping=at(5)), HeartbeatTimes(anchor=at(9)),
                     HeartbeatTimes(anchor=at(0), last_ping=at(5)), id="the database knows no ping"),
        pytest.param(HeartbeatTimes(anchor=at(0), last_ping=at(5)),
                     HeartbeatTimes(anchor=at(9), last_ping=at(3)),
                     HeartbeatTimes(anchor=at(0), last_ping=at(5)), id="the engine knows a later ping"),
        pytest.param(HeartbeatTimes(anchor=at(0), last_ping=at(5), reported=at(8)),
                     HeartbeatTimes(anchor=at(9), last_ping=at(7), last_start=at(8)),
                     HeartbeatTimes(anchor=at(0), last_ping=at(7), last_start=at(8)),
                     id="a later stored ping moves the schedule on and clears the report"),
        pytest.param(HeartbeatTimes(anchor=at(0)), HeartbeatTimes(anchor=at(9), last_ping=at(1)),
                     HeartbeatTimes(anchor=at(0), last_ping=at(1)), id="the engine never saw a ping"),
    ],
)
def test_the_later_last_ping_wins(
    known: HeartbeatTimes, stored: HeartbeatTimes, expected: HeartbeatTimes
) -> None:
    assert later_times(known, stored) == expected
