"""Alerting as one actor may see and touch it: incidents, silences and channels, per organization.

The permission matrix (`pulsewatch.domain.accounts`) decides every action here; the CLI (`--as`),
the console and the API call these use cases and check nothing on their own. Whose is what:

* An incident belongs to its organization (its `org`, the check's at opening) and, while its check
  exists, to the check's team: a team-only member sees and handles that team's incidents.
* A silence belongs to the checks it covers. Making or ending one needs SILENCE_ALERTS on every
  stored check it covers; one that covers no stored check needs it in its organization — or, when it
  has none, in at least one organization. People see the silences of their organizations and those
  made for every organization (no `org`: they silence everyone's checks).
* A channel from the YAML has no organization yet: it belongs to every organization, so an action on
  it needs the permission in at least one organization the actor is in. A channel with an `org`
  needs it there.

Something the actor may not see at all is "not found", exactly as if it did not exist, so another
organization's incident ids leak nothing. Every change is recorded in the audit log (one entry per
organization it touches) in the same transaction as the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from pulsewatch.domain.accounts import Actor, Permission, PermissionDenied, Role, refusal
from pulsewatch.domain.alerting import Channel, Incident, IncidentStatus, Scope, Silence
from pulsewatch.domain.audit import AuditEntry, JsonDict
from pulsewatch.errors import NotFoundError, PulseWatchError
from pulsewatch.services.alerting import AlertPort, ChannelView, channel_views
from pulsewatch.services.ports import OrgScopedReads
from pulsewatch.services.signin import refresh_actor

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Sequence
    from datetime import datetime

    from pulsewatch.domain.alerting import TimelineEntry
    from pulsewatch.domain.monitoring import Check
    from pulsewatch.domain.notifications import ChannelHealth
    from pulsewatch.services.ports import AccountsStore

INCIDENT_ACK = "incident.ack"
INCIDENT_RESOLVE = "incident.resolve"
INCIDENT_NOTE = "incident.note"
SILENCE_ADD = "silence.add"
SILENCE_REMOVE = "silence.end"
"""The audit log's words for alerting changes (`AuditEntry.action`)."""


class AlertReads(OrgScopedReads, Protocol):
    """The organization-scoped reads, with incidents and silences (engine.storage.scoped_reads)."""

    def incidents_in(
        self, orgs: Collection[str] | None, *, open_only: bool = False, limit: int = 100
    ) -> list[Incident]:
        """The incidents of `orgs`, newest first (only unresolved ones with `open_only`)."""
        ...

    def silences_in(
        self, orgs: Collection[str] | None, now: datetime, *, include_ended: bool = False
    ) -> list[Silence]:
        """The silences of `orgs` and those of every organization (no org), newest first; only the
        ones in force at `now` unless `include_ended`. An empty `orgs` gives none."""
        ...


class SilenceScopeError(PulseWatchError):
    """A silence a person asked for is ambiguous: its target exists in several organizations."""

    def __init__(self, message: str) -> None:
        super().__init__(message, title="Say which organization")


@dataclass(frozen=True)
class AlertingAccess:
    """The alerting use cases for people, checked against the acting user's roles.

    Args:
        alerts: incidents, timelines and silences (engine.storage.alerting_store.AlertStore).
        reads: organization-scoped reads (engine.storage.scoped_reads.SqlScopedReads).
        accounts: memberships (to refresh the actor) and the audit log.
    """

    alerts: AlertPort
    reads: AlertReads
    accounts: AccountsStore

    # -- incidents ------------------------------------------------------------------------------

    def incidents(self, actor: Actor, *, open_only: bool = False, limit: int = 100) -> list[Incident]:
        """The incidents the actor may see, newest first (at most `limit`; team-only members may get
        fewer, as the other teams' incidents are dropped after the query)."""
        actor = refresh_actor(self.accounts, actor)
        found = self.reads.incidents_in(actor.visible_orgs(), open_only=open_only, limit=limit)
        teams = self._teams(actor)
        return [i for i in found if actor.can(Permission.VIEW, i.org, teams.get(i.check_id))]

    def incident(self, actor: Actor, incident_id: int) -> tuple[Incident, list[TimelineEntry]]:
        """One incident and its timeline, oldest first.

        Raises:
            NotFoundError: no such incident, or the actor may not see it.
        """
        actor = refresh_actor(self.accounts, actor)
        incident, _ = self._visible_incident(actor, incident_id)
        return incident, self.alerts.timeline(incident_id)

    def acknowledge(self, actor: Actor, incident_id: int, note: str, now: datetime) -> Incident:
        """Acknowledge as `actor`: escalation and reminders stop.

        Raises:
            NotFoundError: no such incident visible to the actor.
            PermissionDenied: the actor may not acknowledge incidents of this check.
            PulseWatchError: the incident is already resolved.
        """
        actor, before = self._incident_change(actor, incident_id)
        with self.accounts.transaction():
            after = self.alerts.acknowledge(incident_id, actor.name, note.strip(), now)
            if after.status != before.status or note.strip():  # acknowledging twice alone changes nothing
                was = {"status": before.status.value}
                changed = {"status": after.status.value} | ({"note": note.strip()} if note.strip() else {})
                self._audit_incident(actor, INCIDENT_ACK, after, was, changed, now)
        return after

    def resolve(self, actor: Actor, incident_id: int, now: datetime) -> Incident:
        """Resolve by hand as `actor` (resolving a resolved incident changes nothing).

        Raises:
            NotFoundError: no such incident visible to the actor.
            PermissionDenied: the actor may not resolve incidents of this check.
        """
        actor, before = self._incident_change(actor, incident_id)
        with self.accounts.transaction():
            after = self.alerts.resolve(incident_id, actor.name, now)
            if before.status != IncidentStatus.RESOLVED:
                was = {"status": before.status.value}
                self._audit_incident(actor, INCIDENT_RESOLVE, after, was, {"status": "resolved"}, now)
        return after

    def note(self, actor: Actor, incident_id: int, text: str, now: datetime) -> None:
        """Add a note to an incident's timeline as `actor`.

        Raises:
            PulseWatchError: the note is empty.
            NotFoundError: no such incident visible to the actor.
            PermissionDenied: the actor may not handle incidents of this check.
        """
        if not text.strip():
            raise PulseWatchError("a note needs some text", title="Empty note")
        actor, incident = self._incident_change(actor, incident_id)
        with self.accounts.transaction():
            self.alerts.add_note(incident_id, actor.name, text.strip(), now)
            self._audit_incident(actor, INCIDENT_NOTE, incident, None, {"note": text.strip()}, now)

    # -- silences -------------------------------------------------------------------------------

    def silences(self, actor: Actor, now: datetime, *, include_ended: bool = False) -> list[Silence]:
        """The silences of the actor's organizations and those of every organization, newest first."""
        actor = refresh_actor(self.accounts, actor)
        return self.reads.silences_in(actor.visible_orgs(), now, include_ended=include_ended)

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
        """Silence one check or one tag for `duration` seconds, as `actor`.

        A person's silence without `org` is pinned to the one organization its target is in, so it
        never reaches another tenant's checks; only the system actor makes silences for every
        organization.

        Raises:
            PulseWatchError: neither or both of check and tag, a non-positive duration, no reason.
            SilenceScopeError: no `org` and the target is in several organizations (or none stored).
            PermissionDenied: the actor may not silence one of the checks it would cover.
        """
        from pulsewatch.services.alerting import silence as make_silence

        if (check is None) == (tag is None):
            raise PulseWatchError("silence either one check or one tag", title="Bad silence")
        actor = refresh_actor(self.accounts, actor)
        stored = self.reads.checks_in(None)
        if org is None and not actor.system:
            org = _one_org(Scope(checks=(check,) if check else (), tags=(tag,) if tag else ()), stored)
        scope = Scope(org=org, checks=(check,) if check else (), tags=(tag,) if tag else ())
        self._require_on_scope(actor, scope, stored)
        with self.accounts.transaction():
            made = make_silence(
                self.alerts, check=check, tag=tag, duration=duration, reason=reason,
                actor=actor.name, now=now, org=org,
            )
            after = {"covers": made.scope.describe(), "until": made.until.isoformat(), "reason": made.reason}
            self._audit_silence(actor, SILENCE_ADD, made, stored, None, after, now)
        return made

    def remove_silence(self, actor: Actor, silence_id: int, now: datetime) -> Silence:
        """End a silence now, as `actor`.

        Raises:
            NotFoundError: no such silence visible to the actor.
            PermissionDenied: the actor may not silence (or unsilence) one of the checks it covers.
        """
        actor = refresh_actor(self.accounts, actor)
        visible = self.reads.silences_in(actor.visible_orgs(), now, include_ended=True)
        found = next((s for s in visible if s.id == silence_id), None)
        if found is None:
            raise NotFoundError(f"no silence with id {silence_id}")
        stored = self.reads.checks_in(None)
        self._require_on_scope(actor, found.scope, stored)
        with self.accounts.transaction():
            ended = self.alerts.end_silence(silence_id, now)
            if found.ended_at is None and found.until > now:
                after = {"ended_at": now.isoformat()}
                self._audit_silence(actor, SILENCE_REMOVE, ended, stored, {"ended_at": None}, after, now)
        return ended

    # -- channels -------------------------------------------------------------------------------

    def channels(
        self, actor: Actor, channels: Sequence[Channel], health: Sequence[ChannelHealth]
    ) -> list[ChannelView]:
        """The channels the actor may see (theirs, and those of every organization), with health."""
        actor = refresh_actor(self.accounts, actor)
        visible = [c for c in channels if channel_refusal(actor, c, Permission.VIEW) is None]
        return channel_views(visible, health)

    def require_channel(self, actor: Actor, channel: Channel, permission: Permission) -> None:
        """Refuse unless the actor may do `permission` on `channel` (e.g. MANAGE_CHANNELS to test it).

        Raises:
            PermissionDenied: naming the permission and the actor's role.
        """
        actor = refresh_actor(self.accounts, actor)
        reason = channel_refusal(actor, channel, permission)
        if reason is not None:
            raise PermissionDenied(reason, permission=permission, role=_best_role(actor, channel.org))

    # -- internals ------------------------------------------------------------------------------

    def _teams(self, actor: Actor) -> dict[int, str | None]:
        """Check id → team, for the checks of the actor's organizations (to apply team roles)."""
        return {c.id: c.team for c in self.reads.checks_in(actor.visible_orgs()) if c.id is not None}

    def _visible_incident(self, actor: Actor, incident_id: int) -> tuple[Incident, str | None]:
        try:
            incident = self.alerts.incident(incident_id)
        except NotFoundError:
            raise NotFoundError(f"no incident #{incident_id}") from None
        team = self._teams(actor).get(incident.check_id)
        if not actor.can(Permission.VIEW, incident.org, team):
            raise NotFoundError(f"no incident #{incident_id}")
        return incident, team

    def _incident_change(self, actor: Actor, incident_id: int) -> tuple[Actor, Incident]:
        """The fresh actor and the incident, once ACK_INCIDENTS is allowed on it."""
        actor = refresh_actor(self.accounts, actor)
        incident, team = self._visible_incident(actor, incident_id)
        reason = actor.refusal(Permission.ACK_INCIDENTS, incident.org, team)
        if reason is not None:
            raise PermissionDenied(
                f"{reason} — incident #{incident_id} ({incident.org}/{incident.check_name})",
                permission=Permission.ACK_INCIDENTS,
                role=actor.role_in(incident.org, team),
            )
        return actor, incident

    def _require_on_scope(self, actor: Actor, scope: Scope, stored: Sequence[Check]) -> None:
        """SILENCE_ALERTS on every stored check `scope` covers; else in its org; else in some org."""
        covered = [c for c in stored if scope.covers(c)]
        for check in covered:
            reason = actor.refusal(Permission.SILENCE_ALERTS, check.org, check.team)
            if reason is not None:
                hint = " (name your organization with --org)" if scope.org is None else ""
                raise PermissionDenied(
                    f"{reason} — check {check.org}/{check.name}{hint}",
                    permission=Permission.SILENCE_ALERTS,
                    role=actor.role_in(check.org, check.team),
                )
        if covered:
            return
        if scope.org is not None:
            actor.require(Permission.SILENCE_ALERTS, scope.org)
            return
        reason = _anywhere_refusal(actor, Permission.SILENCE_ALERTS)
        if reason is not None:
            raise PermissionDenied(reason, permission=Permission.SILENCE_ALERTS, role=_best_role(actor, None))

    def _audit_incident(
        self, actor: Actor, action: str, incident: Incident, before: JsonDict | None, after: JsonDict,
        now: datetime,
    ) -> None:
        target = f"incident #{incident.id} ({incident.org}/{incident.check_name})"
        self.accounts.append_audit([AuditEntry(now, actor.name, action, target, incident.org, before, after)])

    def _audit_silence(
        self, actor: Actor, action: str, silence: Silence, stored: Sequence[Check],
        before: JsonDict | None, after: JsonDict | None, now: datetime,
    ) -> None:
        """One entry in the log of each organization the silence touches (one without, if none)."""
        orgs: list[str | None] = [*sorted(_orgs_of(silence.scope, stored))] or [None]
        target = f"silence #{silence.id}"
        self.accounts.append_audit(
            [AuditEntry(now, actor.name, action, target, o, before, after) for o in orgs]
        )


def channel_refusal(actor: Actor, channel: Channel, permission: Permission) -> str | None:
    """Why the actor may not do `permission` on `channel` (None when allowed).

    A channel without an organization (every YAML channel today) belongs to every organization:
    the permission is needed in at least one organization the actor is in.
    """
    if channel.org is not None:
        return actor.refusal(permission, channel.org)
    reason = _anywhere_refusal(actor, permission)
    if reason is None:
        return None
    return f"{reason} — channel {channel.name} belongs to every organization: that needs it in at least one"


def _anywhere_refusal(actor: Actor, permission: Permission) -> str | None:
    """None when the actor may do `permission` in at least one organization; else why not (named
    after the organization where the actor's role is highest)."""
    orgs = actor.visible_orgs()
    if orgs is None or any(actor.can(permission, o) for o in orgs):
        return None
    best = max(sorted(orgs), key=lambda o: _rank(actor.role_in(o)), default=None)
    if best is None:
        return refusal(None, permission, who=actor.name, where="any organization")
    return actor.refusal(permission, best)


def _best_role(actor: Actor, org: str | None) -> Role | None:
    if org is not None:
        return actor.role_in(org)
    roles = [actor.role_in(o) for o in sorted(actor.visible_orgs() or ())]
    return max((r for r in roles if r is not None), key=lambda r: r.rank, default=None)


def _rank(role: Role | None) -> int:
    return -1 if role is None else role.rank


def _orgs_of(scope: Scope, stored: Iterable[Check]) -> set[str]:
    orgs = {c.org for c in stored if scope.covers(c)}
    return orgs | ({scope.org} if scope.org is not None else set())


def _one_org(scope: Scope, stored: Sequence[Check]) -> str:
    """The organization a person's silence is pinned to: the only one its target is in.

    Raises:
        SilenceScopeError: the target is in several organizations, or in no stored check.
    """
    what = scope.describe()
    orgs = sorted(_orgs_of(scope, stored))
    if len(orgs) == 1:
        return orgs[0]
    if not orgs:
        raise SilenceScopeError(
            f"no stored check matches {what} (apply the configuration first, or name the organization "
            "with --org)"
        )
    names = ", ".join(orgs)
    raise SilenceScopeError(f"{what} is in organizations {names}: say which with --org")

