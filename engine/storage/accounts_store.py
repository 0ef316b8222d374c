"""SqlAccountsStore: the AccountsStore on the SqlStore's database (SQLite or MySQL/MariaDB).

Each method is one unit of work on the shared store's pooled connection; `transaction()` groups
several, and because the monitoring store runs on the same database, monitoring writes made inside
it (config apply's check sync) commit or roll back with them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from engine.storage.accounts_records import (
    AuditRecord,
    LoginAttemptRecord,
    MembershipRecord,
    OrganizationRecord,
    TeamRecord,
    UserRecord,
)
from engine.storage.store import SqlStore
from pulsewatch.domain.accounts import Membership, Organization, Team, User
from pulsewatch.domain.audit import AuditEntry
from pulsewatch.domain.lockout import LoginAttempt
from pulsewatch.errors import NotFoundError


class SqlAccountsStore:
    """Implements `pulsewatch.services.ports.AccountsStore`. Thread-safe like the SqlStore under it."""

    def __init__(self, sql: SqlStore) -> None:
        self._sql = sql

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One connection and one transaction for everything inside (nested calls join it)."""
        with self._sql.session("change accounts in"), self._sql.atomic():
            yield

    # -- users ----------------------------------------------------------------------------------

    def get_user(self, email: str) -> User | None:
        with self._sql.session("read users from"):
            record = UserRecord.get_or_none(UserRecord.email == email)
            return None if record is None else record.to_domain()

    def save_user(self, user: User) -> None:
        now = datetime.now(UTC)
        with self._sql.session("save a user in"), self._sql.atomic():
            data = UserRecord.from_domain(user)
            values = {
                "display_name": data.display_name,
                "password_hash": data.password_hash,
                "disabled": data.disabled,
                "updated_at": now,
            }
            updated = UserRecord.update(**values).where(UserRecord.email == user.email).execute()
            if not updated:
                UserRecord.insert(email=user.email, created_at=now, **values).execute()

    def list_users(self, orgs: Collection[str] | None = None) -> list[User]:
        if orgs is not None and not orgs:
            return []
        with self._sql.session("read users from"):
            query = UserRecord.select().order_by(UserRecord.email)
            if orgs is not None:
                members = MembershipRecord.select(MembershipRecord.user_id).where(
                    MembershipRecord.org.in_(sorted(orgs))
                )
                query = query.where(UserRecord.id.in_(members))
            return [r.to_domain() for r in query]

    def any_user_can_sign_in(self) -> bool:
        with self._sql.session("read users from"):
            return bool(
                UserRecord.select()
                .where(UserRecord.password_hash.is_null(False), UserRecord.disabled == False)  # noqa: E712
                .exists()
            )

    # -- organizations and teams ----------------------------------------------------------------

    def get_organization(self, slug: str) -> Organization | None:
        with self._sql.session("read organizations from"):
            record = OrganizationRecord.get_or_none(OrganizationRecord.slug == slug)
            return None if record is None else record.to_domain()

    def save_organization(self, org: Organization) -> None:
        now = datetime.now(UTC)
        with self._sql.session("save an organization in"), self._sql.atomic():
            data = OrganizationRecord.from_domain(org)
            values = {"name": data.name, "plan": data.plan, "updated_at": now}
            updated = OrganizationRecord.update(**values).where(OrganizationRecord.slug == org.slug).execute()
            if not updated:
                OrganizationRecord.insert(slug=org.slug, created_at=now, **values).execute()

    def list_organizations(self, slugs: Collection[str] | None = None) -> list[Organization]:
        if slugs is not None and not slugs:
            return []
        with self._sql.session("read organizations from"):
            query = OrganizationRecord.select().order_by(OrganizationRecord.slug)
            if slugs is not None:
                query = query.where(OrganizationRecord.slug.in_(sorted(slugs)))
            return [r.to_domain() for r in query]

    def save_team(self, team: Team) -> None:
        with self._sql.session("save a team in"), self._sql.atomic():
            TeamRecord.insert(org=team.org, name=team.name, created_at=datetime.now(UTC)).on_conflict_ignore(
            ).execute()

    def list_teams(self, org: str | None = None) -> list[Team]:
        with self._sql.session("read teams from"):
            query = TeamRecord.select().order_by(TeamRecord.org, TeamRecord.name)
            if org is not None:
                query = query.where(TeamRecord.org == org)
            return [r.to_domain() for r in query]

    # -- memberships ----------------------------------------------------------------------------

    def memberships_of(self, email: str) -> list[Membership]:
        with self._sql.session("read memberships from"):
            query = (
                _memberships()
                .where(UserRecord.email == email)
                .order_by(MembershipRecord.org, MembershipRecord.team)
            )
            return [MembershipRecord.from_row(*row) for row in query.tuples()]

    def memberships_in(self, org: str) -> list[Membership]:
        with self._sql.session("read memberships from"):
            query = (
                _memberships()
                .where(MembershipRecord.org == org)
                .order_by(MembershipRecord.team, UserRecord.email)
            )
            return [MembershipRecord.from_row(*row) for row in query.tuples()]

    def save_membership(self, membership: Membership) -> None:
        """Insert or change the role of one membership.

        Raises:
            NotFoundError: the user does not exist (the services create users first).
        """
        with self._sql.session("save a membership in"), self._sql.atomic():
            user_id = self._user_id(membership.email)
            data = MembershipRecord.from_domain(membership, user_id)
            updated = (
                MembershipRecord.update(role=data.role)
                .where(
                    MembershipRecord.user_id == user_id,
                    MembershipRecord.org == data.org,
                    MembershipRecord.team == data.team,
                )
                .execute()
            )
            if not updated:
                MembershipRecord.insert(
                    user_id=user_id, org=data.org, team=data.team, role=data.role,
                    created_at=datetime.now(UTC),
                ).execute()

    def delete_membership(self, email: str, org: str, team: str | None) -> bool:
        with self._sql.session("remove a membership from"), self._sql.atomic():
            user = UserRecord.get_or_none(UserRecord.email == email)
            if user is None:
                return False
            deleted = (
                MembershipRecord.delete()
                .where(
                    MembershipRecord.user_id == user.id,
                    MembershipRecord.org == org,
                    MembershipRecord.team == (team or ""),
                )
                .execute()
            )
            return bool(deleted)

    # -- audit log and sign-in attempts ---------------------------------------------------------

    def append_audit(self, entries: Sequence[AuditEntry]) -> None:
        if not entries:
            return
        rows = [AuditRecord.from_domain(e).__data__ for e in entries]
        with self._sql.session("write the audit log in"), self._sql.atomic():
            AuditRecord.insert_many(rows).execute()

    def audit_entries(
        self, orgs: Collection[str] | None, since: datetime | None = None, limit: int = 200
    ) -> list[AuditEntry]:
        if (orgs is not None and not orgs) or limit <= 0:
            return []
        with self._sql.session("read the audit log from"):
            query = AuditRecord.select().order_by(AuditRecord.at.desc(), AuditRecord.id.desc()).limit(limit)
            if orgs is not None:
                query = query.where(AuditRecord.org.in_(sorted(orgs)))
            if since is not None:
                query = query.where(AuditRecord.at >= since)
            return [r.to_domain() for r in query]

    def record_login_attempt(self, attempt: LoginAttempt, keep_since: datetime) -> None:
        with self._sql.session("record a sign-in attempt in"), self._sql.atomic():
            LoginAttemptRecord.delete().where(
                LoginAttemptRecord.email == attempt.email, LoginAttemptRecord.at < keep_since
            ).execute()
            LoginAttemptRecord.insert(**LoginAttemptRecord.from_domain(attempt).__data__).execute()

    def login_attempts(self, email: str, since: datetime) -> list[LoginAttempt]:
        with self._sql.session("read sign-in attempts from"):
            query = (
                LoginAttemptRecord.select()
                .where(LoginAttemptRecord.email == email, LoginAttemptRecord.at >= since)
                .order_by(LoginAttemptRecord.at, LoginAttemptRecord.id)
            )
            return [r.to_domain() for r in query]

    def _user_id(self, email: str) -> int:
        user = UserRecord.get_or_none(UserRecord.email == email)
        if user is None:
            raise NotFoundError(f"no user {email}")
        return int(user.id)


def _memberships() -> Any:
    """Memberships joined to their users' emails, as (email, org, team, role) rows."""
    return MembershipRecord.select(
        UserRecord.email, MembershipRecord.org, MembershipRecord.team, MembershipRecord.role
    ).join(UserRecord, on=MembershipRecord.user_id == UserRecord.id)
