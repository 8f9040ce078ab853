"""A unit of work on one pooled connection and one transaction."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.postgres.repository import SqlAlchemyTaskRepository


class SqlAlchemyUnitOfWork:
    """Checks a connection out for its own life only; commits only when told to."""

    # Core on a connection, not an ORM session: rows are mapped to aggregates by
    # hand (mapping.py), so an identity map and change tracking would be dead weight.
    tasks: SqlAlchemyTaskRepository

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        connection = await self._engine.connect()
        try:
            await connection.begin()
        except BaseException:
            await connection.close()
            raise
        self._connection = connection
        self.tasks = SqlAlchemyTaskRepository(connection)
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
        await connection.close()

    async def commit(self) -> None:
        assert self._connection is not None, "commit() outside the unit of work"
        await self._connection.commit()

    async def rollback(self) -> None:
        assert self._connection is not None, "rollback() outside the unit of work"
        await self._connection.rollback()


class SqlAlchemyUnitOfWorkFactory:
    """Makes units of work on one engine (one pool per process)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    def __call__(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self.engine)
