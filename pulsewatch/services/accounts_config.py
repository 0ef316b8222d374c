"""`config apply` for accounts and checks: plan, authorize every change for the actor, apply, audit.

The config declares organizations, teams and members (never passwords). Applying creates what is
missing and updates what differs; it never removes people — members invited from the console or the
CLI survive the next apply. Checks follow `plan_check_sync`. Every change is authorized for the
acting user (`--as`) before anything is written, and recorded in the audit log with before/after.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pulsewatch.domain import audit
from pulsewatch.domain.accounts import (
    Actor,
    Membership,
    Organization,
    Permission,
    PermissionDenied,
    Team,
    User,
    require_an_owner_left,
    require_role_change,
)
from pulsewatch.domain.audit import AuditEntry, JsonDict, changed_fields
from pulsewatch.domain.monitoring import DEFAULT_ORG
from pulsewatch.services.accounts import org_json
from pulsewatch.services.check_sync import CheckSyncPlan, plan_check_sync
from pulsewatch.services.signin import refresh_actor

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from pulsewatch.domain.monitoring import Check
    from pulsewatch.services.ports import AccountsStore, MonitoringStore


@dataclass(frozen=True)
class DeclaredAccounts:
    """What the config declares: organizations, their teams, and memberships (emails normalized)."""

    organizations: tuple[Organization, ...] = ()
    teams: tuple[Team, ...] = ()
    memberships: tuple[Membership, ...] = ()

    @classmethod
    def default(cls) -> DeclaredAccounts:
        """A config without `organizations:` is one organization, `default`."""
        return cls(organizations=(Organization(DEFAULT_ORG, "Default"),))


@dataclass(frozen=True)
class AccountsPlan:
    """What applying the declared accounts would add and change (nothing is ever removed)."""

    added_orgs: tuple[Organization, ...] = ()
    changed_orgs: tuple[tuple[Organization, Organization], ...] = ()
    """(stored, declared) pairs."""
    added_teams: tuple[Team, ...] = ()
    added_users: tuple[str, ...] = ()
    added_memberships: tuple[Membership, ...] = ()
    changed_memberships: tuple[tuple[Membership, Membership], ...] = ()
    """(stored, declared) pairs: the role differs."""

    @property
    def is_empty(self) -> bool:
        """True when the stored accounts already match the config."""
        return not (
            self.added_orgs or self.changed_orgs or self.added_teams or self.added_users
            or self.added_memberships or self.changed_memberships
        )

    def lines(self) -> list[str]:
        """The plan as `config plan` / `config apply` print it, one change a line."""
        lines = [f"+ organization {o.slug} ({o.name})" for o in self.added_orgs]
        for old, new in self.changed_orgs:
            diff = ", ".join(f"{k}: {v} → {w}" for k, v, w in changed_fields(org_json(old), org_json(new)))
            lines.append(f"~ organization {new.slug}: {diff}")
        lines += [f"+ team {t.org}/{t.name}" for t in self.added_teams]
        lines += [f"+ user {email} (invited: no password yet)" for email in self.added_users]
        lines += [f"+ member {m.email}: {m.role.value} in {m.scope}" for m in self.added_memberships]
        lines += [
            f"~ member {new.email}: {old.role.value} → {new.role.value} in {new.scope}"
            for old, new in self.changed_memberships
        ]
        return lines


@dataclass(frozen=True)
class ConfigApplied:
    """What `apply_config` did."""

    accounts: AccountsPlan
    checks: CheckSyncPlan
    audit: tuple[AuditEntry, ...]


def plan_accounts(store: AccountsStore, declared: DeclaredAccounts) -> AccountsPlan:
    """Compare the declared accounts with the stored ones (reads only)."""
    added_orgs, changed_orgs = [], []
    for org in declared.organizations:
        stored = store.get_organization(org.slug)
        if stored is None:
            added_orgs.append(org)
        elif stored != org:
            changed_orgs.append((stored, org))
    stored_teams = set(store.list_teams())
    added_teams = [t for t in declared.teams if t not in stored_teams]
    stored_members = {m.key: m for o in declared.organizations for m in store.memberships_in(o.slug)}
    added_members, changed_members = [], []
    for m in declared.memberships:
        old = stored_members.get(m.key)
        if old is None:
            added_members.append(m)
        elif old.role != m.role:
            changed_members.append((old, m))
    emails = dict.fromkeys(m.email for m in declared.memberships)
    added_users = [e for e in emails if store.get_user(e) is None]
    return AccountsPlan(
        tuple(added_orgs), tuple(changed_orgs), tuple(added_teams), tuple(added_users),
        tuple(added_members), tuple(changed_members),
    )


def authorize_accounts(actor: Actor, plan: AccountsPlan, store: AccountsStore) -> None:
    """Refuse the whole plan unless the actor may make every change in it.

    New organizations need the system actor (`config apply` without --as): nobody holds a role in
    an organization that does not exist yet.

    Raises:
        PermissionDenied: naming the first change refused and why.
        AccountError: a change would leave an organization without an owner.
    """
    for org in plan.added_orgs:
        if not actor.system:
            raise PermissionDenied(
                f"{actor.name} may not create organization {org.slug}: new organizations are created by "
                "`config apply` without --as",
                permission=Permission.MANAGE_ORGANIZATION,
                role=None,
            )
    for stored, declared in plan.changed_orgs:
        if stored.name != declared.name:
            actor.require(Permission.MANAGE_ORGANIZATION, declared.slug)
        if stored.plan != declared.plan:
            actor.require(Permission.MANAGE_BILLING, declared.slug)
    for team in plan.added_teams:
        actor.require(Permission.MANAGE_MEMBERS, team.org)
    for m in plan.added_memberships:
        require_role_change(actor, m.org, m.team, None, m.role)
    for old, new in plan.changed_memberships:
        require_role_change(actor, new.org, new.team, old.role, new.role)
        if new.team is None:
            require_an_owner_left(new.org, store.memberships_in(new.org), new.email, new.role)


def authorize_checks(actor: Actor, plan: CheckSyncPlan, stored: Sequence[Check]) -> None:
    """Refuse unless the actor may create, edit and delete exactly the checks the plan touches.

    Moving a check to another team needs EDIT_CHECKS in both teams.

    Raises:
        PermissionDenied: naming the check, the permission and the role.
    """
    old_by_id = {c.id: c for c in stored}
    for check in plan.added:
        _require_on_check(actor, Permission.CREATE_CHECKS, check)
    for check in plan.changed:
        _require_on_check(actor, Permission.EDIT_CHECKS, check)
        old = old_by_id.get(check.id)
        if old is not None:
            _require_on_check(actor, Permission.EDIT_CHECKS, old)
    for check in plan.removed:
        _require_on_check(actor, Permission.DELETE_CHECKS, check)


def apply_config(
    accounts: AccountsStore,
    monitoring: MonitoringStore,
    declared: DeclaredAccounts,
    desired_checks: Sequence[Check],
    actor: Actor,
    now: datetime,
) -> ConfigApplied:
    """Make the stores match the config, as `actor`, and record every change in the audit log.

    Everything is authorized before anything is written; the writes and their audit entries then
    commit together (the SQL stores share one database and transaction).

    Raises:
        PermissionDenied: the actor may not make one of the changes; nothing was changed.
        AccountError: a change would leave an organization without an owner; nothing was changed.
    """
    actor = refresh_actor(accounts, actor)
    accounts_plan = plan_accounts(accounts, declared)
    authorize_accounts(actor, accounts_plan, accounts)
    stored = monitoring.load_checks()
    authorize_checks(actor, plan_check_sync(desired_checks, stored), stored)
    with accounts.transaction():
        entries = _apply_accounts(accounts, accounts_plan, actor, now)
        stored = monitoring.load_checks()
        applied = monitoring.sync_checks(desired_checks)
        authorize_checks(actor, applied, stored)  # a concurrent change since the first look rolls back
        entries += check_audit_entries(applied, stored, actor.name, now)
        accounts.append_audit(entries)
    return ConfigApplied(accounts_plan, applied, tuple(entries))


def check_audit_entries(
    plan: CheckSyncPlan, stored: Sequence[Check], actor: str, now: datetime
) -> list[AuditEntry]:
    """One audit entry per added, changed and removed check, with before/after views."""
    old_by_id = {c.id: c for c in stored}
    entries = [
        AuditEntry(now, actor, audit.CHECK_CREATE, _target(c), c.org, None, check_json(c)) for c in plan.added
    ]
    for check in plan.changed:
        old = old_by_id.get(check.id)
        entries.append(AuditEntry(
            now, actor, audit.CHECK_UPDATE, _target(check), check.org,
            None if old is None else check_json(old), check_json(check),
        ))
    entries += [
        AuditEntry(now, actor, audit.CHECK_DELETE, _target(c), c.org, check_json(c), None)
        for c in plan.removed
    ]
    return entries


def check_json(check: Check) -> JsonDict:
    """A check as the audit log records it. Header values and bodies are left out: they carry secrets."""
    return {
        "name": check.name,
        "org": check.org,
        "team": check.team,
        "kind": check.kind,
        "url": check.url,
        "interval": check.interval,
        "timeout": check.timeout,
        "conditions": [c.source for c in check.conditions],
        "failure_threshold": check.failure_threshold,
        "success_threshold": check.success_threshold,
        "retries": check.retries,
        "tags": list(check.tags),
        "depends_on": list(check.depends_on),
        "notify": list(check.notify),
        "paused": check.paused,
        "method": check.http.method,
        "header_names": [name for name, _ in check.http.headers],
    }


def _apply_accounts(
    store: AccountsStore, plan: AccountsPlan, actor: Actor, now: datetime
) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    for org in plan.added_orgs:
        store.save_organization(org)
        entries.append(AuditEntry(now, actor.name, audit.ORG_CREATE, org.slug, org.slug, None, org_json(org)))
    for stored, declared in plan.changed_orgs:
        store.save_organization(declared)
        entries.append(AuditEntry(
            now, actor.name, audit.ORG_UPDATE, declared.slug, declared.slug,
            org_json(stored), org_json(declared),
        ))
    for team in plan.added_teams:
        store.save_team(team)
        entries.append(AuditEntry(
            now, actor.name, audit.TEAM_CREATE, f"{team.org}/{team.name}", team.org,
            None, {"org": team.org, "name": team.name},
        ))
    first_org = {m.email: m.org for m in reversed(plan.added_memberships)}
    for email in plan.added_users:
        store.save_user(User(email))
        after = {"email": email, "display_name": "", "password": "none", "disabled": False}
        entries.append(AuditEntry(now, actor.name, audit.USER_ADD, email, first_org.get(email), None, after))
    for m in plan.added_memberships:
        store.save_membership(m)
        entries.append(AuditEntry(now, actor.name, audit.MEMBER_ADD, m.email, m.org, None, _member_json(m)))
    for old, new in plan.changed_memberships:
        store.save_membership(new)
        entries.append(AuditEntry(
            now, actor.name, audit.MEMBER_ROLE, new.email, new.org, _member_json(old), _member_json(new)
        ))
    return entries


def _require_on_check(actor: Actor, permission: Permission, check: Check) -> None:
    reason = actor.refusal(permission, check.org, check.team)
    if reason is not None:
        role = actor.role_in(check.org, check.team)
        raise PermissionDenied(f"{reason} — check {_target(check)}", permission=permission, role=role)


def _target(check: Check) -> str:
    return f"{check.org}/{check.name}"


def _member_json(m: Membership) -> JsonDict:
    return {"team": m.team, "role": m.role.value}
