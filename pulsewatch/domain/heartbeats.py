"""Heartbeat (push) checks: when a ping is due, when a missing one makes the check DOWN, what a ping says.

A heartbeat check is passive: the job pings PulseWatch (`/ping/<token>` on `engine.listen`) and the
engine only watches the clock. The rules follow Healthchecks.io so people moving from it keep their
habits:

- A schedule is a period (`every 1d`) or a cron expression in a time zone. The next ping is expected
  one period after the last one, or at the cron expression's next fire after it.
- `grace` is the slack after that: the check goes DOWN once `expected + grace` passes without a ping.
- A `/start` ping opens a run: if no success or failure follows within `grace`, the check goes DOWN
  even when the schedule is not yet due. A finish within 72 hours of its start gives the run duration.
- `/fail` and `/<exit-status>` (non-zero) are failures; `/<0>` and a bare ping are successes;
  `/start` and `/log` are recorded but change no state.

Start and log pings are records, not verdicts: their ProbeResult has ok=True and the machine word
"start" or "log" in `error`, so history (and a restarted engine) can tell them from successes; they
never reach `evaluate()`.

Everything here is pure: `now` is passed in. Cron fires are computed on the *local wall clock* of the
schedule's time zone, then mapped to instants, so a DST change moves nothing: `0 3 * * *` is 03:00
local on both sides of it. A local time that does not exist (spring forward) fires at the instant it
would have had without the change (02:30 → 03:30 new time, as Vixie cron does); a local time that
happens twice (fall back) fires at its first occurrence, and each instant fires at most once.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from croniter import croniter

from pulsewatch.domain.durations import compact_duration
from pulsewatch.domain.monitoring import ProbeResult

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pulsewatch.domain.monitoring import Check

HEARTBEAT_KIND = "heartbeat"
"""`Check.kind` of heartbeat checks."""
DEFAULT_GRACE = 3600.0
"""Grace when the config gives none (Healthchecks.io's default too)."""
MAX_RUN_SECONDS = 72 * 3600.0
"""A finish more than this long after its start belongs to another run: no duration is given."""
LATE = "late"
"""`ProbeResult.error` of a result the engine made because a ping did not come."""
GENERATE_TOKEN = ""
"""`HeartbeatSpec.token` of a check whose config gives no token, until `with_generated_tokens` fills
it in: the secret that makes generated tokens unguessable lives in the database, which the config
loader never opens. An empty token is never a valid ping URL, so a check that skipped that step
cannot be pinged at all."""
GENERATED_TOKEN_LENGTH = 32
"""Characters of a generated token: 32 base32 characters carry 160 bits of the HMAC."""
_FINISH_WORDS = (None, "fail", "exit")
_CRON_REFERENCE = datetime(2001, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class HeartbeatSpec:
    """When pings are due: `period` seconds apart, or at `cron`'s fires in `timezone`; then `grace`."""

    token: str
    """The secret part of the ping URL (`/ping/<token>`)."""
    grace: float = DEFAULT_GRACE
    period: float | None = None
    cron: str | None = None
    timezone: str = "UTC"
    """IANA time-zone name the cron expression is read in (ignored for periods)."""

    def as_dict(self) -> dict[str, Any]:
        """The spec as plain JSON data (storage and fingerprints); `HeartbeatSpec(**d)` reads it back."""
        return asdict(self)

    def schedule_text(self) -> str:
        """`every 1d` or `"0 3 * * *" in Europe/Berlin`: the schedule as a person wrote it."""
        if self.cron is not None:
            return f'"{self.cron}" in {self.timezone}'
        return f"every {compact_duration(self.period or 0.0)}"

    def typical_interval(self) -> float:
        """Seconds between two expected pings (for cron, the first gap after a fixed date): for display."""
        if self.period is not None:
            return self.period
        first = next_cron_fire(self.cron or "", self.timezone, _CRON_REFERENCE)
        return (next_cron_fire(self.cron or "", self.timezone, first) - first).total_seconds()


class PingKind(enum.Enum):
    """What a ping says about the job."""

    SUCCESS = "success"
    START = "start"
    FAIL = "fail"
    LOG = "log"

    @property
    def is_verdict(self) -> bool:
        """Success and failure judge the check; start and log are only recorded."""
        return self in (PingKind.SUCCESS, PingKind.FAIL)


@dataclass(frozen=True)
class Ping:
    """One received ping: its kind, the exit status it reported (if any), and its body text."""

    kind: PingKind
    exit_status: int | None = None
    body: str = ""


class PingActionError(ValueError):
    """The last part of a ping URL is not start, fail, log or an exit status; `status` is the HTTP code."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def parse_ping_action(action: str | None, body: str = "") -> Ping:
    """The ping that `/ping/<token>[/<action>]` sends.

    Args:
        action: None for a bare ping, else `start`, `fail`, `log` or an exit status 0-255.
        body: the request body (already cut to size), kept as the result's message.

    Raises:
        PingActionError: for any other action (404) or an exit status above 255 (400).
    """
    if action is None:
        return Ping(PingKind.SUCCESS, body=body)
    words = {"start": PingKind.START, "fail": PingKind.FAIL, "log": PingKind.LOG}
    if action in words:
        return Ping(words[action], body=body)
    if action.isascii() and action.isdigit():
        status = int(action)
        if status > 255:
            raise PingActionError("exit status must be 0 to 255", 400)
        return Ping(PingKind.SUCCESS if status == 0 else PingKind.FAIL, exit_status=status, body=body)
    raise PingActionError("unknown ping action: expected start, fail, log or an exit status", 404)


@dataclass(frozen=True)
class HeartbeatTimes:
    """What the engine remembers of a heartbeat check's pings.

    `anchor` stands in for the last ping when there has been none (when watching began), so a job
    that never pings at all is noticed too. `reported` is the deadline already reported as missed:
    each deadline makes at most one failed result.
    """

    anchor: datetime
    last_ping: datetime | None = None
    last_start: datetime | None = None
    reported: datetime | None = None


@dataclass(frozen=True)
class Deadline:
    """When a heartbeat check goes DOWN without a ping, and whether an unfinished run is the reason."""

    at: datetime
    run_started: bool


def next_cron_fire(expression: str, timezone: str, after: datetime) -> datetime:
    """The first fire of `expression`, read on `timezone`'s wall clock, strictly after the instant `after`.

    A local time that happens twice (fall back) is expected at its first occurrence only: a daily
    job at 02:30 runs once that night, as cron runs it. A local time that does not exist (spring
    forward) is expected when it would have been without the change (02:30 → 03:30 new time).

    Args:
        expression: a five-field cron expression (or an @daily-style alias).
        timezone: an IANA time-zone name.
        after: an aware instant.

    Returns:
        The fire as an aware UTC instant.

    Raises:
        croniter.CroniterError: the expression never fires (like "0 0 30 2 *").
    """
    zone = ZoneInfo(timezone)
    local = after.astimezone(zone).replace(tzinfo=None)
    # Whole minutes: cron has no seconds, and croniter on naive times is plain calendar arithmetic.
    cursor = croniter(expression, local.replace(second=0, microsecond=0))
    best: datetime | None = None
    while True:
        candidate: datetime = cursor.get_next(datetime)
        instant = candidate.replace(tzinfo=zone).astimezone(UTC)  # fold 0: the first occurrence
        exists = instant.astimezone(zone).replace(tzinfo=None) == candidate
        if instant > after:
            best = instant if best is None else min(best, instant)
            # A skipped time lands after the gap, possibly after the next real fire: look on to it.
            if exists:
                return best


def next_expected(spec: HeartbeatSpec, after: datetime) -> datetime:
    """When the ping following one received at `after` is expected (before grace)."""
    if spec.cron is not None:
        return next_cron_fire(spec.cron, spec.timezone, after)
    return after + timedelta(seconds=spec.period or 0.0)


def deadline(spec: HeartbeatSpec, times: HeartbeatTimes) -> Deadline:
    """The instant the check goes DOWN unless a ping comes first."""
    expected = next_expected(spec, times.last_ping or times.anchor)
    grace = timedelta(seconds=spec.grace)
    if times.last_start is not None and times.last_start < expected:
        return Deadline(times.last_start + grace, run_started=True)
    return Deadline(expected + grace, run_started=False)


def late_result(
    check_id: int, spec: HeartbeatSpec, times: HeartbeatTimes, now: datetime, *, due: Deadline | None = None
) -> ProbeResult | None:
    """The failed result of a missed deadline, or None while the check is on time (or already reported).

    `due` is `deadline(spec, times)` when the caller has it already (cron fires cost a little to compute).
    """
    due = due or deadline(spec, times)
    if now < due.at or times.reported == due.at:
        return None
    grace = compact_duration(spec.grace)
    if due.run_started and times.last_start is not None:
        ago = humanize_duration((now - times.last_start).total_seconds())
        message = f"run started {ago} ago has not finished (grace {grace})"
    elif times.last_ping is None:
        ago = humanize_duration((now - times.anchor).total_seconds())
        message = f"no ping since monitoring began {ago} ago (expected {spec.schedule_text()}, grace {grace})"
    else:
        ago = humanize_duration((now - times.last_ping).total_seconds())
        message = f"no ping for {ago} (expected {spec.schedule_text()}, grace {grace})"
    return _result(check_id, now, ok=False, error=LATE, message=message)


def mark_reported(times: HeartbeatTimes, due: Deadline) -> HeartbeatTimes:
    """`times` with its deadline `due` marked as reported (no second result for it)."""
    return replace(times, reported=due.at)


def receive_ping(
    check_id: int, times: HeartbeatTimes, ping: Ping, now: datetime
) -> tuple[HeartbeatTimes, ProbeResult]:
    """Apply a ping received at `now`: the new times and the result that records it.

    A finish (success or failure) within MAX_RUN_SECONDS of an open start carries the run's duration.
    """
    body = ping.body
    if ping.kind == PingKind.START:
        result = _result(check_id, now, ok=True, error="start", message=_joined("run started", body))
        return replace(times, last_start=now), result
    if ping.kind == PingKind.LOG:
        return times, _result(check_id, now, ok=True, error="log", message=body)
    duration_ms = 0.0
    if times.last_start is not None:
        run = (now - times.last_start).total_seconds()
        if 0 <= run <= MAX_RUN_SECONDS:
            duration_ms = run * 1000.0
    if ping.kind == PingKind.SUCCESS:
        result = _result(check_id, now, ok=True, message=body, duration_ms=duration_ms)
    elif ping.exit_status is not None:
        message = _joined(f"exit status {ping.exit_status}", body)
        result = _result(check_id, now, ok=False, error="exit", message=message, duration_ms=duration_ms)
    else:
        message = _joined("the job reported failure", body)
        result = _result(check_id, now, ok=False, error="fail", message=message, duration_ms=duration_ms)
    return HeartbeatTimes(anchor=times.anchor, last_ping=now), result


def recover_times(results_newest_first: list[ProbeResult], anchor: datetime) -> HeartbeatTimes:
    """Rebuild a check's times from its stored results (after a restart).

    The last finish (success, fail, exit) is the last ping; a start after it is an open run. Log and
    late results say nothing about the schedule (nor do results of what the check was before it
    became a heartbeat check, which carry probe errors such as "timeout").
    """
    last_start: datetime | None = None
    for result in results_newest_first:
        if result.error == "start":
            last_start = last_start or result.started_at
        elif result.error in _FINISH_WORDS:
            start = last_start if last_start is not None and last_start > result.started_at else None
            return HeartbeatTimes(anchor=anchor, last_ping=result.started_at, last_start=start)
    return HeartbeatTimes(anchor=anchor, last_start=last_start)


def generated_token(secret: bytes, org: str, name: str) -> str:
    """A token for a check whose config gives none: stable, distinct per check, and unguessable.

    HMAC-SHA256 of the check's identity keyed with the installation's secret (random bytes created
    once and kept in the database): the same check keeps its ping URL across restarts and engines,
    yet knowing the organization and the check's name is not enough to ping it green.

    Raises:
        ValueError: the secret is empty (a token derived from no secret could be guessed).
    """
    if not secret:
        raise ValueError("a generated heartbeat token needs the installation secret")
    digest = hmac.new(secret, f"pulsewatch-heartbeat\0{org}\0{name}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:GENERATED_TOKEN_LENGTH]


def with_generated_tokens(checks: Iterable[Check], secret: bytes) -> tuple[Check, ...]:
    """The checks with each heartbeat whose token is GENERATE_TOKEN given its generated token (and
    the matching `/ping/<token>` URL); explicit tokens and probed checks are left as they are."""
    done = []
    for check in checks:
        if check.heartbeat is not None and check.heartbeat.token == GENERATE_TOKEN:
            token = generated_token(secret, check.org, check.name)
            check = replace(check, url=f"/ping/{token}", heartbeat=replace(check.heartbeat, token=token))
        done.append(check)
    return tuple(done)




def humanize_duration(seconds: float) -> str:
    """4320 → `1h 12m`, 90061 → `1d 1h`, 42 → `42s`: the largest unit and the next one when not zero."""
    rest = max(int(seconds), 0)
    parts: list[tuple[int, str]] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        parts.append((rest // size, unit))
        rest %= size
    first = next((i for i, (value, _) in enumerate(parts) if value), len(parts) - 1)
    shown = [parts[first]]
    if first + 1 < len(parts) and parts[first + 1][0]:
        shown.append(parts[first + 1])
    return " ".join(f"{value}{unit}" for value, unit in shown)


def _joined(text: str, body: str) -> str:
    return f"{text}: {body}" if body else text


def _result(
    check_id: int,
    now: datetime,
    *,
    ok: bool,
    message: str,
    error: str | None = None,
    duration_ms: float = 0.0,
) -> ProbeResult:
    return ProbeResult(
        check_id=check_id, started_at=now, duration_ms=duration_ms, ok=ok, error=error, message=message
    )
