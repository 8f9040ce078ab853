"""X-Request-ID: the client's sane value or a fresh one, on every response and in every log line."""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from typing import Any, Final

from litestar.types import ASGIApp, Message, Receive, Scope, Send

_SCOPE_KEY: Final = "taskapi.request_id"
_SANE: Final = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]{0,126}[\x21-\x7e])?")

current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def request_id_of(scope: Any) -> str:
    value = scope.get(_SCOPE_KEY)
    return value if isinstance(value, str) else current_request_id.get()


def _choose(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if _SANE.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Outermost ASGI layer, so even errors raised by other middleware carry the id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _choose(scope)
        scope[_SCOPE_KEY] = request_id  # type: ignore[literal-required]
        token = current_request_id.set(request_id)
        header = (b"x-request-id", request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", ()) if h[0].lower() != b"x-request-id"]
                headers.append(header)
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            current_request_id.reset(token)


class RequestIdLogFilter(logging.Filter):
    """Puts the current request id on every log record as `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True
