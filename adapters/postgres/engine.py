"""Pool limits and the SQLAlchemy engine (migrations, administration, schema checks)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from adapters.postgres.urls import async_url, postgres_url


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
    return "-pooler." in (postgres_url(url).host or "")


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
