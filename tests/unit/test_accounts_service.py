"""Account use cases on the in-memory store with real (cheap) argon2: sign-in, lockout, members, audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pulsewatch.domain.accounts import AccountError, Actor, PermissionDenied, Role, Team
from pulsewatch.domain.lockout import AuthenticationFailed, LockedOut, LockoutPolicy
from pulsewatch.errors import NotFoundError
from pulsewatch.services.accounts import Accounts
from pulsewatch.services.passwords import Argon2Hasher
from pulsewatch.services.signin import BOOTSTRAP, SignIn
from tests.unit.accounts_fakes import MemoryAccountsStore, cheap_hasher

T0 = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
POLICY = LockoutPolicy(max_failures=3, window=timedelta(minutes=10), lock_for=timedelta(minutes=15))
CONFIG = Actor.for_system("config")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


class World:
    """acme: ana owner, ad admin, me member, vi viewer, tw admin of team web; beta: bea owner."""

    def __init__(self) -> None:
        self.store = MemoryAccountsStore()
        self.accounts = Accounts(self.store, cheap_hasher())
        self.signin = SignIn(self.store, cheap_hasher(), POLICY)
        a = self.accounts
        a.add_user(self.signin.bootstrap_actor(), "Ana@Acme.test", org="acme", role=Role.OWNER,
                   password=PASSWORD, display_name="Ana", now=T0)
        self.ana = self.signin.authenticate("ana@acme.test", PASSWORD, T0)
        for email, role in (("ad", Role.ADMIN), ("me", Role.MEMBER), ("vi", Role.VIEWER)):
            a.add_user(self.ana, f"{email}@acme.test", org="acme", role=role, password=PASSWORD, now=T0)
        a.add_user(CONFIG, "tw@acme.test", org="acme", team="web", role=Role.ADMIN, password=PASSWORD, now=T0)
        a.add_user(CONFIG, "bea@beta.test", org="beta", role=Role.OWNER, password=PASSWORD, now=T0)
        self.ad, self.me, self.vi, self.tw, self.bea = (
            self.signin.actor(n) for n in ("ad@acme.test", "me@acme.test", "vi@acme.test", "tw@acme.test",
                                      "bea@beta.test")
        )

    def actions(self) -> list[str]:
        return [e.action for e in self.store.audit]


@pytest.fixture
def world() -> World:
    return World()


class TestBootstrap:
    def test_the_first_user_needs_no_actor_and_becomes_the_owner(self) -> None:
        store = MemoryAccountsStore()
        accounts, signin = Accounts(store, cheap_hasher()), SignIn(store, cheap_hasher())
        assert not signin.sign_in_required()
        actor = signin.bootstrap_actor()
        assert actor.system
        assert actor.name == BOOTSTRAP

        accounts.add_user(actor, "ana@acme.test", org="acme", role=Role.OWNER, password=PASSWORD, now=T0)

        assert signin.sign_in_required()
        assert [o.slug for o in store.list_organizations()] == ["acme"]
        assert [(e.actor, e.action) for e in store.audit] == [
            ("bootstrap", "org.create"), ("bootstrap", "user.add"), ("bootstrap", "member.add")
        ]
        with pytest.raises(PermissionDenied, match=r"name who is acting \(--as EMAIL\)"):
            signin.bootstrap_actor()

    def test_the_first_user_of_an_organization_must_be_its_owner(self) -> None:
        store = MemoryAccountsStore()
        accounts, signin = Accounts(store, cheap_hasher()), SignIn(store, cheap_hasher())
        with pytest.raises(AccountError, match=r"the first user of organization acme must be its owner"):
            accounts.add_user(signin.bootstrap_actor(), "a@x", org="acme", role=Role.VIEWER, now=T0)


class TestAuthenticate:
    def test_the_right_password_signs_in_with_the_memberships(self, world: World) -> None:
        actor = world.signin.authenticate(" AD@acme.test", PASSWORD, at(1))
        assert actor.name == "ad@acme.test"
        assert actor.role_in("acme") == Role.ADMIN
        assert not actor.system

    @pytest.mark.parametrize(
        ("email", "password"),
        [("ad@acme.test", "wrong password"), ("nobody@acme.test", PASSWORD), ("not an email", PASSWORD)],
    )
    def test_wrong_email_or_password_says_only_that(self, world: World, email: str, password: str) -> None:
        with pytest.raises(AuthenticationFailed) as caught:
            world.signin.authenticate(email, password, at(1))
        assert str(caught.value) == "wrong email or password"
        assert not isinstance(caught.value, LockedOut)

    def test_an_invited_user_without_password_cannot_sign_in(self, world: World) -> None:
        world.accounts.invite(world.ana, "acme", "new@acme.test", Role.MEMBER, now=T0)
        with pytest.raises(AuthenticationFailed, match=r"wrong email or password"):
            world.signin.authenticate("new@acme.test", "", at(1))

    def test_a_disabled_user_is_told_so_after_the_right_password_only(self, world: World) -> None:
        world.accounts.set_disabled(world.ana, "me@acme.test", True, T0)
        with pytest.raises(AuthenticationFailed, match=r"wrong email or password"):
            world.signin.authenticate("me@acme.test", "nope nope", at(1))
        with pytest.raises(AuthenticationFailed, match=r"the account me@acme.test is disabled"):
            world.signin.authenticate("me@acme.test", PASSWORD, at(2))
        with pytest.raises(PermissionDenied, match=r"me@acme.test is disabled and may not act"):
            world.signin.actor("me@acme.test")

    def test_repeated_failures_lock_with_a_time_and_the_lock_ends(self, world: World) -> None:
        accounts = world.signin
        for minute in (1, 2):
            with pytest.raises(AuthenticationFailed, match=r"wrong email or password"):
                accounts.authenticate("me@acme.test", "guess guess", at(minute))
        with pytest.raises(LockedOut) as third:
            accounts.authenticate("me@acme.test", "guess guess", at(3))
        assert third.value.until == at(18)
        assert "locked until 2025-03-04 12:18:00 UTC (in 15 minutes)" in str(third.value)

        with pytest.raises(LockedOut, match=r"in 8 minutes"):  # even the right password waits
            accounts.authenticate("me@acme.test", PASSWORD, at(10))
        assert accounts.authenticate("me@acme.test", PASSWORD, at(18)).name == "me@acme.test"

    def test_a_lock_affects_only_that_account(self, world: World) -> None:
        for minute in (1, 2, 3):
            with pytest.raises(AuthenticationFailed):
                world.signin.authenticate("me@acme.test", "guess guess", at(minute))
        assert world.signin.authenticate("ad@acme.test", PASSWORD, at(4)).name == "ad@acme.test"

    def test_unknown_emails_lock_too_so_nothing_tells_them_apart(self, world: World) -> None:
        for minute in (1, 2):
            with pytest.raises(AuthenticationFailed):
                world.signin.authenticate("ghost@acme.test", "guess guess", at(minute))
        with pytest.raises(LockedOut):
            world.signin.authenticate("ghost@acme.test", "guess guess", at(3))

    def test_a_success_resets_the_count(self, world: World) -> None:
        accounts = world.signin
        for minute in (1, 2):
            with pytest.raises(AuthenticationFailed):
                accounts.authenticate("me@acme.test", "guess guess", at(minute))
        accounts.authenticate("me@acme.test", PASSWORD, at(3))
        with pytest.raises(AuthenticationFailed, match=r"wrong email or password"):
            accounts.authenticate("me@acme.test", "guess guess", at(4))

    def test_old_attempts_are_forgotten(self, world: World) -> None:
        for minute in (1, 2):
            with pytest.raises(AuthenticationFailed):
                world.signin.authenticate("me@acme.test", "guess guess", at(minute))
        world.signin.authenticate("me@acme.test", PASSWORD, at(60))
        assert [a.at for a in world.store.attempts if a.email == "me@acme.test"] == [at(60)]

    def test_a_hash_made_with_old_parameters_is_replaced_at_sign_in(self, world: World) -> None:
        old = Argon2Hasher(time_cost=2, memory_cost_kib=64, parallelism=1).hash(PASSWORD)
        user = world.store.users["me@acme.test"]
        world.store.save_user(type(user)(user.email, user.display_name, old))

        world.signin.authenticate("me@acme.test", PASSWORD, at(1))

        new = world.store.users["me@acme.test"].password_hash
        assert new is not None
        assert new != old
        assert "t=1," in new
        assert world.signin.authenticate("me@acme.test", PASSWORD, at(2)).name == "me@acme.test"


class TestMembers:
    def test_an_admin_invites_changes_and_removes(self, world: World) -> None:
        a = world.accounts
        a.invite(world.ad, "acme", "new@acme.test", Role.VIEWER, now=at(1))
        a.change_role(world.ad, "acme", "new@acme.test", Role.ADMIN, now=at(2))
        roles = {(m.email, m.team): m.role for m in a.members(world.ad, "acme")}
        assert roles[("new@acme.test", None)] == Role.ADMIN
        a.remove_member(world.ad, "acme", "new@acme.test", now=at(3))
        assert "new@acme.test" not in {m.email for m in a.members(world.ad, "acme")}
        assert world.actions()[-4:] == ["user.add", "member.add", "member.role", "member.remove"]

    def test_an_admin_cannot_touch_owners(self, world: World) -> None:
        with pytest.raises(PermissionDenied, match=r"may not grant the owner role"):
            world.accounts.change_role(world.ad, "acme", "me@acme.test", Role.OWNER, now=at(1))
        with pytest.raises(PermissionDenied, match=r"may not change or remove the owner role"):
            world.accounts.remove_member(world.ad, "acme", "ana@acme.test", now=at(1))

    def test_the_last_owner_cannot_leave_or_step_down(self, world: World) -> None:
        with pytest.raises(AccountError, match=r"last owner of organization acme"):
            world.accounts.change_role(world.ana, "acme", "ana@acme.test", Role.ADMIN, now=at(1))
        world.accounts.change_role(world.ana, "acme", "ad@acme.test", Role.OWNER, now=at(2))
        world.accounts.change_role(world.ana, "acme", "ana@acme.test", Role.ADMIN, now=at(3))

    def test_removing_from_the_organization_removes_from_its_teams(self, world: World) -> None:
        a = world.accounts
        a.invite(world.ana, "acme", "me@acme.test", Role.MEMBER, team="web", now=at(1))
        a.remove_member(world.ana, "acme", "me@acme.test", now=at(2))
        assert world.store.memberships_of("me@acme.test") == []
        assert world.actions()[-2:] == ["member.remove", "member.remove"]

    def test_a_team_admin_manages_the_team_only(self, world: World) -> None:
        a = world.accounts
        a.invite(world.tw, "acme", "me@acme.test", Role.MEMBER, team="web", now=at(1))
        with pytest.raises(PermissionDenied, match=r"tw@acme.test has no role in organization acme"):
            a.invite(world.tw, "acme", "x@acme.test", Role.MEMBER, now=at(1))

    def test_inviting_to_a_missing_team_or_twice_is_refused(self, world: World) -> None:
        with pytest.raises(NotFoundError, match=r"no team nope in organization acme"):
            world.accounts.invite(world.ana, "acme", "x@acme.test", Role.MEMBER, team="nope", now=at(1))
        with pytest.raises(AccountError, match=r"me@acme.test is already member in organization acme"):
            world.accounts.invite(world.ana, "acme", "me@acme.test", Role.VIEWER, now=at(1))

    def test_members_lists_what_the_actor_may_see(self, world: World) -> None:
        members = world.accounts.members(world.vi, "acme")
        assert [(m.email, m.team, m.role.value) for m in members] == [
            ("ad@acme.test", None, "admin"), ("ana@acme.test", None, "owner"),
            ("me@acme.test", None, "member"), ("vi@acme.test", None, "viewer"),
            ("tw@acme.test", "web", "admin"),
        ]
        assert members[1].display_name == "Ana"
        assert members[1].can_sign_in
        assert [m.email for m in world.accounts.members(world.tw, "acme")] == ["tw@acme.test"]

    def test_another_organization_is_closed(self, world: World) -> None:
        with pytest.raises(PermissionDenied, match=r"no role in organization beta"):
            world.accounts.members(world.ana, "beta")
        with pytest.raises(PermissionDenied):
            world.accounts.teams(world.ana, "beta")
        with pytest.raises(PermissionDenied):
            world.accounts.audit_log(world.ana, org="beta")
        assert [o.slug for o in world.accounts.organizations(world.ana)] == ["acme"]
        assert [o.slug for o in world.accounts.organizations(world.bea)] == ["beta"]
        assert [o.slug for o in world.accounts.organizations(CONFIG)] == ["acme", "beta"]

    def test_teams_and_users_lists(self, world: World) -> None:
        assert world.accounts.teams(world.vi, "acme") == [Team("acme", "web")]
        listing = world.accounts.list_users(world.ana)
        assert [item.user.email for item in listing] == [
            "ad@acme.test", "ana@acme.test", "me@acme.test", "tw@acme.test", "vi@acme.test"
        ]
        assert "bea@beta.test" in [item.user.email for item in world.accounts.list_users(CONFIG)]

    def test_a_role_changed_since_sign_in_counts_at_once(self, world: World) -> None:
        signed_in = world.signin.authenticate("ad@acme.test", PASSWORD, at(1))
        world.accounts.change_role(world.ana, "acme", "ad@acme.test", Role.VIEWER, now=at(2))
        with pytest.raises(PermissionDenied, match=r"ad@acme.test is a viewer"):
            world.accounts.invite(signed_in, "acme", "x@acme.test", Role.VIEWER, now=at(3))


class TestUsers:
    def test_users_change_their_own_password(self, world: World) -> None:
        world.accounts.set_password(world.vi, "vi@acme.test", "a new password", at(1))
        assert world.signin.authenticate("vi@acme.test", "a new password", at(2)).name == "vi@acme.test"

    def test_an_admin_sets_passwords_of_those_below_but_not_of_owners(self, world: World) -> None:
        world.accounts.set_password(world.ad, "me@acme.test", "reset by admin", at(1))
        with pytest.raises(PermissionDenied, match=r"may not manage ana@acme.test, who is owner there"):
            world.accounts.set_password(world.ad, "ana@acme.test", "taken over!", at(1))

    def test_nobody_manages_a_user_in_an_organization_they_do_not_manage(self, world: World) -> None:
        world.accounts.invite(CONFIG, "beta", "me@acme.test", Role.VIEWER, now=at(1))
        with pytest.raises(PermissionDenied, match=r"no role in organization beta"):
            world.accounts.set_disabled(world.ana, "me@acme.test", True, at(2))

    def test_nobody_disables_themselves(self, world: World) -> None:
        with pytest.raises(AccountError, match=r"you cannot disable your own account"):
            world.accounts.set_disabled(world.ana, "ana@acme.test", True, at(1))

    def test_weak_passwords_and_existing_accounts(self, world: World) -> None:
        with pytest.raises(AccountError, match=r"too short"):
            world.accounts.set_password(world.ana, "me@acme.test", "short", at(1))
        with pytest.raises(AccountError, match=r"already has an account"):
            world.accounts.add_user(world.ana, "bea@beta.test", org="acme", role=Role.VIEWER,
                                    password=PASSWORD, now=at(1))


class TestAuditLog:
    def test_each_kind_of_account_change_is_recorded_with_before_and_after(self, world: World) -> None:
        a = world.accounts
        a.set_password(world.ana, "me@acme.test", "another password", at(1))
        a.set_disabled(world.ana, "me@acme.test", True, at(2))
        a.set_disabled(world.ana, "me@acme.test", False, at(3))
        a.change_role(world.ana, "acme", "me@acme.test", Role.ADMIN, now=at(4))
        a.remove_member(world.ana, "acme", "vi@acme.test", now=at(5))

        newest = a.audit_log(world.ana, since=at(1))
        assert [(e.action, e.actor, e.target, e.before, e.after) for e in newest] == [
            ("member.remove", "ana@acme.test", "vi@acme.test", {"team": None, "role": "viewer"}, None),
            ("member.role", "ana@acme.test", "me@acme.test", {"team": None, "role": "member"},
             {"team": None, "role": "admin"}),
            ("user.enable", "ana@acme.test", "me@acme.test", {"disabled": True}, {"disabled": False}),
            ("user.disable", "ana@acme.test", "me@acme.test", {"disabled": False}, {"disabled": True}),
            ("user.password", "ana@acme.test", "me@acme.test", {"password": "set"}, {"password": "set"}),
        ]
        assert all(e.org == "acme" and e.at >= at(1) for e in newest)
        assert not any("argon2" in str(e) for e in world.store.audit)

    def test_creation_entries(self, world: World) -> None:
        kinds = {(e.action, e.target) for e in world.store.audit}
        assert {("org.create", "acme"), ("org.create", "beta"), ("team.create", "acme/web"),
                ("user.add", "ana@acme.test"), ("member.add", "tw@acme.test")} <= kinds

    def test_the_audit_log_is_for_admins_of_the_organization(self, world: World) -> None:
        assert {e.org for e in world.accounts.audit_log(world.ad)} == {"acme"}
        assert {e.org for e in world.accounts.audit_log(world.bea)} == {"beta"}
        for actor in (world.me, world.vi):
            with pytest.raises(PermissionDenied, match=r"view the audit log"):
                world.accounts.audit_log(actor)
        assert world.accounts.audit_log(world.ana, limit=2) == world.accounts.audit_log(world.ana)[:2]


def viewer_attempts(w: World) -> dict[str, object]:
    """Every mutating account use case, as the viewer."""
    a, vi = w.accounts, w.vi
    return {
        "add_user": lambda: a.add_user(vi, "x@acme.test", org="acme", role=Role.VIEWER, password=PASSWORD,
                                       now=T0),
        "invite": lambda: a.invite(vi, "acme", "x@acme.test", Role.VIEWER, now=T0),
        "invite to team": lambda: a.invite(vi, "acme", "x@acme.test", Role.VIEWER, team="web", now=T0),
        "set_password": lambda: a.set_password(vi, "me@acme.test", "a new password", T0),
        "disable": lambda: a.set_disabled(vi, "me@acme.test", True, T0),
        "change_role": lambda: a.change_role(vi, "acme", "me@acme.test", Role.VIEWER, now=T0),
        "promote self": lambda: a.change_role(vi, "acme", "vi@acme.test", Role.OWNER, now=T0),
        "remove": lambda: a.remove_member(vi, "acme", "me@acme.test", now=T0),
        "remove from team": lambda: a.remove_member(vi, "acme", "tw@acme.test", team="web", now=T0),
    }


@pytest.mark.parametrize(
    "attempt", ["add_user", "invite", "invite to team", "set_password", "disable", "change_role",
                "promote self", "remove", "remove from team"]
)
def test_a_viewer_can_change_nothing(world: World, attempt: str) -> None:
    before = (dict(world.store.users), dict(world.store.memberships), len(world.store.audit))
    with pytest.raises(PermissionDenied) as caught:
        viewer_attempts(world)[attempt]()  # type: ignore[operator]
    assert "vi@acme.test is a viewer" in str(caught.value)
    assert (dict(world.store.users), dict(world.store.memberships), len(world.store.audit)) == before
