"""The outermost ASGI layer, every request's way in and out (around Litestar's own exception
handling, so 404s and 405s pass through it too). In one layer because each layer costs every
request a call: it

- gives the request its id (entrypoints/http/request_id.py) and the response its header;
- keeps an encoded slash in a path parameter from splitting the path;
- adds the headers every response carries (nosniff, Vary: Origin, no-store under /api/);
- fixes the Allow header of OPTIONS answers (litestar#4169);
- measures the request (metrics) and writes its access log line.
"""

from __future__ import annotations

import re
import time
from typing import Any, Final
from urllib.parse import unquote

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.http import metrics
from entrypoints.http.request_id import (
    REQUEST_ID_HEADER,
    SCOPE_KEY,
    choose_request_id,
    current_request_id,
)

# Headers on every response: browsers must not guess a type other than the one declared;
# CORS answers differ by Origin (Litestar adds Vary only for an allowed origin, so a cache
# could hand a refusal to an allowed one); a user's tasks must not be kept by any cache.
_NOSNIFF: Final = (b"x-content-type-options", b"nosniff")
_VARY_ORIGIN: Final = (b"vary", b"Origin")
_NO_STORE: Final = (b"cache-control", b"no-store")
_ENCODED_SLASH: Final = re.compile(rb"%2[fF]")


def _path_keeping_encoded_slashes(raw_path: bytes) -> str:
    """The server decodes `%2F` into `/`, which moves a path's segments (`/api/a%2Fb/tasks`
    would route as `/api/a/b/tasks`); decode everything else, so the router sees one
    segment and the parameter's own rule refuses it, naming it."""
    path = raw_path.split(b"?", 1)[0]  # in case a server leaves the query string in it
    parts = _ENCODED_SLASH.split(path)
    return "%2F".join(unquote(part.decode("latin-1")) for part in parts)


class EdgeMiddleware:
    """See the module's docstring."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        access_log: Any = None,
        allow_by_route: dict[str, bytes] | None = None,
    ) -> None:
        self.app = app
        self.access_log = access_log  # a structlog logger, or None: no access log
        # Litestar 2.x answers OPTIONS on a path served by several handlers with the methods
        # of one of them (litestar#4169); the right Allow, by route template.
        self.allow_by_route = allow_by_route or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = choose_request_id(scope)
        scope[SCOPE_KEY] = request_id  # type: ignore[literal-required]
        token = current_request_id.set(request_id)
        header = (REQUEST_ID_HEADER, request_id.encode("latin-1"))
        status = 500  # what the client sees if the app dies before it answers
        started = time.perf_counter()

        raw_path = scope.get("raw_path")
        if raw_path and b"%2" in raw_path and _ENCODED_SLASH.search(raw_path):
            scope["path"] = _path_keeping_encoded_slashes(raw_path)
        private = scope["path"].startswith("/api/") or scope["path"] == "/mcp"

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])  # the MCP SDK sends an HTTPStatus
                headers = []
                varies_by_origin = False
                for raw_name, value in message.get("headers", ()):
                    name = raw_name.lower()
                    if name == REQUEST_ID_HEADER:
                        continue
                    if name == b"vary" and b"origin" in value.lower():
                        varies_by_origin = True
                    headers.append((name, value))
                headers.append(header)
                headers.append(_NOSNIFF)
                if not varies_by_origin:
                    headers.append(_VARY_ORIGIN)
                if private:
                    headers.append(_NO_STORE)
                if status == 204 and scope["method"] == "OPTIONS":
                    allow = self.allow_by_route.get(scope.get("path_template", ""))  # type: ignore[call-overload]
                    if allow is not None:
                        headers = [h for h in headers if h[0] != b"allow"]
                        headers.append((b"allow", allow))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            try:
                seconds = time.perf_counter() - started
                route = metrics.route_label(scope.get("path_template"))  # type: ignore[arg-type]
                metrics.observe(route, scope["method"], status, seconds)
                if self.access_log is not None:
                    self.access_log.info(
                        "request",
                        method=scope["method"],
                        route=route,
                        path=scope["path"],
                        status=status,
                        duration_ms=round(seconds * 1000, 3),
                    )
            finally:
                current_request_id.reset(token)  # even if stderr is gone
