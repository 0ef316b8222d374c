"""The shape of the YAML file as pydantic models, one per section, each field documented.

These models only check shapes and single values (a duration is a duration, a threshold is at least 1).
Everything that relates two places of the file — a check's channel exists, a name is unique, an org's
plan is declared — is checked in `config_build` and `config_checks`, which turn these models into
domain objects.
Error messages here are written without the offending value: `pulsewatch.config` appends
`got ...` itself, and leaves it out for secret fields.

This module holds the small top-level sections and `ConfigFile`, which names them all; the rest live
by subject and are re-exported here, so `from pulsewatch.config_schema import ...` stays the one
import path for every model and value type:

  config_schema_values  single-value types (`Duration`, `Name`...) and the `Section` base
  config_schema_checks  `checks:` and `defaults:` with their `auth:` and `heartbeat:`
  config_schema_orgs    `plans:` and `organizations:` (members, teams)
  config_alerting, config_retention, config_status  their sections and what they build
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from pulsewatch.config_alerting import (
    CanaryName,
    EscalationPolicySection,
    MaintenanceSection,
    RouteSection,
)
from pulsewatch.config_retention import RetentionSection
from pulsewatch.config_schema_checks import (
    AuthSection,
    BasicAuthSection,
    CheckSection,
    DefaultsSection,
    HeartbeatSection,
    HttpDefaults,
)
from pulsewatch.config_schema_orgs import (
    MemberSection,
    OrganizationSection,
    PlanLimitsSection,
    PlanOverageSection,
    PlanSection,
    TeamSection,
)
from pulsewatch.config_schema_values import (
    DURATION_HINT,
    HTTP_METHODS,
    ROLES,
    Duration,
    Email,
    HeaderName,
    HeaderValue,
    IpVersion,
    Keys,
    Listen,
    Method,
    Money,
    Name,
    Role,
    Section,
    Size,
    Slug,
    Text,
    Watch,
    parse_duration,
    parse_money,
    parse_size,
)
from pulsewatch.config_schema_values import _name as _name  # config_alerting's rule for check names
from pulsewatch.config_status import ApiSection, StatusPageSection

__all__ = [
    "DURATION_HINT",
    "HTTP_METHODS",
    "ROLES",
    "AuthSection",
    "BasicAuthSection",
    "ChannelSection",
    "CheckSection",
    "ConfigFile",
    "ConsoleSection",
    "DatabaseSection",
    "DefaultsSection",
    "Duration",
    "Email",
    "EngineSection",
    "HeaderName",
    "HeaderValue",
    "HeartbeatSection",
    "HttpDefaults",
    "IpVersion",
    "Keys",
    "Listen",
    "MemberSection",
    "Method",
    "Money",
    "Name",
    "OrganizationSection",
    "PlanLimitsSection",
    "PlanOverageSection",
    "PlanSection",
    "Role",
    "Section",
    "Size",
    "Slug",
    "TeamSection",
    "Text",
    "Watch",
    "parse_duration",
    "parse_money",
    "parse_size",
]


class DatabaseSection(Section):
    """`database:` — where results, states and incidents are stored."""

    url: SecretStr | None = None
    """`sqlite:///PATH` or `mysql://USER:PASSWORD@HOST:3306/DB`. Unset: $PULSEWATCH_DATABASE_URL, else
    SQLite under the user's data directory. Secret: never shown in errors or logs."""


class EngineSection(Section):
    """`engine:` — the process that probes."""

    name: Text | None = None
    """This engine's name in results and the engines table (default: the host name)."""
    listen: Listen | None = None
    """HOST:PORT for heartbeat pings, /metrics, /healthz and the REST API; unset: no listener."""
    concurrency: int = Field(default=256, ge=1)
    """Most probes in flight at once."""
    region: Text | None = None
    """Where this engine probes from (e.g. eu-west); engines of one region share the checks between
    them, each region probes every check. Unset: the one default region."""
    lease: Duration = Field(default=30.0, ge=3.0)
    """Within this long, the checks of an engine that died are taken over by the others."""
    quorum: int = Field(default=1, ge=1)
    """Regions whose latest results must fail before a check goes DOWN (1: any engine decides alone)."""
    buffer: int = Field(default=50_000, ge=100)
    """Results held in memory while the database is down; beyond, they wait in a spool file."""
    watch: Watch = 2.0
    """How often a running engine looks for changes to this file, like 2s; `off`: only on SIGHUP."""


class ConsoleSection(Section):
    """`console:` — the Textual console."""

    theme: Text = "pulsewatch-dark"
    """Theme name: pulsewatch-dark, pulsewatch-light, pulsewatch-high-contrast, or a Textual theme."""
    keymap: dict[str, Keys] = Field(default_factory=dict)
    """Binding id → keys, e.g. `pw.run-now: ctrl+r,f5` (a list of keys works too)."""


class ChannelSection(Section):
    """One entry of `channels:` — where alerts go."""

    name: Name
    """What checks list in `notify:`; unique."""
    urls: list[SecretStr] = Field(min_length=1)
    """Apprise URLs (json://, mailto://, slack://...). Secret: never shown in errors or logs."""


class ConfigFile(Section):
    """The whole file. `pulsewatch.config` validates each section (and each list item) on its own so
    that one bad check does not hide the problems of the others; this model names the sections and
    documents the file as a whole (`ConfigFile.model_json_schema()`)."""

    database: DatabaseSection | None = None
    """Storage."""
    engine: EngineSection | None = None
    """The probing engine."""
    console: ConsoleSection | None = None
    """The console."""
    defaults: DefaultsSection | None = None
    """Values merged into every check."""
    channels: list[ChannelSection] | None = None
    """Where alerts go."""
    plans: list[PlanSection] | None = None
    """Billing plans and their limits; without plans nothing is limited."""
    organizations: list[OrganizationSection] | None = None
    """Tenants; without them everything is in one organization, `default`."""
    checks: list[CheckSection] | None = None
    """What to watch."""
    retention: RetentionSection | None = None
    """How long results and rollups are kept (pulsewatch.config_retention)."""
    escalation_policies: list[EscalationPolicySection] | None = None
    """Who hears about an incident, and when (pulsewatch.config_alerting)."""
    routes: list[RouteSection] | None = None
    """Which checks get which escalation policy, by team, tag and severity; first match wins."""
    maintenance: list[MaintenanceSection] | None = None
    """Planned work: one-off or recurring (cron) windows that suppress alerts."""
    canaries: list[CanaryName] | None = None
    """Checks that test the engine's own connectivity: when all fail, alerts are held."""
    status_pages: list[StatusPageSection] | None = None
    """Public status pages, one per organization (pulsewatch.config_status)."""
    api: ApiSection | None = None
    """Limits of the REST API on engine.listen (pulsewatch.config_status)."""
