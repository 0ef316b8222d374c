"""The AccountsStore contract on SQLite, MariaDB and the in-memory fake (so the fake stays faithful),
and the account services end to end on the SQL backends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from engine.storage.accounts_store import SqlAccountsStore
from engine.storage.store import SqlStore, open_store
from pulsewatch.domain.accounts import Actor, Membership, Organization, PermissionDenied, Role, Team, User
from pulsewatch.domain.audit import AuditEntry
from pulsewatch.domain.lockout import AuthenticationFailed, LockedOut, LockoutPolicy, LoginAttempt
from pulsewatch.errors import NotFoundError
from pulsewatch.services.accounts import Accounts
from pulsewatch.services.accounts_config import DeclaredAccounts, apply_config
from pulsewatch.services.ports import AccountsStore
from pulsewatch.services.signin import SignIn
from tests.storage.backends import MYSQL_URL, reset_mysql_database
from tests.storage.factories import T0, at, make_check
from tests.unit.accounts_fakes import MemoryAccountsStore, cheap_hasher

BACKENDS = ["memory", "sqlite", pytest.param("mysql", marks=pytest.mark.mysql)]


def sql_url(backend: str, tmp_path: Path) -> str:
    if backend == "mysql":
        reset_mysql_database(MYSQL_URL)
        return MYSQL_URL
    return f"sqlite:///{tmp_path / 'accounts.db'}"


@pytest.fixture(params=BACKENDS)
def accounts(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AccountsStore]:
    """An empty accounts store on each backend."""
    if request.param == "memory":
        yield MemoryAccountsStore()
        return
    store = open_store(sql_url(request.param, tmp_path))
    try:
        yield SqlAccountsStore(store)
    finally:
        store.close()


@pytest.fixture(params=BACKENDS[1:])
def sql(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """An open SqlStore on an empty database, on each SQL backend."""
    store = open_store(sql_url(request.param, tmp_path))
    yield store
    store.close()


def add_users(store: AccountsStore, *emails: str) -> None:
    for email in emails:
        store.save_user(User(email))


class TestUsers:
    def test_a_user_round_trips_and_updates_by_email(self, accounts: AccountsStore) -> None:
        assert accounts.get_user("ana@acme.test") is None
        accounts.save_user(User("ana@acme.test", "Ána Ødegård 🚀", "$argon2id$v=19$m=8,t=1,p=1$abc$def"))
        assert accounts.get_user("ana@acme.test") == User(
            "ana@acme.test", "Ána Ødegård 🚀", "$argon2id$v=19$m=8,t=1,p=1$abc$def"
        )
        accounts.save_user(User("ana@acme.test", "Ana", None, disabled=True))
        assert accounts.get_user("ana@acme.test") == User("ana@acme.test", "Ana", None, disabled=True)
        assert [u.email for u in accounts.list_users()] == ["ana@acme.test"]

    def test_who_can_sign_in(self, accounts: AccountsStore) -> None:
        assert not accounts.any_user_can_sign_in()
        accounts.save_user(User("invited@x.test"))
        accounts.save_user(User("off@x.test", password_hash="h", disabled=True))
        assert not accounts.any_user_can_sign_in()
        accounts.save_user(User("on@x.test", password_hash="h"))
        assert accounts.any_user_can_sign_in()

    def test_users_by_organization(self, accounts: AccountsStore) -> None:
        add_users(accounts, "c@x", "a@x", "b@x")
        accounts.save_membership(Membership("a@x", "acme", Role.OWNER))
        accounts.save_membership(Membership("b@x", "beta", Role.VIEWER, "web"))
        assert [u.email for u in accounts.list_users()] == ["a@x", "b@x", "c@x"]
        assert [u.email for u in accounts.list_users(["beta"])] == ["b@x"]
        assert [u.email for u in accounts.list_users(["acme", "beta"])] == ["a@x", "b@x"]
        assert accounts.list_users([]) == []


class TestOrganizationsAndTeams:
    def test_organizations(self, accounts: AccountsStore) -> None:
        accounts.save_organization(Organization("beta", "Beta"))
        accounts.save_organization(Organization("acme", "Acme", "starter"))
        accounts.save_organization(Organization("acme", "Acme Inc", None))
        assert accounts.get_organization("acme") == Organization("acme", "Acme Inc", None)
        assert accounts.get_organization("nope") is None
        assert [o.slug for o in accounts.list_organizations()] == ["acme", "beta"]
        assert accounts.list_organizations(["beta", "gamma"]) == [Organization("beta", "Beta")]
        assert accounts.list_organizations([]) == []

    def test_teams_are_saved_once_and_listed_in_order(self, accounts: AccountsStore) -> None:
        for team in (Team("acme", "web"), Team("acme", "db"), Team("beta", "web"), Team("acme", "web")):
            accounts.save_team(team)
        assert accounts.list_teams() == [Team("acme", "db"), Team("acme", "web"), Team("beta", "web")]
        assert accounts.list_teams("beta") == [Team("beta", "web")]


class TestMemberships:
    def test_insert_change_list_and_delete(self, accounts: AccountsStore) -> None:
        add_users(accounts, "ana@x", "bo@x")
        accounts.save_membership(Membership("bo@x", "acme", Role.MEMBER, "web"))
        accounts.save_membership(Membership("bo@x", "acme", Role.VIEWER))
        accounts.save_membership(Membership("ana@x", "acme", Role.OWNER))
        accounts.save_membership(Membership("bo@x", "beta", Role.ADMIN))
        accounts.save_membership(Membership("bo@x", "acme", Role.ADMIN, "web"))  # a role change

        assert accounts.memberships_of("bo@x") == [
            Membership("bo@x", "acme", Role.VIEWER),
            Membership("bo@x", "acme", Role.ADMIN, "web"),
            Membership("bo@x", "beta", Role.ADMIN),
        ]
        assert accounts.memberships_in("acme") == [
            Membership("ana@x", "acme", Role.OWNER),
            Membership("bo@x", "acme", Role.VIEWER),
            Membership("bo@x", "acme", Role.ADMIN, "web"),
        ]
        assert accounts.delete_membership("bo@x", "acme", "web")
        assert not accounts.delete_membership("bo@x", "acme", "web")
        assert not accounts.delete_membership("nobody@x", "acme", None)
        assert accounts.memberships_of("bo@x") == [
            Membership("bo@x", "acme", Role.VIEWER), Membership("bo@x", "beta", Role.ADMIN)
        ]

    def test_a_membership_needs_its_user(self, accounts: AccountsStore) -> None:
        with pytest.raises(NotFoundError, match=r"no user ghost@x"):
            accounts.save_membership(Membership("ghost@x", "acme", Role.VIEWER))


class TestAuditLog:
    def test_entries_round_trip_newest_first_with_filters(self, accounts: AccountsStore) -> None:
        before = {"team": None, "role": "viewer", "names": ["ä", "🚀"], "nested": {"n": 1.5, "b": True}}
        accounts.append_audit([
            AuditEntry(at(0), "config", "org.create", "acme", "acme", None, {"slug": "acme"}),
            AuditEntry(at(1), "ana@x", "member.role", "bo@x", "acme", before, {"role": "admin"}),
            AuditEntry(at(2), "bea@x", "check.delete", "beta/db", "beta", {"url": "u"}, None),
            AuditEntry(at(3), "config", "user.add", "lone@x", None, None, {}),
        ])
        everything = accounts.audit_entries(None)
        assert [e.action for e in everything] == ["user.add", "check.delete", "member.role", "org.create"]
        ids = [e.id for e in everything]
        assert all(isinstance(i, int) for i in ids)
        assert ids == sorted(ids, reverse=True)  # type: ignore[type-var]

        (role,) = accounts.audit_entries(["acme"], since=at(0.5))
        assert role == AuditEntry(at(1), "ana@x", "member.role", "bo@x", "acme", before, {"role": "admin"},
                                  id=role.id)
        assert [e.target for e in accounts.audit_entries(["acme", "beta"], limit=2)] == ["beta/db", "bo@x"]
        assert accounts.audit_entries([]) == []
        assert accounts.audit_entries(None, limit=0) == []


class TestLoginAttempts:
    def test_attempts_since_and_pruning_per_account(self, accounts: AccountsStore) -> None:
        for minute, ok in ((0, False), (5, False), (10, True)):
            accounts.record_login_attempt(LoginAttempt("a@x", at(minute * 60), ok), keep_since=T0)
        accounts.record_login_attempt(LoginAttempt("b@x", at(0), False), keep_since=T0)
        assert accounts.login_attempts("a@x", at(5 * 60)) == [
            LoginAttempt("a@x", at(300), False), LoginAttempt("a@x", at(600), True)
        ]
        accounts.record_login_attempt(LoginAttempt("a@x", at(900), False), keep_since=at(600))
        assert [a.at for a in accounts.login_attempts("a@x", T0)] == [at(600), at(900)]
        assert accounts.login_attempts("b@x", T0) == [LoginAttempt("b@x", at(0), False)]


class TestTransactions:
    def test_a_failed_transaction_leaves_nothing(self, accounts: AccountsStore) -> None:
        def change_then_fail() -> None:
            with accounts.transaction():
                accounts.save_user(User("a@x"))
                accounts.save_membership(Membership("a@x", "acme", Role.OWNER))
                accounts.append_audit([AuditEntry(at(0), "config", "user.add", "a@x", "acme")])
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            change_then_fail()
        assert accounts.get_user("a@x") is None
        assert accounts.memberships_in("acme") == []
        assert accounts.audit_entries(None) == []

    def test_monitoring_writes_inside_roll_back_too(self, sql: SqlStore) -> None:
        accounts = SqlAccountsStore(sql)

        def change_then_fail() -> None:
            with accounts.transaction():
                sql.sync_checks([make_check("api")])
                accounts.save_organization(Organization("acme", "Acme"))
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            change_then_fail()
        assert sql.load_checks() == []
        assert accounts.list_organizations() == []


class TestServicesOnSql:
    """The account services on real databases: sign-in and lockout with the time passed in, a viewer
    refused everywhere, config apply with its audit trail."""

    def test_sign_in_lockout_and_unlock(self, sql: SqlStore) -> None:
        store = SqlAccountsStore(sql)
        signin = SignIn(store, cheap_hasher(), LockoutPolicy(3, timedelta(minutes=10), timedelta(minutes=15)))
        Accounts(store, cheap_hasher()).add_user(
            signin.bootstrap_actor(), "ana@acme.test", org="acme", role=Role.OWNER,
            password="right password", now=T0,
        )
        for minute in (1, 2):
            with pytest.raises(AuthenticationFailed, match=r"wrong email or password"):
                signin.authenticate("ana@acme.test", "wrong password", at(minute * 60))
        with pytest.raises(LockedOut, match=r"locked until 2025-03-04 05:24:07 UTC"):
            signin.authenticate("ana@acme.test", "wrong password", at(180))
        with pytest.raises(LockedOut):
            signin.authenticate("ana@acme.test", "right password", at(600))
        actor = signin.authenticate("ana@acme.test", "right password", at(18 * 60))
        assert actor.role_in("acme") == Role.OWNER

    def test_a_viewer_is_refused_and_config_apply_is_audited(self, sql: SqlStore) -> None:
        store = SqlAccountsStore(sql)
        declared = DeclaredAccounts(
            (Organization("acme", "Acme"),), (),
            (Membership("ana@acme.test", "acme", Role.OWNER),
             Membership("vi@acme.test", "acme", Role.VIEWER)),
        )
        checks = (make_check("api", org="acme"),)
        applied = apply_config(store, sql, declared, checks, Actor.for_system("config"), T0)
        assert [e.action for e in applied.audit] == [
            "org.create", "user.add", "user.add", "member.add", "member.add", "check.create"
        ]
        accounts, signin = Accounts(store, cheap_hasher()), SignIn(store, cheap_hasher())
        vi = signin.actor("vi@acme.test")
        with pytest.raises(PermissionDenied, match=r"vi@acme.test is a viewer"):
            apply_config(store, sql, declared, (make_check("api", org="acme", interval=5.0),), vi, at(1))
        with pytest.raises(PermissionDenied, match=r"vi@acme.test is a viewer"):
            accounts.invite(vi, "acme", "x@acme.test", Role.VIEWER, now=at(1))
        assert [c.interval for c in sql.load_checks()] == [60.0]
        assert len(store.audit_entries(None)) == len(applied.audit)
        assert [e.actor for e in accounts.audit_log(signin.actor("ana@acme.test"))] == ["config"] * 6
