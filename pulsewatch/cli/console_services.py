"""The console's composition root for stored data: the real services over the SqlStore.

The console (tui/) may not import engine.storage, so the CLI builds the services here and hands them
to PulseWatchApp typed as the Protocols in tui/services.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.storage.store import SqlStore
    from pulsewatch.config_types import LoadedConfig
    from tui.services import ConsoleServices


def console_services(store: SqlStore, config: LoadedConfig | None = None) -> ConsoleServices:
    """The console's services on `store`'s database.

    Incidents and channels go through AlertingAccess and members through Accounts (roles checked, changes
    audited; with `config`, new members also pass the plan's seat gate). Sign-in is set only when
    some account can sign in: the console then asks who you are before anything else. Engines and
    stored uptime are read straight from their stores (no tenant data in them, see tui/services.py).
    """
    from engine.storage.accounts_store import SqlAccountsStore
    from engine.storage.alerting_store import AlertStore
    from engine.storage.cluster_store import ClusterStore
    from engine.storage.scoped_reads import SqlScopedReads
    from engine.storage.uptime_store import UptimeStore
    from pulsewatch.cli import billing_wiring
    from pulsewatch.cli.config_accounts import signin_for
    from pulsewatch.cli.console_stores import EngineBoard, RollupBoard
    from pulsewatch.domain.cluster import DEFAULT_LEASE
    from pulsewatch.services.accounts import Accounts
    from pulsewatch.services.alerting_access import AlertingAccess
    from pulsewatch.services.console_channels import ChannelBoard
    from pulsewatch.services.passwords import Argon2Hasher
    from tui.services import ConsoleServices

    accounts = SqlAccountsStore(store)
    alerts = AlertStore(store)
    access = AlertingAccess(alerts, SqlScopedReads(store), accounts)
    channels = config.alerting.channels if config is not None else ()
    seats = billing_wiring.billing_gates(config, store).admit_member if config is not None else None
    signin = signin_for(accounts)
    members = Accounts(accounts, Argon2Hasher(), seat_gate=seats)
    lease = config.engine.lease if config is not None else DEFAULT_LEASE
    return ConsoleServices(
        incidents=access,
        teams=members,
        audit=members,
        channels=ChannelBoard(access, alerts, channels),
        billing=billing_wiring.billing_service(config, store) if config and config.plans else None,
        signin=signin if signin.sign_in_required() else None,
        engines=EngineBoard(ClusterStore(store), lease),
        rollups=RollupBoard(UptimeStore(store)),
    )
