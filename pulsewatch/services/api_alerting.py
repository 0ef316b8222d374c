"""Incidents and silences for one organization's actor (the REST API): scoped, authorized, audited.

The people-facing alerting use cases (`pulsewatch.services.alerting`) act on every organization; this
module adds the tenancy rule (another organization's incident or silence is "not found") and the
permission check, and writes each change with its audit entry in one transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pulsewatch.domain.accounts import Actor, Permission
from pulsewatch.domain.audit import AuditEntry
from pulsewatch.errors import NotFoundError, PulseWatchError
from pulsewatch.services import alerting

if TYPE_CHECKING:
    from datetime import datetime

    from pulsewatch.domain.alerting import Incident, Silence, TimelineEntry
    from pulsewatch.services.alerting import AlertPort
    from pulsewatch.services.ports import AccountsStore

INCIDENT_ACK = "incident.ack"
INCIDENT_RESOLVE = "incident.resolve"
INCIDENT_NOTE = "incident.note"
SILENCE_ADD = "silence.add"
SILENCE_END = "silence.end"


def incident_in(
    store: AlertPort, actor: Actor, org: str, incident_id: int
) -> tuple[Incident, list[TimelineEntry]]:
    """An incident of `org` with its timeline.

    Raises:
        NotFoundError: no such incident in `org` (or the actor may not see its organization).
    """
    incident = _incident(store, actor, org, incident_id)
    return incident, store.timeline(incident_id)


def acknowledge(
    store: AlertPort,
    accounts: AccountsStore,
    actor: Actor,
    org: str,
    incident_id: int,
    note: str,
    now: datetime,
) -> Incident:
    """Acknowledge (escalation and reminders stop).

    Raises:
        NotFoundError: no such incident in `org`.
        PermissionDenied: the actor may not acknowledge incidents there.
        PulseWatchError: the incident is already resolved.
    """
    before = _incident(store, actor, org, incident_id)
    actor.require(Permission.ACK_INCIDENTS, org)
    with accounts.transaction():
        after = alerting.acknowledge_incident(store, incident_id, actor.name, note, now)
        accounts.append_audit([_entry(now, actor, INCIDENT_ACK, before, after, note)])
    return after


def resolve(
    store: AlertPort, accounts: AccountsStore, actor: Actor, org: str, incident_id: int, now: datetime
) -> Incident:
    """Resolve by hand (resolving a resolved incident changes nothing).

    Raises:
        NotFoundError: no such incident in `org`.
        PermissionDenied: the actor may not resolve incidents there.
    """
    before = _incident(store, actor, org, incident_id)
    actor.require(Permission.ACK_INCIDENTS, org)
    if not before.is_open:
        return before
    with accounts.transaction():
        after = alerting.resolve_incident(store, incident_id, actor.name, now)
        accounts.append_audit([_entry(now, actor, INCIDENT_RESOLVE, before, after)])
    return after


def add_note(
    store: AlertPort,
    accounts: AccountsStore,
    actor: Actor,
    org: str,
    incident_id: int,
    text: str,
    now: datetime,
) -> Incident:
    """Add a note to the incident's timeline.

    Raises:
        NotFoundError: no such incident in `org`.
        PermissionDenied: the actor may not handle incidents there.
        PulseWatchError: the note is empty.
    """
    incident = _incident(store, actor, org, incident_id)
    actor.require(Permission.ACK_INCIDENTS, org)
    with accounts.transaction():
        alerting.note_incident(store, incident_id, actor.name, text, now)
        accounts.append_audit(
            [
                AuditEntry(
                    now, actor.name, INCIDENT_NOTE, _target(incident), org, None, {"note": text.strip()[:200]}
                )
            ]
        )
    return incident


def silences_in(
    store: AlertPort, actor: Actor, org: str, now: datetime, *, include_ended: bool
) -> list[Silence]:
    """Silences that cover `org`: its own and those covering every organization."""
    actor.require(Permission.VIEW, org)
    return [s for s in store.silences(now, include_ended=include_ended) if s.scope.org in (org, None)]


def add_silence(
    store: AlertPort,
    accounts: AccountsStore,
    actor: Actor,
    org: str,
    *,
    check: str | None,
    tag: str | None,
    duration: float,
    reason: str,
    now: datetime,
) -> Silence:
    """Silence one check or one tag of `org` for `duration` seconds.

    Raises:
        PermissionDenied: the actor may not silence alerts there.
        PulseWatchError: neither or both of check and tag, a bad duration, or no reason.
    """
    actor.require(Permission.SILENCE_ALERTS, org)
    with accounts.transaction():
        silence = alerting.silence(
            store, check=check, tag=tag, duration=duration, reason=reason, actor=actor.name, now=now, org=org
        )
        accounts.append_audit(
            [
                AuditEntry(
                    now,
                    actor.name,
                    SILENCE_ADD,
                    f"silence #{silence.id}",
                    org,
                    None,
                    {
                        "scope": silence.scope.describe(),
                        "until": silence.until.isoformat(),
                        "reason": silence.reason,
                    },
                )
            ]
        )
    return silence


def end_silence(
    store: AlertPort, accounts: AccountsStore, actor: Actor, org: str, silence_id: int, now: datetime
) -> Silence:
    """End a silence of `org` now.

    Raises:
        NotFoundError: no such silence covering `org`.
        PermissionDenied: the actor may not manage silences there, or it covers every organization.
        PulseWatchError: the silence covers every organization (only the command line ends those).
    """
    actor.require(Permission.SILENCE_ALERTS, org)
    found = next(
        (s for s in silences_in(store, actor, org, now, include_ended=True) if s.id == silence_id), None
    )
    if found is None:
        raise NotFoundError(f"no silence with id {silence_id}")
    if found.scope.org is None:
        raise PulseWatchError(
            f"silence #{silence_id} covers every organization: end it with `pulsewatch silence remove`",
            title="Not yours to end",
        )
    with accounts.transaction():
        ended = alerting.remove_silence(store, silence_id, now)
        accounts.append_audit(
            [
                AuditEntry(
                    now,
                    actor.name,
                    SILENCE_END,
                    f"silence #{silence_id}",
                    org,
                    {"active": found.active_at(now)},
                    {"active": False},
                )
            ]
        )
    return ended


def _incident(store: AlertPort, actor: Actor, org: str, incident_id: int) -> Incident:
    try:
        incident = store.incident(incident_id)
    except NotFoundError:
        incident = None
    if incident is None or incident.org != org or not actor.can(Permission.VIEW, org):
        raise NotFoundError(f"no incident #{incident_id}")
    return incident


def _entry(
    now: datetime, actor: Actor, action: str, before: Incident, after: Incident, note: str = ""
) -> AuditEntry:
    after_json: dict[str, object] = {"status": after.status.value}
    if note:
        after_json["note"] = note[:200]
    return AuditEntry(
        now, actor.name, action, _target(before), before.org, {"status": before.status.value}, after_json
    )


def _target(incident: Incident) -> str:
    return f"incident #{incident.id} ({incident.org}/{incident.check_name})"
