"""The PostgreSQL storage's life: the server (maybe embedded), migrations, the pool."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres.embedded import EmbeddedPostgres
from adapters.postgres.engine import PoolSettings, create_engine
from adapters.postgres.listener import ChangeListener
from adapters.postgres.migrations import cached_head_revision, migrate
from adapters.postgres.ratelimit_store import PostgresStore
from adapters.postgres.unit_of_work import PostgresUnitOfWorkFactory
from adapters.postgres.urls import asyncpg_dsn
from application.changes import ChangeSignals
from application.storage import Storage


async def keep_session(connection: asyncpg.Connection) -> None:
    """The pool's reset on release. asyncpg's default runs RESET ALL, UNLISTEN, CLOSE and an
    advisory unlock on every release (a round trip per request); we leave no session state
    behind (transaction-scoped locks only, no LISTEN, no SET), and asyncpg still rolls back
    a transaction left open before calling this."""


def _server_settings(settings: PoolSettings) -> dict[str, str]:
    """Session settings sent when a connection opens.

    `statement_timeout` makes the server abort a statement the client would otherwise give
    up on while it still runs: a single write without BEGIN/COMMIT that waited out the
    client's timeout (behind a lock, say) would commit after the client had answered 503.
    Transaction poolers refuse or drop startup settings, and there single writes keep their
    transaction instead (`single_statement_writes`).
    """
    server = {"application_name": "taskapi"}
    if not settings.transaction_pooler:
        server["statement_timeout"] = str(int(settings.statement_timeout_seconds * 1000))
    return server


class PostgresStorage(Storage[PostgresStore]):
    """The PostgreSQL side of the service's life: the server (maybe embedded), migrations,
    and the connection pool the units of work draw from."""

    def __init__(
        self,
        url: str | None,
        data_dir: Path,
        pool: PoolSettings | None = None,
        migrate_on_start: bool = True,
    ) -> None:
        self._url = url
        self._data_dir = data_dir
        self._settings = pool or PoolSettings()
        self._migrate_on_start = migrate_on_start
        self._embedded: EmbeddedPostgres | None = None
        self._engine: AsyncEngine | None = None
        self._pool: asyncpg.Pool | None = None
        self._dsn: str | None = None
        self._listener: ChangeListener | None = None
        self._listener_lock = asyncio.Lock()
        self._signals = ChangeSignals()

    @property
    def engine(self) -> AsyncEngine:
        """SQLAlchemy, for migrations and administration (no pool: it is seldom used)."""
        if self._engine is None:
            raise RuntimeError("the PostgreSQL storage is not started")
        return self._engine

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("the PostgreSQL storage is not started")
        return self._pool

    async def start(self) -> None:
        url = self._url
        if url is None:
            self._embedded = EmbeddedPostgres(self._data_dir)
            url = await asyncio.to_thread(self._embedded.start)
        self._engine = create_engine(url, self._settings, poolclass=sa.NullPool)
        if self._migrate_on_start:
            await migrate(self._engine)
        settings = self._settings
        self._dsn = asyncpg_dsn(url)
        self._pool = await asyncpg.create_pool(
            self._dsn,
            # No connection at start: the service comes up (answering 503) while the
            # database is still down, and connects when it is back.
            min_size=0,
            max_size=settings.size + settings.max_overflow,
            max_inactive_connection_lifetime=settings.recycle_seconds,
            reset=keep_session,
            timeout=settings.connect_timeout_seconds,
            # The server gives up first (and says so: 57014, a 503); this client-side limit,
            # a second later, catches a server that does not answer at all.
            command_timeout=settings.statement_timeout_seconds + 1,
            # Behind a transaction pooler, statements are prepared unnamed, per use.
            statement_cache_size=0 if settings.transaction_pooler else 256,
            server_settings=_server_settings(settings),
        )

    async def change_signals(self) -> ChangeSignals:
        """The first call opens the process's change watcher's connection (outside the
        pool)."""
        async with self._listener_lock:
            if self._listener is None:
                if self._dsn is None:
                    raise RuntimeError("the PostgreSQL storage is not started")
                self._listener = ChangeListener(
                    self._dsn,
                    self._signals,
                    connect_timeout=self._settings.connect_timeout_seconds,
                )
                await self._listener.start()
        return self._signals

    @property
    def listener(self) -> ChangeListener | None:
        return self._listener

    async def stop(self) -> None:
        if self._listener is not None:
            await self._listener.stop()
            self._listener = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
        if self._embedded is not None:
            await asyncio.to_thread(self._embedded.stop)
            self._embedded = None

    async def ready(self) -> bool:
        """The database answers and its schema is at the newest migration."""
        row = await self.pool.fetchrow("SELECT version_num FROM alembic_version")
        return row is not None and row["version_num"] == cached_head_revision()

    def pool_stats(self) -> dict[str, int]:
        """Connections by state, for the metrics."""
        if self._pool is None:
            return {}
        size, idle = self._pool.get_size(), self._pool.get_idle_size()
        return {"in_use": size - idle, "idle": idle, "max": self._pool.get_max_size()}

    def rate_limit_store(self) -> PostgresStore:
        """Shared by every worker and instance on this database."""
        return PostgresStore(lambda: self.pool)

    def unit_of_work_factory(self) -> PostgresUnitOfWorkFactory:
        return PostgresUnitOfWorkFactory(
            self.pool,
            self._settings.timeout_seconds,
            # Only where the server's statement_timeout is set (see _server_settings).
            single_statement_writes=not self._settings.transaction_pooler,
        )
