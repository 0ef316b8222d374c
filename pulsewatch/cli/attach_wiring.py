"""Composition of attach mode: the engines' command companions, and the console that attaches.

Engines get two companions (engine.companions): the CommandRunner, which executes what attached
consoles leave in the `commands` table, and the CheckWatch, which reloads checks other engines
changed. `pulsewatch console --attach` gets a console whose engine link follows the database
(engine.attach) and whose incident desk sends ack, resolve and silence through the commands table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.companions import Companion
    from engine.storage.accounts_store import SqlAccountsStore
    from engine.storage.store import SqlStore
    from pulsewatch.config import LoadedConfig
    from pulsewatch.services.alerting_access import AlertingAccess
    from tui.app import PulseWatchApp


def engine_companions(store: SqlStore) -> tuple[Companion, ...]:
    """What every engine on `store`'s database runs beside its probes for attached consoles and peers."""
    from datetime import UTC, datetime

    from engine.check_watch import CheckWatch
    from engine.commands import CommandRunner
    from engine.storage.apikey_store import SqlApiKeyStore
    from engine.storage.change_reads import SqlChangeReads
    from engine.storage.command_store import SqlCommandStore
    from pulsewatch.services.commands import AlertingCommands

    def now() -> datetime:
        return datetime.now(UTC)

    access, accounts = _alerting_access(store)
    runner = CommandRunner(SqlCommandStore(store), accounts=accounts,
                           alerting=AlertingCommands(access, accounts), wall_clock=now,
                           keys=SqlApiKeyStore(store))
    return runner, CheckWatch(SqlChangeReads(store))


def run_attached_console(config: LoadedConfig, store: SqlStore) -> int:
    """`pulsewatch console --attach`: the console over the shared database, without an engine."""
    app = attached_console_app(store, config)
    app.run()
    return app.return_code or 0


def attached_console_app(
    store: SqlStore, config: LoadedConfig | None = None, *, poll: float | None = None
) -> PulseWatchApp:
    """The console of attach mode: the same app and screens, a link that follows the database, and an
    incident desk whose changes go through the engines (both leave rows in the commands table).

    Args:
        store: the database the engines write.
        config: the console's theme, keymap, channels and plans (None: defaults, as in tests).
        poll: seconds between two reads of the database (None: engine.attach.POLL_SECONDS).
    """
    import time
    from datetime import UTC, datetime

    from engine.attach import POLL_SECONDS, AttachedDatabase
    from engine.storage.change_reads import SqlChangeReads
    from engine.storage.command_store import SqlCommandStore
    from pulsewatch.cli.console_services import console_services
    from pulsewatch.services.commands import CommandedIncidentDesk
    from tui.app import PulseWatchApp
    from tui.bridge import AttachedEngine
    from tui.preferences import Preferences

    def now() -> datetime:
        return datetime.now(UTC)

    services = console_services(store, config)
    commands = SqlCommandStore(store)
    attached = AttachedDatabase(SqlChangeReads(store), store, commands, requester=lambda: services.actor.name,
                                name=f"attached to {store.url}", poll=POLL_SECONDS if poll is None else poll)
    access, _ = _alerting_access(store)
    services.incidents = CommandedIncidentDesk(access, commands, clock=now, sleep=time.sleep,
                                               on_sent=attached.track)
    if config is None:
        return PulseWatchApp(AttachedEngine(attached), services=services)
    console = config.console
    return PulseWatchApp(AttachedEngine(attached), theme=console.theme, keymap=console.keymap or None,
                         preferences=Preferences.default(), services=services)


def _alerting_access(store: SqlStore) -> tuple[AlertingAccess, SqlAccountsStore]:
    """The role-checked alerting service on `store`, as the console and the CLI build it."""
    from engine.storage.accounts_store import SqlAccountsStore
    from engine.storage.alerting_store import AlertStore
    from engine.storage.scoped_reads import SqlScopedReads
    from pulsewatch.services.alerting_access import AlertingAccess

    accounts = SqlAccountsStore(store)
    return AlertingAccess(AlertStore(store), SqlScopedReads(store), accounts), accounts
