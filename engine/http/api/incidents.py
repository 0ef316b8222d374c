"""/api/v1/incidents: list (by status, newest first, cursor pagination), get with timeline, acknowledge,
resolve, add a note. Changes are written with their audit entry in one transaction."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError

from engine.http.api.alert_models import AckIn, IncidentDetail, IncidentOut, IncidentPage, NoteIn, TimelineOut
from engine.http.api.auth import Authenticated, Caller
from engine.http.api.errors import CONFLICT, ApiRoute
from engine.http.api.models import Id
from pulsewatch.domain.accounts import Permission
from pulsewatch.domain.alerting import Incident, IncidentStatus
from pulsewatch.services import api_alerting

router = APIRouter(prefix="/incidents", tags=["incidents"], route_class=ApiRoute)


@router.get("", summary="List incidents")
async def list_incidents(
    caller: Authenticated,
    status: Annotated[IncidentStatus | None, Query(description="Only incidents in this status.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=20, description="`next_cursor` of the previous page.")
    ] = None,
) -> IncidentPage:
    """Incidents of the key's organization, newest first."""
    before = None
    if cursor is not None:
        if not cursor.isdigit():
            raise RequestValidationError(
                [
                    {
                        "loc": ("query", "cursor"),
                        "msg": "not a cursor from a previous page",
                        "type": "value_error",
                    }
                ]
            )
        before = int(cursor)
    caller.actor.require(Permission.VIEW, caller.org)
    read = partial(caller.backend.api.incidents_in, status=status, before_id=before, limit=limit)
    found = await caller.context.read(read, caller.org)
    items = [IncidentOut.of(i) for i in found[:limit]]
    more = len(found) > limit
    return IncidentPage(items=items, next_cursor=str(items[-1].id) if more and items else None)


@router.get("/{incident_id}", summary="Get an incident and its timeline")
async def get_incident(caller: Authenticated, incident_id: Id) -> IncidentDetail:
    """The incident with its history: flips, acknowledgements, notes and every notification's fate."""
    incident, timeline = await caller.context.read(
        api_alerting.incident_in, caller.backend.alerts, caller.actor, caller.org, incident_id
    )
    return IncidentDetail(
        **IncidentOut.of(incident).model_dump(), timeline=[TimelineOut.of(t) for t in timeline]
    )


@router.post("/{incident_id}/ack", summary="Acknowledge an incident", responses=CONFLICT)
async def acknowledge(caller: Authenticated, incident_id: Id, body: AckIn | None = None) -> IncidentOut:
    """Someone is on it: escalation and reminders stop (409 when it is already resolved)."""
    note = body.note.strip() if body is not None else ""
    return IncidentOut.of(
        await caller.context.write(
            api_alerting.acknowledge,
            caller.backend.alerts,
            caller.backend.accounts,
            caller.actor,
            caller.org,
            incident_id,
            note,
            _now(caller),
        )
    )


@router.post("/{incident_id}/resolve", summary="Resolve an incident", responses=CONFLICT)
async def resolve(caller: Authenticated, incident_id: Id) -> IncidentOut:
    """Resolve by hand: pages not sent yet are dropped; channels already paged hear it is resolved."""
    return IncidentOut.of(
        await caller.context.write(
            api_alerting.resolve,
            caller.backend.alerts,
            caller.backend.accounts,
            caller.actor,
            caller.org,
            incident_id,
            _now(caller),
        )
    )


@router.post("/{incident_id}/notes", status_code=201, summary="Add a note to an incident")
async def add_note(caller: Authenticated, incident_id: Id, body: NoteIn) -> IncidentOut:
    """A note on the incident's timeline, signed with the key's label."""
    incident: Incident = await caller.context.write(
        api_alerting.add_note,
        caller.backend.alerts,
        caller.backend.accounts,
        caller.actor,
        caller.org,
        incident_id,
        body.text,
        _now(caller),
    )
    return IncidentOut.of(incident)


def _now(caller: Caller) -> datetime:
    return caller.backend.wall_clock()
