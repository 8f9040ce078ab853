"""A unit of work on one pooled connection and one transaction."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.postgres.idempotency import SqlAlchemyIdempotencyStore
from adapters.postgres.outages import is_outage
from adapters.postgres.repository import SqlAlchemyTaskRepository
from application.unit_of_work import StorageUnavailable


class SqlAlchemyUnitOfWork:
    """Checks a connection out for its own life only; commits only when told to."""

    # Core on a connection, not an ORM session: rows are mapped to aggregates by
    # hand (mapping.py), so an identity map and change tracking would be dead weight.
    tasks: SqlAlchemyTaskRepository
    idempotency: SqlAlchemyIdempotencyStore

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        try:
            connection = await self._engine.connect()
        except Exception as error:
            raise (StorageUnavailable() if is_outage(error) else error) from error
        try:
            await connection.begin()
        except BaseException as error:
            await _close_quietly(connection)
            if isinstance(error, Exception) and is_outage(error):
                raise StorageUnavailable from error
            raise
        self._connection = connection
        self.tasks = SqlAlchemyTaskRepository(connection)
        self.idempotency = SqlAlchemyIdempotencyStore(connection)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        # close() rolls back whatever was not committed and returns the connection to the pool.
        await _close_quietly(connection)
        if (
            isinstance(exc, Exception)
            and not isinstance(exc, StorageUnavailable)
            and is_outage(exc)
        ):
            raise StorageUnavailable from exc

    async def commit(self) -> None:
        assert self._connection is not None, "commit() outside the unit of work"
        await self._connection.commit()

    async def rollback(self) -> None:
        assert self._connection is not None, "rollback() outside the unit of work"
        await self._connection.rollback()


async def _close_quietly(connection: AsyncConnection) -> None:
    """Closing a connection whose server went away must not hide the original error."""
    try:
        await connection.close()
    except Exception as error:
        if not is_outage(error):
            raise
        await connection.invalidate()


class SqlAlchemyUnitOfWorkFactory:
    """Makes units of work on one engine (one pool per process)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    def __call__(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self.engine)
