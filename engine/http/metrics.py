"""GET /metrics: the engine's Prometheus metrics (engine.metrics), in the text exposition format."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from engine.http.context import Context

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def metrics(context: Context) -> Response:
    """200 with every metric family; 404 when the engine was built without metrics."""
    if context.metrics is None:
        return PlainTextResponse("metrics are not enabled on this engine", status_code=404)
    return Response(content=context.metrics(), media_type=CONTENT_TYPE_LATEST)
