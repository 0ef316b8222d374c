"""The listener's ASGI app, built from small routers so later features (metrics, REST API, status pages)
add a router rather than edit a god-module."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

from engine.http import api, health, metrics, pings, status_page

if TYPE_CHECKING:
    from collections.abc import Sequence

    from fastapi import APIRouter

    from engine.http.context import ListenerContext

ROUTERS: tuple[APIRouter, ...] = (
    health.router, pings.router, api.router, status_page.router, metrics.router,
)
"""Every router the listener serves, in order; a new feature appends its own."""


def build_app(context: ListenerContext, routers: Sequence[APIRouter] = ROUTERS) -> FastAPI:
    """The ASGI app for one engine.

    FastAPI's own docs pages are off: the public OpenAPI document belongs to the REST API's router
    (under /api/v1/), not to pings and health probes.

    Args:
        context: what handlers may use of the engine (reached through the `Context` dependency).
        routers: the routers to serve.
    """
    app = FastAPI(title="PulseWatch engine", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.context = context
    for router in routers:
        app.include_router(router)
    return app
