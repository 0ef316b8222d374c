"""What a public status page shows, gathered from the store: only the checks its groups opt in, their
current status, 90 days of daily uptime, their open incidents and the maintenance covering them.

Nothing here is secret by construction: no URLs, no error messages, no incident reasons — a public
page says *that* something is wrong, never the internal detail of *what* (a host name, an address).
Runs in a worker thread (it reads the database); `status_render` turns the view into HTML.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pulsewatch.domain.monitoring import Status
from pulsewatch.domain.rollups import Level

if TYPE_CHECKING:
    from engine.http.api.backend import ApiBackend
    from pulsewatch.config_status import StatusPage
    from pulsewatch.domain.monitoring import Check, CheckState

DAYS = 90
"""Days of uptime bars."""


@dataclass(frozen=True)
class DayBar:
    """One day of one check: its uptime, or None when it was not probed that day."""

    day: datetime
    uptime_pct: float | None


@dataclass(frozen=True)
class CheckView:
    """A check as the public sees it."""

    name: str
    status: Status
    since: datetime | None
    days: tuple[DayBar, ...]
    uptime_pct: float | None
    """Over the whole 90 days."""


@dataclass(frozen=True)
class GroupView:
    name: str
    checks: tuple[CheckView, ...]


@dataclass(frozen=True)
class IncidentView:
    check: str
    status: str
    opened_at: datetime


@dataclass(frozen=True)
class MaintenanceView:
    name: str
    active: bool
    start: datetime | None
    end: datetime | None
    recurring: str | None


@dataclass(frozen=True)
class PageView:
    """Everything one status page shows."""

    title: str
    description: str
    generated_at: datetime
    groups: tuple[GroupView, ...]
    incidents: tuple[IncidentView, ...]
    maintenance: tuple[MaintenanceView, ...]

    @property
    def overall(self) -> Status:
        """The worst status shown: DOWN, then DEGRADED, then MAINTENANCE, else UP (or UNKNOWN if empty)."""
        shown = {c.status for g in self.groups for c in g.checks}
        for status in (Status.DOWN, Status.DEGRADED, Status.MAINTENANCE):
            if status in shown:
                return status
        return Status.UP if Status.UP in shown else Status.UNKNOWN


def gather(backend: ApiBackend, page: StatusPage) -> PageView:
    """Read everything the page shows (blocking: call from a worker thread)."""
    now = backend.wall_clock()
    rows = backend.scoped.status_rows_in({page.org})
    shown: list[tuple[str, list[tuple[Check, CheckState]]]] = []
    for group in page.groups:
        members = [(c, s) for c, s in rows if group.includes(c)]
        order = {name: i for i, name in enumerate(group.checks)}
        members.sort(key=lambda row: (order.get(row[0].name, len(order)), row[0].name))
        shown.append((group.name, members))
    ids = sorted({c.id for _, members in shown for c, _ in members if c.id is not None})
    first_day = Level.DAY.floor(now) - timedelta(days=DAYS - 1)
    daily = _daily(backend, ids, first_day, now)
    groups = tuple(
        GroupView(name, tuple(_check_view(c, s, daily.get(c.id or 0, {}), first_day) for c, s in members))
        for name, members in shown
    )
    names = {c.id: c.name for _, members in shown for c, _ in members}
    incidents = tuple(
        IncidentView(names[i.check_id], i.status.value, i.opened_at)
        for i in backend.api.incidents_in(page.org, limit=200)
        if i.is_open and i.check_id in names
    )
    covered = [c for _, members in shown for c, _ in members]
    maintenance = tuple(
        MaintenanceView(w.name, w.active_at(now), w.start, w.end, w.cron)
        for w in backend.alerting.maintenance
        if any(w.scope.covers(c) for c in covered)
        and (w.active_at(now) or w.cron is not None or (w.end is not None and w.end > now))
    )
    return PageView(page.title, page.description, now, groups, incidents, maintenance)


def _daily(
    backend: ApiBackend, ids: list[int], since: datetime, until: datetime
) -> dict[int, dict[datetime, tuple[int, int]]]:
    """(probes, failures) per check and UTC day, from the rollups (and raw results for the last minutes)."""
    found: dict[int, dict[datetime, tuple[int, int]]] = defaultdict(dict)
    if not ids:
        return found
    for check_id, rollups in backend.rollups.report_rows(ids, since, until).items():
        days: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])
        for rollup in rollups:
            day = days[Level.DAY.floor(rollup.start)]
            day[0] += rollup.count
            day[1] += rollup.failures
        found[check_id] = {d: (c, f) for d, (c, f) in days.items()}
    return found


def _check_view(
    check: Check, state: CheckState, days: dict[datetime, tuple[int, int]], first_day: datetime
) -> CheckView:
    bars = []
    total = failed = 0
    for n in range(DAYS):
        day = first_day + timedelta(days=n)
        count, failures = days.get(day, (0, 0))
        total, failed = total + count, failed + failures
        bars.append(DayBar(day, 100.0 * (count - failures) / count if count else None))
    overall = 100.0 * (total - failed) / total if total else None
    return CheckView(check.name, state.status, state.since, tuple(bars), overall)
