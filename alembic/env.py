"""Alembic environment: runs on the connection taskapi hands it, or on DATABASE_URL."""

from __future__ import annotations

import asyncio
import os

import sqlalchemy as sa

from adapters.postgres.citus import allow_our_triggers, distribute_what_migrations_created
from adapters.postgres.engine import create_engine
from adapters.postgres.tables import metadata
from alembic import context

config = context.config


def _run(connection: sa.Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True)
    with context.begin_transaction():
        # On Citus (a no-op elsewhere): the same migrations run on distributed tables, and
        # the tables they create join the distribution (adapters/postgres/citus.py).
        allow_our_triggers(connection)
        context.run_migrations()
        distribute_what_migrations_created(connection)


async def _run_on_database_url() -> None:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("DATABASE_URL is not set (or run migrations through `taskapi db`)")
    engine = create_engine(url, poolclass=sa.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
elif (connection := config.attributes.get("connection")) is not None:
    _run(connection)
else:
    asyncio.run(_run_on_database_url())
