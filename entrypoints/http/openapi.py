"""The OpenAPI document's configuration: the error responses each route declares, the bearer
security scheme, and the interactive docs (Swagger UI, served from the `swagger-ui-py`
package, so they work offline and under a strict Content-Security-Policy). Litestar builds
the document itself from the handlers; nothing here rewrites it."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any, Final

import swagger_ui
from litestar import Litestar, Request, Response, get
from litestar.enums import MediaType
from litestar.exceptions import NotFoundException
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import (
    Components,
    OpenAPIHeader,
    OpenAPIResponse,
    OpenAPIType,
    Schema,
    SecurityScheme,
)
from litestar.params import FromPath

from entrypoints.http.schemas import ErrorEnvelope

_ERRORS: Final = {
    400: "MALFORMED_REQUEST: the body is not valid JSON, a required body is empty, or the "
    "request is not readable HTTP",
    401: "UNAUTHORIZED (AUTH_MODE=jwt): the bearer token is missing, expired or invalid "
    "(with WWW-Authenticate: Bearer)",
    403: "FORBIDDEN (AUTH_MODE=jwt): the token's sub is not this user_id",
    404: "TASK_NOT_FOUND: no such task for this user (or NOT_FOUND: no such route)",
    409: "TASK_LIMIT_REACHED: the user already has the maximum number of tasks; "
    "IDEMPOTENCY_KEY_REUSED: the key was used with another body; "
    "IDEMPOTENCY_KEY_IN_USE: a request with the key is still being processed",
    410: "SYNC_TOKEN_EXPIRED: the changes after this token are no longer kept; list the "
    "tasks anew and start from a fresh token",
    412: "PRECONDITION_FAILED: If-Match does not match the task's current ETag "
    "(the current ETag is in the ETag header)",
    413: "PAYLOAD_TOO_LARGE: body over 64 KiB",
    415: "UNSUPPORTED_MEDIA_TYPE: the body is not application/json",
    422: "VALIDATION_ERROR: a field, path or query parameter breaks its rule; `details` names it",
    429: "RATE_LIMITED (RATE_LIMIT set): too many requests for this user; retry after the "
    "Retry-After header's seconds",
    500: "INTERNAL_ERROR: a bug, logged with the request id",
    503: "SERVICE_UNAVAILABLE: the database, or (JWT_JWKS_URL) the identity provider's key set, "
    "cannot be reached; retry after the Retry-After header's seconds",
}
# Every task route: a request the server cannot read, auth and the rate limit when they are
# on, a user_id no route can carry, and the database going away.
_EVERY_TASK_ROUTE: Final = (400, 401, 403, 404, 429, 500, 503)


def responses(*codes: int) -> dict[int, ResponseSpec]:
    """The responses a task route declares besides its success: these codes and those every
    task route can give; 304 is the conditional GET's empty answer."""
    declared: dict[int, ResponseSpec] = {}
    for code in sorted({*codes, *_EVERY_TASK_ROUTE}):
        if code == 304:
            declared[code] = ResponseSpec(
                data_container=None,
                description="If-None-Match matches the current ETag: no body",
                generate_examples=False,
            )
            continue
        declared[code] = ResponseSpec(
            data_container=ErrorEnvelope, description=_ERRORS[code], generate_examples=False
        )
    return declared


_ASSETS: Final = Path(swagger_ui.__file__).parent / "static"
_ASSET_TYPES: Final = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-standalone-preset.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "taskapi-init.js": "text/javascript",
}


@cache
def _asset(name: str) -> bytes:
    if name == "taskapi-init.js":
        return _INITIALIZER
    return (_ASSETS / name).read_bytes()


@get("/docs/assets/{name:str}", include_in_schema=False, media_type=MediaType.TEXT)
async def docs_asset(name: FromPath[str]) -> Response[bytes]:
    """Swagger UI's files, from the installed package."""
    media_type = _ASSET_TYPES.get(name)
    if media_type is None:
        raise NotFoundException()
    return Response(
        _asset(name),
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=86400"},
    )


# The page loads everything from the service itself, the initializer included (no inline
# script), so it renders offline and under `Content-Security-Policy: script-src 'self'`.
_INITIALIZER: Final = b"""window.ui = SwaggerUIBundle({
  url: document.getElementById("swagger-ui").dataset.document,
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout",
});
"""
_PAGE: Final = b"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>taskapi: API documentation</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui" data-document="/openapi.json"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/assets/taskapi-init.js"></script>
</body>
</html>
"""


class _SwaggerUI(SwaggerRenderPlugin):
    """Litestar's Swagger UI plugin at /docs, on the document at /openapi.json."""

    def __init__(self) -> None:
        super().__init__(path="/", favicon="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return _PAGE


_STRING: Final = Schema(type=OpenAPIType.STRING)


def _header(description: str) -> OpenAPIHeader:
    return OpenAPIHeader(
        description=description, required=True, schema=Schema(type=OpenAPIType.STRING)
    )


_ERROR_HEADERS: Final = {
    401: {"WWW-Authenticate": _header('Bearer, or Bearer error="invalid_token"')},
    412: {"ETag": _header("The task's current ETag")},
    429: {"Retry-After": _header("Seconds to wait before retrying")},
    503: {"Retry-After": _header("Seconds to wait before retrying")},
}
_REQUEST_ID: Final = _header("The client's X-Request-ID when sane, else a generated one")


def openapi_document(app: Litestar) -> dict[str, Any]:
    """The document, as /openapi.json serves it and `taskapi openapi` writes it."""
    declare_error_headers(app)
    return app.openapi_schema.to_schema()


def _optional_bodies(app: Litestar) -> set[tuple[str, str]]:
    """(path, method) of the routes whose `data` may be absent."""
    optional = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is not None and data.is_optional:
                path = re.sub(r":\w+}", "}", route.path)
                optional.update((path, method.lower()) for method in handler.http_methods)
    return optional


def declare_error_headers(app: Litestar) -> None:
    """What Litestar cannot declare: ResponseSpec names no headers (so the ones error
    answers carry are added here), a documentation-only ResponseHeader has no schema (every
    header is a string), and every request body is `required` (litestar/_openapi/
    request_body.py), even one the handler takes as optional. The same object serves
    /openapi.json and /docs/openapi.json."""
    for path, method in _optional_bodies(app):
        operation = getattr((app.openapi_schema.paths or {})[path], method)
        if operation.request_body is not None:
            operation.request_body.required = False
    for path_item in (app.openapi_schema.paths or {}).values():
        operations = (
            path_item.get,
            path_item.post,
            path_item.put,
            path_item.patch,
            path_item.delete,
        )
        for operation in operations:
            for code, response in (operation.responses or {}).items() if operation else ():
                if not isinstance(response, OpenAPIResponse):
                    continue
                if int(code) >= 400:
                    response.headers = {
                        "X-Request-ID": _REQUEST_ID,
                        **_ERROR_HEADERS.get(int(code), {}),
                    }
                for header in (response.headers or {}).values():
                    if isinstance(header, OpenAPIHeader) and header.schema is None:
                        header.schema = _STRING
                if response.headers:
                    # Litestar merges the app's and the route's headers through a set, so their
                    # order changes with the hash seed: sorted, the document is the same on
                    # every run (clients/typescript commits what it generates from it).
                    response.headers = dict(sorted(response.headers.items()))


def openapi_config(version: str) -> OpenAPIConfig:
    return OpenAPIConfig(
        title="taskapi",
        version=version,
        description="Per-user task management. Every task route is scoped by the owner's id.",
        path="/docs",
        render_plugins=[_SwaggerUI()],
        components=Components(
            security_schemes={
                "bearerAuth": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    bearer_format="JWT",
                    description="Required when the service runs with AUTH_MODE=jwt: a token "
                    "whose `sub` is the path's user_id. Ignored with AUTH_MODE=none.",
                )
            }
        ),
        use_handler_docstrings=False,
    )
