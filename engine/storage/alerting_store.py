"""AlertStore: incidents, their timeline and silences in SQL, plus the outbox (`OutboxStore`).

Built on the SqlStore: same database, same sessions, same errors (StorageError). Every method is
one unit of work in one transaction, callable from any thread. Implements
`pulsewatch.services.alerting.AlertPort`.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from engine.storage.alerting_outbox_store import PAGE_EVENTS, OutboxStore, cut
from engine.storage.alerting_records import (
    IncidentEventRecord,
    IncidentRecord,
    NotificationRecord,
    SilenceRecord,
)
from pulsewatch.domain.alerting import (
    Incident,
    IncidentStatus,
    Severity,
    Silence,
    TimelineEntry,
    TimelineKind,
)
from pulsewatch.domain.alerting_policy import SETTLE_SLACK, FlipAction, decide_flip
from pulsewatch.domain.notifications import DeliveryStatus
from pulsewatch.errors import NotFoundError, PulseWatchError

if TYPE_CHECKING:
    from pulsewatch.domain.monitoring import Check, CheckState, Flip


class AlertStore(OutboxStore):
    """Incidents, timeline, silences and the outbox. Thread-safe, like the SqlStore it is built on."""

    # -- the engine's side ----------------------------------------------------------------------

    def apply_flip(self, flip: Flip, check: Check, severity: Severity) -> Incident | None:
        """Open, note or resolve the check's incident for `flip`; returns the incident it touched."""
        with self.sql.session("record an incident in"), self.sql.atomic():
            current = self._open_record(flip.check_id)
            action = decide_flip(current.to_domain() if current is not None else None, flip)
            change = f"{flip.old.value} → {flip.new.value}" + (f": {flip.reason}" if flip.reason else "")
            if action == FlipAction.OPEN:
                incident_id = self._insert(check, severity, flip.at, flip.reason)
                self._event(incident_id, flip.at, TimelineKind.OPENED, f"opened: {change}")
            elif action == FlipAction.NOTE and current is not None:
                incident_id = current.id
                self._event(incident_id, flip.at, TimelineKind.FLIP, change)
            elif action == FlipAction.RESOLVE and current is not None:
                incident_id = current.id
                by = "recovery" if flip.new.value == "up" else f"check {flip.new.value}"
                self._resolve(current, by, flip.at, f"resolved: {change}")
            else:
                return None
            return IncidentRecord.get_by_id(incident_id).to_domain()

    def open_from_state(
        self, check: Check, state: CheckState, severity: Severity, now: datetime
    ) -> Incident | None:
        """Open an incident for a check found DOWN without one (its flip was missed), unless this
        outage already had one (a person may have resolved it by hand). Returns the new incident."""
        since = state.since or now
        with self.sql.session("record an incident in"), self.sql.atomic():
            exists = (
                IncidentRecord.select()
                .where(
                    (IncidentRecord.check_id == state.check_id)
                    & (IncidentRecord.opened_at >= since - SETTLE_SLACK)
                )
                .exists()
            )
            if exists or self._open_record(state.check_id) is not None:
                return None
            incident_id = self._insert(check, severity, since, state.last_error)
            self._event(
                incident_id,
                now,
                TimelineKind.OPENED,
                "opened from the check's state (the engine did not see the flip itself)",
            )
            return IncidentRecord.get_by_id(incident_id).to_domain()

    def unsettled_incidents(self) -> list[Incident]:
        """Incidents the notifier still has to look at: open, acknowledged, or resolved but unsettled."""
        with self.sql.session("read incidents from"):
            query = IncidentRecord.select().where(IncidentRecord.settled == False)  # noqa: E712 - SQL
            return [r.to_domain() for r in query.order_by(IncidentRecord.id)]

    # -- people's side (CLI, console) -----------------------------------------------------------

    def incidents(self, *, open_only: bool = False, limit: int = 100) -> list[Incident]:
        """Incidents, newest first."""
        with self.sql.session("read incidents from"):
            query = IncidentRecord.select()
            if open_only:
                query = query.where(IncidentRecord.status != IncidentStatus.RESOLVED.value)
            query = query.order_by(IncidentRecord.opened_at.desc(), IncidentRecord.id.desc()).limit(limit)
            return [r.to_domain() for r in query]

    def incident(self, incident_id: int) -> Incident:
        """One incident. Raises NotFoundError."""
        with self.sql.session("read incidents from"):
            return self._get(incident_id).to_domain()

    def acknowledge(self, incident_id: int, by: str, note: str, now: datetime) -> Incident:
        """Acknowledge: escalation and reminders stop. Acknowledging again only adds the note.

        Raises:
            NotFoundError: no such incident.
            PulseWatchError: the incident is already resolved.
        """
        with self.sql.session("acknowledge an incident in"), self.sql.atomic():
            record = self._get(incident_id)
            if record.status == IncidentStatus.RESOLVED.value:
                raise PulseWatchError(
                    f"incident #{incident_id} is already resolved", title="Not acknowledged"
                )
            if record.status == IncidentStatus.OPEN.value:
                IncidentRecord.update(
                    status=IncidentStatus.ACKNOWLEDGED.value,
                    acknowledged_at=now,
                    acknowledged_by=by[:200],
                    ack_note=cut(note),
                ).where(IncidentRecord.id == incident_id).execute()
                self._supersede_pages(incident_id, "incident acknowledged first")
                self._event(incident_id, now, TimelineKind.ACKNOWLEDGED, note or "acknowledged", by)
            elif note:
                self._event(incident_id, now, TimelineKind.NOTE, note, by)
            return IncidentRecord.get_by_id(incident_id).to_domain()

    def resolve(self, incident_id: int, by: str, now: datetime, text: str = "") -> Incident:
        """Resolve by hand (or for a reason, like a removed check); resolving twice changes nothing.

        Raises:
            NotFoundError: no such incident.
        """
        with self.sql.session("resolve an incident in"), self.sql.atomic():
            record = self._get(incident_id)
            if record.status != IncidentStatus.RESOLVED.value:
                self._resolve(record, by, now, text or f"resolved by {by}", actor=by)
            return IncidentRecord.get_by_id(incident_id).to_domain()

    def add_note(self, incident_id: int, by: str, text: str, now: datetime) -> None:
        """Add a note to the incident's timeline. Raises NotFoundError."""
        with self.sql.session("add a note in"), self.sql.atomic():
            self._get(incident_id)
            self._event(incident_id, now, TimelineKind.NOTE, text, by)

    def timeline(self, incident_id: int) -> list[TimelineEntry]:
        """The incident's history, oldest first: flips, actions, holds, and each notification's fate."""
        with self.sql.session("read an incident's timeline from"):
            self._get(incident_id)
            events = [
                r.to_domain()
                for r in IncidentEventRecord.select()
                .where(IncidentEventRecord.incident_id == incident_id)
                .order_by(IncidentEventRecord.at, IncidentEventRecord.id)
            ]
            sent = [
                _notification_entry(r)
                for r in NotificationRecord.select()
                .where(NotificationRecord.incident_id == incident_id)
                .order_by(NotificationRecord.created_at, NotificationRecord.id)
            ]
        return sorted(events + sent, key=lambda e: e.at)

    # -- silences -------------------------------------------------------------------------------

    def add_silence(self, silence: Silence) -> Silence:
        """Store a new silence; returns it with its id."""
        with self.sql.session("save a silence in"), self.sql.atomic():
            silence_id = SilenceRecord.insert(
                org=silence.scope.org,
                checks=json.dumps(list(silence.scope.checks)),
                tags=json.dumps(list(silence.scope.tags)),
                created_by=silence.created_by[:200],
                reason=cut(silence.reason),
                created_at=silence.created_at,
                until=silence.until,
            ).execute()
            return SilenceRecord.get_by_id(silence_id).to_domain()

    def silences(self, now: datetime, *, include_ended: bool = False) -> list[Silence]:
        """Silences in force at `now` (or every silence, newest first, with `include_ended`)."""
        with self.sql.session("read silences from"):
            query = SilenceRecord.select()
            if not include_ended:
                query = query.where(
                    (SilenceRecord.until > now)
                    & SilenceRecord.ended_at.is_null()
                    & (SilenceRecord.created_at <= now)
                )
            return [r.to_domain() for r in query.order_by(SilenceRecord.id.desc())]

    def end_silence(self, silence_id: int, now: datetime) -> Silence:
        """End a silence now. Raises NotFoundError."""
        with self.sql.session("end a silence in"), self.sql.atomic():
            record = SilenceRecord.get_or_none(SilenceRecord.id == silence_id)
            if record is None:
                raise NotFoundError(f"no silence with id {silence_id}")
            if record.ended_at is None and record.until > now:
                SilenceRecord.update(ended_at=now).where(SilenceRecord.id == silence_id).execute()
            return SilenceRecord.get_by_id(silence_id).to_domain()

    # -- internals ------------------------------------------------------------------------------

    def _open_record(self, check_id: int) -> IncidentRecord | None:
        found: IncidentRecord | None = (
            IncidentRecord.select()
            .where(
                (IncidentRecord.check_id == check_id)
                & (IncidentRecord.status != IncidentStatus.RESOLVED.value)
            )
            .order_by(IncidentRecord.opened_at.desc())
            .first()
        )
        return found

    def _get(self, incident_id: int) -> IncidentRecord:
        record = IncidentRecord.get_or_none(IncidentRecord.id == incident_id)
        if record is None:
            raise NotFoundError(f"no incident #{incident_id}")
        return record

    def _insert(self, check: Check, severity: Severity, at: datetime, reason: str) -> int:
        return int(
            IncidentRecord.insert(
                org=check.org,
                check_id=check.id,
                check_name=check.name[:200],
                severity=severity.value,
                status=IncidentStatus.OPEN.value,
                opened_at=at,
                reason=cut(reason),
            ).execute()
        )

    def _resolve(
        self, record: IncidentRecord, by: str, at: datetime, text: str, actor: str | None = None
    ) -> None:
        IncidentRecord.update(
            status=IncidentStatus.RESOLVED.value, resolved_at=at, resolved_by=by[:200]
        ).where(IncidentRecord.id == record.id).execute()
        self._supersede_pages(record.id, "incident resolved first")
        self._event(record.id, at, TimelineKind.RESOLVED, text, actor)

    def _supersede_pages(self, incident_id: int, reason: str) -> None:
        """Pages not yet sent will never be: the incident no longer needs anyone woken."""
        NotificationRecord.update(status=DeliveryStatus.SUPERSEDED.value, reason=reason).where(
            (NotificationRecord.incident_id == incident_id)
            & (NotificationRecord.status == DeliveryStatus.PENDING.value)
            & NotificationRecord.event.in_(PAGE_EVENTS)
        ).execute()

    def _event(
        self, incident_id: int, at: datetime, kind: TimelineKind, text: str, actor: str | None = None
    ) -> None:
        IncidentEventRecord.insert(
            incident_id=incident_id,
            at=at,
            kind=kind.value,
            text=cut(text),
            actor=actor[:200] if actor else None,
        ).execute()


def _notification_entry(record: NotificationRecord) -> TimelineEntry:
    status = record.status
    text = f"{record.event} → {record.channel}: {status}"
    if record.reason:
        text += f" ({record.reason})"
    if record.attempts > 1 or (record.last_error and status != DeliveryStatus.SENT.value):
        plural = "s" if record.attempts != 1 else ""
        text += f", {record.attempts} attempt{plural}"
        if record.last_error:
            text += f", last error: {record.last_error}"
    at = record.sent_at or record.created_at
    return TimelineEntry(record.incident_id or 0, at, TimelineKind.NOTIFICATION, text)


def stale_cutoff(now: datetime, send_timeout: float) -> datetime:
    """Rows claimed before this are no longer being sent by anyone (every send ends by its timeout)."""
    return now - timedelta(seconds=2 * send_timeout + 5)
