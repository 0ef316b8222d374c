"""Current states and recent history: /api/v1/states, /checks/{id}/results, /checks/{id}/flips, /flips."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from engine.http.api.auth import Authenticated, Caller
from engine.http.api.errors import ApiRoute
from engine.http.api.models import CheckStateOut, FlipOut, Id, ResultOut, StateOut
from pulsewatch.domain.accounts import Permission
from pulsewatch.domain.monitoring import Flip, ProbeResult
from pulsewatch.services.api_checks import find_check

router = APIRouter(tags=["states and history"], route_class=ApiRoute)

Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many, newest first.")]


@router.get("/states", summary="Current state of every check")
async def states(caller: Authenticated) -> list[CheckStateOut]:
    """Every check of the key's organization with its current state, by name (compact: no definitions)."""
    rows = await caller.context.read(caller.backend.api.states_in, caller.org)
    return [
        CheckStateOut(check_id=c.id or 0, name=c.name, state=StateOut.of(s))
        for c, s in rows
        if caller.actor.can(Permission.VIEW, c.org, c.team)
    ]


@router.get("/checks/{check_id}/results", summary="Recent probe results of a check")
async def results(caller: Authenticated, check_id: Id, limit: Limit = 50) -> list[ResultOut]:
    """The check's latest results, newest first (raw results are kept for `retention.raw`)."""
    found = await caller.context.read(_results, caller, check_id, limit)
    return [ResultOut.of(r) for r in found]


@router.get("/checks/{check_id}/flips", summary="Status changes of a check")
async def check_flips(caller: Authenticated, check_id: Id, limit: Limit = 50) -> list[FlipOut]:
    """The check's latest flips (status changes), newest first."""
    found = await caller.context.read(_flips, caller, check_id, limit)
    return [FlipOut.of(f) for f in found]


@router.get("/flips", summary="Recent status changes")
async def flips(caller: Authenticated, limit: Limit = 50) -> list[FlipOut]:
    """The latest flips of every check of the key's organization, newest first."""
    found = await caller.context.read(caller.backend.scoped.recent_flips_in, {caller.org}, limit)
    return [FlipOut.of(f) for f in found]


def _results(caller: Caller, check_id: int, limit: int) -> list[ProbeResult]:
    find_check(caller.backend.api, caller.actor, caller.org, check_id)
    return caller.backend.scoped.results_in({caller.org}, check_id, limit)


def _flips(caller: Caller, check_id: int, limit: int) -> list[Flip]:
    find_check(caller.backend.api, caller.actor, caller.org, check_id)
    return caller.backend.scoped.flips_in({caller.org}, check_id, limit)
