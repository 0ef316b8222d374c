"""The accounts side of `config apply`, `config plan` and `status --as` (called from `commands.py`).

`config apply` without `--as` acts as the system actor `config`; with `--as EMAIL` every change is
checked against that user's roles first (nothing is written when one is refused) and recorded under
their name. `status --as EMAIL` shows only that user's organizations' (and teams') checks.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pulsewatch.cli import wiring
from pulsewatch.domain.accounts import Actor, Role, normalize_email

if TYPE_CHECKING:
    from engine.storage.store import SqlStore
    from pulsewatch.config import LoadedConfig
    from pulsewatch.domain.monitoring import Check, CheckState
    from pulsewatch.services.accounts_config import DeclaredAccounts
    from pulsewatch.services.check_sync import CheckSyncPlan
    from pulsewatch.services.ports import AccountsStore
    from pulsewatch.services.signin import SignIn


def declared_accounts(config: LoadedConfig) -> DeclaredAccounts:
    """The organizations, teams and memberships the config declares (`default` when none are)."""
    from pulsewatch.domain.accounts import Membership, Organization, Team
    from pulsewatch.services.accounts_config import DeclaredAccounts

    if not config.organizations:
        return DeclaredAccounts.default()
    orgs, teams, memberships = [], [], []
    for org in config.organizations:
        orgs.append(Organization(org.slug, org.name, org.plan))
        memberships += [Membership(normalize_email(m.email), org.slug, Role(m.role)) for m in org.members]
        for team in org.teams:
            teams.append(Team(org.slug, team.name))
            memberships += [
                Membership(normalize_email(m.email), org.slug, Role(m.role), team.name) for m in team.members
            ]
    return DeclaredAccounts(tuple(orgs), tuple(teams), tuple(memberships))


def plan_config_accounts(config: LoadedConfig, store: SqlStore) -> list[str]:
    """`config plan`: the account changes applying would make, one a line."""
    from engine.storage.accounts_store import SqlAccountsStore
    from pulsewatch.services.accounts_config import plan_accounts

    return plan_accounts(SqlAccountsStore(store), declared_accounts(config)).lines()


def apply_config(config: LoadedConfig, store: SqlStore, as_user: str | None) -> CheckSyncPlan:
    """`config apply [--as EMAIL]`: accounts then checks, authorized and audited; prints account changes.

    Raises:
        PermissionDenied: the acting user may not make one of the changes (nothing is changed).
    """
    from engine.storage.accounts_store import SqlAccountsStore
    from pulsewatch.services import accounts_config

    accounts_store = SqlAccountsStore(store)
    actor = signin_for(accounts_store).actor(as_user) if as_user else Actor.for_system("config")
    applied = accounts_config.apply_config(
        accounts_store, store, declared_accounts(config), wiring.desired_checks(config, store), actor,
        datetime.now(UTC),
    )
    for line in applied.accounts.lines():
        print(line)
    return applied.checks


def status_rows_as(store: SqlStore, as_user: str) -> list[tuple[Check, CheckState]]:
    """`status --as EMAIL`: only the checks of that user's organizations (and teams)."""
    from engine.storage.accounts_store import SqlAccountsStore
    from engine.storage.scoped_reads import SqlScopedReads
    from pulsewatch.services.tenancy import visible_status_rows

    actor = signin_for(SqlAccountsStore(store)).actor(as_user)
    return visible_status_rows(SqlScopedReads(store), actor)


def signin_for(store: AccountsStore) -> SignIn:
    """Sign-in and `--as` over `store`, with argon2id hashes."""
    from pulsewatch.services.passwords import Argon2Hasher
    from pulsewatch.services.signin import SignIn

    return SignIn(store, Argon2Hasher())
