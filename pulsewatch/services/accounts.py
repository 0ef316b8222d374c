"""Account use cases: users, memberships, organizations and the audit log (sign-in: `signin.py`).

Every mutating use case takes the acting `Actor`, reloads that user's memberships (a role changed a
moment ago counts now), checks the permission matrix, makes the change and records its audit entry
in the same transaction. The console, the CLI and the API call these; none of them checks on its own.
Times are passed in (`now`): the services never read the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from pulsewatch.domain import audit
from pulsewatch.domain.accounts import (
    AccountError,
    Actor,
    Membership,
    MemberView,
    Organization,
    Permission,
    PermissionDenied,
    Role,
    Team,
    User,
    check_password,
    normalize_email,
    require_an_owner_left,
    require_role_change,
    scope_name,
)
from pulsewatch.domain.audit import AuditEntry, JsonDict
from pulsewatch.errors import NotFoundError
from pulsewatch.services.signin import BOOTSTRAP, refresh_actor

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from pulsewatch.services.ports import AccountsStore, PasswordHasher

    SeatGate = Callable[[str, str, datetime], None]
    """(org, email, now) → None, or raises QuotaExceeded / BillingBlocked."""


@dataclass(frozen=True)
class UserListing:
    """A user and the memberships the asking actor may see."""

    user: User
    memberships: tuple[Membership, ...]


class Accounts:
    """The account use cases over an `AccountsStore` and a `PasswordHasher`.

    Args:
        store: where accounts live.
        hasher: turns passwords into hashes (argon2id in production).
    """

    def __init__(
        self, store: AccountsStore, hasher: PasswordHasher, seat_gate: SeatGate | None = None
    ) -> None:
        self._store = store
        self._hasher = hasher
        self._seat_gate = seat_gate
        """Billing's say on a new member (seats, past due): `BillingGates.admit_member`; None: no limit."""

    # -- users ----------------------------------------------------------------------------------

    def find_user(self, email: str) -> User | None:
        """The user with this email, or None (to decide whether to ask for a new user's password)."""
        return self._store.get_user(normalize_email(email))

    def add_user(
        self,
        actor: Actor,
        email: str,
        *,
        org: str,
        role: Role,
        now: datetime,
        team: str | None = None,
        display_name: str = "",
        password: str | None = None,
    ) -> User:
        """Give a person a role in an organization or team, creating their account if needed.

        Without a password the account is invited: it exists, holds the role, and cannot sign in
        until a password is set. The system actor creates a missing organization or team on the way.

        Raises:
            PermissionDenied: the actor may not grant this role here.
            AccountError: bad email or password, already a member, or a password for an existing user.
            NotFoundError: the organization or team does not exist.
            QuotaExceeded: the plan has no seat left (from the seat gate).
            BillingBlocked: the organization is past due (from the seat gate).
        """
        email = normalize_email(email)
        if password is not None:
            check_password(password)
        actor = self._fresh(actor)
        require_role_change(actor, org, team, None, role)
        password_hash = None if password is None else self._hasher.hash(password)
        with self._store.transaction():
            entries = self._ensure_scope(actor, org, team, now)
            existing = {m.key: m for m in self._store.memberships_in(org)}.get((email, org, team))
            if existing is not None:
                raise AccountError(
                    f"{email} is already {existing.role.value} in {existing.scope}; change the role instead"
                )
            if actor.name == BOOTSTRAP and actor.system and team is None and role != Role.OWNER and not any(
                m.role == Role.OWNER and m.team is None for m in self._store.memberships_in(org)
            ):
                raise AccountError(f"the first user of organization {org} must be its owner (--role owner)")
            if self._seat_gate is not None:
                self._seat_gate(org, email, now)  # a member beyond the plan's seats is refused here
            user = self._store.get_user(email)
            if user is None:
                user = User(email, display_name.strip(), password_hash)
                self._store.save_user(user)
                entries.append(
                    AuditEntry(now, actor.name, audit.USER_ADD, email, org, None, _user_json(user))
                )
            elif password_hash is not None:
                raise AccountError(f"{email} already has an account; change its password with `user passwd`")
            membership = Membership(email, org, role, team)
            self._store.save_membership(membership)
            entries.append(
                AuditEntry(now, actor.name, audit.MEMBER_ADD, email, org, None, _membership_json(membership))
            )
            self._store.append_audit(entries)
        return user

    def invite(
        self, actor: Actor, org: str, email: str, role: Role, *, now: datetime, team: str | None = None
    ) -> User:
        """Add a member without a password (the Teams screen's invite): see `add_user`."""
        return self.add_user(actor, email, org=org, role=role, team=team, now=now)

    def set_password(self, actor: Actor, email: str, password: str, now: datetime) -> None:
        """Set a user's password: their own, or that of someone the actor manages in every organization.

        Raises:
            AccountError: the password breaks the rules.
            PermissionDenied: the actor does not manage this user everywhere they are a member.
            NotFoundError: no such user.
        """
        email = normalize_email(email)
        check_password(password)
        actor = self._fresh(actor)
        if actor.name != email or actor.system:
            self._require_over(actor, email)
        user = self._user(email)
        new_hash = self._hasher.hash(password)
        with self._store.transaction():
            self._store.save_user(replace(user, password_hash=new_hash))
            before = {"password": "set" if user.password_hash else "none"}
            self._audit_user(actor, audit.USER_PASSWORD, email, before, {"password": "set"}, now)

    def set_disabled(self, actor: Actor, email: str, disabled: bool, now: datetime) -> None:
        """Disable (no sign-in, no --as) or enable a user. Nobody disables themselves.

        Raises:
            PermissionDenied: the actor does not manage this user everywhere they are a member.
            AccountError: the actor tried to disable themselves.
            NotFoundError: no such user.
        """
        email = normalize_email(email)
        actor = self._fresh(actor)
        if disabled and actor.name == email and not actor.system:
            raise AccountError("you cannot disable your own account")
        self._require_over(actor, email)
        user = self._user(email)
        if user.disabled == disabled:
            return
        with self._store.transaction():
            self._store.save_user(replace(user, disabled=disabled))
            action = audit.USER_DISABLE if disabled else audit.USER_ENABLE
            self._audit_user(actor, action, email, {"disabled": user.disabled}, {"disabled": disabled}, now)

    def list_users(self, actor: Actor, org: str | None = None) -> list[UserListing]:
        """Users with the memberships the actor may see (all of them for the system actor)."""
        actor = self._fresh(actor)
        if org is not None:
            self._organization(org)
        orgs = {org} if org is not None else actor.visible_orgs()
        listings = []
        for user in self._store.list_users(orgs):
            memberships = tuple(
                m for m in self._store.memberships_of(user.email)
                if (org is None or m.org == org) and actor.can(Permission.VIEW, m.org, m.team)
            )
            if memberships or actor.system:
                listings.append(UserListing(user, memberships))
        return listings

    # -- organizations and members --------------------------------------------------------------

    def organizations(self, actor: Actor) -> list[Organization]:
        """The organizations the actor belongs to (every one for the system actor)."""
        return self._store.list_organizations(self._fresh(actor).visible_orgs())

    def teams(self, actor: Actor, org: str) -> list[Team]:
        """The teams of `org` the actor may see.

        Raises:
            NotFoundError: no such organization.
            PermissionDenied: the actor has no role in it.
        """
        actor = self._fresh(actor)
        self._require_some_role(actor, org)
        return [t for t in self._store.list_teams(org) if actor.can(Permission.VIEW, org, t.name)]

    def members(self, actor: Actor, org: str) -> list[MemberView]:
        """The memberships of `org` the actor may see, with each person's name and sign-in state.

        Raises:
            NotFoundError: no such organization.
            PermissionDenied: the actor has no role in it.
        """
        actor = self._fresh(actor)
        self._require_some_role(actor, org)
        users = {u.email: u for u in self._store.list_users([org])}
        views = []
        for m in self._store.memberships_in(org):
            if not actor.can(Permission.VIEW, m.org, m.team):
                continue
            user = users.get(m.email) or User(m.email)
            views.append(
                MemberView(m.email, user.display_name, m.org, m.team, m.role, user.disabled, user.can_sign_in)
            )
        return views

    def change_role(
        self, actor: Actor, org: str, email: str, role: Role, *, now: datetime, team: str | None = None
    ) -> None:
        """Change a member's role in `org` (or in one of its teams).

        Raises:
            NotFoundError: the person has no membership there.
            PermissionDenied: the actor may not change this role to that one.
            AccountError: it would leave the organization without an owner.
        """
        email = normalize_email(email)
        actor = self._fresh(actor)
        with self._store.transaction():
            memberships = self._store.memberships_in(org)
            current = {m.key: m for m in memberships}.get((email, org, team))
            if current is None:
                raise NotFoundError(f"{email} is not a member of {scope_name(org, team)}")
            if current.role == role:
                return
            require_role_change(actor, org, team, current.role, role)
            if team is None:
                require_an_owner_left(org, memberships, email, role)
            changed = replace(current, role=role)
            self._store.save_membership(changed)
            self._store.append_audit([AuditEntry(
                now, actor.name, audit.MEMBER_ROLE, email, org,
                _membership_json(current), _membership_json(changed),
            )])

    def remove_member(
        self, actor: Actor, org: str, email: str, *, now: datetime, team: str | None = None
    ) -> None:
        """Remove a person from a team, or (team None) from the organization and all its teams.

        Raises:
            NotFoundError: the person has no membership there.
            PermissionDenied: the actor may not remove one of these roles.
            AccountError: it would leave the organization without an owner.
        """
        email = normalize_email(email)
        actor = self._fresh(actor)
        with self._store.transaction():
            memberships = self._store.memberships_in(org)
            gone = [m for m in memberships if m.email == email and (team is None or m.team == team)]
            if not gone:
                raise NotFoundError(f"{email} is not a member of {scope_name(org, team)}")
            entries = []
            for m in gone:
                require_role_change(actor, org, m.team, m.role, None)
                if m.team is None:
                    require_an_owner_left(org, memberships, email, None)
                self._store.delete_membership(m.email, m.org, m.team)
                entries.append(
                    AuditEntry(now, actor.name, audit.MEMBER_REMOVE, email, org, _membership_json(m), None)
                )
            self._store.append_audit(entries)

    # -- audit ----------------------------------------------------------------------------------

    def audit_log(
        self, actor: Actor, *, org: str | None = None, since: datetime | None = None, limit: int = 200
    ) -> list[AuditEntry]:
        """The latest audit entries the actor may read, newest first.

        Without `org`: every organization where the actor may view the audit log (all for the system).

        Raises:
            PermissionDenied: the actor may view no audit log here.
        """
        actor = self._fresh(actor)
        if org is not None:
            actor.require(Permission.VIEW_AUDIT, org)
            return self._store.audit_entries({org}, since, limit)
        orgs = actor.visible_orgs()
        if orgs is not None:
            allowed = frozenset(o for o in orgs if actor.can(Permission.VIEW_AUDIT, o))
            if not allowed:  # say why with the first organization the actor does belong to
                actor.require(Permission.VIEW_AUDIT, min(orgs, default="any organization"))
            orgs = allowed
        return self._store.audit_entries(orgs, since, limit)

    def record(self, entries: list[AuditEntry]) -> None:
        """Append entries made by another use case (pause, incidents...) that did its own checks."""
        self._store.append_audit(entries)

    # -- internals ------------------------------------------------------------------------------

    def _fresh(self, actor: Actor) -> Actor:
        return refresh_actor(self._store, actor)

    def _require_over(self, actor: Actor, email: str) -> None:
        """Managing a person's account needs MANAGE_MEMBERS, at their role or above, wherever they are."""
        if actor.system:
            return
        memberships = self._store.memberships_of(email)
        if not memberships:
            raise PermissionDenied(
                f"{email} belongs to no organization: only `config apply` or the bootstrap may manage them",
                permission=Permission.MANAGE_MEMBERS,
                role=None,
            )
        for m in memberships:
            actor.require(Permission.MANAGE_MEMBERS, m.org, m.team)
            mine = actor.role_in(m.org, m.team)
            if mine is not None and not mine.at_least(m.role):
                raise PermissionDenied(
                    f"{actor.name} is {mine.value} in {m.scope} and may not manage {email}, "
                    f"who is {m.role.value} there",
                    permission=Permission.MANAGE_MEMBERS,
                    role=mine,
                )

    def _require_some_role(self, actor: Actor, org: str) -> None:
        self._organization(org)
        orgs = actor.visible_orgs()
        if orgs is not None and org not in orgs:
            actor.require(Permission.VIEW, org)

    def _ensure_scope(self, actor: Actor, org: str, team: str | None, now: datetime) -> list[AuditEntry]:
        """The organization and team must exist; the system actor creates them (and says so)."""
        entries = []
        if self._store.get_organization(org) is None:
            if not actor.system:
                raise NotFoundError(f"no organization {org}")
            created = Organization(org, org)
            self._store.save_organization(created)
            entries.append(AuditEntry(now, actor.name, audit.ORG_CREATE, org, org, None, org_json(created)))
        if team is not None and Team(org, team) not in self._store.list_teams(org):
            if not actor.system:
                raise NotFoundError(f"no team {team} in organization {org}")
            self._store.save_team(Team(org, team))
            entries.append(AuditEntry(
                now, actor.name, audit.TEAM_CREATE, f"{org}/{team}", org, None, {"org": org, "name": team}
            ))
        return entries

    def _organization(self, org: str) -> Organization:
        found = self._store.get_organization(org)
        if found is None:
            raise NotFoundError(f"no organization {org}")
        return found

    def _user(self, email: str) -> User:
        user = self._store.get_user(email)
        if user is None:
            raise NotFoundError(f"no user {email}")
        return user

    def _audit_user(
        self, actor: Actor, action: str, email: str, before: JsonDict, after: JsonDict, now: datetime
    ) -> None:
        """One entry in the log of each organization the user belongs to (one without, if none)."""
        orgs: list[str | None] = [*sorted({m.org for m in self._store.memberships_of(email)})] or [None]
        self._store.append_audit(
            [AuditEntry(now, actor.name, action, email, o, dict(before), dict(after)) for o in orgs]
        )


def _user_json(user: User) -> dict[str, object]:
    return {"email": user.email, "display_name": user.display_name, "password": (
        "set" if user.password_hash else "none"), "disabled": user.disabled}


def _membership_json(m: Membership) -> dict[str, object]:
    return {"team": m.team, "role": m.role.value}


def org_json(org: Organization) -> dict[str, object]:
    """An organization as the audit log records it."""
    return {"slug": org.slug, "name": org.name, "plan": org.plan}
