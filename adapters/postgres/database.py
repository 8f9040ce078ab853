"""Engine construction, schema migrations and readiness for one PostgreSQL database."""

from __future__ import annotations

import asyncio
import functools
import uuid
from argparse import Namespace
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import asyncpg
import sqlalchemy as sa
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from adapters.postgres.embedded import EmbeddedPostgres
from adapters.postgres.ratelimit_store import PostgresStore
from adapters.postgres.unit_of_work import PostgresUnitOfWorkFactory
from alembic import command

ALEMBIC_DIR: Final = Path(__file__).resolve().parents[2] / "alembic"
# Two-argument advisory lock key ("taskapi", "migrate"), apart from the per-owner locks.
_MIGRATION_LOCK: Final = (0x7461736B, 0x6D696772)


@dataclass(frozen=True, slots=True)
class PoolSettings:
    """Per-process pool limits; (size + overflow) x workers must stay under max_connections."""

    size: int = 10
    max_overflow: int = 10
    timeout_seconds: float = 5.0
    recycle_seconds: int = 1800
    connect_timeout_seconds: float = 5.0
    statement_timeout_seconds: float = 5.0
    # Behind a transaction-mode pooler (pgbouncer, Neon's "-pooler" endpoints) consecutive
    # transactions may run on different server connections, so no named prepared statement
    # may be relied on to outlive its transaction.
    transaction_pooler: bool = False


def behind_transaction_pooler(url: str, setting: str = "auto") -> bool:
    """`auto`: Neon's pooled endpoints are recognised by their host name."""
    if setting != "auto":
        return setting == "true"
    return "-pooler." in (make_url(url).host or "")


def async_url(url: str) -> URL:
    """Any PostgreSQL URL (`postgresql://`, `postgres://`, Neon's) as an asyncpg URL."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    query = dict(parsed.query)
    # libpq spellings that asyncpg does not take.
    sslmode = query.pop("sslmode", None)
    query.pop("channel_binding", None)
    if sslmode is not None and "ssl" not in query:
        query["ssl"] = sslmode
    return parsed.set(drivername="postgresql+asyncpg", query=query)


def _unique_statement_name() -> str:
    return f"__asyncpg_{uuid.uuid4()}__"


def create_engine(url: str, pool: PoolSettings | None = None, **overrides: Any) -> AsyncEngine:
    """One engine (one pool) per process."""
    pool = pool or PoolSettings()
    options: dict[str, Any] = {
        "pool_size": pool.size,
        "max_overflow": pool.max_overflow,
        "pool_timeout": pool.timeout_seconds,
        "pool_recycle": pool.recycle_seconds,
        "pool_pre_ping": True,
        "connect_args": {
            "timeout": pool.connect_timeout_seconds,
            "command_timeout": pool.statement_timeout_seconds,
            "server_settings": {"application_name": "taskapi"},
        },
    }
    if pool.transaction_pooler:
        options["connect_args"].update(
            statement_cache_size=0,  # asyncpg's own cache
            prepared_statement_cache_size=0,  # SQLAlchemy's cache
            prepared_statement_name_func=_unique_statement_name,
        )
    options.update(overrides)
    if options.get("poolclass") is sa.NullPool:
        for pool_only in ("pool_size", "max_overflow", "pool_timeout"):
            del options[pool_only]
    return create_async_engine(async_url(url), **options)


def alembic_config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _under_migration_lock(connection: sa.Connection, step: Callable[[Config], object]) -> None:
    connection.execute(sa.select(sa.func.pg_advisory_lock(*_MIGRATION_LOCK)))
    try:
        step(alembic_config(connection))
        connection.commit()
    finally:
        connection.execute(sa.select(sa.func.pg_advisory_unlock(*_MIGRATION_LOCK)))
        connection.commit()


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply pending migrations; instances starting together take turns on an advisory lock."""
    async with engine.connect() as connection:
        await connection.run_sync(
            _under_migration_lock, lambda config: command.upgrade(config, revision)
        )


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Revert migrations down to `revision` (`base`: all of them), under the same lock."""
    async with engine.connect() as connection:
        await connection.run_sync(
            _under_migration_lock, lambda config: command.downgrade(config, revision)
        )


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def next_revision_id() -> str:
    """Revisions are numbered 0001, 0002, ...; the next free number."""
    script = ScriptDirectory.from_config(alembic_config())
    numbers = [int(r.revision) for r in script.walk_revisions() if r.revision.isdigit()]
    return f"{max(numbers, default=0) + 1:04d}"


def _new_revision(connection: sa.Connection | None, message: str) -> Path:
    config = alembic_config(connection)
    config.cmd_opts = Namespace(quiet=True)  # the caller says what was written
    made = command.revision(
        config,
        message=message,
        autogenerate=connection is not None,
        rev_id=next_revision_id(),
    )
    script = made[0] if isinstance(made, list) else made
    if script is None:
        raise RuntimeError("alembic wrote no revision file")
    return Path(script.path)


async def new_revision(message: str, engine: AsyncEngine | None = None) -> Path:
    """Write a new, numbered migration file; with an engine, autogenerate it from `tables.py`
    (compared with that database, which must be at the head revision)."""
    if engine is None:
        return _new_revision(None, message)
    async with engine.connect() as connection:
        return await connection.run_sync(_new_revision, message)


def _current_revision(connection: sa.Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(connection: AsyncConnection) -> str | None:
    return await connection.run_sync(_current_revision)


async def schema_is_current(engine: AsyncEngine) -> bool:
    """The database answers and its schema is at the newest migration."""
    async with engine.connect() as connection:
        return await current_revision(connection) == head_revision()


async def keep_session(connection: asyncpg.Connection) -> None:
    """The pool's reset on release. asyncpg's default runs RESET ALL, UNLISTEN, CLOSE and an
    advisory unlock on every release (a round trip per request); we leave no session state
    behind (transaction-scoped locks only, no LISTEN, no SET), and asyncpg still rolls back
    a transaction left open before calling this."""


def asyncpg_dsn(url: str) -> str:
    """Any PostgreSQL URL as a DSN for asyncpg (which reads sslmode, but not channel_binding)."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    query = {k: v for k, v in parsed.query.items() if k != "channel_binding"}
    return parsed.set(drivername="postgresql", query=query).render_as_string(hide_password=False)


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


class PostgresStorage:
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
        self._pool = await asyncpg.create_pool(
            asyncpg_dsn(url),
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

    async def stop(self) -> None:
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
        return row is not None and row["version_num"] == _head()

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


@functools.cache
def _head() -> str | None:
    return head_revision()
