"""Request ids: the client's X-Request-ID when sane, else a generated one, on every log line."""

from __future__ import annotations

import contextvars
import os
import re
from typing import Any, Final

from litestar.types import Scope

SCOPE_KEY: Final = "taskapi.request_id"
REQUEST_ID_HEADER: Final = b"x-request-id"
_SANE: Final = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]{0,126}[\x21-\x7e])?")

# Set in a request's scope (to the status to log: 400, or 408 when it was cut off for being
# too slow) when its client disconnected before the answer went out: the app's failure to
# read the body is then not a server error.
CLIENT_GONE: Final = "taskapi.client_gone"

current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def request_id_of(scope: Any) -> str:
    value = scope.get(SCOPE_KEY)
    return value if isinstance(value, str) else current_request_id.get()


def new_request_id() -> str:
    """A random UUID (version 4) in hex, as `uuid.uuid4().hex` but without building a UUID."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # RFC 4122 variant
    return raw.hex()


def choose_request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER:
            text = value.decode("latin-1")
            if _SANE.fullmatch(text):
                return text
            break
    return new_request_id()


def add_request_id(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: the current request's id on every log line."""
    event.setdefault("request_id", current_request_id.get())
    return event
