"""Monitoring data as one actor may see and touch it: organization scoping, team scoping, pause/resume.

The store limits every read to the actor's organizations (`OrgScopedReads`, in SQL); this module
adds the team rule on top — a team-only member sees that team's checks — and is what `status --as`,
the console and the API read through. When incidents and channels exist they get `visible_*`
functions here over the same port, with the same two filters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pulsewatch.domain import audit
from pulsewatch.domain.accounts import Actor, Permission
from pulsewatch.domain.audit import AuditEntry
from pulsewatch.errors import NotFoundError
from pulsewatch.services.signin import refresh_actor

if TYPE_CHECKING:
    from datetime import datetime

    from pulsewatch.domain.monitoring import Check, CheckState, Flip, ProbeResult
    from pulsewatch.services.ports import AccountsStore, MonitoringStore, OrgScopedReads


def visible_checks(reads: OrgScopedReads, actor: Actor) -> list[Check]:
    """The checks the actor may see, ordered by (org, name)."""
    return [c for c in reads.checks_in(actor.visible_orgs()) if actor.can(Permission.VIEW, c.org, c.team)]


def visible_status_rows(reads: OrgScopedReads, actor: Actor) -> list[tuple[Check, CheckState]]:
    """The checks the actor may see with their states, ordered by (org, name)."""
    rows = reads.status_rows_in(actor.visible_orgs())
    return [(c, s) for c, s in rows if actor.can(Permission.VIEW, c.org, c.team)]


def visible_results(reads: OrgScopedReads, actor: Actor, check_id: int, limit: int) -> list[ProbeResult]:
    """A check's latest results, newest first.

    Raises:
        NotFoundError: no check with this id is visible to the actor (whether or not it exists).
    """
    _visible_check(reads, actor, check_id)
    return reads.results_in(actor.visible_orgs(), check_id, limit)


def visible_flips(reads: OrgScopedReads, actor: Actor, check_id: int, limit: int) -> list[Flip]:
    """A check's latest flips, newest first.

    Raises:
        NotFoundError: no check with this id is visible to the actor.
    """
    _visible_check(reads, actor, check_id)
    return reads.flips_in(actor.visible_orgs(), check_id, limit)


def pause_check(
    monitoring: MonitoringStore,
    accounts: AccountsStore,
    actor: Actor,
    check: Check,
    paused: bool,
    now: datetime,
) -> CheckState:
    """Pause or resume one check as `actor`, and record it in the audit log (one transaction).

    For `pulsewatch check pause|resume --as`, the console and the API; a running engine still has
    to be told (RunNow/SetPaused commands) by the caller.

    Raises:
        PermissionDenied: the actor may not pause checks of this organization or team.
        NotFoundError: the check no longer exists.
    """
    actor = refresh_actor(accounts, actor)
    actor.require(Permission.PAUSE_CHECKS, check.org, check.team)
    if check.id is None:
        raise NotFoundError(f"check {check.org}/{check.name} is not stored")
    with accounts.transaction():
        state = monitoring.set_paused(check.id, paused, now)
        accounts.append_audit([pause_audit_entry(actor, check, paused, now)])
    return state


def pause_audit_entry(actor: Actor, check: Check, paused: bool, now: datetime) -> AuditEntry:
    """The audit entry of a pause or resume, for hosts that pause through the engine's command channel
    (the console): check `actor.require(Permission.PAUSE_CHECKS, check.org, check.team)` first, send
    the command, then `Accounts.record([pause_audit_entry(...)])`."""
    action = audit.CHECK_PAUSE if paused else audit.CHECK_RESUME
    return AuditEntry(
        now, actor.name, action, f"{check.org}/{check.name}", check.org,
        {"paused": not paused}, {"paused": paused},
    )


def _visible_check(reads: OrgScopedReads, actor: Actor, check_id: int) -> Check:
    for check in visible_checks(reads, actor):
        if check.id == check_id:
            return check
    raise NotFoundError(f"no check with id {check_id}")
