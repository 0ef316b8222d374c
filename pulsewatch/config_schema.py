"""The shape of the YAML file as pydantic models, one per section, each field documented.

These models only check shapes and single values (a duration is a duration, a threshold is at least 1).
Everything that relates two places of the file — a check's channel exists, a name is unique, an org's
plan is declared — is checked in `config_build` and `config_checks`, which turn these models into
domain objects.
Error messages here are written without the offending value: `pulsewatch.config` appends
`got ...` itself, and leaves it out for secret fields.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, SecretStr
from pydantic_core import PydanticCustomError

from pulsewatch.config_alerting import (
    CanaryName,
    EscalationPolicySection,
    MaintenanceSection,
    RouteSection,
    SeverityName,
)
from pulsewatch.config_retention import RetentionSection
from pulsewatch.config_status import ApiSection, StatusPageSection

DURATION_HINT = "expected a duration like 500ms, 30s, 5m, 1h or 2d"
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_SIZE = re.compile(r"(\d+)\s*(B|kB|KB|KiB|MB|MiB|GB|GiB)")
_SIZE_UNITS = {
    "B": 1,
    "kB": 1000,
    "KB": 1000,
    "KiB": 1024,
    "MB": 10**6,
    "MiB": 2**20,
    "GB": 10**9,
    "GiB": 2**30,
}
_MONEY = re.compile(r"(\d+(?:\.\d+)?)\s+([A-Z]{3})")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_LISTEN = re.compile(r"(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[^\s:\[\]]+)):(?P<port>\d{1,5})")
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
ROLES = ("owner", "admin", "member", "viewer")


# --- single values ---------------------------------------------------------------------------------


def parse_duration(value: object) -> float:
    """`500ms`, `30s`, `5m`, `1h`, `2d`, `1w` and sums like `1h30m` → float seconds (> 0).

    A bare number is refused: `30` could mean seconds or milliseconds, and a monitor that probes
    1000 times too often is worse than an error.
    """
    if isinstance(value, str):
        text = value.strip()
        parts = _DURATION_PART.findall(text)
        if parts and "".join(n + u for n, u in parts) == text:
            seconds = sum(float(n) * _DURATION_UNITS[u] for n, u in parts)
            if seconds > 0:
                return seconds
            raise PydanticCustomError("duration", "expected a duration longer than zero")
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise PydanticCustomError("duration", DURATION_HINT + " (a bare number has no unit)")
    raise PydanticCustomError("duration", DURATION_HINT)


def _watch(value: object) -> float:
    """`engine.watch`: a duration, or `off` / false for "reload on SIGHUP only" (0.0)."""
    if value is False or (isinstance(value, str) and value.strip().lower() == "off"):
        return 0.0
    return parse_duration(value)




def parse_size(value: object) -> int:
    """A byte count: a whole number, or `64KiB`, `1MiB`, `2MB`... (at least 1 byte)."""
    size: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    elif isinstance(value, str) and (match := _SIZE.fullmatch(value.strip())):
        size = int(match.group(1)) * _SIZE_UNITS[match.group(2)]
    if size is None or size < 1:
        raise PydanticCustomError("size", "expected a size in bytes like 65536, 64KiB or 1MiB")
    return size


def parse_money(value: object) -> tuple[Decimal, str]:
    """`19.00 USD` → (Decimal("19.00"), "USD"). Never through float: 0.1 + 0.2 is not a price."""
    if isinstance(value, str) and (match := _MONEY.fullmatch(value.strip())):
        return Decimal(match.group(1)), match.group(2)
    raise PydanticCustomError(
        "money", "expected an amount and a currency code like 19.00 USD (write it as text, not a number)"
    )


def _listen(value: str) -> str:
    match = _LISTEN.fullmatch(value.strip())
    if match is None or int(match.group("port")) > 65535:
        raise PydanticCustomError("listen", "expected HOST:PORT like 127.0.0.1:8787 or [::1]:8787")
    return value.strip()


def _name(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("name", "must not be empty")
    if value != value.strip() or any(ord(ch) < 32 for ch in value):
        raise PydanticCustomError("name", "must not start or end with spaces or contain control characters")
    return value


def _slug(value: str) -> str:
    if _SLUG.fullmatch(value) is None:
        raise PydanticCustomError(
            "slug", "expected a slug: lowercase letters, digits and dashes, starting with a letter or digit"
        )
    return value


def _email(value: str) -> str:
    if _EMAIL.fullmatch(value.strip()) is None:
        raise PydanticCustomError("email", "expected an email address like ana@example.com")
    return value.strip()


def _role(value: str) -> str:
    if value not in ROLES:
        raise PydanticCustomError("role", "expected one of owner, admin, member, viewer")
    return value


def _method(value: str) -> str:
    if value.upper() not in HTTP_METHODS:
        raise PydanticCustomError("method", "expected an HTTP method: " + ", ".join(HTTP_METHODS))
    return value.upper()


def _scalar_text(value: object) -> object:
    """Header values like `3` or `true` are text on the wire; accept them as YAML wrote them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _header_name(value: str) -> str:
    if _TOKEN.fullmatch(value) is None:
        raise PydanticCustomError(
            "header", "expected a header name (letters, digits and - _ . ! # $ % & ' * + ^ ` | ~)"
        )
    return value


def _header_value(value: SecretStr) -> SecretStr:
    if any(ch in value.get_secret_value() for ch in "\r\n\0"):
        raise PydanticCustomError(
            "header", "a header value cannot contain line breaks (the value is not shown)"
        )
    return value


def _keys(value: object) -> object:
    """A keymap entry may list keys (`[ctrl+r, f5]`); Textual wants them comma-separated."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ",".join(v.strip() for v in value)
    return value


def _ip_version(value: object) -> object:
    """`ip_version: 4 | 6 | any` → 4, 6 or 0 (any)."""
    if value == "any":
        return 0
    if value in (4, 6, "4", "6") and not isinstance(value, bool):
        return int(str(value))
    raise PydanticCustomError("ip_version", "expected 4, 6 or any")


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank", "must not be empty")
    return value


Duration = Annotated[float, BeforeValidator(parse_duration)]
Watch = Annotated[float, BeforeValidator(_watch)]
Size = Annotated[int, BeforeValidator(parse_size)]
Money = Annotated[tuple[Decimal, str], BeforeValidator(parse_money)]
Name = Annotated[str, AfterValidator(_name)]
Slug = Annotated[str, AfterValidator(_slug)]
Email = Annotated[str, AfterValidator(_email)]
Role = Annotated[str, AfterValidator(_role)]
Method = Annotated[str, AfterValidator(_method)]
Listen = Annotated[str, AfterValidator(_listen)]
HeaderName = Annotated[str, AfterValidator(_header_name)]
HeaderValue = Annotated[SecretStr, BeforeValidator(_scalar_text), AfterValidator(_header_value)]
Keys = Annotated[str, BeforeValidator(_keys), AfterValidator(_not_blank)]
Text = Annotated[str, AfterValidator(_not_blank)]
IpVersion = Annotated[int, BeforeValidator(_ip_version)]


class Section(BaseModel):
    """Base of every section: unknown keys are errors (a typo must never be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


# --- sections --------------------------------------------------------------------------------------


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


class PlanLimitsSection(Section):
    """A plan's `limits:`; an absent limit means unlimited."""

    checks: int | None = Field(default=None, ge=0)
    """Most checks an organization on this plan may have."""
    min_interval: Duration | None = None
    """Shortest interval its checks may use."""
    seats: int | None = Field(default=None, ge=1)
    """Most members (users) in the organization."""
    retention: Duration | None = None
    """How long raw probe results are kept."""
    sms: int | None = Field(default=None, ge=0)
    """SMS notifications included per billing period."""
    channels: int | None = Field(default=None, ge=0)
    """Most distinct alert channels the organization's checks may notify."""


class PlanOverageSection(Section):
    """A plan's `overage:` — prices of use beyond the included amounts (same currency as `price`)."""

    sms: Money | None = None
    """Per SMS beyond `limits.sms`; unset: past the quota, SMS alerts go to the next channel instead."""
    seat: Money | None = None
    """Per member beyond `limits.seats`, per billing period; unset: `seats` is the most members."""


class PlanSection(Section):
    """One entry of `plans:`."""

    name: Name
    """What organizations name in `plan:`; unique."""
    price: Money | None = None
    """Price per billing period with its currency, like `19.00 USD`; unset: free."""
    limits: PlanLimitsSection = PlanLimitsSection()
    """What an organization on this plan may use."""
    overage: PlanOverageSection = PlanOverageSection()
    """What use beyond the limits costs (pulsewatch.config_billing)."""
    trial: Duration | None = None
    """A new subscription's first period is a free trial this long, in whole days like `14d`."""
    grace: Duration | None = None
    """How long an invoice may stay unpaid before edits are blocked (whole days; default 14d)."""


class MemberSection(Section):
    """A member of an organization or a team."""

    email: Email
    """The user's email address (their login)."""
    role: Role = "member"
    """owner, admin, member or viewer."""


class TeamSection(Section):
    """One entry of an organization's `teams:`."""

    name: Name
    """Unique within the organization; checks name it in `team:`."""
    members: list[MemberSection] = Field(default_factory=list)
    """Members of this team (they are members of the organization too)."""


class OrganizationSection(Section):
    """One entry of `organizations:` — a tenant."""

    slug: Slug
    """Short id used by checks (`org:`), URLs (/status/SLUG) and commands; unique."""
    name: Text | None = None
    """Display name (default: the slug)."""
    plan: Name | None = None
    """A plan from `plans:`; unset: not limited."""
    members: list[MemberSection] = Field(default_factory=list)
    """Members of the organization with their role."""
    teams: list[TeamSection] = Field(default_factory=list)
    """Teams inside the organization."""


class BasicAuthSection(Section):
    """`auth: {basic: {username, password}}` — HTTP basic authentication."""

    username: Text
    """The user name (sent with the password in the Authorization header)."""
    password: SecretStr
    """Secret: never shown in errors or logs."""


class AuthSection(Section):
    """A check's `auth:` — how an http(s) probe authenticates; give `basic` or `bearer`."""

    basic: BasicAuthSection | None = None
    """Basic authentication with a user name and password."""
    bearer: SecretStr | None = None
    """A bearer token, sent as `Authorization: Bearer TOKEN`. Secret: never shown."""


class HttpDefaults(Section):
    """Fields shared by `defaults:` and checks (base class, not a section of its own)."""

    interval: Duration | None = None
    """Time between probes (default 60s)."""
    timeout: Duration | None = None
    """Longest a probe may take; at most the interval (default 10s, or the interval if shorter)."""
    conditions: list[Text] | None = Field(default=None, min_length=1)
    """What must hold for a probe to pass (Gatus syntax). Default: `[STATUS] < 400` for http(s),
    `[CONNECTED] == true` for tcp."""
    failure_threshold: int | None = Field(default=None, ge=1)
    """Consecutive failures before the check goes down (default 1)."""
    success_threshold: int | None = Field(default=None, ge=1)
    """Consecutive successes before a down check is up again (default 1)."""
    retries: int | None = Field(default=None, ge=0)
    """Immediate re-tries of a failed probe before it counts as one failure (default 0)."""
    notify: list[Name] | None = None
    """Channel names to alert (default: none)."""
    method: Method | None = None
    """HTTP method (default GET). http(s) only."""
    headers: dict[HeaderName, HeaderValue] | None = None
    """Request headers. Secret: values are never shown in errors or logs. http(s) only."""
    follow_redirects: bool | None = None
    """Follow 3xx redirects (default true). http(s) only."""
    max_redirects: int | None = Field(default=None, ge=0)
    """Most redirects followed (default 5). http(s) only."""
    verify_tls: bool | None = None
    """Verify the server's certificate (default true). http(s) only."""
    max_body_bytes: Size | None = None
    """Most of the body read for [BODY] conditions (default 1MiB). http(s) only."""
    soft_conditions: list[Text] | None = Field(default=None, min_length=1)
    """Conditions whose failure alone makes the check DEGRADED instead of DOWN (e.g. `[RESPONSE_TIME]
    < 800`): the target answered, but not well. Same syntax as conditions."""
    retry_interval: Duration | None = None
    """Wait between a failed attempt and its retry within one round (default: retry at once)."""
    ip_version: IpVersion | None = None
    """Probe over IPv4 (4), IPv6 (6), or whichever the name resolves to first (any, the default)."""
    auth: AuthSection | None = None
    """Basic or bearer authentication. Secret. http(s) only."""
    proxy: SecretStr | None = None
    """Send requests through this HTTP proxy, like http://proxy.example.com:3128. Secret (it may hold a
    password). http(s) only."""
    ca_file: Text | None = None
    """Trust the CAs in this PEM file instead of the system's (a private CA). https and tls only."""
    client_cert: Text | None = None
    """Present this client certificate (PEM; it may hold the key too). https and tls only."""
    client_key: Text | None = None
    """The client certificate's private key (PEM), when it is a separate file. https and tls only."""


class HeartbeatSection(Section):
    """A check's `heartbeat:` — when its job's pings are due (rules in `pulsewatch.config_heartbeat`)."""

    period: Duration | None = None
    """Time between pings, like 1d (give this or cron)."""
    cron: Text | None = None
    """When the job runs, as a five-field cron expression like "0 3 * * *" (give this or period)."""
    timezone: Text | None = None
    """IANA time zone the cron expression is read in, like Europe/Berlin (default UTC)."""
    grace: Duration | None = None
    """How late a ping may be before the check is DOWN; also the longest run after /start (default 1h)."""
    token: Text | None = None
    """The secret in the ping URL /ping/TOKEN (default: derived from the check; see `status --json`)."""


class DefaultsSection(HttpDefaults):
    """`defaults:` — values every check gets unless it sets its own.

    http-only fields and `conditions` apply to http(s) checks only, so tcp checks keep their own
    default condition; `headers` are merged with a check's headers (the check wins per header).
    """


class CheckSection(HttpDefaults):
    """One entry of `checks:` — a target and the rules for judging it."""

    name: Name
    """Unique within its organization."""
    org: Slug | None = None
    """Organization slug; optional when there is at most one organization."""
    team: Name | None = None
    """A team of the organization (free-form group when no organizations are declared)."""
    url: str | None = None
    """Target; the scheme picks the kind: http://, https://, tcp://HOST:PORT, udp://HOST:PORT,
    tls://HOST[:PORT], dns://RESOLVER[:PORT]/NAME?type=A, icmp://HOST."""
    heartbeat: HeartbeatSection | None = None
    """Makes this a push (heartbeat) check: the job pings /ping/TOKEN on engine.listen; no url."""
    body: str | None = None
    """Request body. http(s) only; never shown in errors."""
    send: str | None = None
    """Text sent once connected (tcp) or as the datagram (udp; required there). Never shown in errors."""
    expect: Text | None = None
    """The reply must contain this text, or match it whole when written pat(GLOB). tcp and udp only."""
    packets: int | None = Field(default=None, ge=1, le=100)
    """Echo requests per round, for packet loss (default 3). icmp only."""
    tags: list[Text] = Field(default_factory=list)
    """Free labels for filtering and grouping in the console."""
    depends_on: list[Name] = Field(default_factory=list)
    """Names of checks (same organization) whose failure explains this one's."""
    severity: SeverityName | None = None
    """critical, warning or info: routes pick escalation policies by it (default critical)."""
    paused: bool = False
    """Keep the check configured but do not probe it."""


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
