"""The OpenAPI 3.1 document: Litestar's paths and parameters, with our bodies and envelopes.

Bodies are decoded by us (strictly), not by Litestar, so Litestar cannot see them; and every
response, errors included, is described here from the same msgspec structs the code uses.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Final

import msgspec
from litestar import Litestar

from entrypoints.http.controllers import SORT_VALUES
from entrypoints.http.schemas import (
    CompletionWrite,
    DeletedCountEnvelope,
    DeletedTaskEnvelope,
    ErrorEnvelope,
    HealthEnvelope,
    StatsEnvelope,
    TaskEnvelope,
    TaskListEnvelope,
    TaskPatch,
    TaskWrite,
)

_ERRORS: Final = {
    400: "MALFORMED_REQUEST: the body is not valid JSON, or a required body is empty",
    401: "UNAUTHORIZED (AUTH_MODE=jwt): the bearer token is missing, expired or invalid",
    403: "FORBIDDEN (AUTH_MODE=jwt): the token's sub is not this user_id",
    404: "TASK_NOT_FOUND: no such task for this user (or NOT_FOUND: no such route)",
    409: "TASK_LIMIT_REACHED: the user already has the maximum number of tasks; "
    "IDEMPOTENCY_KEY_REUSED: the key was used with another body; "
    "IDEMPOTENCY_KEY_IN_USE: a request with the key is still being processed",
    412: "PRECONDITION_FAILED: If-Match does not match the task's current ETag",
    413: "PAYLOAD_TOO_LARGE: body over 64 KiB",
    415: "UNSUPPORTED_MEDIA_TYPE: the body is not application/json",
    422: "VALIDATION_ERROR: a field, path or query parameter breaks its rule; `details` names it",
    429: "RATE_LIMITED (RATE_LIMIT set): too many requests for this user; see Retry-After",
    500: "INTERNAL_ERROR: a bug, logged with the request id",
    503: "SERVICE_UNAVAILABLE: the database cannot be reached; retry after Retry-After seconds",
}
_EVERY_TASK_ROUTE: Final = frozenset({401, 403, 404, 429, 500, 503})
_TASKS: Final = "/api/{user_id}/tasks"
_TASK: Final = "/api/{user_id}/tasks/{task_id}"
_WRITE: Final = (400, 413, 415, 422)
_ROUTES: Final[dict[tuple[str, str], dict[str, Any]]] = {
    (_TASKS, "get"): {"ok": (200, TaskListEnvelope), "errors": (422,)},
    (_TASKS, "post"): {"ok": (201, TaskEnvelope), "body": TaskWrite, "errors": (*_WRITE, 409)},
    (_TASKS, "delete"): {"ok": (200, DeletedCountEnvelope), "errors": (422,)},
    (f"{_TASKS}/stats", "get"): {"ok": (200, StatsEnvelope), "errors": (422,)},
    (_TASK, "get"): {"ok": (200, TaskEnvelope), "not_modified": True, "errors": (404, 422)},
    (_TASK, "put"): {"ok": (200, TaskEnvelope), "body": TaskWrite, "errors": (*_WRITE, 404, 412)},
    (_TASK, "patch"): {"ok": (200, TaskEnvelope), "body": TaskPatch, "errors": (*_WRITE, 404, 412)},
    (f"{_TASK}/complete", "patch"): {
        "ok": (200, TaskEnvelope),
        "body": CompletionWrite,
        "optional_body": True,
        "errors": (*_WRITE, 404, 412),
    },
    (_TASK, "delete"): {"ok": (200, DeletedTaskEnvelope), "errors": (404, 412, 422)},
    ("/health", "get"): {"ok": (200, HealthEnvelope), "errors": ()},
    ("/ready", "get"): {"ok": (200, HealthEnvelope), "errors": (503,)},
}
# Checked by the handlers (so that the error names the field plainly); documented here.
_PATH_SCHEMAS: Final = {
    "user_id": {
        "pattern": r"^(?!\.{1,2}$)[A-Za-z0-9._~@:|+\-]{1,128}$",
        "minLength": 1,
        "maxLength": 128,
    },
    "task_id": {"format": "uuid"},
}
_PARAMETER_SCHEMAS: Final[dict[str, dict[str, Any]]] = {
    "sort": {"enum": list(SORT_VALUES)},
    "completed": {"enum": ["true", "false"]},
    "priority": {"enum": ["none", "low", "medium", "high"]},
    "due_before": {"format": "date-time"},
    "due_after": {"format": "date-time"},
    "Idempotency-Key": {"minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7e]+$"},
}
_HEADERS: Final = {
    "ETag": 'The task\'s version, quoted: "3"',
    "Location": "The new task's URL",
    "Link": 'The next page: <url>; rel="next"',
    "X-Request-ID": "The client's X-Request-ID when sane, else a generated one",
    "Retry-After": "Seconds to wait before retrying",
    "Idempotent-Replayed": "true when the response is a replay of an earlier one",
}
_STRUCTS: Final = (
    TaskWrite,
    TaskPatch,
    CompletionWrite,
    TaskEnvelope,
    TaskListEnvelope,
    DeletedTaskEnvelope,
    DeletedCountEnvelope,
    StatsEnvelope,
    HealthEnvelope,
    ErrorEnvelope,
)


def _ref(struct: type[msgspec.Struct]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{struct.__name__}"}


def _header(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if name == "ETag":
        schema["pattern"] = '^"[1-9][0-9]*"$'
    return {"description": _HEADERS[name], "required": name != "Link", "schema": schema}


def _parameter_schema(operation: tuple[str, str], parameter: dict[str, Any]) -> None:
    """Parameters are checked by the handlers (see controllers.py); say here what they take."""
    schema = parameter.get("schema", {})
    # Optional parameters are absent, never `null`.
    for union in ("oneOf", "anyOf"):
        options = [o for o in schema.get(union, []) if o.get("type") != "null"]
        if len(options) == 1:
            del schema[union]
            schema.update(options[0])
    schema.update(_PATH_SCHEMAS.get(parameter["name"], {}))
    schema.update(_PARAMETER_SCHEMAS.get(parameter["name"], {}))
    if operation == (_TASKS, "delete") and parameter["name"] == "completed":
        parameter["required"] = True
        schema["enum"] = ["true"]


def _responses(spec: dict[str, Any], is_task_route: bool) -> dict[str, Any]:
    status, envelope = spec["ok"]
    headers = {"X-Request-ID": _header("X-Request-ID")}
    if envelope is TaskEnvelope:
        headers["ETag"] = _header("ETag")
    if status == 201:
        headers["Location"] = _header("Location")
    if envelope is TaskListEnvelope:
        headers["Link"] = _header("Link")
    responses: dict[str, Any] = {
        str(status): {
            "description": "Success",
            "headers": headers,
            "content": {"application/json": {"schema": _ref(envelope)}},
        }
    }
    if envelope is TaskEnvelope and status == 201:
        headers["Idempotent-Replayed"] = {**_header("Idempotent-Replayed"), "required": False}
    if spec.get("not_modified"):
        responses["304"] = {
            "description": "If-None-Match matches the current ETag: no body",
            "headers": {"ETag": _header("ETag"), "X-Request-ID": _header("X-Request-ID")},
        }
    # Every /api route can miss (a user_id that cannot be a path segment is no route at all),
    # and is guarded by auth and the rate limit when those are switched on.
    codes = set(spec["errors"]) | (_EVERY_TASK_ROUTE if is_task_route else set())
    for code in sorted(codes):
        error_headers = {"X-Request-ID": _header("X-Request-ID")}
        if code in (429, 503):
            error_headers["Retry-After"] = _header("Retry-After")
        if code == 401:
            error_headers["WWW-Authenticate"] = {
                "description": "Bearer",
                "required": True,
                "schema": {"type": "string"},
            }
        if code == 412:
            error_headers["ETag"] = {**_header("ETag"), "description": "The current ETag"}
        responses[str(code)] = {
            "description": _ERRORS[code],
            "headers": error_headers,
            "content": {"application/json": {"schema": _ref(ErrorEnvelope)}},
        }
    return responses


@cache
def _document(app: Litestar) -> dict[str, Any]:
    document = app.openapi_schema.to_schema()
    document["openapi"] = "3.1.0"
    _, components = msgspec.json.schema_components(
        _STRUCTS, ref_template="#/components/schemas/{name}"
    )
    for name, schema in components.items():
        if name.endswith("Envelope"):
            # Every envelope says which kind it is.
            schema["properties"]["success"] = {"const": name != "ErrorEnvelope"}
            schema["required"] = sorted({*schema.get("required", []), "success"})
    document.setdefault("components", {}).setdefault("schemas", {}).update(components)
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            spec = _ROUTES.get((path, method))
            if spec is None:
                continue
            for parameter in operation.get("parameters", []):
                _parameter_schema((path, method), parameter)
            operation["responses"] = _responses(spec, path.startswith("/api/"))
            if "body" in spec:
                operation["requestBody"] = {
                    "required": not spec.get("optional_body", False),
                    "content": {"application/json": {"schema": _ref(spec["body"])}},
                }
    return document


def openapi_document(app: Litestar) -> dict[str, Any]:
    return _document(app)
