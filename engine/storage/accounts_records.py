"""Peewee records of the accounts context: users, organizations, teams, memberships, audit log, sign-ins.

No foreign keys, as in the monitoring tables: the storage tests drop tables one by one, and the rules
that matter (a membership's user exists, a team's organization exists) are kept by the services.
Organization-wide memberships store the team as "" — NULLs never collide in a unique index, and
(user, org, team) must be unique.
"""

from __future__ import annotations

import json
from typing import Any

from peewee import AutoField, BigAutoField, BooleanField, CharField, IntegerField, TextField

from engine.storage.fields import InstantField, StableAutoField
from engine.storage.records import BaseRecord
from pulsewatch.domain.accounts import Membership, Organization, Role, Team, User
from pulsewatch.domain.audit import AuditEntry
from pulsewatch.domain.lockout import LoginAttempt

EMAIL_LIMIT = 254
"""The longest email address SMTP allows."""

TARGET_LIMIT = 400


class UserRecord(BaseRecord):
    """A person who may sign in; `password_hash` is an argon2id string or NULL (invited, no password)."""

    id = StableAutoField()
    email = CharField(max_length=EMAIL_LIMIT, unique=True)
    display_name = CharField(max_length=200, default="")
    password_hash = CharField(max_length=255, null=True)
    disabled = BooleanField(default=False)
    created_at = InstantField()
    updated_at = InstantField()

    class Meta:
        table_name = "users"

    def to_domain(self) -> User:
        return User(self.email, self.display_name, self.password_hash, bool(self.disabled))

    @classmethod
    def from_domain(cls, user: User) -> UserRecord:
        return cls(
            email=user.email,
            display_name=user.display_name[:200],
            password_hash=user.password_hash,
            disabled=user.disabled,
        )


class OrganizationRecord(BaseRecord):
    """A tenant, keyed by its slug (what checks, URLs and commands name it by)."""

    slug = CharField(max_length=100, primary_key=True)
    name = CharField(max_length=200)
    plan = CharField(max_length=100, null=True)
    created_at = InstantField()
    updated_at = InstantField()

    class Meta:
        table_name = "organizations"

    def to_domain(self) -> Organization:
        return Organization(self.slug, self.name, self.plan)

    @classmethod
    def from_domain(cls, org: Organization) -> OrganizationRecord:
        return cls(slug=org.slug, name=org.name[:200], plan=org.plan)


class TeamRecord(BaseRecord):
    """A team inside an organization."""

    id = AutoField()
    org = CharField(max_length=100)
    name = CharField(max_length=200)
    created_at = InstantField()

    class Meta:
        table_name = "teams"
        indexes = ((("org", "name"), True),)

    def to_domain(self) -> Team:
        return Team(self.org, self.name)

    @classmethod
    def from_domain(cls, team: Team) -> TeamRecord:
        return cls(org=team.org, name=team.name)


class MembershipRecord(BaseRecord):
    """A user's role in an organization (`team` "") or in one of its teams."""

    id = AutoField()
    user_id = IntegerField()
    org = CharField(max_length=100)
    team = CharField(max_length=200, default="")
    role = CharField(max_length=16)
    created_at = InstantField()

    class Meta:
        table_name = "memberships"
        indexes = ((("user_id", "org", "team"), True), (("org", "team"), False))

    @staticmethod
    def from_row(email: str, org: str, team: str, role: str) -> Membership:
        """The domain membership from a joined (user email, org, team, role) row."""
        return Membership(email, org, Role(role), team or None)

    @classmethod
    def from_domain(cls, membership: Membership, user_id: int) -> MembershipRecord:
        return cls(
            user_id=user_id, org=membership.org, team=membership.team or "", role=membership.role.value
        )


class AuditRecord(BaseRecord):
    """One audit log entry; before/after are JSON text."""

    id = BigAutoField()
    at = InstantField()
    actor = CharField(max_length=EMAIL_LIMIT)
    action = CharField(max_length=64)
    org = CharField(max_length=100, null=True)
    target = CharField(max_length=TARGET_LIMIT)
    before = TextField(null=True)
    after = TextField(null=True)

    class Meta:
        table_name = "audit_log"
        indexes = ((("org", "at"), False), (("at",), False))

    def to_domain(self) -> AuditEntry:
        return AuditEntry(
            at=self.at,
            actor=self.actor,
            action=self.action,
            target=self.target,
            org=self.org,
            before=_loads(self.before),
            after=_loads(self.after),
            id=self.id,
        )

    @classmethod
    def from_domain(cls, entry: AuditEntry) -> AuditRecord:
        record = cls(
            at=entry.at,
            actor=entry.actor[:EMAIL_LIMIT],
            action=entry.action[:64],
            org=entry.org,
            target=entry.target[:TARGET_LIMIT],
            before=_dumps(entry.before),
            after=_dumps(entry.after),
        )
        if entry.id is not None:
            record.id = entry.id
        return record


class LoginAttemptRecord(BaseRecord):
    """A sign-in attempt that checked a password: what the lockout rule reads."""

    id = BigAutoField()
    email = CharField(max_length=EMAIL_LIMIT)
    at = InstantField()
    ok = BooleanField()

    class Meta:
        table_name = "login_attempts"
        indexes = ((("email", "at"), False),)

    def to_domain(self) -> LoginAttempt:
        return LoginAttempt(self.email, self.at, bool(self.ok))

    @classmethod
    def from_domain(cls, attempt: LoginAttempt) -> LoginAttemptRecord:
        return cls(email=attempt.email[:EMAIL_LIMIT], at=attempt.at, ok=attempt.ok)


ACCOUNTS_RECORDS = (
    UserRecord,
    OrganizationRecord,
    TeamRecord,
    MembershipRecord,
    AuditRecord,
    LoginAttemptRecord,
)
"""The accounts tables, created by schema migration 2."""


def _dumps(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _loads(text: str | None) -> dict[str, Any] | None:
    return None if text is None else dict(json.loads(text))
