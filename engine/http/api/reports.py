"""/api/v1/reports/uptime and /api/v1/reports/sla: per-check figures from the rollups (the same numbers
as `pulsewatch report`), complete up to the request: the newest minutes come from raw results."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from engine.http.api.auth import Authenticated, Caller
from engine.http.api.errors import ApiRoute
from engine.http.api.models import MAX_ID
from pulsewatch.domain.accounts import Permission
from pulsewatch.domain.monitoring import Flip
from pulsewatch.errors import NotFoundError
from pulsewatch.services.reports import (
    UptimeFigures,
    sla_figures,
    sla_record,
    uptime_figures,
    uptime_record,
    window_start,
)

router = APIRouter(prefix="/reports", tags=["reports"], route_class=ApiRoute)

Hours = Annotated[int, Query(ge=1, le=24 * 400, description="The window: this many hours back from now.")]
CheckId = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only this check.")]


class UptimeOut(BaseModel):
    """One check's uptime over the window (None where there were no probes)."""

    check_id: int
    check: str
    since: str
    until: str
    probes: int
    failures: int
    degraded: int
    uptime_pct: float | None
    downtime_s: float | None
    incidents: int
    latency_avg_ms: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


class SlaOut(UptimeOut):
    """Uptime against a target, with the error budget."""

    target_pct: float
    allowed_downtime_s: float | None
    budget_left_pct: float | None
    budget_left_s: float | None
    met: bool | None


@router.get("/uptime", summary="Uptime per check")
async def uptime(caller: Authenticated, hours: Hours = 720, check_id: CheckId = None) -> list[UptimeOut]:
    """Uptime %, estimated downtime, incidents and latency percentiles of each check."""
    figures = await caller.context.read(_figures, caller, hours, check_id)
    return [UptimeOut.model_validate({"check_id": i, **uptime_record(f)}) for i, f in figures]


@router.get("/sla", summary="SLA per check")
async def sla(
    caller: Authenticated,
    hours: Hours = 720,
    check_id: CheckId = None,
    target: Annotated[float, Query(gt=0, lt=100, description="The uptime target in percent.")] = 99.9,
) -> list[SlaOut]:
    """Uptime against `target`, the downtime it allows and how much of that error budget is left."""
    figures = await caller.context.read(_figures, caller, hours, check_id)
    return [SlaOut.model_validate({"check_id": i, **sla_record(sla_figures(f, target))}) for i, f in figures]


def _figures(caller: Caller, hours: int, check_id: int | None) -> list[tuple[int, UptimeFigures]]:
    """Read the rollups of the organization's checks and compute their figures (in a worker thread)."""
    backend = caller.backend
    caller.actor.require(Permission.VIEW, caller.org)
    checks = [c for c in backend.scoped.checks_in({caller.org}) if check_id is None or c.id == check_id]
    if check_id is not None and not checks:
        raise NotFoundError(f"no check with id {check_id}")
    until = backend.wall_clock()
    kept = backend.retention
    since = window_start(
        until - timedelta(hours=hours), until, minutes_kept_s=kept.minute, hours_kept_s=kept.hour
    )
    ids = [c.id for c in checks if c.id is not None]
    rows = backend.rollups.report_rows(ids, since, until) if ids else {}
    added = backend.rollups.added(ids) if ids else {}
    flips: dict[int, list[Flip]] = defaultdict(list)
    for flip in backend.rollups.flips(ids, since, until) if ids else []:
        flips[flip.check_id].append(flip)
    return [
        (
            c.id or 0,
            uptime_figures(
                c.name,
                rows.get(c.id or 0, []),
                flips[c.id or 0],
                since=since,
                until=until,
                added=added.get(c.id or 0),
            ),
        )
        for c in checks
    ]
