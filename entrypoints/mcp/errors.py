"""Exceptions as tool errors: the REST error object (`{"code", "message", "details"?,
"request_id"}`) with the REST API's codes and words, by the same rules as entrypoints/http/
errors.py (its `status_of` decides which domain errors are the client's)."""

from __future__ import annotations

import logging

from application.unit_of_work import StorageUnavailable
from domain.errors import DomainError, ValidationFailed
from entrypoints.http.auth import Forbidden, Unauthorized
from entrypoints.http.decoding import FieldError, MalformedRequest, RequestInvalid
from entrypoints.http.errors import status_of, validation_error
from entrypoints.http.schemas import ErrorBody, ErrorDetail

logger = logging.getLogger("taskapi.mcp")


def _validation(errors: list[FieldError], request_id: str) -> ErrorBody:
    message, details = validation_error(errors)
    return ErrorBody(
        code="VALIDATION_ERROR",
        message=message,
        details=[ErrorDetail(field=d.field, message=d.message) for d in details],
        request_id=request_id,
    )


def error_body(error: Exception, request_id: str, tool: str) -> ErrorBody:
    """The error object a failed tool call carries; anything unexpected is INTERNAL_ERROR,
    logged with its traceback and the request id."""
    if isinstance(error, RequestInvalid):
        return _validation(error.errors, request_id)
    if isinstance(error, ValidationFailed):
        return _validation([FieldError(error.field, error.reason)], request_id)
    if isinstance(error, MalformedRequest):
        return ErrorBody(code="MALFORMED_REQUEST", message=str(error), request_id=request_id)
    if isinstance(error, Unauthorized):
        return ErrorBody(code="UNAUTHORIZED", message=str(error), request_id=request_id)
    if isinstance(error, Forbidden):
        return ErrorBody(code="FORBIDDEN", message=str(error), request_id=request_id)
    if isinstance(error, StorageUnavailable):
        logger.warning("database unavailable: %r", error.__cause__ or error)
        return ErrorBody(
            code="SERVICE_UNAVAILABLE",
            message="the database is unavailable; retry shortly",
            request_id=request_id,
        )
    if isinstance(error, DomainError) and status_of(error) is not None:
        return ErrorBody(code=error.code, message=error.message, request_id=request_id)  # type: ignore[arg-type]
    logger.error("unhandled error in MCP tool %s [request_id=%s]", tool, request_id, exc_info=error)
    return ErrorBody(
        code="INTERNAL_ERROR", message="internal error; it has been logged", request_id=request_id
    )
