"""The accounts core: the permission matrix, scopes, role-change rules, lockout and audit entries."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from pulsewatch.domain.accounts import (
    MINIMUM_ROLE,
    AccountError,
    Actor,
    Membership,
    Permission,
    PermissionDenied,
    Role,
    User,
    can,
    check_password,
    normalize_email,
    permissions_of,
    require,
    require_an_owner_left,
    require_role_change,
)
from pulsewatch.domain.audit import AuditEntry
from pulsewatch.domain.lockout import LockoutPolicy, LoginAttempt, lockout_message

T0 = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
P = Permission

CHANGES = [p for p in Permission if p != P.VIEW]
"""Every permission that changes something: a viewer holds none of them."""


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


class TestMatrix:
    @pytest.mark.parametrize(
        ("role", "allowed"),
        [
            (Role.VIEWER, {P.VIEW}),
            (Role.MEMBER, {P.VIEW, P.CREATE_CHECKS, P.EDIT_CHECKS, P.PAUSE_CHECKS, P.RUN_CHECKS,
                           P.ACK_INCIDENTS, P.SILENCE_ALERTS}),
            (Role.ADMIN, set(Permission) - {P.MANAGE_BILLING, P.MANAGE_ORGANIZATION}),
            (Role.OWNER, set(Permission)),
        ],
    )
    def test_each_role_may_do_exactly_this(self, role: Role, allowed: set[Permission]) -> None:
        assert permissions_of(role) == allowed
        for permission in Permission:
            assert can(role, permission) == (permission in allowed)

    def test_no_role_allows_nothing(self) -> None:
        assert not any(can(None, p) for p in Permission)

    def test_every_permission_has_a_row(self) -> None:
        assert set(MINIMUM_ROLE) == set(Permission)

    @pytest.mark.parametrize("permission", CHANGES)
    def test_a_viewer_holds_no_permission_that_changes_anything(self, permission: Permission) -> None:
        assert not can(Role.VIEWER, permission)

    def test_higher_roles_include_lower_ones(self) -> None:
        ordered = list(Role)
        for lower, higher in itertools.pairwise(ordered):
            assert permissions_of(lower) < permissions_of(higher)

    def test_refusal_names_permission_role_and_what_is_needed(self) -> None:
        with pytest.raises(PermissionDenied) as caught:
            require(Role.VIEWER, P.PAUSE_CHECKS, who="bo@acme.test", where="organization acme")
        assert str(caught.value) == (
            "bo@acme.test is a viewer in organization acme and may not pause or resume checks "
            "(needs member or above)"
        )
        assert caught.value.permission == P.PAUSE_CHECKS
        assert caught.value.role == Role.VIEWER

    def test_refusal_without_a_role_and_for_owner_only_actions(self) -> None:
        with pytest.raises(PermissionDenied, match=r"has no role in organization b and may not view"):
            require(None, P.VIEW, who="ana", where="organization b")
        with pytest.raises(PermissionDenied, match=r"is an admin .* may not manage billing \(needs owner\)"):
            require(Role.ADMIN, P.MANAGE_BILLING, who="ana", where="organization a")


class TestScopes:
    ana = Actor(
        "ana@acme.test",
        (
            Membership("ana@acme.test", "acme", Role.VIEWER),
            Membership("ana@acme.test", "acme", Role.ADMIN, "web"),
            Membership("ana@acme.test", "beta", Role.MEMBER, "db"),
        ),
    )

    def test_an_org_role_applies_everywhere_in_the_org(self) -> None:
        assert self.ana.role_in("acme") == Role.VIEWER
        assert self.ana.role_in("acme", "mobile") == Role.VIEWER

    def test_a_team_role_applies_to_that_team_and_the_higher_role_wins(self) -> None:
        assert self.ana.role_in("acme", "web") == Role.ADMIN
        assert self.ana.can(P.DELETE_CHECKS, "acme", "web")
        assert not self.ana.can(P.EDIT_CHECKS, "acme", "mobile")
        assert not self.ana.can(P.EDIT_CHECKS, "acme")

    def test_a_team_only_member_has_no_role_outside_the_team(self) -> None:
        assert self.ana.role_in("beta") is None
        assert self.ana.role_in("beta", "web") is None
        assert self.ana.can(P.EDIT_CHECKS, "beta", "db")
        assert self.ana.refusal(P.VIEW, "beta", "web") == (
            "ana@acme.test has no role in team beta/web and may not view (needs viewer or above)"
        )

    def test_another_org_is_invisible(self) -> None:
        assert self.ana.visible_orgs() == frozenset({"acme", "beta"})
        assert not self.ana.can(P.VIEW, "gamma")

    def test_the_system_may_do_everything_everywhere(self) -> None:
        system = Actor.for_system("config")
        assert all(system.can(p, "anything") for p in Permission)
        assert system.visible_orgs() is None
        assert system.refusal(P.MANAGE_BILLING, "x") is None


def owner_of(org: str, name: str = "o@x") -> Actor:
    return Actor(name, (Membership(name, org, Role.OWNER),))


def admin_of(org: str, name: str = "a@x") -> Actor:
    return Actor(name, (Membership(name, org, Role.ADMIN),))


class TestRoleChanges:
    @pytest.mark.parametrize(
        ("current", "new"),
        [(None, Role.ADMIN), (Role.VIEWER, Role.ADMIN), (Role.ADMIN, Role.MEMBER), (Role.MEMBER, None)],
    )
    def test_an_admin_manages_roles_up_to_admin(self, current: Role | None, new: Role | None) -> None:
        require_role_change(admin_of("acme"), "acme", None, current, new)

    @pytest.mark.parametrize(
        ("current", "new", "message"),
        [
            (None, Role.OWNER, "may not grant the owner role"),
            (Role.ADMIN, Role.OWNER, "may not grant the owner role"),
            (Role.OWNER, Role.ADMIN, "may not change or remove the owner role"),
            (Role.OWNER, None, "may not change or remove the owner role"),
        ],
    )
    def test_only_owners_make_change_or_remove_owners(
        self, current: Role | None, new: Role | None, message: str
    ) -> None:
        with pytest.raises(PermissionDenied, match=message):
            require_role_change(admin_of("acme"), "acme", None, current, new)
        require_role_change(owner_of("acme"), "acme", None, current, new)

    @pytest.mark.parametrize("actor_role", [Role.VIEWER, Role.MEMBER])
    def test_viewers_and_members_manage_nobody(self, actor_role: Role) -> None:
        actor = Actor("v@x", (Membership("v@x", "acme", actor_role),))
        with pytest.raises(PermissionDenied, match=r"may not manage members and teams"):
            require_role_change(actor, "acme", None, None, Role.VIEWER)

    def test_a_team_admin_manages_that_team_only(self) -> None:
        actor = Actor("t@x", (Membership("t@x", "acme", Role.ADMIN, "web"),))
        require_role_change(actor, "acme", "web", None, Role.MEMBER)
        with pytest.raises(PermissionDenied):
            require_role_change(actor, "acme", None, None, Role.MEMBER)
        with pytest.raises(PermissionDenied):
            require_role_change(actor, "acme", "db", None, Role.MEMBER)

    def test_the_last_owner_stays(self) -> None:
        members = [Membership("o@x", "acme", Role.OWNER), Membership("o@x", "acme", Role.OWNER, "web")]
        with pytest.raises(AccountError, match=r"o@x is the last owner of organization acme"):
            require_an_owner_left("acme", members, "o@x", Role.ADMIN)
        with pytest.raises(AccountError):
            require_an_owner_left("acme", members, "o@x", None)
        require_an_owner_left("acme", members, "o@x", Role.OWNER)
        require_an_owner_left("acme", [*members, Membership("p@x", "acme", Role.OWNER)], "o@x", None)

    def test_an_organization_without_owner_may_stay_so(self) -> None:
        require_an_owner_left("acme", [Membership("a@x", "acme", Role.ADMIN)], "a@x", None)


class TestInputs:
    @pytest.mark.parametrize(("raw", "normal"), [(" Ana@Acme.TEST ", "ana@acme.test"), ("b@c", "b@c")])
    def test_emails_are_normalized(self, raw: str, normal: str) -> None:
        assert normalize_email(raw) == normal

    @pytest.mark.parametrize("bad", ["", "ana", "a b@c", "@acme.test", "ana@"])
    def test_non_emails_are_refused(self, bad: str) -> None:
        with pytest.raises(AccountError, match=r"is not an email address"):
            normalize_email(bad)

    def test_password_rules(self) -> None:
        check_password("8 chars!")
        with pytest.raises(AccountError, match=r"at least 8 characters"):
            check_password("short")
        with pytest.raises(AccountError, match=r"too long"):
            check_password("x" * 1025)

    def test_a_user_repr_never_shows_the_hash(self) -> None:
        user = User("a@x", "Ana", "$argon2id$secret")
        assert "argon2" not in repr(user)
        assert user.can_sign_in
        assert not User("a@x").can_sign_in
        assert not User("a@x", password_hash="h", disabled=True).can_sign_in


class TestLockout:
    policy = LockoutPolicy(max_failures=3, window=timedelta(minutes=10), lock_for=timedelta(minutes=15))

    def fails(self, *at: float) -> list[LoginAttempt]:
        return [LoginAttempt("a@x", minutes(m), ok=False) for m in at]

    def test_failures_below_the_limit_do_not_lock(self) -> None:
        assert self.policy.locked_until(self.fails(0, 1), minutes(2)) is None

    def test_the_limit_within_the_window_locks_from_the_last_failure(self) -> None:
        assert self.policy.locked_until(self.fails(0, 1, 2), minutes(3)) == minutes(17)

    def test_failures_spread_wider_than_the_window_do_not_lock(self) -> None:
        assert self.policy.locked_until(self.fails(0, 6, 12), minutes(12)) is None

    def test_the_lock_ends_on_time(self) -> None:
        attempts = self.fails(0, 1, 2)
        assert self.policy.locked_until(attempts, minutes(16.99)) == minutes(17)
        assert self.policy.locked_until(attempts, minutes(17)) is None

    def test_a_success_clears_earlier_failures(self) -> None:
        attempts = [*self.fails(0, 1), LoginAttempt("a@x", minutes(1.5), ok=True), *self.fails(2)]
        assert self.policy.locked_until(attempts, minutes(3)) is None

    def test_after_a_lock_the_slate_is_clean(self) -> None:
        attempts = self.fails(0, 1, 2, 18)  # the window (10m) is shorter than the lock (15m)
        assert self.policy.locked_until(attempts, minutes(18)) is None

    def test_attempts_after_now_are_ignored_and_order_does_not_matter(self) -> None:
        assert self.policy.locked_until(self.fails(2, 0, 1), minutes(3)) == minutes(17)
        assert self.policy.locked_until(self.fails(0, 1, 30), minutes(3)) is None

    def test_history_reaches_back_far_enough(self) -> None:
        assert self.policy.history_since(minutes(30)) == minutes(5)

    def test_the_message_says_until_when_in_utc(self) -> None:
        assert lockout_message("a@x", minutes(17), minutes(3)) == (
            "too many failed sign-ins for a@x: locked until 2025-03-04 12:17:00 UTC (in 14 minutes)"
        )
        assert lockout_message("a@x", minutes(17), minutes(16.9)).endswith("(in 1 minute)")


class TestAuditEntry:
    def test_changes_lists_only_what_differs(self) -> None:
        entry = AuditEntry(T0, "ana", "member.role", "bo", "acme", {"team": None, "role": "viewer"},
                           {"team": None, "role": "admin"})
        assert entry.changes() == [("role", "viewer", "admin")]

    def test_json_form(self) -> None:
        entry = AuditEntry(T0, "config", "check.delete", "acme/api", "acme", {"url": "u"}, None, id=7)
        assert entry.to_json() == {
            "id": 7, "at": "2025-03-04T12:00:00+00:00", "actor": "config", "action": "check.delete",
            "org": "acme", "target": "acme/api", "before": {"url": "u"}, "after": None,
        }
        assert entry.changes() == [("url", "u", None)]
