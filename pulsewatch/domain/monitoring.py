"""Monitoring vocabulary: Check, ProbeResult, CheckState, Flip, and the state rule `evaluate()`.

Everything here is pure: no I/O, no clock. Callers pass `now` so the engine, the tests and the
console's snapshots all control time. Durations are float seconds (the engine's hot path does
arithmetic on them thousands of times a second); instants are timezone-aware UTC datetimes.
"""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    from pulsewatch.domain.conditions import Condition
    from pulsewatch.domain.heartbeats import HeartbeatSpec

DEFAULT_ORG = "default"
"""The organization every check belongs to when the config declares none."""

CONFIG_ORIGIN = "config"
"""A check declared in the YAML file: the file owns it, and `config apply` adds, changes and removes it."""
API_ORIGIN = "api"
"""A check created through the REST API: the API owns it, and config sync leaves it alone."""


class Status(enum.Enum):
    """What PulseWatch believes about a check right now. Values are the public `status --json` words."""

    UNKNOWN = "unknown"
    UP = "up"
    DOWN = "down"
    DEGRADED = "degraded"
    PAUSED = "paused"
    MAINTENANCE = "maintenance"


@dataclass(frozen=True)
class HttpOptions:
    """How an HTTP(S) check talks to its target."""

    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    """Header values often carry credentials (Authorization): kept out of reprs and logs."""
    body: str | None = field(default=None, repr=False)
    follow_redirects: bool = True
    max_redirects: int = 5
    verify_tls: bool = True
    max_body_bytes: int = 1_048_576
    """Body reads stop here, so a huge or endless response cannot hurt the engine."""
    proxy: str | None = field(default=None, repr=False)
    """Send requests through this HTTP proxy; its URL may carry credentials, so it stays out of reprs."""


@dataclass(frozen=True)
class TlsOptions:
    """Whom a check's TLS client trusts and how it proves itself (https and tls checks).

    Relative paths in a config file are resolved against its folder before they get here.
    """

    ca_file: str | None = None
    """Trust the CAs in this PEM bundle instead of the system's (a private CA)."""
    client_cert: str | None = None
    """Present this certificate (PEM) to servers that ask for one (mutual TLS)."""
    client_key: str | None = None
    """The client certificate's private key, when it is not in `client_cert` itself."""


@dataclass(frozen=True)
class StreamOptions:
    """What a tcp or udp check says and expects to hear back."""

    send: str | None = field(default=None, repr=False)
    """Written once connected (tcp) or sent as the datagram (udp); may hold credentials (AUTH ...)."""
    expect: str | None = None
    """The reply must contain this text, or match it whole when written as `pat(glob)`."""


@dataclass(frozen=True)
class Check:
    """One configured target and the rules for judging it.

    `id` is assigned by storage when the check is first saved; checks built from the config have
    `id=None` until then. `(org, name)` is the identity a person uses.
    """

    name: str
    url: str
    kind: str
    """Picked from the URL scheme: http, https, tcp, udp, tls, dns, icmp."""
    interval: float = 60.0
    timeout: float = 10.0
    conditions: tuple[Condition, ...] = ()
    failure_threshold: int = 1
    success_threshold: int = 1
    retries: int = 0
    org: str = DEFAULT_ORG
    team: str | None = None
    tags: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    notify: tuple[str, ...] = ()
    paused: bool = False
    http: HttpOptions = field(default_factory=HttpOptions)
    soft_conditions: tuple[Condition, ...] = ()
    """Conditions whose failure alone makes the check DEGRADED rather than DOWN (e.g. slow but up)."""
    retry_interval: float = 0.0
    """Seconds between a failed attempt and its retry within one round."""
    ip_version: int = 0
    """Address family to probe over: 4, 6, or 0 for whichever the name resolves to first."""
    tls: TlsOptions = field(default_factory=TlsOptions)
    stream: StreamOptions = field(default_factory=StreamOptions)
    packets: int = 3
    """ICMP echo requests per round (icmp checks): packet loss is measured over these."""
    heartbeat: HeartbeatSpec | None = None
    """The ping schedule of a heartbeat (push) check; None for every probed kind."""
    id: int | None = None
    origin: str = CONFIG_ORIGIN
    """Who owns the definition: CONFIG_ORIGIN (the YAML file) or API_ORIGIN (the REST API)."""

    @property
    def key(self) -> tuple[str, str]:
        """The identity a person uses: (organization, name)."""
        return (self.org, self.name)

    def fingerprint(self) -> str:
        """A digest of everything that defines the check, so config sync can tell changed from unchanged."""
        payload = {
            "name": self.name,
            "url": self.url,
            "kind": self.kind,
            "interval": self.interval,
            "timeout": self.timeout,
            "conditions": [c.source for c in self.conditions],
            "failure_threshold": self.failure_threshold,
            "success_threshold": self.success_threshold,
            "retries": self.retries,
            "org": self.org,
            "team": self.team,
            "tags": list(self.tags),
            "depends_on": list(self.depends_on),
            "notify": list(self.notify),
            "paused": self.paused,
            "http": {
                "method": self.http.method,
                "headers": [list(h) for h in self.http.headers],
                "body": self.http.body,
                "follow_redirects": self.http.follow_redirects,
                "max_redirects": self.http.max_redirects,
                "verify_tls": self.http.verify_tls,
                "max_body_bytes": self.http.max_body_bytes,
            },
        }
        # Newer fields join the digest only when set: a check written before they existed keeps its
        # fingerprint, so upgrading PulseWatch does not look like a config change (and reset states).
        extra = {
            "proxy": self.http.proxy,
            "soft_conditions": [c.source for c in self.soft_conditions],
            "retry_interval": self.retry_interval,
            "ip_version": self.ip_version,
            "tls": [self.tls.ca_file, self.tls.client_cert, self.tls.client_key],
            "stream": [self.stream.send, self.stream.expect],
            "packets": self.packets,
            "heartbeat": None if self.heartbeat is None else self.heartbeat.as_dict(),
            "origin": self.origin,
        }
        defaults = _FINGERPRINT_DEFAULTS
        payload.update({k: v for k, v in extra.items() if v != defaults[k]})
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:32]


_FINGERPRINT_DEFAULTS: dict[str, object] = {
    "proxy": None,
    "soft_conditions": [],
    "retry_interval": 0.0,
    "ip_version": 0,
    "tls": [None, None, None],
    "stream": [None, None],
    "packets": 3,
    "heartbeat": None,
    "origin": CONFIG_ORIGIN,
}


@dataclass(frozen=True)
class ConditionOutcome:
    """How one condition fared against one probe; `description` is the reason a person reads."""

    source: str
    passed: bool
    description: str


@dataclass(frozen=True)
class ProbeResult:
    """One attempt at a check.

    `error` is a short machine word for the failure kind ("timeout", "refused", "tls", "dns",
    "condition", "http"...), `message` the sentence a person acts on ("expected [STATUS] == 200,
    got 503"). Both are None/"" on success.

    `degraded` marks a result that passed every hard condition but failed a soft one: `ok` stays
    True (the target answered as required), `error` is "degraded" and `message` names the soft
    condition that failed.
    """

    check_id: int
    started_at: datetime
    duration_ms: float
    ok: bool
    status_code: int | None = None
    error: str | None = None
    message: str = ""
    outcomes: tuple[ConditionOutcome, ...] = ()
    engine: str = ""
    degraded: bool = False


@dataclass(frozen=True)
class CheckState:
    """What is currently believed about one check, and the counters that decide the next change."""

    check_id: int
    status: Status = Status.UNKNOWN
    since: datetime | None = None
    consecutive_failures: int = 0
    consecutive_successes: int = 0
    last_checked_at: datetime | None = None
    last_latency_ms: float | None = None
    last_error: str = ""
    flapping: bool = False


@dataclass(frozen=True)
class Flip:
    """A persisted status transition: the unit that incidents and alerts are made of."""

    check_id: int
    at: datetime
    old: Status
    new: Status
    reason: str = ""
    id: int | None = None


def evaluate(
    state: CheckState, result: ProbeResult, check: Check, now: datetime
) -> tuple[CheckState, Flip | None]:
    """Apply one probe result to a check's state: the whole state rule.

    A probe is healthy (passed every condition), degraded (passed the hard conditions, failed a
    soft one) or failed. Degraded and failed probes both extend the unhealthy streak: once it
    reaches `failure_threshold`, the check is DOWN if this probe failed and DEGRADED if it was only
    degraded — so a DEGRADED check that stops answering goes DOWN at once, and a DOWN one that
    answers again but slowly becomes DEGRADED at once. It comes back UP after `success_threshold`
    consecutive healthy probes. A check with no verdict yet (UNKNOWN, or PAUSED just resumed) turns
    UP on its first healthy probe — there is nothing to recover from — and DOWN or DEGRADED only once
    the threshold is met, so a single blip at start-up never pages anyone.

    Args:
        state: the state before this result.
        result: the probe result to apply.
        check: the check the result belongs to (for its thresholds).
        now: the instant the result is applied.

    Returns:
        The new state, and the Flip when the status changed (else None).
    """
    healthy = result.ok and not result.degraded
    if healthy:
        successes, failures = state.consecutive_successes + 1, 0
    else:
        successes, failures = 0, state.consecutive_failures + 1

    old = state.status
    new = old
    if healthy:
        no_verdict = old in (Status.UNKNOWN, Status.PAUSED)
        if old != Status.UP and (no_verdict or successes >= check.success_threshold):
            new = Status.UP
    elif failures >= check.failure_threshold:
        new = Status.DEGRADED if result.ok else Status.DOWN

    updated = replace(
        state,
        status=new,
        since=now if new != old or state.since is None else state.since,
        consecutive_failures=failures,
        consecutive_successes=successes,
        last_checked_at=result.started_at,
        last_latency_ms=result.duration_ms,
        last_error="" if healthy else result.message,
    )
    if new == old:
        return updated, None
    reason = result.message
    if new == Status.UP:
        reason = "recovered" if old in (Status.DOWN, Status.DEGRADED) else "first successful probe"
    return updated, Flip(check_id=state.check_id, at=now, old=old, new=new, reason=reason)
