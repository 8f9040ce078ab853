"""A unit of work on one pooled asyncpg connection."""

from __future__ import annotations

import contextlib
from types import TracebackType
from typing import Self

import asyncpg

from adapters.postgres.changes import PostgresChangeLog
from adapters.postgres.idempotency import PostgresIdempotencyStore
from adapters.postgres.outages import is_outage
from adapters.postgres.repository import PostgresTaskRepository
from adapters.postgres.session import PostgresSession
from application.unit_of_work import StorageUnavailable


class PostgresUnitOfWork:
    """Checks a connection out for its own life only; commits only when told to.

    Instead of a ping before every checkout (a round trip on every request), the first
    connection failure expires the whole pool, so after an outage every connection is
    replaced on its next checkout; asyncpg also replaces connections the server closed.
    """

    tasks: PostgresTaskRepository
    idempotency: PostgresIdempotencyStore
    changes: PostgresChangeLog

    def __init__(self, pool: asyncpg.Pool, acquire_timeout: float, *, one_write: bool) -> None:
        self._pool = pool
        self._acquire_timeout = acquire_timeout
        self._one_write = one_write
        self._session: PostgresSession | None = None

    async def _unavailable(self, error: BaseException) -> StorageUnavailable:
        await self._pool.expire_connections()
        return StorageUnavailable(str(type(error).__name__))

    async def __aenter__(self) -> Self:
        try:
            connection = await self._pool.acquire(timeout=self._acquire_timeout)
        except Exception as error:
            if is_outage(error):
                raise await self._unavailable(error) from error
            raise
        self._session = PostgresSession(connection, one_write=self._one_write)
        self.tasks = PostgresTaskRepository(self._session)
        self.idempotency = PostgresIdempotencyStore(self._session)
        self.changes = PostgresChangeLog(self._session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        connection = session.connection
        broken = isinstance(exc, Exception) and is_outage(exc)
        if not broken and not connection.is_closed():
            try:
                await session.rollback()  # a no-op after commit()
            except Exception as error:
                if not is_outage(error):
                    raise
                broken = True
        if broken:
            # Cut off mid-statement, the connection's protocol state is unknown: never
            # talk to it again (a rollback could fail with "another operation is in progress").
            # The pool may have taken a dead connection back already.
            with contextlib.suppress(asyncpg.InterfaceError):
                connection.terminate()
        try:
            await self._pool.release(connection)
        except Exception as error:
            if not is_outage(error):
                raise
        if broken and not isinstance(exc, StorageUnavailable):
            raise await self._unavailable(exc or ConnectionError()) from exc

    async def commit(self) -> None:
        assert self._session is not None, "commit() outside the unit of work"
        await self._session.commit()

    async def rollback(self) -> None:
        assert self._session is not None, "rollback() outside the unit of work"
        await self._session.rollback()


class PostgresUnitOfWorkFactory:
    """Makes units of work on one pool (one per process)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        acquire_timeout: float = 5.0,
        *,
        single_statement_writes: bool = True,
    ) -> None:
        """`single_statement_writes=False` keeps BEGIN/COMMIT around a promised single write:
        for connections without a server-side statement_timeout, where a write the client
        gave up on could still commit (a dropped transaction rolls back instead)."""
        self.pool = pool
        self._acquire_timeout = acquire_timeout
        self._single_statement_writes = single_statement_writes

    def __call__(self, *, one_write: bool = False) -> PostgresUnitOfWork:
        return PostgresUnitOfWork(
            self.pool,
            self._acquire_timeout,
            one_write=one_write and self._single_statement_writes,
        )
