"""Checks every task route makes before its handler: known query parameters, a JSON body."""

from __future__ import annotations

from typing import Any

from litestar import Request

from entrypoints.http.errors import FieldError, RequestInvalid, UnsupportedMediaType

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _has_body(request: Request[Any, Any, Any]) -> bool:
    length = request.headers.get("content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return "transfer-encoding" in request.headers


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def check_task_request(request: Request[Any, Any, Any]) -> None:
    """A `before_request` hook: route handlers name their query parameters in `opt["query"]`."""
    if request.scope.get("query_string"):  # most requests have none: skip parsing it
        _check_query(request)
    if request.method in _BODY_METHODS and _has_body(request):
        content_type = request.headers.get("content-type")
        if content_type is not None and not _is_json(content_type):
            raise UnsupportedMediaType("the request body must be application/json")


def _check_query(request: Request[Any, Any, Any]) -> None:
    allowed = request.route_handler.opt.get("query", frozenset())
    query = request.query_params
    unknown = [name for name in query if name not in allowed]
    if unknown:
        raise RequestInvalid(
            [FieldError(name, "is not a known query parameter") for name in unknown]
        )
    repeated = [name for name in query if len(query.getall(name)) > 1]
    if repeated:
        raise RequestInvalid([FieldError(name, "must be given at most once") for name in repeated])
