"""A check's YAML as pydantic models: `checks:` entries, `defaults:`, and their `auth:` and `heartbeat:`.

The largest part of the file and the one that grows with every probe kind, so it has its own module;
`config_schema` names these models in `ConfigFile`. Only shapes and single values are checked here:
which fields a kind accepts, merging `defaults:` and the names checks refer to are checked in
`config_checks` (and heartbeat rules in `config_heartbeat`).
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from pulsewatch.config_alerting import SeverityName
from pulsewatch.config_schema_values import (
    Duration,
    HeaderName,
    HeaderValue,
    IpVersion,
    Method,
    Name,
    Section,
    Size,
    Slug,
    Text,
)


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
