"""Config apply for accounts and checks (authorized per actor, audited), and tenancy of monitoring reads."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from pulsewatch.domain.accounts import Actor, Membership, Organization, PermissionDenied, Role, Team
from pulsewatch.domain.monitoring import Check, CheckState, Flip, ProbeResult, Status
from pulsewatch.errors import NotFoundError
from pulsewatch.services.accounts import Accounts
from pulsewatch.services.accounts_config import DeclaredAccounts, apply_config, plan_accounts
from pulsewatch.services.signin import SignIn
from pulsewatch.services.tenancy import pause_check, visible_flips, visible_results, visible_status_rows
from tests.engine.fakes import FakeStore
from tests.unit.accounts_fakes import MemoryAccountsStore, MemoryScopedReads, cheap_hasher

T0 = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
CONFIG = Actor.for_system("config")

DECLARED = DeclaredAccounts(
    organizations=(Organization("acme", "Acme Inc", "starter"), Organization("beta", "Beta")),
    teams=(Team("acme", "web"),),
    memberships=(
        Membership("ana@acme.test", "acme", Role.OWNER),
        Membership("ad@acme.test", "acme", Role.ADMIN),
        Membership("me@acme.test", "acme", Role.MEMBER),
        Membership("vi@acme.test", "acme", Role.VIEWER),
        Membership("tw@acme.test", "acme", Role.MEMBER, "web"),
        Membership("bea@beta.test", "beta", Role.OWNER),
    ),
)


def check(name: str, org: str = "acme", team: str | None = None, **fields: object) -> Check:
    return Check(name=name, url=f"http://127.0.0.1:9/{name}", kind="http", org=org, team=team, **fields)  # type: ignore[arg-type]


CHECKS = (check("api"), check("site", team="web"), check("db", org="beta"))


class Stores:
    def __init__(self) -> None:
        self.accounts = MemoryAccountsStore()
        self.monitoring = FakeStore()
        self.service = Accounts(self.accounts, cheap_hasher())
        self.signin = SignIn(self.accounts, cheap_hasher())

    def apply(self, actor: Actor, declared: DeclaredAccounts = DECLARED, checks: tuple[Check, ...] = CHECKS,
              minutes: float = 0) -> list[tuple[str, str, str | None]]:
        applied = apply_config(
            self.accounts, self.monitoring, declared, checks, actor, T0 + timedelta(minutes=minutes)
        )
        return [(e.action, e.target, e.actor) for e in applied.audit]

    def actor(self, email: str) -> Actor:
        return self.signin.actor(email)

    def snapshot(self) -> tuple[object, ...]:
        return (
            dict(self.accounts.users), dict(self.accounts.memberships), dict(self.accounts.orgs),
            set(self.accounts.teams), len(self.accounts.audit), dict(self.monitoring.checks),
        )


@pytest.fixture
def stores() -> Stores:
    s = Stores()
    s.apply(CONFIG)
    return s


class TestApplyAsTheSystem:
    def test_a_first_apply_creates_everything_and_records_it(self) -> None:
        stores = Stores()
        entries = stores.apply(CONFIG)

        assert ("org.create", "acme", "config") in entries
        assert ("team.create", "acme/web", "config") in entries
        assert ("user.add", "tw@acme.test", "config") in entries
        assert ("member.add", "tw@acme.test", "config") in entries
        assert [e for e in entries if e[0] == "check.create"] == [
            ("check.create", "acme/api", "config"), ("check.create", "acme/site", "config"),
            ("check.create", "beta/db", "config"),
        ]
        assert stores.accounts.get_organization("acme") == Organization("acme", "Acme Inc", "starter")
        assert stores.accounts.memberships_of("tw@acme.test") == [
            Membership("tw@acme.test", "acme", Role.MEMBER, "web")
        ]
        assert stores.accounts.users["tw@acme.test"].password_hash is None  # the config never sets one
        assert len(stores.accounts.audit) == len(entries)

    def test_applying_again_changes_and_records_nothing(self, stores: Stores) -> None:
        assert plan_accounts(stores.accounts, DECLARED).is_empty
        assert stores.apply(CONFIG, minutes=1) == []

    def test_changes_are_recorded_with_before_and_after(self, stores: Stores) -> None:
        declared = replace(
            DECLARED,
            organizations=(Organization("acme", "Acme Corp", "pro"), Organization("beta", "Beta")),
            memberships=tuple(replace(m, role=Role.ADMIN) if m.email == "me@acme.test" else m
                              for m in DECLARED.memberships),
        )
        checks = (check("api", interval=30.0), check("site", team="web"))
        stores.apply(CONFIG, declared, checks, minutes=1)

        by_action = {e.action: e for e in stores.accounts.audit_entries(None, T0 + timedelta(minutes=1))}
        assert set(by_action) == {"org.update", "member.role", "check.update", "check.delete"}
        assert by_action["org.update"].changes() == [
            ("name", "Acme Inc", "Acme Corp"), ("plan", "starter", "pro")
        ]
        assert by_action["member.role"].changes() == [("role", "member", "admin")]
        assert by_action["check.update"].changes() == [("interval", 60.0, 30.0)]
        assert by_action["check.delete"].target == "beta/db"
        assert by_action["check.delete"].after is None

    def test_people_missing_from_the_config_are_kept(self, stores: Stores) -> None:
        stores.service.invite(stores.actor("ana@acme.test"), "acme", "guest@acme.test", Role.VIEWER, now=T0)
        stores.apply(CONFIG, minutes=1)
        assert "guest@acme.test" in {m.email for m in stores.accounts.memberships_in("acme")}

    def test_no_organizations_means_the_default_one(self) -> None:
        stores = Stores()
        entries = stores.apply(CONFIG, DeclaredAccounts.default(), (check("api", org="default"),))
        assert entries[:1] == [("org.create", "default", "config")]
        assert [o.slug for o in stores.accounts.list_organizations()] == ["default"]

    def test_check_audit_never_holds_header_values(self) -> None:
        from pulsewatch.domain.monitoring import HttpOptions

        stores = Stores()
        secret = check("api", http=HttpOptions(headers=(("Authorization", "Bearer s3cret"),)))
        stores.apply(CONFIG, checks=(secret,))
        entry = next(e for e in stores.accounts.audit if e.action == "check.create")
        assert entry.after is not None
        assert entry.after["header_names"] == ["Authorization"]
        assert "s3cret" not in str(stores.accounts.audit)


class TestApplyAsAUser:
    def test_an_admin_applies_changes_in_their_organization(self, stores: Stores) -> None:
        stores.apply(CONFIG, checks=(*CHECKS[:2], check("db", org="beta")))
        entries = stores.apply(stores.actor("ad@acme.test"), checks=(check("api", timeout=3.0), *CHECKS[1:]))
        assert entries == [("check.update", "acme/api", "ad@acme.test")]

    def test_deleting_another_organizations_check_is_refused_and_nothing_changes(
        self, stores: Stores
    ) -> None:
        before = stores.snapshot()
        with pytest.raises(PermissionDenied, match=r"ad@acme.test has no role in organization beta and may "
                                                   "not delete checks .* — check beta/db"):
            stores.apply(stores.actor("ad@acme.test"), checks=(*CHECKS[:2], check("new")))
        assert stores.snapshot() == before

    def test_a_member_edits_but_does_not_delete(self, stores: Stores) -> None:
        me = stores.actor("me@acme.test")
        assert stores.apply(me, checks=(check("api", retries=2), *CHECKS[1:])) == [
            ("check.update", "acme/api", "me@acme.test")
        ]
        with pytest.raises(PermissionDenied, match=r"may not delete checks"):
            stores.apply(me, checks=CHECKS[1:])

    def test_a_team_member_works_on_the_team_checks_only(self, stores: Stores) -> None:
        tw = stores.actor("tw@acme.test")
        created = stores.apply(tw, checks=(*CHECKS, check("cdn", team="web")))
        assert created[0][:2] == ("check.create", "acme/cdn")
        with pytest.raises(PermissionDenied, match=r"tw@acme.test has no role in organization acme"):
            stores.apply(tw, checks=(*CHECKS, check("cdn", team="web"), check("other")))
        with pytest.raises(PermissionDenied, match=r"may not edit checks"):  # moving a check out of the team
            stores.apply(tw, checks=(CHECKS[0], check("site"), CHECKS[2], check("cdn", team="web")))

    def test_only_the_system_creates_organizations(self, stores: Stores) -> None:
        declared = replace(DECLARED, organizations=(*DECLARED.organizations, Organization("gamma", "G")))
        with pytest.raises(PermissionDenied, match=r"created by `config apply` without --as"):
            stores.apply(stores.actor("ana@acme.test"), declared)

    def test_an_admin_may_not_rename_or_replan_the_organization(self, stores: Stores) -> None:
        renamed = replace(DECLARED, organizations=(Organization("acme", "Acme Corp", "starter"),
                                                   Organization("beta", "Beta")))
        with pytest.raises(PermissionDenied, match=r"may not manage the organization"):
            stores.apply(stores.actor("ad@acme.test"), renamed)
        replanned = replace(DECLARED, organizations=(Organization("acme", "Acme Inc", "pro"),
                                                     Organization("beta", "Beta")))
        with pytest.raises(PermissionDenied, match=r"may not manage billing"):
            stores.apply(stores.actor("ad@acme.test"), replanned)

    @pytest.mark.parametrize(
        "change",
        ["add a check", "edit a check", "delete a check", "add a member", "change a role", "add a team",
         "rename the organization"],
    )
    def test_a_viewer_can_change_nothing_through_config_apply(self, stores: Stores, change: str) -> None:
        declared, checks = DECLARED, tuple(CHECKS)
        if change == "add a check":
            checks = (*CHECKS, check("new"))
        elif change == "edit a check":
            checks = (check("api", interval=5.0), *CHECKS[1:])
        elif change == "delete a check":
            checks = CHECKS[1:]
        elif change == "add a member":
            declared = replace(DECLARED, memberships=(*DECLARED.memberships,
                                                      Membership("x@acme.test", "acme", Role.VIEWER)))
        elif change == "change a role":
            declared = replace(DECLARED, memberships=tuple(
                replace(m, role=Role.OWNER) if m.email == "vi@acme.test" else m
                for m in DECLARED.memberships
            ))
        elif change == "add a team":
            declared = replace(DECLARED, teams=(*DECLARED.teams, Team("acme", "ops")))
        else:
            declared = replace(DECLARED, organizations=(Organization("acme", "Mine", "starter"),
                                                        Organization("beta", "Beta")))
        before = stores.snapshot()
        with pytest.raises(PermissionDenied, match=r"vi@acme.test is a viewer in"):
            stores.apply(stores.actor("vi@acme.test"), declared, checks)
        assert stores.snapshot() == before

    def test_plan_lines(self) -> None:
        plan = plan_accounts(MemoryAccountsStore(), DECLARED)
        assert plan.lines()[:4] == [
            "+ organization acme (Acme Inc)", "+ organization beta (Beta)", "+ team acme/web",
            "+ user ana@acme.test (invited: no password yet)",
        ]
        assert "+ member tw@acme.test: member in team acme/web" in plan.lines()


class TestTenancy:
    @pytest.fixture
    def reads(self, stores: Stores) -> MemoryScopedReads:
        checks = stores.monitoring.load_checks()
        ids = {c.name: c.id or 0 for c in checks}
        return MemoryScopedReads(
            checks,
            [CheckState(ids["db"], Status.DOWN)],
            [ProbeResult(i, T0, 1.0, ok=True) for i in ids.values()],
            [Flip(i, T0, Status.UNKNOWN, Status.UP) for i in ids.values()],
        )

    def names(self, rows: list[tuple[Check, CheckState]]) -> list[str]:
        return [f"{c.org}/{c.name}" for c, _ in rows]

    def test_each_actor_sees_their_organizations_and_teams(
        self, stores: Stores, reads: MemoryScopedReads
    ) -> None:
        vi = stores.actor("vi@acme.test")
        assert self.names(visible_status_rows(reads, vi)) == ["acme/api", "acme/site"]
        assert self.names(visible_status_rows(reads, stores.actor("tw@acme.test"))) == ["acme/site"]
        assert self.names(visible_status_rows(reads, stores.actor("bea@beta.test"))) == ["beta/db"]
        assert len(visible_status_rows(reads, CONFIG)) == 3

    def test_history_of_a_check_out_of_reach_is_not_found(
        self, stores: Stores, reads: MemoryScopedReads
    ) -> None:
        db = next(c for c in reads.checks if c.name == "db")
        assert db.id is not None
        assert len(visible_results(reads, stores.actor("bea@beta.test"), db.id, 10)) == 1
        for email in ("ana@acme.test", "tw@acme.test"):
            with pytest.raises(NotFoundError):
                visible_results(reads, stores.actor(email), db.id, 10)
            with pytest.raises(NotFoundError):
                visible_flips(reads, stores.actor(email), db.id, 10)

    def test_pause_and_resume_are_checked_and_audited(self, stores: Stores) -> None:
        api = next(c for c in stores.monitoring.load_checks() if c.name == "api")
        with pytest.raises(PermissionDenied, match=r"vi@acme.test is a viewer .* may not pause or resume"):
            pause_check(stores.monitoring, stores.accounts, stores.actor("vi@acme.test"), api, True, T0)
        with pytest.raises(PermissionDenied, match=r"no role in organization acme"):
            pause_check(stores.monitoring, stores.accounts, stores.actor("bea@beta.test"), api, True, T0)

        me = stores.actor("me@acme.test")
        assert pause_check(stores.monitoring, stores.accounts, me, api, True, T0).status == Status.PAUSED
        assert pause_check(stores.monitoring, stores.accounts, me, api, False, T0).status == Status.UNKNOWN
        newest = stores.accounts.audit_entries({"acme"}, limit=2)
        assert [(e.action, e.actor, e.target, e.after) for e in newest] == [
            ("check.resume", "me@acme.test", "acme/api", {"paused": False}),
            ("check.pause", "me@acme.test", "acme/api", {"paused": True}),
        ]
