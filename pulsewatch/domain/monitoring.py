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

DEFAULT_ORG = "default"
"""The organization every check belongs to when the config declares none."""


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


@dataclass(frozen=True)
class Check:
    """One configured target and the rules for judging it.

    `id` is assigned by storage when the check is first saved; checks built from the config have
    `id=None` until then. `(org, name)` is the identity a person uses.
    """

    name: str
    url: str
    kind: str
    """Picked from the URL scheme: http, https, tcp (more kinds arrive with their probes)."""
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
    id: int | None = None

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
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:32]


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

    A check goes DOWN after `failure_threshold` consecutive failures and comes back UP after
    `success_threshold` consecutive successes. A check with no verdict yet (UNKNOWN, or PAUSED
    just resumed) turns UP on its first success — there is nothing to recover from — and DOWN
    only once the failure threshold is met, so a single blip at start-up never pages anyone.

    Args:
        state: the state before this result.
        result: the probe result to apply.
        check: the check the result belongs to (for its thresholds).
        now: the instant the result is applied.

    Returns:
        The new state, and the Flip when the status changed (else None).
    """
    if result.ok:
        successes, failures = state.consecutive_successes + 1, 0
    else:
        successes, failures = 0, state.consecutive_failures + 1

    old = state.status
    new = old
    if result.ok:
        no_verdict = old in (Status.UNKNOWN, Status.PAUSED)
        if old != Status.UP and (no_verdict or successes >= check.success_threshold):
            new = Status.UP
    elif old != Status.DOWN and failures >= check.failure_threshold:
        new = Status.DOWN

    updated = replace(
        state,
        status=new,
        since=now if new != old or state.since is None else state.since,
        consecutive_failures=failures,
        consecutive_successes=successes,
        last_checked_at=result.started_at,
        last_latency_ms=result.duration_ms,
        last_error="" if result.ok else result.message,
    )
    if new == old:
        return updated, None
    reason = "recovered" if new == Status.UP and result.ok else result.message
    if new == Status.UP and old != Status.DOWN:
        reason = "first successful probe"
    return updated, Flip(check_id=state.check_id, at=now, old=old, new=new, reason=reason)
