"""The ports the use cases and the engine depend on, as Protocols.

A Protocol earns its place here only where a second real implementation exists: the SQL store
(SQLite/MySQL) and the in-memory fake the engine tests use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence
    from contextlib import AbstractContextManager
    from datetime import datetime

    from pulsewatch.domain.accounts import Membership, Organization, Team, User
    from pulsewatch.domain.audit import AuditEntry
    from pulsewatch.domain.lockout import LoginAttempt
    from pulsewatch.domain.monitoring import Check, CheckState, Flip, ProbeResult
    from pulsewatch.services.check_sync import CheckSyncPlan


class MonitoringStore(Protocol):
    """Where checks, their states, results and flips are kept. Every method is sync and blocking:
    the engine calls them from worker threads, never on its event loop."""

    def sync_checks(self, desired: Sequence[Check]) -> CheckSyncPlan:
        """Make the stored checks match `desired` in one transaction and return the applied plan.

        Added checks get ids and an UNKNOWN state; changed checks keep their id but their state is
        reset to UNKNOWN (what was true of the old definition says nothing of the new one);
        unchanged checks keep id and state; removed checks are deleted with their state (their
        results and flips age out with retention). The returned plan carries ids everywhere.
        """
        ...

    def load_checks(self) -> list[Check]:
        """Every stored check, ordered by (org, name)."""
        ...

    def load_states(self) -> dict[int, CheckState]:
        """The state of every stored check, by check id."""
        ...

    def record(
        self, results: Sequence[ProbeResult], states: Sequence[CheckState], flips: Sequence[Flip]
    ) -> None:
        """Write one batch atomically: results appended, states upserted, flips appended."""
        ...

    def set_paused(self, check_id: int, paused: bool, now: datetime) -> CheckState:
        """An operator's pause or resume: the state becomes PAUSED, or UNKNOWN again on resume."""
        ...

    def recent_results(self, check_id: int, limit: int) -> list[ProbeResult]:
        """The check's latest results, newest first."""
        ...

    def recent_flips(self, check_id: int, limit: int) -> list[Flip]:
        """The check's latest flips, newest first."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class PasswordHasher(Protocol):
    """Turns passwords into slow, salted hashes (argon2id in production) and checks them."""

    def hash(self, password: str) -> str:
        """A new salted hash of `password`."""
        ...

    def verify(self, password_hash: str, password: str) -> bool:
        """True when `password` matches; False for a wrong password or an unreadable hash."""
        ...

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with weaker parameters than the current ones."""
        ...


class AccountsStore(Protocol):
    """Users, organizations, teams, memberships, the audit log and sign-in attempts.

    Emails are normalized (lower-case) by the services before they get here. Every method is one
    unit of work; `transaction()` groups several (a change and its audit entry) into one. The SQL
    store shares its database with the monitoring store, so a transaction also covers monitoring
    writes made inside it (config apply relies on that).
    """

    def transaction(self) -> AbstractContextManager[None]:
        """Everything inside commits together or not at all."""
        ...

    def get_user(self, email: str) -> User | None:
        """The user with this email, or None."""
        ...

    def save_user(self, user: User) -> None:
        """Insert the user, or update the one with the same email."""
        ...

    def list_users(self, orgs: Collection[str] | None = None) -> list[User]:
        """Users ordered by email: all (None), or those with a membership in one of `orgs`."""
        ...

    def any_user_can_sign_in(self) -> bool:
        """True when some enabled user has a password (then the console asks who you are)."""
        ...

    def get_organization(self, slug: str) -> Organization | None:
        """The organization with this slug, or None."""
        ...

    def save_organization(self, org: Organization) -> None:
        """Insert the organization, or update the one with the same slug."""
        ...

    def list_organizations(self, slugs: Collection[str] | None = None) -> list[Organization]:
        """Organizations ordered by slug: all (None), or those in `slugs`."""
        ...

    def save_team(self, team: Team) -> None:
        """Insert the team unless it exists."""
        ...

    def list_teams(self, org: str | None = None) -> list[Team]:
        """Teams ordered by (org, name): all, or those of `org`."""
        ...

    def memberships_of(self, email: str) -> list[Membership]:
        """A person's memberships, ordered by (org, team) with organization roles first."""
        ...

    def memberships_in(self, org: str) -> list[Membership]:
        """An organization's memberships (organization and team roles), ordered by (team, email)."""
        ...

    def save_membership(self, membership: Membership) -> None:
        """Insert the membership, or change the role of the one with the same (email, org, team)."""
        ...

    def delete_membership(self, email: str, org: str, team: str | None) -> bool:
        """Remove one membership; False when there was none."""
        ...

    def append_audit(self, entries: Sequence[AuditEntry]) -> None:
        """Append entries to the audit log (their ids are assigned by storage)."""
        ...

    def audit_entries(
        self, orgs: Collection[str] | None, since: datetime | None = None, limit: int = 200
    ) -> list[AuditEntry]:
        """The latest entries, newest first: all (orgs None) or those of `orgs`, at or after `since`."""
        ...

    def record_login_attempt(self, attempt: LoginAttempt, keep_since: datetime) -> None:
        """Record an attempt and forget that account's attempts older than `keep_since`."""
        ...

    def login_attempts(self, email: str, since: datetime) -> list[LoginAttempt]:
        """The account's attempts at or after `since`, oldest first."""
        ...


class OrgScopedReads(Protocol):
    """Monitoring reads limited to some organizations: what a signed-in person may see.

    `orgs=None` means every organization (the system actor); an empty collection means none.
    Incidents, channels and deliveries join this port with the same `orgs` argument when they exist.
    """

    def checks_in(self, orgs: Collection[str] | None) -> list[Check]:
        """The checks of `orgs`, ordered by (org, name)."""
        ...

    def status_rows_in(self, orgs: Collection[str] | None) -> list[tuple[Check, CheckState]]:
        """The checks of `orgs` with their state, ordered by (org, name)."""
        ...

    def results_in(self, orgs: Collection[str] | None, check_id: int, limit: int) -> list[ProbeResult]:
        """The check's latest results, newest first; none when the check is not in `orgs`."""
        ...

    def flips_in(self, orgs: Collection[str] | None, check_id: int, limit: int) -> list[Flip]:
        """The check's latest flips, newest first; none when the check is not in `orgs`."""
        ...

    def recent_flips_in(self, orgs: Collection[str] | None, limit: int) -> list[Flip]:
        """The latest flips of every check in `orgs`, newest first."""
        ...
