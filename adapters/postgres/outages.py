"""Which database errors mean "the database is unavailable" (a 503), not "a bug" (a 500)."""

from __future__ import annotations

from typing import Final

import asyncpg
import sqlalchemy.exc

# SQLSTATE classes and codes: connection exceptions (08xxx), admin shutdown, crash shutdown,
# cannot connect now (starting up or shutting down), too many connections, statement timeout.
_UNAVAILABLE_CODES: Final = frozenset({"57P01", "57P02", "57P03", "53300", "57014"})
_UNAVAILABLE_TYPES: Final = (
    OSError,  # connection refused, reset, unreachable
    TimeoutError,  # connect and command timeouts (asyncio.TimeoutError is this class)
    sqlalchemy.exc.TimeoutError,  # no pooled connection within pool_timeout
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.CannotConnectNowError,
    asyncpg.exceptions.InterfaceError,  # "connection is closed"
    # "cannot switch to state ...; another operation is in progress": the protocol's state
    # after the server cut the connection in the middle of a statement.
    asyncpg.exceptions.InternalClientError,
)


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def is_outage(error: BaseException) -> bool:
    for link in _chain(error):
        if isinstance(link, _UNAVAILABLE_TYPES):
            return True
        if isinstance(link, sqlalchemy.exc.DBAPIError) and link.connection_invalidated:
            return True
        code = getattr(link, "sqlstate", None) or getattr(link, "pgcode", None)
        if isinstance(code, str) and (code.startswith("08") or code in _UNAVAILABLE_CODES):
            return True
    return False
