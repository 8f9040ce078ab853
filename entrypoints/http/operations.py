"""Health, readiness and the API's own documentation."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from litestar import MediaType, Request, Response, get

from entrypoints.http import metrics
from entrypoints.http.errors import RETRY_AFTER_SECONDS, error_response
from entrypoints.http.openapi import openapi_document
from entrypoints.http.schemas import ErrorEnvelope, HealthEnvelope, HealthStatus

logger = logging.getLogger("taskapi.http")
_READY_TIMEOUT_SECONDS = 3.0


@get("/health", summary="The process is up", tags=["operations"])
async def health() -> HealthEnvelope:
    return HealthEnvelope(data=HealthStatus(status="ok"))


@get(
    "/ready",
    summary="The database answers and its schema is current (503 otherwise)",
    tags=["operations"],
    responses={},
)
async def ready(request: Request[Any, Any, Any]) -> Response[HealthEnvelope | ErrorEnvelope]:
    storage = request.app.state.container.storage()
    try:
        is_ready = await asyncio.wait_for(storage.ready(), _READY_TIMEOUT_SECONDS)
    except Exception as error:  # any failure to answer means "not ready", never a 500
        logger.warning("readiness check failed: %r", error)
        is_ready = False
    if is_ready:
        return Response(HealthEnvelope(data=HealthStatus(status="ready")))
    return error_response(
        request,
        503,
        "SERVICE_UNAVAILABLE",
        "the database is unreachable or its schema is not current",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


@get("/metrics", include_in_schema=False)
async def metrics_endpoint(request: Request[Any, Any, Any]) -> Response[bytes]:
    metrics.record_pool(request.app.state.container.storage().pool_stats())
    body, content_type = metrics.render()
    # Litestar adds the charset to every text/* type itself.
    return Response(body, media_type=content_type.replace("; charset=utf-8", ""))


@get("/openapi.json", include_in_schema=False, media_type=MediaType.JSON)
async def openapi_json(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return openapi_document(request.app)


_DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>taskapi: API documentation</title>
  <link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
  <script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui"});</script>
</body>
</html>
"""


@get("/docs", include_in_schema=False, media_type=MediaType.HTML)
async def docs() -> str:
    return _DOCS_PAGE
