"""Response and request models of incidents, channels, maintenance windows and silences."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pulsewatch.config_schema import Name
from pulsewatch.domain.alerting import Incident, MaintenanceWindow, Scope, Silence, TimelineEntry
from pulsewatch.services.alerting import ChannelView


class IncidentOut(BaseModel):
    """One outage of one check."""

    id: int
    check_id: int
    check_name: str
    org: str
    severity: str
    status: str = Field(description="open, acknowledged or resolved.")
    opened_at: datetime
    reason: str
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    ack_note: str
    resolved_at: datetime | None
    resolved_by: str | None

    @classmethod
    def of(cls, i: Incident) -> IncidentOut:
        return cls(
            id=i.id or 0,
            check_id=i.check_id,
            check_name=i.check_name,
            org=i.org,
            severity=i.severity.value,
            status=i.status.value,
            opened_at=i.opened_at,
            reason=i.reason,
            acknowledged_at=i.acknowledged_at,
            acknowledged_by=i.acknowledged_by,
            ack_note=i.ack_note,
            resolved_at=i.resolved_at,
            resolved_by=i.resolved_by,
        )


class TimelineOut(BaseModel):
    """One line of an incident's history."""

    at: datetime
    kind: str
    text: str
    actor: str | None

    @classmethod
    def of(cls, entry: TimelineEntry) -> TimelineOut:
        return cls(at=entry.at, kind=entry.kind.value, text=entry.text, actor=entry.actor)


class IncidentDetail(IncidentOut):
    """An incident with its timeline, oldest first."""

    timeline: list[TimelineOut]


class IncidentPage(BaseModel):
    """Incidents, newest first."""

    items: list[IncidentOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for older incidents; null when none are left."
    )


class AckIn(BaseModel):
    """An acknowledgement, with an optional note for the timeline."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=2000)


class NoteIn(BaseModel):
    """A note for an incident's timeline."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=2000, pattern=r"\S")


class ChannelOut(BaseModel):
    """An alert channel: masked URLs and how its deliveries are going."""

    name: str
    masked_urls: list[str]
    org: str | None = Field(description="null: the channel serves every organization.")
    failing: bool
    consecutive_failures: int
    last_error: str
    last_success_at: datetime | None
    last_failure_at: datetime | None

    @classmethod
    def of(cls, v: ChannelView) -> ChannelOut:
        return cls(
            name=v.name,
            masked_urls=list(v.masked_urls),
            org=v.org,
            failing=v.failing,
            consecutive_failures=v.consecutive_failures,
            last_error=v.last_error,
            last_success_at=v.last_success_at,
            last_failure_at=v.last_failure_at,
        )


class ChannelTestOut(BaseModel):
    """The outcome of a test message."""

    channel: str
    sent: bool
    detail: str


class ScopeOut(BaseModel):
    """Which checks a silence or window covers: named checks, tagged ones, or (both empty) all."""

    org: str | None
    checks: list[str]
    tags: list[str]
    description: str

    @classmethod
    def of(cls, scope: Scope) -> ScopeOut:
        return cls(
            org=scope.org, checks=list(scope.checks), tags=list(scope.tags), description=scope.describe()
        )


class MaintenanceOut(BaseModel):
    """A planned maintenance window from the configuration."""

    name: str
    scope: ScopeOut
    start: datetime | None
    end: datetime | None
    cron: str | None
    duration_s: float
    timezone: str
    active: bool

    @classmethod
    def of(cls, w: MaintenanceWindow, now: datetime) -> MaintenanceOut:
        return cls(
            name=w.name,
            scope=ScopeOut.of(w.scope),
            start=w.start,
            end=w.end,
            cron=w.cron,
            duration_s=w.duration,
            timezone=w.timezone,
            active=w.active_at(now),
        )


class SilenceOut(BaseModel):
    """An ad-hoc mute of a check or a tag."""

    id: int
    scope: ScopeOut
    until: datetime
    created_by: str
    reason: str
    created_at: datetime
    ended_at: datetime | None
    active: bool

    @classmethod
    def of(cls, s: Silence, now: datetime) -> SilenceOut:
        return cls(
            id=s.id or 0,
            scope=ScopeOut.of(s.scope),
            until=s.until,
            created_by=s.created_by,
            reason=s.reason,
            created_at=s.created_at,
            ended_at=s.ended_at,
            active=s.active_at(now),
        )


class SilenceIn(BaseModel):
    """Silence one check or one tag of the key's organization for a while."""

    model_config = ConfigDict(extra="forbid")

    check: Name | None = Field(default=None, max_length=200, description="A check's name (or give `tag`).")
    tag: Name | None = Field(default=None, max_length=200, description="A tag (or give `check`).")
    duration_s: float = Field(gt=0, le=90 * 86400, description="How long, in seconds (at most 90 days).")
    reason: str = Field(
        min_length=1, max_length=2000, pattern=r"\S", description="Why, for the next person on call."
    )

    @model_validator(mode="after")
    def _one_target(self) -> SilenceIn:
        if (self.check is None) == (self.tag is None):
            raise ValueError("give exactly one of check and tag")
        return self
