"""The HTTP/1.1 connection as `taskapi serve` runs it: uvicorn's httptools protocol, bounded
so that a slow, idle or oversized client cannot hold the worker's sockets or memory.

Uvicorn times out only idle keep-alive connections; it waits for ever for a request that
never finishes arriving and takes headers of any size and number. This protocol adds:

- a deadline for reading each request, headers and body (from the connection's start, or
  from the first byte of the next request on a kept-alive one): 408 and close;
- caps on the request line and headers' size and on their number: 431 and close;
- a cap on open connections per worker: past it, a new connection gets 503 and is closed;
- the contract's envelope, not uvicorn's plain text, for requests the parser refuses, and a
  405 with `Allow` for a method token the parser does not know (llhttp knows only the
  registered methods; the contract answers any method, unknown ones included).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from functools import cache
from http import HTTPStatus
from typing import Any, ClassVar, Final

import httptools
import msgspec
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from entrypoints.http.request_id import CLIENT_GONE, new_request_id

logger = logging.getLogger("taskapi.http")

# Any token of RFC 9110's method grammar, up to a sane length.
_TOKEN_CHARS: Final = frozenset(
    b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)
_MAX_METHOD_BYTES: Final = 32
# A method llhttp parses and no route serves: stands in for an unknown token while parsing.
_STAND_IN_METHOD: Final = b"PROPFIND"


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    read_timeout: float = 10.0  # seconds to receive a whole request, headers and body
    max_connections: int = 1000  # open connections per worker process
    max_header_bytes: int = 32 * 1024  # request line and headers together
    max_headers: int = 100


@cache
def configured_limits() -> ConnectionLimits:
    """Read once per worker process (uvicorn starts workers by spawning, so the class cannot
    carry them), from the same settings as everything else."""
    from entrypoints.config import Settings  # noqa: PLC0415 (the settings import the world)

    settings = Settings.from_env()
    return ConnectionLimits(
        read_timeout=settings.http_read_timeout,
        max_connections=settings.http_max_connections,
    )


def envelope_response(
    status: int, code: str, message: str, headers: tuple[tuple[bytes, bytes], ...] = ()
) -> bytes:
    """A whole HTTP/1.1 response in the contract's error envelope, closing the connection."""
    request_id = new_request_id()
    body = msgspec.json.encode(
        {
            "success": False,
            "error": {"code": code, "message": message, "request_id": request_id},
        }
    )
    lines = [
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}".encode(),
        b"content-type: application/json",
        b"content-length: " + str(len(body)).encode(),
        b"x-request-id: " + request_id.encode(),
        b"x-content-type-options: nosniff",
        b"connection: close",
        *(name + b": " + value for name, value in headers),
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


class _HeadersTooLarge(Exception):
    pass


class _Sweeper:
    """Once per worker's event loop: every quarter of the timeout (at most a second), cut off
    the connections whose request is past its deadline."""

    _running: ClassVar[dict[asyncio.AbstractEventLoop, _Sweeper]] = {}

    def __init__(
        self, loop: asyncio.AbstractEventLoop, connections: set[Any], timeout: float
    ) -> None:
        self.loop = loop
        self.connections = connections
        self.interval = min(1.0, timeout / 4)

    @classmethod
    def ensure(cls, loop: asyncio.AbstractEventLoop, connections: set[Any], timeout: float) -> None:
        if loop not in cls._running:
            cls._running[loop] = sweeper = cls(loop, connections, timeout)
            loop.call_later(sweeper.interval, sweeper.sweep)

    def sweep(self) -> None:
        if self.loop.is_closed():
            return
        now = self.loop.time()
        for connection in list(self.connections):
            deadline = getattr(connection, "read_deadline", None)
            if deadline is not None and deadline <= now:
                connection.on_read_timeout()
        if self.connections:
            self.loop.call_later(self.interval, self.sweep)
        else:
            del self._running[self.loop]  # idle: the next connection starts it again


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits above; everything else is uvicorn's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = configured_limits()
        self.read_deadline: float | None = None  # the loop's time by which the request is in
        self.timed_out = False
        self.header_bytes = 0
        self.reading_headers = False
        self.between_requests = True  # no request is partly read
        self.unknown_method: str | None = None
        self.pending_method = b""  # the start of a request line with an unknown method

    # Connection

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            self.refuse(
                503,
                "SERVICE_UNAVAILABLE",
                "the server has too many open connections; retry shortly",
                ((b"retry-after", b"1"),),
            )
            return
        self.arm_read_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self.disarm_read_deadline()
        if self.cycle is not None and not self.cycle.response_complete:
            # The app may be waiting for a body that will never come: not a server error.
            self.cycle.scope[CLIENT_GONE] = 408 if self.timed_out else 400  # type: ignore[literal-required]
        super().connection_lost(exc)

    def refuse(
        self,
        status: int,
        code: str,
        message: str,
        headers: tuple[tuple[bytes, bytes], ...] = (),
    ) -> None:
        if not self.transport.is_closing():
            logger.info("refused a connection from %s: %d %s", self.client_text(), status, message)
            self.transport.write(envelope_response(status, code, message, headers))
            self.transport.close()

    def client_text(self) -> str:
        return f"{self.client[0]}:{self.client[1]}" if self.client else "-"

    # Reading deadline: a time on the connection, checked by one sweep per worker, so that
    # a request costs a float assignment, not a timer (measured: 2 us less a request).

    def arm_read_deadline(self) -> None:
        if self.read_deadline is None:
            self.read_deadline = self.loop.time() + self.limits.read_timeout
            _Sweeper.ensure(self.loop, self.connections, self.limits.read_timeout)

    def disarm_read_deadline(self) -> None:
        self.read_deadline = None

    def on_read_timeout(self) -> None:
        self.read_deadline = None
        self.timed_out = True
        if self.cycle is not None and self.cycle.response_started:
            self.transport.close()  # the app has begun to answer; nothing else can be sent
            return
        self.refuse(
            408,
            "MALFORMED_REQUEST",
            f"the request did not arrive within {self.limits.read_timeout:g} seconds",
        )

    # Parsing

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        self.arm_read_deadline()
        if self.pending_method:
            data, self.pending_method = self.pending_method + data, b""
            if not self.parse_unknown_method(data):
                self.refuse(400, "MALFORMED_REQUEST", "the request is malformed")
            return
        self.feed(data)

    def feed(self, data: bytes) -> None:
        """As uvicorn's `data_received`, with refusals in the contract's envelope."""
        at_request_start = self.between_requests
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserInvalidMethodError:
            if not (at_request_start and self.parse_unknown_method(data)):
                self.refuse(400, "MALFORMED_REQUEST", "the request is malformed")
        except httptools.HttpParserError as error:
            if isinstance(error.__context__, _HeadersTooLarge):
                self.refuse(431, "MALFORMED_REQUEST", str(error.__context__))
            else:
                self.refuse(400, "MALFORMED_REQUEST", "the request is malformed")
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        else:
            if self.reading_headers:
                self.count_header_bytes(len(data))

    def parse_unknown_method(self, data: bytes) -> bool:
        """A request line whose method is a token llhttp does not know: parse the request
        with a stand-in method, and give the app the real one, so that the router answers
        405 with the route's `Allow`. False when the line is not such a request."""
        method, space, rest = data.partition(b" ")
        if not method or len(method) > _MAX_METHOD_BYTES or not _TOKEN_CHARS.issuperset(method):
            return False
        if not space:
            self.pending_method = data  # the method's end has not arrived yet
            return True
        self.parser = httptools.HttpRequestParser(self)
        self.parser.set_dangerous_leniencies(lenient_data_after_close=True)
        self.unknown_method = method.decode("ascii")
        self.between_requests = True
        self.feed(_STAND_IN_METHOD + b" " + rest)
        return True

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.between_requests = False
        self.reading_headers = True
        self.header_bytes = 0
        self.arm_read_deadline()

    def count_header_bytes(self, size: int) -> None:
        """Bytes received while a request's headers are not complete (counted per chunk
        read, not per header, so that a request pays nothing per header): past the cap by at
        most one read, the request is refused before its headers are kept."""
        self.header_bytes += size
        if self.header_bytes > self.limits.max_header_bytes:
            self.refuse(
                431,
                "MALFORMED_REQUEST",
                f"the request line and headers may take at most "
                f"{self.limits.max_header_bytes // 1024} KiB",
            )

    def on_headers_complete(self) -> None:
        self.reading_headers = False
        if len(self.headers) > self.limits.max_headers:
            raise _HeadersTooLarge(f"a request may carry at most {self.limits.max_headers} headers")
        super().on_headers_complete()
        if self.unknown_method is not None:
            # The request's task is created, not started: it will see the real method.
            self.scope["method"] = self.unknown_method
            self.unknown_method = None

    def on_message_complete(self) -> None:
        self.disarm_read_deadline()
        self.between_requests = True
        super().on_message_complete()
