"""Alerting use cases for people (CLI and console): incidents, silences, channels.

Each function takes the store as a port and `now` as an argument; none does I/O of its own. They act
on every organization and check no role: people reach them through `alerting_access` (the CLI and the
console: roles per organization and team) or `api_alerting` (the REST API), which check first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from pulsewatch.domain.alerting import Channel, Incident, Scope, Silence, TimelineEntry
from pulsewatch.errors import PulseWatchError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pulsewatch.domain.notifications import ChannelHealth, DeliveryAttempt, Notification


class AlertPort(Protocol):
    """What the people-facing use cases need of storage (engine.storage.alerting_store.AlertStore)."""

    def incidents(self, *, open_only: bool = False, limit: int = 100) -> list[Incident]: ...
    def incident(self, incident_id: int) -> Incident: ...
    def acknowledge(self, incident_id: int, by: str, note: str, now: datetime) -> Incident: ...
    def resolve(self, incident_id: int, by: str, now: datetime, text: str = "") -> Incident: ...
    def add_note(self, incident_id: int, by: str, text: str, now: datetime) -> None: ...
    def timeline(self, incident_id: int) -> list[TimelineEntry]: ...
    def add_silence(self, silence: Silence) -> Silence: ...
    def silences(self, now: datetime, *, include_ended: bool = False) -> list[Silence]: ...
    def end_silence(self, silence_id: int, now: datetime) -> Silence: ...
    def notifications(self, *, incident_id: int | None = None, limit: int = 100) -> list[Notification]: ...
    def attempts(self, notification_id: int) -> list[DeliveryAttempt]: ...
    def channel_health(self) -> list[ChannelHealth]: ...


# --- incidents -------------------------------------------------------------------------------------


def list_incidents(store: AlertPort, *, open_only: bool = False, limit: int = 100) -> list[Incident]:
    """Incidents, newest first (only unresolved ones with `open_only`)."""
    return store.incidents(open_only=open_only, limit=limit)


def acknowledge_incident(
    store: AlertPort, incident_id: int, actor: str, note: str, now: datetime
) -> Incident:
    """Acknowledge: someone is on it, so escalation and reminders stop; the recovery notice still goes."""
    return store.acknowledge(incident_id, actor, note.strip(), now)


def resolve_incident(store: AlertPort, incident_id: int, actor: str, now: datetime) -> Incident:
    """Resolve by hand: pages not yet sent are dropped; channels that were paged hear it is resolved.

    The incident stays resolved even if the check is still down: a new incident opens only with
    the check's next outage.
    """
    return store.resolve(incident_id, actor, now)


def note_incident(store: AlertPort, incident_id: int, actor: str, text: str, now: datetime) -> None:
    """Add a note to an incident's timeline."""
    if not text.strip():
        raise PulseWatchError("a note needs some text", title="Empty note")
    store.add_note(incident_id, actor, text.strip(), now)


def incident_timeline(store: AlertPort, incident_id: int) -> tuple[Incident, list[TimelineEntry]]:
    """The incident and its history, oldest first."""
    return store.incident(incident_id), store.timeline(incident_id)


# --- silences --------------------------------------------------------------------------------------


def silence(
    store: AlertPort,
    *,
    check: str | None,
    tag: str | None,
    duration: float,
    reason: str,
    actor: str,
    now: datetime,
    org: str | None = None,
) -> Silence:
    """Silence one check or one tag for `duration` seconds from `now`.

    Raises:
        PulseWatchError: neither or both of check and tag, a non-positive duration, or no reason.
    """
    if (check is None) == (tag is None):
        raise PulseWatchError("silence either one check or one tag", title="Bad silence")
    if duration <= 0:
        raise PulseWatchError("a silence must last longer than zero", title="Bad silence")
    if not reason.strip():
        raise PulseWatchError("say why (a reason) so the next person on call knows", title="Bad silence")
    scope = Scope(org=org, checks=(check,) if check else (), tags=(tag,) if tag else ())
    new = Silence(scope, now + timedelta(seconds=duration), actor, reason.strip(), now)
    return store.add_silence(new)


def list_silences(store: AlertPort, now: datetime, *, include_ended: bool = False) -> list[Silence]:
    """Silences in force now (or all of them)."""
    return store.silences(now, include_ended=include_ended)


def remove_silence(store: AlertPort, silence_id: int, now: datetime) -> Silence:
    """End a silence now."""
    return store.end_silence(silence_id, now)


# --- channels --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelView:
    """A channel as people see it: masked URLs and how its deliveries have been going."""

    name: str
    masked_urls: tuple[str, ...]
    org: str | None = None
    failing: bool = False
    consecutive_failures: int = 0
    last_error: str = ""
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None


def channel_views(channels: Sequence[Channel], health: Sequence[ChannelHealth]) -> list[ChannelView]:
    """Every configured channel with its health (never its secrets)."""
    by_name = {h.channel: h for h in health}
    views = []
    for channel in channels:
        h = by_name.get(channel.name)
        views.append(
            ChannelView(
                name=channel.name,
                masked_urls=channel.masked_urls(),
                org=channel.org,
                failing=h.failing if h else False,
                consecutive_failures=h.consecutive_failures if h else 0,
                last_error=h.last_error if h else "",
                last_success_at=h.last_success_at if h else None,
                last_failure_at=h.last_failure_at if h else None,
            )
        )
    return views


def delivery_log(store: AlertPort, *, incident_id: int | None = None, limit: int = 100) -> list[Notification]:
    """Recent notifications (of one incident), newest first: the console's delivery log."""
    return store.notifications(incident_id=incident_id, limit=limit)
