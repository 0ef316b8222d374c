"""GET /status/<org-slug>: the organization's public status page (no key, no secrets, HTML).

Rendered pages are kept for CACHE_SECONDS per organization, so a page linked from a busy incident
channel costs the database one read every few seconds, however many people reload it.
"""

from __future__ import annotations

import trio
from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from engine.http.context import Context
from engine.http.status_render import render_missing, render_page
from engine.http.status_view import gather

CACHE_SECONDS = 15.0

router = APIRouter()


@router.get("/status/{slug}", include_in_schema=False, response_class=HTMLResponse)
async def status_page(slug: str, context: Context) -> HTMLResponse:
    """The page, 404 when the organization has none, 503 when this engine serves no pages."""
    backend = context.api
    if backend is None:
        return HTMLResponse(render_missing(slug), status_code=503)
    page = backend.status_page(slug)
    if page is None:
        return HTMLResponse(render_missing(slug), status_code=404)
    now = trio.current_time()
    cached = backend.page_cache.get(slug)
    if cached is not None and now - cached[0] < CACHE_SECONDS:
        return _html(cached[1])
    view = await context.read(gather, backend, page)
    text = render_page(view)
    backend.page_cache[slug] = (now, text)
    return _html(text)


def _html(text: str) -> HTMLResponse:
    return HTMLResponse(text, headers={"Cache-Control": f"public, max-age={int(CACHE_SECONDS)}"})
