"""A FakeIncidentDesk: the console's IncidentDesk over canned incidents, recording every call.

It follows the real AlertingAccess's rules that the screen relies on (acknowledging keeps the note,
resolving sets who, an empty note is refused, a refused actor gets PermissionDenied) without a
database, so Pilot tests and snapshots run on fixed data.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from pulsewatch.domain.accounts import Actor, Permission, PermissionDenied
from pulsewatch.domain.alerting import (
    Incident,
    IncidentStatus,
    Scope,
    Severity,
    Silence,
    TimelineEntry,
    TimelineKind,
)
from pulsewatch.errors import NotFoundError, PulseWatchError
from tests.tui.fakes import ago

if TYPE_CHECKING:
    from datetime import datetime


def canned_incidents() -> list[Incident]:
    """Four incidents: two open, one acknowledged, one resolved (ids 11-14, newest first)."""
    return [
        Incident(2, "checkout", ago(minutes=3), reason="expected [STATUS] == 200, got 503", id=14),
        Incident(3, "search", ago(minutes=10), reason="expected [RESPONSE_TIME] < 1000, got 1850",
                 severity=Severity.WARNING, id=13),
        Incident(1, "api", ago(hours=1), reason="connection refused", org="shop", id=12,
                 status=IncidentStatus.ACKNOWLEDGED, acknowledged_at=ago(minutes=50),
                 acknowledged_by="ana@example.com", ack_note="restarting the pool"),
        Incident(5, "cdn", ago(days=1), reason="timed out after 10s", id=11,
                 status=IncidentStatus.RESOLVED, resolved_at=ago(hours=23), resolved_by="recovery"),
    ]


class FakeIncidentDesk:
    """Canned incidents in memory; `calls` lists what the screen asked, `refuse` plays a viewer."""

    def __init__(self, incidents: list[Incident] | None = None, *, refuse: bool = False) -> None:
        found = canned_incidents() if incidents is None else incidents
        self.by_id: dict[int, Incident] = {i.id or 0: i for i in found}
        self.entries: dict[int, list[TimelineEntry]] = {
            i.id or 0: [TimelineEntry(i.id or 0, i.opened_at, TimelineKind.OPENED, f"opened: {i.reason}")]
            for i in found
        }
        self.refuse = refuse
        self.calls: list[tuple[str, ...]] = []
        self.silences: list[Silence] = []

    def incidents(self, actor: Actor, *, open_only: bool = False, limit: int = 100) -> list[Incident]:
        found = sorted(self.by_id.values(), key=lambda i: i.opened_at, reverse=True)
        return [i for i in found if i.is_open or not open_only][:limit]

    def incident(self, actor: Actor, incident_id: int) -> tuple[Incident, list[TimelineEntry]]:
        if incident_id not in self.by_id:
            raise NotFoundError(f"no incident #{incident_id}")
        return self.by_id[incident_id], list(self.entries[incident_id])

    def _check(self, actor: Actor, incident_id: int) -> Incident:
        incident, _ = self.incident(actor, incident_id)
        if self.refuse:
            raise PermissionDenied(f"{actor.name} is a viewer in {incident.org} and may not "
                                   f"{Permission.ACK_INCIDENTS.value} (needs member or above)",
                                   permission=Permission.ACK_INCIDENTS, role=None)
        return incident

    def _log(self, incident_id: int, at: datetime, kind: TimelineKind, text: str, actor: Actor) -> None:
        self.entries[incident_id].append(TimelineEntry(incident_id, at, kind, text, actor.name))

    def acknowledge(self, actor: Actor, incident_id: int, note: str, now: datetime) -> Incident:
        self.calls.append(("ack", str(incident_id), note))
        incident = self._check(actor, incident_id)
        if incident.status is IncidentStatus.RESOLVED:
            raise PulseWatchError(f"incident #{incident_id} is already resolved", title="Resolved")
        after = replace(incident, status=IncidentStatus.ACKNOWLEDGED, acknowledged_at=now,
                        acknowledged_by=actor.name, ack_note=note.strip())
        self.by_id[incident_id] = after
        self._log(incident_id, now, TimelineKind.ACKNOWLEDGED, f"acknowledged: {note}".strip(": "), actor)
        return after

    def resolve(self, actor: Actor, incident_id: int, now: datetime) -> Incident:
        self.calls.append(("resolve", str(incident_id)))
        incident = self._check(actor, incident_id)
        after = replace(incident, status=IncidentStatus.RESOLVED, resolved_at=now, resolved_by=actor.name)
        self.by_id[incident_id] = after
        self._log(incident_id, now, TimelineKind.RESOLVED, "resolved by hand", actor)
        return after

    def note(self, actor: Actor, incident_id: int, text: str, now: datetime) -> None:
        self.calls.append(("note", str(incident_id), text))
        if not text.strip():
            raise PulseWatchError("a note needs some text", title="Empty note")
        self._check(actor, incident_id)
        self._log(incident_id, now, TimelineKind.NOTE, text.strip(), actor)

    def add_silence(
        self,
        actor: Actor,
        *,
        check: str | None,
        tag: str | None,
        duration: float,
        reason: str,
        now: datetime,
        org: str | None = None,
    ) -> Silence:
        self.calls.append(("silence", str(check), str(duration), reason, str(org)))
        if self.refuse:
            raise PermissionDenied(f"{actor.name} is a viewer in {org} and may not "
                                   f"{Permission.SILENCE_ALERTS.value} (needs member or above)",
                                   permission=Permission.SILENCE_ALERTS, role=None)
        made = Silence(Scope(org=org, checks=(check,) if check else (), tags=(tag,) if tag else ()),
                       until=now + timedelta(seconds=duration), created_by=actor.name, reason=reason,
                       created_at=now, id=len(self.silences) + 1)
        self.silences.append(made)
        return made
