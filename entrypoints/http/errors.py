"""The one exception map: every error becomes the contract's envelope, here and nowhere else."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from application.changes import SyncTokenExpired
from application.idempotency import IdempotencyKeyInUse, IdempotencyKeyReused
from application.unit_of_work import StorageUnavailable
from domain.errors import (
    DomainError,
    TaskLimitReached,
    TaskNotFound,
    ValidationFailed,
    VersionConflict,
)
from entrypoints.http.auth import Forbidden, KeySetUnavailable, Unauthorized
from entrypoints.http.decoding import (
    FieldError,
    MalformedRequest,
    RequestInvalid,
    UnsupportedMediaType,
    describe_decode_error,
)
from entrypoints.http.request_id import CLIENT_GONE, request_id_of
from entrypoints.http.schemas import ErrorBody, ErrorDetail, ErrorEnvelope

logger = logging.getLogger("taskapi.http")

RETRY_AFTER_SECONDS: Final = 5
MAX_DETAILS: Final = 20

_CODE_BY_STATUS: Final = {
    400: "MALFORMED_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    412: "PRECONDITION_FAILED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    503: "SERVICE_UNAVAILABLE",
}
_MESSAGE_BY_STATUS: Final = {
    400: "the request is malformed",
    404: "no such route",
    405: "method not allowed on this route",
    413: "request body is larger than 64 KiB",
    429: "too many requests for this user; retry after Retry-After seconds",
}


_STATUS_BY_DOMAIN_ERROR: Final[Mapping[type[DomainError], int]] = {
    TaskNotFound: 404,
    VersionConflict: 412,
    TaskLimitReached: 409,
    IdempotencyKeyReused: 409,
    IdempotencyKeyInUse: 409,
    SyncTokenExpired: 410,
}


def error_response(
    request: Request[Any, Any, Any],
    status: int,
    code: str,
    message: str,
    details: list[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response[ErrorEnvelope]:
    body = ErrorBody(code=code, message=message, request_id=request_id_of(request.scope))
    if details is not None:
        body.details = [ErrorDetail(field=d.field, message=d.message) for d in details]
    return Response(ErrorEnvelope(error=body), status_code=status, headers=dict(headers or {}))


def validation_error(errors: list[FieldError]) -> tuple[str, list[FieldError]]:
    """A VALIDATION_ERROR's message and details (the REST API's and the MCP tools')."""
    first = errors[0]
    message = f"{first.field} {first.message}"
    if len(errors) > MAX_DETAILS:
        # An answer must not grow with the request (5,000 unknown parameters were a 304 KB
        # answer): the first few name the problem, the message says how many there were.
        message += f" (and {len(errors) - 1} more problems; details lists the first {MAX_DETAILS})"
    return message, errors[:MAX_DETAILS]


def _validation_response(
    request: Request[Any, Any, Any], errors: list[FieldError]
) -> Response[ErrorEnvelope]:
    message, details = validation_error(errors)
    return error_response(request, 422, "VALIDATION_ERROR", message, details=details)


def _on_request_invalid(request: Request[Any, Any, Any], exc: RequestInvalid) -> Response[Any]:
    return _validation_response(request, exc.errors)


def _on_validation_failed(request: Request[Any, Any, Any], exc: ValidationFailed) -> Response[Any]:
    return _validation_response(request, [FieldError(exc.field, exc.reason)])


def _on_malformed(request: Request[Any, Any, Any], exc: MalformedRequest) -> Response[Any]:
    return error_response(request, 400, "MALFORMED_REQUEST", str(exc))


def _on_media_type(request: Request[Any, Any, Any], exc: UnsupportedMediaType) -> Response[Any]:
    return error_response(request, 415, "UNSUPPORTED_MEDIA_TYPE", str(exc))


def status_of(error: DomainError) -> int | None:
    """The status of the nearest mapped class in the error's hierarchy, so that a subclass
    (ImportExceedsLimit is a TaskLimitReached) answers as its parent does."""
    for cls in type(error).__mro__:
        status = _STATUS_BY_DOMAIN_ERROR.get(cls)
        if status is not None:
            return status
    return None


def _on_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    status = status_of(exc)
    if status is None:
        return _on_internal_error(request, exc)
    headers = {}
    if isinstance(exc, VersionConflict):
        headers["ETag"] = f'"{exc.current_version}"'
    return error_response(request, status, exc.code, exc.message, headers=headers)


def _on_unauthorized(request: Request[Any, Any, Any], exc: Unauthorized) -> Response[Any]:
    challenge = "Bearer"
    if "authorization" in request.headers:
        challenge = 'Bearer error="invalid_token"'
    return error_response(
        request, 401, "UNAUTHORIZED", str(exc), headers={"WWW-Authenticate": challenge}
    )


def _on_forbidden(request: Request[Any, Any, Any], exc: Forbidden) -> Response[Any]:
    return error_response(request, 403, "FORBIDDEN", str(exc))


def _on_storage_unavailable(
    request: Request[Any, Any, Any], exc: StorageUnavailable
) -> Response[Any]:
    logger.warning("database unavailable: %r", exc.__cause__ or exc)
    return error_response(
        request,
        503,
        "SERVICE_UNAVAILABLE",
        "the database is unavailable; retry shortly",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _on_key_set_unavailable(
    request: Request[Any, Any, Any], exc: KeySetUnavailable
) -> Response[Any]:
    # The verifier has logged why the fetch failed; this is the client's side of it.
    return error_response(
        request,
        503,
        "SERVICE_UNAVAILABLE",
        str(exc),
        headers={"Retry-After": str(exc.retry_after_seconds)},
    )


def _parameter_error(name: str, message: str) -> FieldError:
    """Litestar reports parameter errors as (key, msgspec message without its path)."""
    return FieldError(name, describe_decode_error(f"{message} - at `$.{name}`").message)


def _on_litestar_validation(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[Any]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    if any(isinstance(item, dict) and item.get("key") == "data" for item in extra):
        # Litestar found no body where the handler requires one.
        return _on_malformed(request, MalformedRequest("a JSON request body is required"))
    errors = [
        _parameter_error(str(item.get("key") or "request"), str(item.get("message", "")))
        for item in extra
        if isinstance(item, dict)
    ]
    return _validation_response(request, errors or [FieldError("request", "is not valid")])


def _on_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status >= 500:
        return _on_internal_error(request, exc)
    code = _CODE_BY_STATUS.get(status, "MALFORMED_REQUEST")
    message = _MESSAGE_BY_STATUS.get(status, code.lower().replace("_", " "))
    headers = dict(exc.headers or {})
    if status == 429:
        # Litestar's limiter says when the window resets; clients read Retry-After.
        headers["Retry-After"] = str(max(1, int(headers.get("RateLimit-Reset", "60") or 60)))
    return error_response(request, status, code, message, headers=headers)


def _on_internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if gone := request.scope.get(CLIENT_GONE):
        # The client left (or was cut off for sending too slowly, 408) while the app read
        # its body: nobody will read this answer, and it is not the server's fault.
        logger.info("the client disconnected before its request was read")
        return error_response(request, gone, "MALFORMED_REQUEST", "the request was not received")
    logger.exception(
        "unhandled error on %s %s [request_id=%s]",
        request.method,
        request.url.path,
        request_id_of(request.scope),
    )
    return error_response(request, 500, "INTERNAL_ERROR", "internal error; it has been logged")


EXCEPTION_HANDLERS: Final[Mapping[type[Exception], Any]] = {
    RequestInvalid: _on_request_invalid,
    ValidationFailed: _on_validation_failed,
    MalformedRequest: _on_malformed,
    UnsupportedMediaType: _on_media_type,
    DomainError: _on_domain_error,
    StorageUnavailable: _on_storage_unavailable,
    Unauthorized: _on_unauthorized,
    KeySetUnavailable: _on_key_set_unavailable,
    Forbidden: _on_forbidden,
    ValidationException: _on_litestar_validation,
    HTTPException: _on_http_exception,
    Exception: _on_internal_error,
}
