"""One pooled asyncpg connection for one unit of work, with a transaction begun only when
the unit of work first writes or locks: a read-only request is one statement, one round trip,
and so is a unit of work that promised a single write (the statement commits by itself)."""

from __future__ import annotations

from typing import Any

import asyncpg
from asyncpg.transaction import Transaction

from adapters.postgres.statements import Statement


class PostgresSession:
    def __init__(self, connection: asyncpg.Connection, *, one_write: bool = False) -> None:
        self.connection = connection
        self._transaction: Transaction | None = None
        self._one_write = one_write
        self._wrote = False

    async def _writer(self) -> asyncpg.Connection:
        if self._one_write:
            if self._wrote:
                raise RuntimeError("a second write in a unit of work that promised one")
            self._wrote = True
            return self.connection
        if self._transaction is None:
            transaction = self.connection.transaction()
            await transaction.start()
            self._transaction = transaction
        return self.connection

    async def fetch(self, statement: Statement, **values: Any) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self.connection.fetch(
            statement.sql, *statement.args(values)
        )
        return rows

    async def fetchrow(self, statement: Statement, **values: Any) -> asyncpg.Record | None:
        return await self.connection.fetchrow(statement.sql, *statement.args(values))

    async def fetchrow_writing(self, statement: Statement, **values: Any) -> asyncpg.Record | None:
        connection = await self._writer()
        return await connection.fetchrow(statement.sql, *statement.args(values))

    async def execute_writing(self, statement: Statement, **values: Any) -> str:
        connection = await self._writer()
        status: str = await connection.execute(statement.sql, *statement.args(values))
        return status

    async def copy_writing(
        self, table: str, columns: list[str], records: list[tuple[Any, ...]]
    ) -> None:
        """Rows in bulk, in one COPY: one statement, so statement triggers fire once."""
        connection = await self._writer()
        await connection.copy_records_to_table(table, columns=columns, records=records)

    async def commit(self) -> None:
        if self._transaction is not None:
            transaction, self._transaction = self._transaction, None
            await transaction.commit()

    async def rollback(self) -> None:
        if self._transaction is not None:
            transaction, self._transaction = self._transaction, None
            await transaction.rollback()
