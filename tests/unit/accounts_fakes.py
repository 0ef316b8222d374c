"""An in-memory AccountsStore and OrgScopedReads for the service tests (the storage contract tests prove
it behaves like the SQL stores), and a cheap argon2 hasher."""

from __future__ import annotations

import copy
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime

from pulsewatch.domain.accounts import Membership, Organization, Team, User
from pulsewatch.domain.audit import AuditEntry
from pulsewatch.domain.lockout import LoginAttempt
from pulsewatch.domain.monitoring import Check, CheckState, Flip, ProbeResult
from pulsewatch.errors import NotFoundError
from pulsewatch.services.passwords import Argon2Hasher


def cheap_hasher() -> Argon2Hasher:
    """Real argon2id with the smallest cost: the tests hash dozens of passwords."""
    return Argon2Hasher(time_cost=1, memory_cost_kib=64, parallelism=1)


class MemoryAccountsStore:
    """Implements AccountsStore in dicts; `transaction()` rolls everything back on an exception."""

    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.orgs: dict[str, Organization] = {}
        self.teams: set[Team] = set()
        self.memberships: dict[tuple[str, str, str | None], Membership] = {}
        self.audit: list[AuditEntry] = []
        self.attempts: list[LoginAttempt] = []
        self._depth = 0

    @contextmanager
    def transaction(self) -> Iterator[None]:
        saved = copy.deepcopy(
            (self.users, self.orgs, self.teams, self.memberships, self.audit, self.attempts)
        )
        self._depth += 1
        try:
            yield
        except BaseException:
            if self._depth == 1:
                self.users, self.orgs, self.teams, self.memberships, self.audit, self.attempts = saved
            raise
        finally:
            self._depth -= 1

    def get_user(self, email: str) -> User | None:
        return self.users.get(email)

    def save_user(self, user: User) -> None:
        self.users[user.email] = user

    def list_users(self, orgs: Collection[str] | None = None) -> list[User]:
        emails = set(self.users)
        if orgs is not None:
            emails = {m.email for m in self.memberships.values() if m.org in orgs}
        return [self.users[e] for e in sorted(emails) if e in self.users]

    def any_user_can_sign_in(self) -> bool:
        return any(u.can_sign_in for u in self.users.values())

    def get_organization(self, slug: str) -> Organization | None:
        return self.orgs.get(slug)

    def save_organization(self, org: Organization) -> None:
        self.orgs[org.slug] = org

    def list_organizations(self, slugs: Collection[str] | None = None) -> list[Organization]:
        return [o for s, o in sorted(self.orgs.items()) if slugs is None or s in slugs]

    def save_team(self, team: Team) -> None:
        self.teams.add(team)

    def list_teams(self, org: str | None = None) -> list[Team]:
        return sorted((t for t in self.teams if org is None or t.org == org), key=lambda t: (t.org, t.name))

    def memberships_of(self, email: str) -> list[Membership]:
        found = [m for m in self.memberships.values() if m.email == email]
        return sorted(found, key=lambda m: (m.org, m.team or ""))

    def memberships_in(self, org: str) -> list[Membership]:
        found = [m for m in self.memberships.values() if m.org == org]
        return sorted(found, key=lambda m: (m.team or "", m.email))

    def save_membership(self, membership: Membership) -> None:
        if membership.email not in self.users:
            raise NotFoundError(f"no user {membership.email}")
        self.memberships[membership.key] = membership

    def delete_membership(self, email: str, org: str, team: str | None) -> bool:
        return self.memberships.pop((email, org, team), None) is not None

    def append_audit(self, entries: Sequence[AuditEntry]) -> None:
        for entry in entries:
            self.audit.append(replace(entry, id=len(self.audit) + 1))

    def audit_entries(
        self, orgs: Collection[str] | None, since: datetime | None = None, limit: int = 200
    ) -> list[AuditEntry]:
        found = [
            e for e in self.audit
            if (orgs is None or e.org in orgs) and (since is None or e.at >= since)
        ]
        found.sort(key=lambda e: (e.at, e.id or 0), reverse=True)
        return found[: max(limit, 0)]

    def record_login_attempt(self, attempt: LoginAttempt, keep_since: datetime) -> None:
        self.attempts = [a for a in self.attempts if a.email != attempt.email or a.at >= keep_since]
        self.attempts.append(attempt)

    def login_attempts(self, email: str, since: datetime) -> list[LoginAttempt]:
        return sorted((a for a in self.attempts if a.email == email and a.at >= since), key=lambda a: a.at)


class MemoryScopedReads:
    """Implements OrgScopedReads over lists, for the tenancy service tests."""

    def __init__(
        self,
        checks: Sequence[Check],
        states: Sequence[CheckState] = (),
        results: Sequence[ProbeResult] = (),
        flips: Sequence[Flip] = (),
    ) -> None:
        self.checks = list(checks)
        self.states = {s.check_id: s for s in states}
        self.results = list(results)
        self.flips = list(flips)

    def _ids(self, orgs: Collection[str] | None) -> set[int | None]:
        return {c.id for c in self.checks if orgs is None or c.org in orgs}

    def checks_in(self, orgs: Collection[str] | None) -> list[Check]:
        return sorted((c for c in self.checks if orgs is None or c.org in orgs), key=lambda c: c.key)

    def status_rows_in(self, orgs: Collection[str] | None) -> list[tuple[Check, CheckState]]:
        return [(c, self.states.get(c.id or 0) or CheckState(c.id or 0)) for c in self.checks_in(orgs)]

    def results_in(self, orgs: Collection[str] | None, check_id: int, limit: int) -> list[ProbeResult]:
        if check_id not in self._ids(orgs):
            return []
        found = [r for r in self.results if r.check_id == check_id]
        return sorted(found, key=lambda r: r.started_at, reverse=True)[:limit]

    def flips_in(self, orgs: Collection[str] | None, check_id: int, limit: int) -> list[Flip]:
        if check_id not in self._ids(orgs):
            return []
        found = [f for f in self.flips if f.check_id == check_id]
        return sorted(found, key=lambda f: f.at, reverse=True)[:limit]

    def recent_flips_in(self, orgs: Collection[str] | None, limit: int) -> list[Flip]:
        ids = self._ids(orgs)
        return sorted((f for f in self.flips if f.check_id in ids), key=lambda f: f.at, reverse=True)[:limit]
