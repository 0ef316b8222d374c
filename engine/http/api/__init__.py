"""The versioned REST API under /api/v1/: one module per resource, gathered into `router`.

Every operation authenticates with an API key (`auth.Authenticated`), answers errors in one shape
(`errors.ApiRoute`) and documents them (`errors.RESPONSES`). The OpenAPI document is generated from
these routes alone and served at /api/v1/openapi.json, with a browsable reference at /api/v1/docs.
"""

from __future__ import annotations

from fastapi import APIRouter

from engine.http.api import audit, channels, checks, docs, history, incidents, reports, silences
from engine.http.api.errors import RESPONSES

PREFIX = "/api/v1"

router = APIRouter(prefix=PREFIX, responses=RESPONSES)
"""Every REST API route; the listener includes it (engine.http.app.ROUTERS)."""
for _module in (checks, history, incidents, channels, silences, reports, audit):
    router.include_router(_module.router)
router.include_router(docs.router(router, PREFIX))
