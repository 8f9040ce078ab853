"""A Litestar `Store` in PostgreSQL, for the rate limiter: what one worker counts, every
worker and instance sees (Litestar's own stores are per process, or need Redis)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final

import asyncpg
import sqlalchemy as sa
from litestar.stores.base import Store
from sqlalchemy.dialects.postgresql import insert

from adapters.postgres.statements import Statement
from adapters.postgres.tables import rate_limit_entries as entries

_KEY = entries.c.key == sa.bindparam("key")
_LIVE = sa.or_(entries.c.expires_at.is_(None), entries.c.expires_at > sa.func.now())
_EXPIRES = sa.bindparam("expires_at", type_=entries.c.expires_at.type)
_candidate = insert(entries).values(
    key=sa.bindparam("key"),
    value=sa.bindparam("value", type_=entries.c.value.type),
    expires_at=_EXPIRES,
)
SET: Final = Statement.of(
    _candidate.on_conflict_do_update(
        index_elements=[entries.c.key],
        set_={"value": _candidate.excluded.value, "expires_at": _candidate.excluded.expires_at},
    )
)
GET: Final = Statement.of(sa.select(entries.c.value, entries.c.expires_at).where(_KEY, _LIVE))
RENEW: Final = Statement.of(sa.update(entries).where(_KEY, _LIVE).values(expires_at=_EXPIRES))
DELETE: Final = Statement.of(sa.delete(entries).where(_KEY))
DELETE_ALL: Final = Statement.of(sa.delete(entries))
DELETE_EXPIRED: Final = Statement.of(sa.delete(entries).where(sa.not_(_LIVE)))


def _until(expires_in: int | timedelta | None) -> datetime | None:
    if expires_in is None:
        return None
    seconds = expires_in if isinstance(expires_in, timedelta) else timedelta(seconds=expires_in)
    return datetime.now(UTC) + seconds


class PostgresStore(Store):
    def __init__(self, pool: Callable[[], asyncpg.Pool]) -> None:
        # The pool exists only once the storage has started, after the app is built.
        self._pool = pool

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        data = value.encode() if isinstance(value, str) else value
        await self._pool().execute(
            SET.sql, *SET.args({"key": key, "value": data, "expires_at": _until(expires_in)})
        )

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        row = await self._pool().fetchrow(GET.sql, *GET.args({"key": key}))
        if row is None:
            return None
        if renew_for is not None and row["expires_at"] is not None:
            await self._pool().execute(
                RENEW.sql, *RENEW.args({"key": key, "expires_at": _until(renew_for)})
            )
        value: bytes = row["value"]
        return value

    async def delete(self, key: str) -> None:
        await self._pool().execute(DELETE.sql, *DELETE.args({"key": key}))

    async def delete_all(self) -> None:
        await self._pool().execute(DELETE_ALL.sql)

    async def delete_expired(self) -> None:
        await self._pool().execute(DELETE_EXPIRED.sql)

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        row = await self._pool().fetchrow(GET.sql, *GET.args({"key": key}))
        if row is None or row["expires_at"] is None:
            return None
        return max(0, int((row["expires_at"] - datetime.now(UTC)).total_seconds()))
