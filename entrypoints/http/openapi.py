"""The OpenAPI 3.1 document: Litestar's paths and parameters, with our bodies and envelopes.

Bodies are decoded by us (strictly), not by Litestar, so Litestar cannot see them; and every
response, errors included, is described here from the same msgspec structs the code uses.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Final

import msgspec
from litestar import Litestar

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
    404: "TASK_NOT_FOUND: no such task for this user (or NOT_FOUND: no such route)",
    409: "TASK_LIMIT_REACHED: the user already has the maximum number of tasks",
    412: "PRECONDITION_FAILED: If-Match does not match the task's current ETag",
    413: "PAYLOAD_TOO_LARGE: body over 64 KiB",
    415: "UNSUPPORTED_MEDIA_TYPE: the body is not application/json",
    422: "VALIDATION_ERROR: a field, path or query parameter breaks its rule; `details` names it",
    500: "INTERNAL_ERROR: a bug, logged with the request id",
    503: "SERVICE_UNAVAILABLE: the database cannot be reached; retry after Retry-After seconds",
}
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
    "user_id": {"pattern": r"^[A-Za-z0-9._~@:|+\-]{1,128}$", "minLength": 1, "maxLength": 128},
    "task_id": {"format": "uuid"},
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
    return {"description": _HEADERS[name], "schema": {"type": "string"}}


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
    if spec.get("not_modified"):
        responses["304"] = {
            "description": "If-None-Match matches the current ETag: no body",
            "headers": {"ETag": _header("ETag")},
        }
    codes = set(spec["errors"]) | ({500, 503} if is_task_route else set())
    for code in sorted(codes):
        error_headers = {"X-Request-ID": _header("X-Request-ID")}
        if code == 503:
            error_headers["Retry-After"] = _header("Retry-After")
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
    document.setdefault("components", {}).setdefault("schemas", {}).update(components)
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            spec = _ROUTES.get((path, method))
            if spec is None:
                continue
            for parameter in operation.get("parameters", []):
                parameter.get("schema", {}).update(_PATH_SCHEMAS.get(parameter["name"], {}))
            operation["responses"] = _responses(spec, path.startswith("/api/"))
            if "body" in spec:
                operation["requestBody"] = {
                    "required": not spec.get("optional_body", False),
                    "content": {"application/json": {"schema": _ref(spec["body"])}},
                }
    return document


def openapi_document(app: Litestar) -> dict[str, Any]:
    return _document(app)
