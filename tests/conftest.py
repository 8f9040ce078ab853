"""Shared fixtures: a real PostgreSQL (embedded, or the server DATABASE_URL names), one
throwaway database per test session, and a fresh owner per test so tests never share rows."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres.embedded import EmbeddedPostgres
from adapters.postgres.engine import create_engine
from adapters.postgres.storage import PostgresStorage
from adapters.postgres.urls import async_url


class FixedClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime | None = None) -> None:
        self.current = now or datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def owner() -> str:
    return f"user-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An administrative URL: DATABASE_URL when set, else a fresh embedded server."""
    configured = os.environ.get("DATABASE_URL")
    if configured:
        yield configured
        return
    embedded = EmbeddedPostgres(Path(tmp_path_factory.mktemp("embedded-pg")))
    try:
        yield embedded.start()
    finally:
        embedded.stop()


async def _admin(server_url: str, statement: str) -> None:
    engine = create_engine(server_url, poolclass=sa.NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(sa.text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
async def database_url(server_url: str) -> AsyncIterator[str]:
    """A database made for this session on that server, dropped at the end."""
    name = f"taskapi_test_{uuid.uuid4().hex[:10]}"
    await _admin(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield async_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
async def storage(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PostgresStorage]:
    """The service's own PostgreSQL storage on the session's database: migrated, pooled."""
    storage = PostgresStorage(url=database_url, data_dir=tmp_path_factory.mktemp("unused"))
    await storage.start()
    try:
        yield storage
    finally:
        await storage.stop()


@pytest.fixture(scope="session")
def engine(storage: PostgresStorage) -> AsyncEngine:
    """SQLAlchemy on the migrated session database, for schema checks."""
    return storage.engine


def database_name(url: str) -> str:
    return make_url(url).database or ""
