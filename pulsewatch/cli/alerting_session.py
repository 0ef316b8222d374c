"""Who acts in `pulsewatch incident|channel|silence`, and the stores they act on.

The same rules as the account commands (`pulsewatch.cli.accounts`):
  * `--as EMAIL` acts as that user: every action is checked against their roles (in the
    organization — and team — of what is acted on) and recorded under their name; reads show only
    their organizations' incidents, silences and channels.
  * Without `--as`, reads show everything, and changes are allowed only while nobody can sign in yet
    (the bootstrap); they are then recorded under the login name at this shell. Once someone can
    sign in, a change without `--as` is refused and says so.
"""

from __future__ import annotations

import getpass
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pulsewatch.cli import wiring
from pulsewatch.cli.config_accounts import signin_for
from pulsewatch.domain.accounts import Actor

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator

    from engine.storage.alerting_store import AlertStore
    from pulsewatch.config import LoadedConfig
    from pulsewatch.services.alerting_access import AlertingAccess
    from pulsewatch.services.signin import SignIn


@dataclass(frozen=True)
class AlertSession:
    """One alerting command's config, stores and acting person."""

    config: LoadedConfig
    alerts: AlertStore
    access: AlertingAccess
    signin: SignIn
    as_user: str | None

    def acting(self) -> Actor:
        """For changes: the `--as` user, else (during the bootstrap only) the shell's login name.

        Raises:
            NotFoundError: the `--as` user does not exist.
            PermissionDenied: the `--as` user is disabled, or no `--as` while users can sign in.
        """
        if self.as_user:
            return self.signin.actor(self.as_user)
        self.signin.bootstrap_actor()  # refuses once someone can sign in
        return Actor.for_system(getpass.getuser())

    def reading(self) -> Actor:
        """For reads: the `--as` user (their organizations only), else everything."""
        return self.signin.actor(self.as_user) if self.as_user else Actor.for_system("cli")


@contextmanager
def alert_session(args: argparse.Namespace) -> Iterator[AlertSession]:
    """Load the config, open the store, and yield the session; the store is closed afterwards."""
    from engine.storage.accounts_store import SqlAccountsStore
    from engine.storage.alerting_store import AlertStore
    from engine.storage.scoped_reads import SqlScopedReads
    from pulsewatch.services.alerting_access import AlertingAccess

    config = wiring.load(args.config)
    store = wiring.open_store(wiring.database_url(config))
    try:
        accounts = SqlAccountsStore(store)
        alerts = AlertStore(store)
        access = AlertingAccess(alerts, SqlScopedReads(store), accounts)
        yield AlertSession(config, alerts, access, signin_for(accounts), getattr(args, "as_user", None))
    finally:
        store.close()
