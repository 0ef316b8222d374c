"""Accounts: users, organizations, teams, memberships, roles and the one permission matrix.

Pure: no I/O, no clock, no password hashing (the services hash through a port). Every decision about
who may do what is made here — by `can()` / `require()` and the role-change rules — so the console,
the CLI, config apply and the API all ask the same question and get the same answer.

Scope: an organization role applies to everything in the organization; a team role applies to that
team's checks (and its memberships) only. Where a person has both, the higher role wins.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from pulsewatch.errors import PulseWatchError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
"""The same shape the config accepts: anything@anything, no spaces."""

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
"""Hashing cost does not depend on length, but a megabyte "password" is a mistake or an attack."""


class AccountError(PulseWatchError):
    """An account rule refused a change: bad email, weak password, an organization left without owner."""

    def __init__(self, message: str) -> None:
        super().__init__(message, title="Not allowed")


class Role(enum.Enum):
    """What a person is in an organization or team, lowest first. Values are the config's words."""

    VIEWER = "viewer"
    MEMBER = "member"
    ADMIN = "admin"
    OWNER = "owner"

    @property
    def rank(self) -> int:
        """Viewer 0 … owner 3: a higher role can do everything a lower one can."""
        return _RANKS[self]

    def at_least(self, other: Role) -> bool:
        """True when this role is `other` or above it."""
        return self.rank >= other.rank


_RANKS = {role: rank for rank, role in enumerate(Role)}


class Permission(enum.Enum):
    """Every action that is checked. Values read as the end of "may not …" in refusals."""

    VIEW = "view"
    CREATE_CHECKS = "create checks"
    EDIT_CHECKS = "edit checks"
    DELETE_CHECKS = "delete checks"
    PAUSE_CHECKS = "pause or resume checks"
    RUN_CHECKS = "run checks now"
    ACK_INCIDENTS = "acknowledge or resolve incidents"
    SILENCE_ALERTS = "silence alerts or schedule maintenance"
    MANAGE_CHANNELS = "manage channels"
    MANAGE_POLICIES = "manage escalation policies"
    MANAGE_MEMBERS = "manage members and teams"
    MANAGE_API_KEYS = "manage API keys"
    VIEW_AUDIT = "view the audit log"
    MANAGE_BILLING = "manage billing"
    MANAGE_ORGANIZATION = "manage the organization"


MINIMUM_ROLE: Mapping[Permission, Role] = MappingProxyType(
    {
        Permission.VIEW: Role.VIEWER,
        # Members run the monitoring day to day: they change checks and handle incidents.
        Permission.CREATE_CHECKS: Role.MEMBER,
        Permission.EDIT_CHECKS: Role.MEMBER,
        Permission.PAUSE_CHECKS: Role.MEMBER,
        Permission.RUN_CHECKS: Role.MEMBER,
        Permission.ACK_INCIDENTS: Role.MEMBER,
        Permission.SILENCE_ALERTS: Role.MEMBER,
        # Deleting a check drops its history from view; where alerts go and who is in decides who
        # gets paged: administrators.
        Permission.DELETE_CHECKS: Role.ADMIN,
        Permission.MANAGE_CHANNELS: Role.ADMIN,
        Permission.MANAGE_POLICIES: Role.ADMIN,
        Permission.MANAGE_MEMBERS: Role.ADMIN,
        Permission.MANAGE_API_KEYS: Role.ADMIN,
        Permission.VIEW_AUDIT: Role.ADMIN,
        # Money and the tenant itself: owners only.
        Permission.MANAGE_BILLING: Role.OWNER,
        Permission.MANAGE_ORGANIZATION: Role.OWNER,
    }
)
"""THE permission matrix: the lowest role allowed each action (every role above it is allowed too)."""

if set(MINIMUM_ROLE) != set(Permission):  # a new Permission without a row would be silently denied
    raise RuntimeError("every Permission needs a row in MINIMUM_ROLE")


class PermissionDenied(PulseWatchError):
    """An action the acting role does not allow; the message names the permission and the role.

    Attributes:
        permission: what was refused (None for role-change rules such as "only owners grant owner").
        role: the actor's role where it was refused (None: no role there at all).
    """

    def __init__(self, message: str, *, permission: Permission | None, role: Role | None) -> None:
        super().__init__(message, title="Permission denied")
        self.permission = permission
        self.role = role


def can(role: Role | None, permission: Permission) -> bool:
    """True when `role` allows `permission`; no role (None) allows nothing."""
    return role is not None and role.at_least(MINIMUM_ROLE[permission])


def permissions_of(role: Role) -> frozenset[Permission]:
    """Everything `role` may do (for help screens and tests)."""
    return frozenset(p for p in Permission if can(role, p))


def refusal(role: Role | None, permission: Permission, *, who: str, where: str) -> str | None:
    """Why `who` may not do `permission` in `where` (None when allowed): for messages and disabled buttons."""
    if can(role, permission):
        return None
    needed = MINIMUM_ROLE[permission]
    above = " or above" if needed != Role.OWNER else ""
    if role is None:
        return f"{who} has no role in {where} and may not {permission.value} (needs {needed.value}{above})"
    return (
        f"{who} is {_article(role)} {role.value} in {where} and may not {permission.value} "
        f"(needs {needed.value}{above})"
    )


def require(role: Role | None, permission: Permission, *, who: str = "you", where: str = "") -> None:
    """Refuse unless `role` allows `permission`.

    Raises:
        PermissionDenied: naming the permission, the role and the role it needs.
    """
    reason = refusal(role, permission, who=who, where=where or "this organization")
    if reason is not None:
        raise PermissionDenied(reason, permission=permission, role=role)


def _article(role: Role) -> str:
    return "an" if role.value[0] in "aeiou" else "a"


def normalize_email(email: str) -> str:
    """The identity form of an address: trimmed, lower-case.

    Raises:
        AccountError: it is not an email address.
    """
    text = email.strip().lower()
    if _EMAIL.fullmatch(text) is None:
        raise AccountError(f"{email!r} is not an email address (expected something like ana@example.com)")
    return text


def check_password(password: str) -> None:
    """Refuse passwords too short to resist guessing, or absurdly long.

    Raises:
        AccountError: with the rule that was broken.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password is too short: use at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"the password is too long: at most {MAX_PASSWORD_LENGTH} characters")


@dataclass(frozen=True)
class User:
    """A person who may sign in. `email` (normalized) is the identity; the hash never leaves storage
    and the services, and is kept out of reprs and logs."""

    email: str
    display_name: str = ""
    password_hash: str | None = None
    disabled: bool = False

    def __repr__(self) -> str:
        return f"User(email={self.email!r}, display_name={self.display_name!r}, disabled={self.disabled})"

    @property
    def can_sign_in(self) -> bool:
        """True when the user has a password and is not disabled."""
        return self.password_hash is not None and not self.disabled


@dataclass(frozen=True)
class Organization:
    """A tenant: it owns checks, channels, policies, incidents and billing."""

    slug: str
    name: str
    plan: str | None = None


@dataclass(frozen=True)
class Team:
    """A group inside an organization; checks name it in `team:`."""

    org: str
    name: str


@dataclass(frozen=True)
class Membership:
    """A person's role in an organization (`team` None) or in one team of it."""

    email: str
    org: str
    role: Role
    team: str | None = None

    @property
    def key(self) -> tuple[str, str, str | None]:
        """(email, org, team): one membership per person per scope."""
        return (self.email, self.org, self.team)

    @property
    def scope(self) -> str:
        """`organization acme` or `team acme/web`, for messages."""
        return scope_name(self.org, self.team)


def scope_name(org: str, team: str | None = None) -> str:
    """How a scope is named in messages: `organization acme` or `team acme/web`."""
    return f"organization {org}" if team is None else f"team {org}/{team}"


@dataclass(frozen=True)
class MemberView:
    """One membership with the person's details: a row of the Teams screen and `user list`."""

    email: str
    display_name: str
    org: str
    team: str | None
    role: Role
    disabled: bool = False
    can_sign_in: bool = False


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user with the memberships they held when asked, or the system.

    The system actor (`pulsewatch config apply` without --as, the first-user bootstrap) may do
    everything; its `name` is what the audit log shows as "who".
    """

    name: str
    memberships: tuple[Membership, ...] = ()
    system: bool = False

    @classmethod
    def for_system(cls, name: str) -> Actor:
        """The all-powerful actor, named for the audit log ("config", "bootstrap")."""
        return cls(name=name, system=True)

    def role_in(self, org: str, team: str | None = None) -> Role | None:
        """The role that applies in `org` (and, for team resources, in `team`): the highest held."""
        roles = [m.role for m in self.memberships if m.org == org and (m.team is None or m.team == team)]
        return max(roles, key=lambda r: r.rank) if roles else None

    def can(self, permission: Permission, org: str, team: str | None = None) -> bool:
        """True when the actor may do `permission` on a resource of `org` (owned by `team`)."""
        return self.system or can(self.role_in(org, team), permission)

    def refusal(self, permission: Permission, org: str, team: str | None = None) -> str | None:
        """Why the actor may not (None when they may): the console shows this next to a disabled action."""
        if self.system:
            return None
        return refusal(self.role_in(org, team), permission, who=self.name, where=scope_name(org, team))

    def require(self, permission: Permission, org: str, team: str | None = None) -> None:
        """Refuse unless the actor may do `permission` in `org` / `team`.

        Raises:
            PermissionDenied: naming the permission, the actor's role and the role needed.
        """
        reason = self.refusal(permission, org, team)
        if reason is not None:
            raise PermissionDenied(reason, permission=permission, role=self.role_in(org, team))

    def visible_orgs(self) -> frozenset[str] | None:
        """Organizations the actor belongs to (by any membership); None for the system: all of them."""
        return None if self.system else frozenset(m.org for m in self.memberships)


def require_role_change(
    actor: Actor, org: str, team: str | None, current: Role | None, new: Role | None
) -> None:
    """May `actor` move someone in `org`/`team` from role `current` to `new` (None: not a member)?

    Managing members needs MANAGE_MEMBERS there; beyond that nobody grants a role above their own
    or touches a member who outranks them — so only owners make, change or remove owners.

    Raises:
        PermissionDenied: with the rule that refused it.
    """
    actor.require(Permission.MANAGE_MEMBERS, org, team)
    if actor.system:
        return
    mine = actor.role_in(org, team)
    where = scope_name(org, team)
    for role, verb in ((new, "grant"), (current, "change or remove")):
        if role is not None and mine is not None and not mine.at_least(role):
            raise PermissionDenied(
                f"{actor.name} is {_article(mine)} {mine.value} in {where} and may not {verb} "
                f"the {role.value} role (only {role.value}s can)",
                permission=Permission.MANAGE_MEMBERS,
                role=mine,
            )


def require_an_owner_left(org: str, memberships: Iterable[Membership], email: str, new: Role | None) -> None:
    """Refuse to demote or remove the last owner of an organization that has one.

    Args:
        org: the organization.
        memberships: its memberships now.
        email: the person whose organization role changes.
        new: their new organization role (None: removed from the organization).

    Raises:
        AccountError: the organization would be left without an owner.
    """
    owners = {m.email for m in memberships if m.org == org and m.team is None and m.role == Role.OWNER}
    if owners == {email} and new != Role.OWNER:
        raise AccountError(
            f"{email} is the last owner of organization {org}: make someone else an owner first"
        )
