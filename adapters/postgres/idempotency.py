"""Idempotency keys in PostgreSQL, written in the same transaction as the task they created."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres.mapping import task_from_json, task_to_json
from adapters.postgres.tables import idempotency_keys as keys
from application.idempotency import KEY_LIFETIME, StoredResult
from domain.task import Task


class SqlAlchemyIdempotencyStore:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def claim(
        self, owner: str, key: str, request_fingerprint: str, now: datetime
    ) -> StoredResult | None:
        # A concurrent claim of the same key waits here on the unique index until the first
        # transaction ends: then it sees the committed result (a replay), or takes the key.
        candidate = insert(keys).values(
            user_id=owner, key=key, fingerprint=request_fingerprint, created_at=now
        )
        statement = candidate.on_conflict_do_update(
            index_elements=[keys.c.user_id, keys.c.key],
            set_={
                "fingerprint": candidate.excluded.fingerprint,
                "created_at": candidate.excluded.created_at,
                "task": None,
            },
            where=keys.c.created_at < now - KEY_LIFETIME,  # an expired key is free again
        ).returning(keys.c.user_id)
        if (await self._connection.execute(statement)).first() is not None:
            return None
        row = (
            await self._connection.execute(
                sa.select(keys.c.fingerprint, keys.c.task).where(
                    keys.c.user_id == owner, keys.c.key == key
                )
            )
        ).one()
        return StoredResult(row.fingerprint, None if row.task is None else task_from_json(row.task))

    async def remember(self, owner: str, key: str, task: Task) -> None:
        await self._connection.execute(
            sa.update(keys)
            .where(keys.c.user_id == owner, keys.c.key == key)
            .values(task=task_to_json(task))
        )

    async def purge(self, before: datetime) -> int:
        result = await self._connection.execute(sa.delete(keys).where(keys.c.created_at < before))
        return result.rowcount
