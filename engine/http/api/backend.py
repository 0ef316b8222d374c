"""What the REST API and the status pages need beyond the ListenerContext: stores on the engine's
database, the config's alerting and status-page sections, the rate limiter and a clock.

Built once by the composition root (`pulsewatch.cli.wiring`) and handed to the Engine, which passes it
to the listener. Every store here is blocking: handlers reach them through `context.read/write`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import trio

from engine.http.api.ratelimit import RateLimiter
from engine.storage.accounts_store import SqlAccountsStore
from engine.storage.alerting_store import AlertStore
from engine.storage.api_store import SqlApiStore
from engine.storage.apikey_store import SqlApiKeyStore
from engine.storage.command_store import SqlCommandStore
from engine.storage.rollup_store import RollupStore
from engine.storage.scoped_reads import SqlScopedReads
from pulsewatch.config_retention import RetentionSettings
from pulsewatch.config_status import ApiSettings, StatusPage
from pulsewatch.domain.alerting import AlertingConfig

if TYPE_CHECKING:
    from engine.cluster import Cluster
    from engine.storage.store import SqlStore
    from pulsewatch.config import LoadedConfig
    from pulsewatch.services.api_checks import ChecksGate

SendMessage = Callable[[Sequence[str], str, str], object]
"""`engine.notify.apprise.send(urls, title, body)`: blocking; raises NotifyError when a URL fails."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _apprise_send(urls: Sequence[str], title: str, body: str) -> object:
    from engine.notify.apprise import send  # apprise loads only when a channel is tested

    return send(urls, title, body)


@dataclass
class ApiBackend:
    """The REST API's dependencies (one per engine).

    Args:
        sql: the engine's open store.
        alerting: channels and maintenance windows of the config.
        status_pages: the config's public pages.
        retention: for report windows (what the rollups still hold).
        settings: the per-key rate limit.
        wall_clock: timestamps of changes and report windows.
        send_message: how a channel test is sent (the real Apprise sender; tests may pass another).
        gates: billing's say on creating, changing and deleting checks (plan limits, past due);
            None: the API limits nothing (`pulsewatch.cli.wiring.make_api` always gives one).
        cluster: the engine's shard leases: pause, resume and run now of a check another engine
            runs become commands for that engine (engine.http.api.check_routing); None: this engine
            runs every check.
    """

    sql: SqlStore
    alerting: AlertingConfig = field(default_factory=AlertingConfig)
    status_pages: tuple[StatusPage, ...] = ()
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    settings: ApiSettings = field(default_factory=ApiSettings)
    wall_clock: Callable[[], datetime] = _utc_now
    send_message: SendMessage = _apprise_send
    gates: ChecksGate | None = None
    cluster: Cluster | None = None

    def __post_init__(self) -> None:
        self.accounts = SqlAccountsStore(self.sql)
        self.keys = SqlApiKeyStore(self.sql)
        self.api = SqlApiStore(self.sql)
        self.commands = SqlCommandStore(self.sql)
        self.alerts = AlertStore(self.sql)
        self.rollups = RollupStore(self.sql)
        self.scoped = SqlScopedReads(self.sql)
        self.limiter = RateLimiter(self.settings.rate, self.settings.burst)
        self.send_limiter = trio.CapacityLimiter(2)
        """Channel tests in flight at once (each may take the channel's timeout)."""
        self.page_cache: dict[str, tuple[float, str]] = {}
        """Rendered status pages by organization: (trio time, HTML), see engine.http.status_page."""

    @classmethod
    def for_config(
        cls,
        sql: SqlStore,
        config: LoadedConfig,
        gates: ChecksGate | None = None,
        cluster: Cluster | None = None,
    ) -> ApiBackend:
        """The backend for an engine running `config` on `sql`, with billing's `gates` and its `cluster`."""
        return cls(
            sql,
            alerting=config.alerting,
            status_pages=config.status_pages,
            retention=config.retention,
            settings=config.api,
            gates=gates,
            cluster=cluster,
        )

    def status_page(self, org: str) -> StatusPage | None:
        """The configured status page of `org`, if any."""
        return next((p for p in self.status_pages if p.org == org), None)
