"""Health, readiness, metrics and the OpenAPI document."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import msgspec
from litestar import MediaType, Request, Response, get
from litestar.openapi import ResponseSpec

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
    responses={
        503: ResponseSpec(
            data_container=ErrorEnvelope,
            description="SERVICE_UNAVAILABLE: the database is unreachable or its schema is "
            "not current; retry after the Retry-After header's seconds",
            generate_examples=False,
        )
    },
)
async def ready(request: Request[Any, Any, Any]) -> Response[HealthEnvelope]:
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
async def openapi_json(request: Request[Any, Any, Any]) -> Response[bytes]:
    """The document Litestar builds from the handlers (also at /docs/openapi.json)."""
    return Response(_document(request.app), media_type=MediaType.JSON)


def _document(app: Any) -> bytes:
    """Encoded once per app, and kept on the app (a module-level cache keyed by the app's id
    could hand a new app the document of an old one that had the same id)."""
    document: bytes | None = app.state.get("openapi_json")
    if document is None:
        document = app.state["openapi_json"] = msgspec.json.encode(openapi_document(app))
    return document
