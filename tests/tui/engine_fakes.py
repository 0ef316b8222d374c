"""Canned engines for the Engines screen: a roster read at the frozen instant, and a desk that serves it."""

from __future__ import annotations

from datetime import timedelta

from pulsewatch.domain.engines import EngineLoad, EngineRoster, EngineSummary
from pulsewatch.errors import StorageError
from tests.tui.fakes import NOW, ago

TTL = 20.0
"""The lease TTL of the default 30 s lease."""

ROSTER = EngineRoster(read_at=NOW, ttl=TTL, engines=(
    EngineSummary("eu-1", "eu", "0.9.0", ago(days=2, hours=3), ago(seconds=3), None, shards=32, checks=5012,
                  load=EngineLoad(0.0021, 0.180, 168.4)),
    EngineSummary("old-box", "", "0.8.2", ago(days=9), ago(hours=5), ago(hours=5), shards=0, checks=0),
    EngineSummary("test-engine", "", "0.9.0", ago(minutes=12), ago(seconds=1), None, shards=32, checks=4988,
                  load=EngineLoad(0.0008, 0.012, 166.0)),
    EngineSummary("us-1", "us", "0.9.0", ago(days=1), ago(minutes=2), None, shards=0, checks=0,
                  load=EngineLoad(0.5, 2.5, 80.0)),
))
"""Four engines: eu-1 alive, old-box stopped, test-engine (the console's own) alive, us-1 stale."""


class FakeEngineDesk:
    """Serves `roster` (tests replace it between reads); `fail` makes the reads fail like a lost database."""

    def __init__(self, roster: EngineRoster = ROSTER) -> None:
        self.roster_shown = roster
        self.fail = False
        self.reads = 0

    def roster(self) -> EngineRoster:
        self.reads += 1
        if self.fail:
            raise StorageError("could not read engines from the database: connection refused (fake)")
        return self.roster_shown


def later(roster: EngineRoster, seconds: float) -> EngineRoster:
    """The same rows read `seconds` later."""
    return EngineRoster(roster.read_at + timedelta(seconds=seconds), roster.ttl, roster.engines)
