"""The checks grid's uptime columns from stored data: per check, the probes of the last 24 hours and
7 days, read for every check at once from the rollups, complete up to an instant.

Windows are whole hours plus the current one (the 24h column covers the current hour and the 23
before it), which is what hour rollups serve exactly and what the console's own hourly counts did
before rollups existed. Probes that started at or after `UptimeTally.until` are not in the tally:
the console adds the results it sees live from that instant on (`tui.trends.Trend.recent_counts`).

Uptime counts as in reports: successful probes over all probes; a degraded probe is successful.
Pure data: no clock, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING

from pulsewatch.domain.rollups import Level

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

DAY_HOURS = 24
WEEK_HOURS = 7 * 24


def grid_windows(now: datetime) -> tuple[datetime, datetime]:
    """The starts of the 24h and 7d windows at `now`: the current hour and the 23 (167) before it."""
    hour = Level.HOUR.floor(now)
    return hour - timedelta(hours=DAY_HOURS - 1), hour - timedelta(hours=WEEK_HOURS - 1)


@dataclass(frozen=True, slots=True)
class UptimeCounts:
    """One check's stored probes in the two windows."""

    day_ok: int = 0
    day_total: int = 0
    week_ok: int = 0
    week_total: int = 0

    def plus(self, ok: int, total: int) -> UptimeCounts:
        """These counts with probes that fall in both windows (the newest ones) added."""
        return UptimeCounts(self.day_ok + ok, self.day_total + total,
                            self.week_ok + ok, self.week_total + total)


NO_COUNTS = UptimeCounts()
"""A check with nothing stored in either window."""


@dataclass(frozen=True)
class UptimeTally:
    """Stored probe counts of every check in the grid's windows, complete up to `until`."""

    until: datetime
    """Probes that started before this instant are counted; later ones are the console's to add."""
    day_since: datetime
    week_since: datetime
    counts: Mapping[int, UptimeCounts] = field(default_factory=lambda: MappingProxyType({}))
    """By check id; checks without stored probes are absent (NO_COUNTS)."""

    def of(self, check_id: int) -> UptimeCounts:
        """One check's counts (NO_COUNTS when nothing is stored)."""
        return self.counts.get(check_id, NO_COUNTS)
