"""Alerting vocabulary: incidents, channels, routes, escalation policies, silences and maintenance windows.

Pure like the rest of the core: no I/O and no clock — every rule that depends on time takes `now`.
The decisions built on these types (which notifications should exist now) live in
`alerting_policy`; the message texts in `alerting_messages`.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pulsewatch.domain.monitoring import Check


class Severity(enum.Enum):
    """How bad a check's outage is; routes pick escalation policies by it."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


DEFAULT_SEVERITY = Severity.CRITICAL
"""A check without `severity:` pages like a critical one: silence is the dangerous default."""


class IncidentStatus(enum.Enum):
    """open → acknowledged → resolved (acknowledging is optional)."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Incident:
    """One outage of one check: opened by a flip to DOWN, resolved on recovery (or by a person).

    `check_name` is kept with the incident so its history still reads after the check is removed.
    `settled` is set once a resolved incident needs no more notifications (its recovery notices are
    planned), so the notifier stops looking at it.
    """

    check_id: int
    check_name: str
    opened_at: datetime
    reason: str = ""
    org: str = "default"
    severity: Severity = DEFAULT_SEVERITY
    status: IncidentStatus = IncidentStatus.OPEN
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    ack_note: str = ""
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    """"recovery" when the check came back, else who resolved it (or why: "check removed")."""
    settled: bool = False
    id: int | None = None

    @property
    def is_open(self) -> bool:
        """Not resolved yet (open or acknowledged)."""
        return self.status != IncidentStatus.RESOLVED

    def duration(self, now: datetime) -> timedelta:
        """How long the outage lasted (until `now` while it is still open)."""
        return (self.resolved_at or now) - self.opened_at


class TimelineKind(enum.Enum):
    """What a timeline entry records."""

    OPENED = "opened"
    FLIP = "flip"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    NOTE = "note"
    HELD = "held"
    NOTIFICATION = "notification"


@dataclass(frozen=True)
class TimelineEntry:
    """One line of an incident's history: a flip, an action by a person, a hold, a notification."""

    incident_id: int
    at: datetime
    kind: TimelineKind
    text: str
    actor: str | None = None


@dataclass(frozen=True)
class Channel:
    """A named alert destination: one or more Apprise URLs. The URLs are secrets (tokens, passwords)
    and stay out of reprs; show them only through `mask_url`.

    `org` None means the channel serves every organization.
    """

    name: str
    urls: tuple[str, ...] = field(repr=False)
    org: str | None = None

    def masked_urls(self) -> tuple[str, ...]:
        """The URLs with everything secret replaced, for lists and logs."""
        return tuple(mask_url(u) for u in self.urls)


_HOST = re.compile(
    r"(localhost|\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\]|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)(:\d+)?"
)


def mask_url(url: str) -> str:
    """An Apprise URL with its secrets replaced: `json://127.0.0.1:9000/***`, `mailto://***@smtp.test`.

    Only a scheme and something that is plainly a host name are shown. Many Apprise schemes put
    tokens where a host would be (`slack://T0/B0/XX`, `tgram://123:abc/...`), so anything that does
    not look like a host, every user name and password, every path and query become `***`.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "***"
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    _, at, head = authority.rpartition("@")
    shown = head if _HOST.fullmatch(head) else "***"
    tail = "/***" if len(rest) > len(authority) else ""
    return f"{scheme}://{'***@' if at else ''}{shown}{tail}"


@dataclass(frozen=True)
class EscalationStep:
    """After `after` seconds unacknowledged, notify `channels`."""

    after: float
    channels: tuple[str, ...]


@dataclass(frozen=True)
class FlapPolicy:
    """`flips` flips within `window` seconds make a check flapping: one notice, then quiet until no
    flip has happened for `stable` seconds. `flips` 0 turns flap detection off."""

    flips: int = 5
    window: float = 600.0
    stable: float = 900.0


@dataclass(frozen=True)
class EscalationPolicy:
    """Who hears about an incident, and when.

    Steps are ordered by `after`; `repeat` (seconds) sends reminders to the channels already
    notified while the incident is open and unacknowledged; `recovery` sends a recovery notice to
    every channel that received a page.
    """

    name: str
    steps: tuple[EscalationStep, ...]
    repeat: float | None = None
    recovery: bool = True
    flapping: FlapPolicy = field(default_factory=FlapPolicy)

    @property
    def first_channels(self) -> tuple[str, ...]:
        """The channels of the first step: they also get flapping and degraded notices."""
        return self.steps[0].channels if self.steps else ()


@dataclass(frozen=True)
class Route:
    """Checks matching every given matcher get `policy`. Empty matchers match anything; `tags` and
    `severities` match when any one of them does."""

    policy: str
    org: str | None = None
    teams: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    severities: tuple[Severity, ...] = ()

    def matches(self, check: Check, severity: Severity) -> bool:
        """Whether this route applies to `check` (with its `severity`)."""
        return (
            (self.org is None or check.org == self.org)
            and (not self.teams or check.team in self.teams)
            and (not self.tags or any(t in check.tags for t in self.tags))
            and (not self.severities or severity in self.severities)
        )


@dataclass(frozen=True)
class Scope:
    """Which checks a silence or maintenance window covers: the named checks, the tagged ones, or
    (both empty) every check of `org` — or of every organization when `org` is None too."""

    org: str | None = None
    checks: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    def covers(self, check: Check) -> bool:
        if self.org is not None and check.org != self.org:
            return False
        if not self.checks and not self.tags:
            return True
        return check.name in self.checks or any(t in check.tags for t in self.tags)

    def describe(self) -> str:
        parts = [f"check {c}" for c in self.checks] + [f"tag {t}" for t in self.tags]
        where = ", ".join(parts) or "every check"
        return where if self.org is None else f"{where} in {self.org}"


@dataclass(frozen=True)
class MaintenanceWindow:
    """Planned work: alerts for covered checks are suppressed (and recorded) while it is active.

    One-off windows give `start` and `end`; recurring ones a five-field `cron` for the start, a
    `duration` in seconds and the IANA `timezone` the cron is read in (03:00 in Europe/Paris stays
    03:00 across daylight saving changes).
    """

    name: str
    scope: Scope
    start: datetime | None = None
    end: datetime | None = None
    cron: str | None = None
    duration: float = 0.0
    timezone: str = "UTC"

    def active_at(self, now: datetime) -> bool:
        """Whether the window covers the instant `now` (start included, end excluded)."""
        if self.cron is None:
            return self.start is not None and self.end is not None and self.start <= now < self.end
        started = last_cron_start(self.cron, self.timezone, now)
        return started is not None and now < started + timedelta(seconds=self.duration)


def last_cron_start(expression: str, timezone: str, now: datetime) -> datetime | None:
    """The latest instant at or before `now` that matches the cron `expression` read in `timezone`."""
    from croniter import croniter  # pure computation; imported here to keep the core's import light

    local = now.astimezone(ZoneInfo(timezone))
    # croniter's get_prev is strictly before its start: start a microsecond later to include `now`.
    previous = croniter(expression, local + timedelta(microseconds=1)).get_prev(datetime)
    return previous if isinstance(previous, datetime) else None


@dataclass(frozen=True)
class Silence:
    """An ad-hoc mute, from the console or `pulsewatch silence add`: covered checks' alerts are
    suppressed (and recorded as such) from `created_at` until `until`, unless removed earlier."""

    scope: Scope
    until: datetime
    created_by: str
    reason: str
    created_at: datetime
    ended_at: datetime | None = None
    id: int | None = None

    def active_at(self, now: datetime) -> bool:
        return self.created_at <= now < self.until and (self.ended_at is None or now < self.ended_at)


@dataclass(frozen=True)
class AlertingConfig:
    """Everything the configuration says about alerting, as domain objects.

    `severities` maps (org, check name) to the check's severity when the config sets one;
    `canaries` names the checks ((org, name)) that test the engine's own connectivity.
    """

    channels: tuple[Channel, ...] = ()
    policies: tuple[EscalationPolicy, ...] = ()
    routes: tuple[Route, ...] = ()
    maintenance: tuple[MaintenanceWindow, ...] = ()
    canaries: tuple[tuple[str, str], ...] = ()
    severities: Mapping[tuple[str, str], Severity] = field(default_factory=dict)

    def channel(self, name: str) -> Channel | None:
        return next((c for c in self.channels if c.name == name), None)

    def policy(self, name: str) -> EscalationPolicy | None:
        return next((p for p in self.policies if p.name == name), None)

    def severity_of(self, check: Check) -> Severity:
        return self.severities.get(check.key, DEFAULT_SEVERITY)
