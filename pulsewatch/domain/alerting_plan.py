"""What notifications should exist now: one pure function over incidents, the outbox, the world and `now`.

The notifier calls `plan_notifications` after every flip and on a timer, and writes whatever it
returns. Every notification has a deterministic key (incident, step or reminder number, channel),
so planning is idempotent: running it twice, or again after a restart, adds nothing that exists.

The rules, per incident:
  - open and unacknowledged: each escalation step whose time has come notifies its channels (step 0
    with the "down" message, later steps with "escalation"); later steps and reminders count from the
    moment the first page actually went out, so time spent held or suppressed does not make every
    step fire at once; reminders repeat to the channels already paged, only the latest one is
    created (a restart never sends a burst of missed reminders);
  - acknowledged: nothing more until it resolves;
  - resolved: a recovery notice to every channel whose page was *sent*; while a page is still being
    sent the decision waits, and a page never sent gets no recovery notice. Then it is settled.
A page that something holds (connectivity gate, flapping, a parent being judged) is not written and
is decided again next round; one that is suppressed (parent down, maintenance, silence) is written
as a suppressed row under `KEY~suppressed`, so the real key stays free should the outage outlast
the suppression.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from pulsewatch.domain.alerting import IncidentStatus
from pulsewatch.domain.alerting_messages import MessageFacts, render
from pulsewatch.domain.alerting_policy import (
    AlertWorld,
    Block,
    BlockKind,
    FlapPhase,
    block_for,
    flap_phase,
    micros,
    policy_for,
)
from pulsewatch.domain.notifications import DeliveryStatus, NewNotification, NotificationEvent

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import datetime

    from pulsewatch.domain.alerting import EscalationPolicy, Incident
    from pulsewatch.domain.monitoring import Check

SUPPRESSED_SUFFIX = "~suppressed"


@dataclass(frozen=True)
class Existing:
    """What the planner needs to know of an outbox row."""

    key: str
    channel: str
    event: NotificationEvent
    status: DeliveryStatus
    created_at: datetime
    incident_id: int | None = None


@dataclass(frozen=True)
class Hold:
    """A page that waits; the notifier notes it once per cause in the incident's timeline."""

    incident_id: int | None
    check_id: int
    cause: str
    reason: str


@dataclass(frozen=True)
class Plan:
    """What to write: new notifications, holds to note, incidents and flap episodes that are done."""

    notifications: tuple[NewNotification, ...] = ()
    holds: tuple[Hold, ...] = ()
    settled: tuple[int, ...] = ()
    """Resolved incidents that need nothing more."""
    flaps_ended: tuple[int, ...] = ()
    """Checks whose flapping episode is over and announced."""


def plan_notifications(
    incidents: Sequence[Incident], existing: Iterable[Existing], world: AlertWorld, now: datetime
) -> Plan:
    """The notifications that should exist at `now` and do not yet.

    Args:
        incidents: every incident not yet settled (open, acknowledged, or resolved but unsettled).
        existing: the outbox rows of those incidents and of the checks' current flap episodes.
        world: config, checks, live states, silences and flap states.
        now: the current instant.
    """
    rows = {e.key: e for e in existing}
    planner = _Planner(rows, world, now)
    for incident in incidents:
        planner.incident(incident)
    for check_id in world.flaps:
        planner.flap_episode(check_id, incidents)
    return Plan(tuple(planner.out), tuple(planner.holds), tuple(planner.settled), tuple(planner.flaps_ended))


class _Planner:
    def __init__(self, rows: dict[str, Existing], world: AlertWorld, now: datetime) -> None:
        self.rows = rows
        self.world = world
        self.now = now
        self.out: list[NewNotification] = []
        self.holds: list[Hold] = []
        self.settled: list[int] = []
        self.flaps_ended: list[int] = []

    # -- incidents ------------------------------------------------------------------------------

    def incident(self, incident: Incident) -> None:
        check = self.world.checks.get(incident.check_id)
        policy = policy_for(check, self.world.config) if check is not None else None
        if not incident.is_open:
            self._recovery(incident, check, policy)
        elif incident.status == IncidentStatus.OPEN and check is not None and policy is not None:
            self._pages(incident, check, policy)

    def _pages(self, incident: Incident, check: Check, policy: EscalationPolicy) -> None:
        if incident.id is None:
            return
        first = self._first_page_at(incident, policy)
        block = block_for(check, incident.opened_at, self.world, self.now)
        for k, step in enumerate(policy.steps):
            if k == 0:
                due = incident.opened_at + timedelta(seconds=step.after)
            elif first is None:
                break
            else:
                due = first + timedelta(seconds=step.after - policy.steps[0].after)
            if self.now < due:
                break
            event = NotificationEvent.DOWN if k == 0 else NotificationEvent.ESCALATION
            for channel in step.channels:
                self._add(f"inc:{incident.id}:step{k}:{channel}", check, channel, event, incident, block)
        if policy.repeat and first is not None:
            number = int((self.now - first).total_seconds() // policy.repeat)
            if number >= 1:
                for channel in self._paged_channels(incident.id):
                    key = f"inc:{incident.id}:reminder{number}:{channel}"
                    self._add(key, check, channel, NotificationEvent.REMINDER, incident, block)

    def _first_page_at(self, incident: Incident, policy: EscalationPolicy) -> datetime | None:
        """When the first step-0 page was written unsuppressed, or None before that."""
        if not policy.steps:
            return None
        times = [
            self.rows[key].created_at
            for channel in policy.steps[0].channels
            if (key := f"inc:{incident.id}:step0:{channel}") in self.rows
        ]
        return min(times) if times else None

    def _paged_channels(self, incident_id: int) -> list[str]:
        unsent = (DeliveryStatus.SUPPRESSED, DeliveryStatus.SUPERSEDED)
        channels = {
            r.channel
            for r in self.rows.values()
            if r.incident_id == incident_id and r.event.pages and r.status not in unsent
        }
        return sorted(channels)

    def _recovery(self, incident: Incident, check: Check | None, policy: EscalationPolicy | None) -> None:
        if incident.id is None:
            return
        pages = [r for r in self.rows.values() if r.incident_id == incident.id and r.event.pages]
        if any(r.status == DeliveryStatus.SENDING for r in pages):
            return  # a page may be arriving right now: decide once it is settled
        if policy is None or policy.recovery:
            for channel in sorted({r.channel for r in pages if r.status == DeliveryStatus.SENT}):
                key = f"inc:{incident.id}:recovered:{channel}"
                if key not in self.rows:
                    self._emit(key, incident.check_id, channel, NotificationEvent.RECOVERED, incident, check)
        self.settled.append(incident.id)

    # -- flapping -------------------------------------------------------------------------------

    def flap_episode(self, check_id: int, incidents: Sequence[Incident]) -> None:
        state = self.world.flaps[check_id]
        check = self.world.checks.get(check_id)
        policy = policy_for(check, self.world.config) if check is not None else None
        if state.episode_start is None or check is None or policy is None:
            return
        phase = flap_phase(state, policy.flapping, self.now)
        if phase == FlapPhase.QUIET:
            return
        prefix = f"flap:{check_id}:{micros(state.episode_start)}"
        current = next((i for i in incidents if i.check_id == check_id and i.is_open), None)
        block = block_for(check, state.episode_start, self.world, self.now, flapping=False)
        for channel in policy.first_channels:
            self._add(
                f"{prefix}:{channel}",
                check,
                channel,
                NotificationEvent.FLAPPING,
                current,
                block,
                reason=f"{len(state.recent)} status changes within {_minutes(policy.flapping.window)}",
            )
        if phase == FlapPhase.SETTLED:
            state_now = self.world.states.get(check_id)
            if state_now is not None and state_now.status.value == "up":
                for channel in policy.first_channels:
                    sent = self.rows.get(f"{prefix}:{channel}")
                    key = f"{prefix}:stable:{channel}"
                    if sent is not None and sent.status != DeliveryStatus.SUPPRESSED and key not in self.rows:
                        self._emit(
                            key,
                            check_id,
                            channel,
                            NotificationEvent.RECOVERED,
                            None,
                            check,
                            reason="stable again after flapping",
                            since=state.episode_start,
                        )
            self.flaps_ended.append(check_id)

    # -- writing --------------------------------------------------------------------------------

    def _add(
        self,
        key: str,
        check: Check,
        channel: str,
        event: NotificationEvent,
        incident: Incident | None,
        block: Block | None,
        *,
        reason: str | None = None,
    ) -> None:
        if key in self.rows:
            return
        if block is None:
            self._emit(key, check.id or 0, channel, event, incident, check, reason=reason)
        elif block.kind == BlockKind.HELD:
            hold = Hold(incident.id if incident else None, check.id or 0, block.cause, block.reason)
            if hold not in self.holds:
                self.holds.append(hold)
        elif key + SUPPRESSED_SUFFIX not in self.rows:
            self._emit(
                key + SUPPRESSED_SUFFIX,
                check.id or 0,
                channel,
                event,
                incident,
                check,
                reason=reason,
                suppressed=block.reason,
            )

    def _emit(
        self,
        key: str,
        check_id: int,
        channel: str,
        event: NotificationEvent,
        incident: Incident | None,
        check: Check | None,
        *,
        reason: str | None = None,
        suppressed: str = "",
        since: datetime | None = None,
    ) -> None:
        state = self.world.states.get(check_id)
        status = state.status.value if state is not None else "unknown"
        if event == NotificationEvent.RECOVERED and incident is not None:
            status = "up" if incident.resolved_by == "recovery" else "resolved"
            why = "recovered" if incident.resolved_by == "recovery" else f"resolved by {incident.resolved_by}"
        else:
            why = reason or (state.last_error if state is not None and state.last_error else "")
            why = why or (incident.reason if incident is not None else "")
        start = since or (incident.opened_at if incident is not None else self.now)
        end = incident.resolved_at if incident is not None and incident.resolved_at else self.now
        facts = MessageFacts(
            check=(check.name if check is not None else incident.check_name if incident else str(check_id)),
            status=status,
            reason=why,
            duration=end - start,
            incident_id=incident.id if incident is not None else None,
        )
        title, body = render(event, facts)
        self.out.append(
            NewNotification(
                key=key,
                check_id=check_id,
                channel=channel,
                event=event,
                title=title,
                body=body,
                incident_id=incident.id if incident is not None else None,
                status=DeliveryStatus.SUPPRESSED if suppressed else DeliveryStatus.PENDING,
                reason=suppressed,
            )
        )
        self.rows[key] = Existing(
            key,
            channel,
            event,
            DeliveryStatus.SUPPRESSED if suppressed else DeliveryStatus.PENDING,
            self.now,
            incident.id if incident is not None else None,
        )


def _minutes(seconds: float) -> str:
    from pulsewatch.domain.alerting_messages import format_span

    return format_span(timedelta(seconds=seconds))


def degraded_notices(check: Check, at: datetime, reason: str, world: AlertWorld, now: datetime) -> Plan:
    """The notices for a flip to DEGRADED: the first step's channels, unless held or suppressed."""
    policy = policy_for(check, world.config)
    if policy is None or check.id is None:
        return Plan()
    planner = _Planner({}, world, now)
    block = block_for(check, at, world, now)
    for channel in policy.first_channels:
        key = f"flip:{check.id}:{micros(at)}:degraded:{channel}"
        planner._add(key, check, channel, NotificationEvent.DEGRADED, None, block, reason=reason)
    return Plan(tuple(planner.out), tuple(planner.holds))
