"""What a loaded config is made of: plain frozen data, ready for the engine, the console and services.

Plans, organizations and members are kept as validated data only; their rules (quotas, roles) live
in the domain. Secrets stay `SecretStr` (channel URLs) or out of the repr (the database URL).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from pulsewatch.config_retention import RetentionSettings
from pulsewatch.config_status import ApiSettings, StatusPage
from pulsewatch.config_yaml import Problem
from pulsewatch.domain.alerting import AlertingConfig
from pulsewatch.domain.money import Money as Money  # re-exported: the domain's Money, Decimal, one currency
from pulsewatch.domain.monitoring import Check


@dataclass(frozen=True)
class EngineSettings:
    """`engine:` — how the probing process runs."""

    name: str | None = None
    """This engine's name; None lets the engine pick one (the host name)."""
    listen: str | None = None
    """HOST:PORT for pings, /metrics and the API; None: no listener."""
    concurrency: int = 256
    """Most probes in flight at once."""
    region: str = ""
    """This engine's region ("" for the one default region)."""
    lease: float = 30.0
    """Seconds within which a dead engine's checks are taken over by the others."""
    quorum: int = 1
    """Regions that must agree before a check goes DOWN."""
    buffer: int = 50_000
    """Results held in memory while the database is down, before spooling to disk."""
    watch: float = 2.0
    """Seconds between looks at the config file for changes; 0: reload on SIGHUP only."""


@dataclass(frozen=True)
class ConsoleSettings:
    """`console:` — the look and the keys of the console."""

    theme: str = "pulsewatch-dark"
    keymap: dict[str, str] = field(default_factory=dict)
    """Binding id → comma-separated keys, ready for Textual's `App.set_keymap`."""


@dataclass(frozen=True)
class ChannelConfig:
    """A named alert destination: one or more Apprise URLs (secret)."""

    name: str
    urls: tuple[SecretStr, ...]


@dataclass(frozen=True)
class PlanLimits:
    """What a plan allows; None means unlimited. Durations in float seconds."""

    checks: int | None = None
    min_interval: float | None = None
    seats: int | None = None
    retention: float | None = None
    sms: int | None = None
    channels: int | None = None


@dataclass(frozen=True)
class PlanConfig:
    """A billing plan; `price` None means free."""

    name: str
    price: Money | None = None
    limits: PlanLimits = field(default_factory=PlanLimits)
    overage_sms: Money | None = None
    """Per SMS beyond `limits.sms` (None: the quota is hard)."""
    overage_seat: Money | None = None
    """Per member beyond `limits.seats`, per period (None: the seats are the most members)."""
    trial: float | None = None
    """Seconds of free trial for a new subscription (whole days)."""
    grace: float | None = None
    """Seconds an invoice may stay unpaid (whole days); None: the default, 14 days."""


@dataclass(frozen=True)
class MemberConfig:
    """A person in an organization or team, with their role (owner, admin, member, viewer)."""

    email: str
    role: str


@dataclass(frozen=True)
class TeamConfig:
    """A team inside an organization."""

    name: str
    members: tuple[MemberConfig, ...] = ()


@dataclass(frozen=True)
class OrganizationConfig:
    """A tenant: its plan (a name from `plans`), members and teams."""

    slug: str
    name: str
    plan: str | None = None
    members: tuple[MemberConfig, ...] = ()
    teams: tuple[TeamConfig, ...] = ()


@dataclass(frozen=True)
class LoadedConfig:
    """A whole, valid configuration. Checks are domain `Check`s with `id=None`."""

    path: Path | None = None
    """The file it was read from; None for text given directly."""
    database_url: str | None = field(default=None, repr=False)
    """From `database.url`, else $PULSEWATCH_DATABASE_URL, else None (the caller picks SQLite).
    Left out of the repr: it may hold a password."""
    engine: EngineSettings = field(default_factory=EngineSettings)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    channels: tuple[ChannelConfig, ...] = ()
    plans: tuple[PlanConfig, ...] = ()
    organizations: tuple[OrganizationConfig, ...] = ()
    """Empty when none are declared: every check is then in the `default` organization."""
    checks: tuple[Check, ...] = ()
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    """`retention:` — how long results and rollups are kept."""
    alerting: AlertingConfig = field(default_factory=AlertingConfig)
    """Channels, escalation policies, routes, maintenance windows, canaries and check severities."""
    status_pages: tuple[StatusPage, ...] = ()
    """`status_pages:` — public status pages, one per organization."""
    api: ApiSettings = field(default_factory=ApiSettings)
    """`api:` — the REST API's per-key rate limit."""
    quota_problems: tuple[Problem, ...] = ()
    """Checks and members beyond their organization's plan, located in the file. Loading does not
    refuse them (a file is valid YAML and config either way); every path that applies the file does —
    `config validate|plan|apply` and engine start (`pulsewatch.config_billing.require_within_plans`)."""
