"""The schema's migrations (Alembic): apply, revert, write, and compare with the newest."""

from __future__ import annotations

import contextlib
import functools
from argparse import Namespace
from collections.abc import Callable
from pathlib import Path
from typing import Final, TypeVar

import sqlalchemy as sa
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from alembic import command

ALEMBIC_DIR: Final = Path(__file__).resolve().parents[2] / "alembic"
# Two-argument advisory lock key ("taskapi", "migrate"), apart from the per-owner locks.
_MIGRATION_LOCK: Final = (0x7461736B, 0x6D696772)


def alembic_config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _unlock(connection: sa.Connection) -> None:
    connection.execute(sa.select(sa.func.pg_advisory_unlock(*_MIGRATION_LOCK)))
    connection.commit()


T = TypeVar("T")


def under_migration_lock(connection: sa.Connection, work: Callable[[sa.Connection], T]) -> T:
    """Run `work` and commit, holding the lock migrations take turns on (distributing the
    tables on Citus takes it too): one change of the schema at a time."""
    # A session-level lock: it outlives the work's transactions, and a rollback.
    connection.execute(sa.select(sa.func.pg_advisory_lock(*_MIGRATION_LOCK)))
    try:
        done = work(connection)
        connection.commit()
    except BaseException:
        # The failed step left its transaction aborted, where any statement (the unlock too)
        # fails with "current transaction is aborted": roll back first, and never let the
        # unlock hide the step's own error (closing the connection releases the lock anyway).
        with contextlib.suppress(Exception):
            connection.rollback()
            _unlock(connection)
        raise
    _unlock(connection)
    return done


def _under_migration_lock(connection: sa.Connection, step: Callable[[Config], object]) -> None:
    under_migration_lock(connection, lambda locked: step(alembic_config(locked)))


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


@functools.cache
def cached_head_revision() -> str | None:
    """The newest revision, read from disk once per process (readiness asks it often)."""
    return head_revision()


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
