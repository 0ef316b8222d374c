"""The REST API's response models (pydantic): what each resource looks like on the wire.

Durations are seconds (`interval_s`), instants ISO 8601 in UTC, statuses the public words of
`pulsewatch status --json`. Secrets never appear: header values, request bodies and passwords in
URLs are left out or masked, channel URLs are masked.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, Field

from pulsewatch.domain.monitoring import Check, CheckState, Flip, ProbeResult

MAX_ID = 2_147_483_647
"""Ids are database integers: larger numbers in a path are refused (422) rather than overflowing."""

Id = Annotated[int, Path(ge=1, le=MAX_ID, description="The object's id.")]
"""A path parameter naming an object by id."""

_PASSWORD_IN_URL = re.compile(r"(//[^/@:\s]*):[^/@\s]*@")


def mask_password(url: str) -> str:
    """`https://user:secret@host/` → `https://user:***@host/`."""
    return _PASSWORD_IN_URL.sub(r"\1:***@", url)


class StateOut(BaseModel):
    """What is believed about a check now."""

    status: str = Field(description="up, down, degraded, paused, maintenance or unknown.")
    since: datetime | None
    last_checked_at: datetime | None
    last_latency_ms: float | None
    last_error: str
    consecutive_failures: int
    consecutive_successes: int
    flapping: bool

    @classmethod
    def of(cls, state: CheckState) -> StateOut:
        return cls(
            status=state.status.value,
            since=state.since,
            last_checked_at=state.last_checked_at,
            last_latency_ms=state.last_latency_ms,
            last_error=state.last_error,
            consecutive_failures=state.consecutive_failures,
            consecutive_successes=state.consecutive_successes,
            flapping=state.flapping,
        )


class CheckOut(BaseModel):
    """A check, its definition and its current state."""

    id: int
    name: str
    org: str
    team: str | None
    kind: str
    url: str = Field(description="The target; a password in it is shown as ***.")
    origin: str = Field(description="`config` (owned by the YAML file: read-only here) or `api`.")
    interval_s: float
    timeout_s: float
    conditions: list[str]
    failure_threshold: int
    success_threshold: int
    retries: int
    tags: list[str]
    notify: list[str]
    depends_on: list[str]
    paused: bool
    method: str
    header_names: list[str] = Field(description="Names of the request headers sent; values are secret.")
    state: StateOut

    @classmethod
    def of(cls, check: Check, state: CheckState) -> CheckOut:
        return cls(
            id=check.id or 0,
            name=check.name,
            org=check.org,
            team=check.team,
            kind=check.kind,
            url=mask_password(check.url),
            origin=check.origin,
            interval_s=check.interval,
            timeout_s=check.timeout,
            conditions=[c.source for c in check.conditions],
            failure_threshold=check.failure_threshold,
            success_threshold=check.success_threshold,
            retries=check.retries,
            tags=list(check.tags),
            notify=list(check.notify),
            depends_on=list(check.depends_on),
            paused=check.paused or state.status.value == "paused",
            method=check.http.method,
            header_names=[name for name, _ in check.http.headers],
            state=StateOut.of(state),
        )


class CheckPage(BaseModel):
    """One page of checks, in name order."""

    items: list[CheckOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
    page: int | None = Field(default=None, description="The page number, when `page` was asked for.")


class CheckStateOut(BaseModel):
    """A check's state, named."""

    check_id: int
    name: str
    state: StateOut


class OutcomeOut(BaseModel):
    """How one condition fared."""

    source: str
    passed: bool
    description: str


class ResultOut(BaseModel):
    """One probe attempt."""

    check_id: int
    started_at: datetime
    duration_ms: float
    ok: bool
    degraded: bool
    status_code: int | None
    error: str | None
    message: str
    engine: str
    outcomes: list[OutcomeOut]

    @classmethod
    def of(cls, result: ProbeResult) -> ResultOut:
        return cls(
            check_id=result.check_id,
            started_at=result.started_at,
            duration_ms=result.duration_ms,
            ok=result.ok,
            degraded=result.degraded,
            status_code=result.status_code,
            error=result.error,
            message=result.message,
            engine=result.engine,
            outcomes=[
                OutcomeOut(source=o.source, passed=o.passed, description=o.description)
                for o in result.outcomes
            ],
        )


class FlipOut(BaseModel):
    """A status change of a check."""

    id: int | None
    check_id: int
    at: datetime
    old: str
    new: str
    reason: str

    @classmethod
    def of(cls, flip: Flip) -> FlipOut:
        return cls(
            id=flip.id,
            check_id=flip.check_id,
            at=flip.at,
            old=flip.old.value,
            new=flip.new.value,
            reason=flip.reason,
        )


class QueuedOut(BaseModel):
    """A command handed to the engine."""

    queued: bool
    check_id: int
    detail: str
    command_id: int | None = None
    """Set when another engine runs the check: the command it was sent as (engine.http.api.check_routing)."""


class AuditOut(BaseModel):
    """One entry of the audit log: who changed what, with the state before and after."""

    id: int | None
    at: datetime
    actor: str
    action: str
    org: str | None
    target: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class WhoAmIOut(BaseModel):
    """The calling key: its organization, role and what that role allows."""

    key_id: int
    name: str
    prefix: str
    org: str
    role: str
    permissions: list[str]
