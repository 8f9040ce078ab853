"""Idempotency keys in PostgreSQL, written in the same transaction as the task they created."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert

from adapters.postgres.mapping import task_from_json, task_to_json
from adapters.postgres.session import PostgresSession
from adapters.postgres.statements import Statement, rowcount
from adapters.postgres.tables import idempotency_keys as keys
from application.idempotency import KEY_LIFETIME, StoredResult
from domain.task import Task

_MINE = sa.and_(keys.c.user_id == sa.bindparam("owner"), keys.c.key == sa.bindparam("key"))
_CANDIDATE = insert(keys).values(
    user_id=sa.bindparam("owner"),
    key=sa.bindparam("key"),
    fingerprint=sa.bindparam("fingerprint"),
    created_at=sa.bindparam("now", type_=keys.c.created_at.type),
)
# A concurrent claim of the same key waits here on the unique index until the first
# transaction ends: then it sees the committed result (a replay), or takes the key.
CLAIM: Final = Statement.of(
    _CANDIDATE.on_conflict_do_update(
        index_elements=[keys.c.user_id, keys.c.key],
        set_={
            "fingerprint": _CANDIDATE.excluded.fingerprint,
            "created_at": _CANDIDATE.excluded.created_at,
            "task": sa.null(),
        },
        where=keys.c.created_at < sa.bindparam("expired_before", type_=keys.c.created_at.type),
    ).returning(keys.c.user_id)
)
READ: Final = Statement.of(sa.select(keys.c.fingerprint, keys.c.task).where(_MINE))
REMEMBER: Final = Statement.of(
    sa.update(keys).where(_MINE).values(task=sa.cast(sa.bindparam("task", type_=sa.Text()), JSONB))
)
PURGE: Final = Statement.of(
    sa.delete(keys).where(keys.c.created_at < sa.bindparam("before", type_=keys.c.created_at.type))
)


class PostgresIdempotencyStore:
    def __init__(self, session: PostgresSession) -> None:
        self._session = session

    async def claim(
        self, owner: str, key: str, request_fingerprint: str, now: datetime
    ) -> StoredResult | None:
        claimed = await self._session.fetchrow_writing(
            CLAIM,
            owner=owner,
            key=key,
            fingerprint=request_fingerprint,
            now=now,
            expired_before=now - KEY_LIFETIME,
        )
        if claimed is not None:
            return None
        row = await self._session.fetchrow(READ, owner=owner, key=key)
        if row is None:  # purged between the two statements: take it on the next try
            return StoredResult(request_fingerprint, None)
        task = None if row["task"] is None else task_from_json(json.loads(row["task"]))
        return StoredResult(row["fingerprint"], task)

    async def remember(self, owner: str, key: str, task: Task) -> None:
        await self._session.execute_writing(
            REMEMBER, owner=owner, key=key, task=json.dumps(task_to_json(task))
        )

    async def purge(self, before: datetime) -> int:
        return rowcount(await self._session.execute_writing(PURGE, before=before))
