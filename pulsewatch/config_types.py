"""What a loaded config is made of: plain frozen data, ready for the engine, the console and services.

Plans, organizations and members are kept as validated data only; their rules (quotas, roles) live
in the domain. Secrets stay `SecretStr` (channel URLs) or out of the repr (the database URL).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from pydantic import SecretStr

from pulsewatch.config_retention import RetentionSettings
from pulsewatch.domain.alerting import AlertingConfig
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
class Money:
    """An amount and its ISO 4217 currency code; Decimal because money is never float."""

    amount: Decimal
    currency: str

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


@dataclass(frozen=True)
class PlanLimits:
    """What a plan allows; None means unlimited. Durations in float seconds."""

    checks: int | None = None
    min_interval: float | None = None
    seats: int | None = None
    retention: float | None = None
    sms: int | None = None


@dataclass(frozen=True)
class PlanConfig:
    """A billing plan; `price` None means free."""

    name: str
    price: Money | None = None
    limits: PlanLimits = field(default_factory=PlanLimits)


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
