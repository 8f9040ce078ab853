"""A Citus cluster for the `citus` tests: the coordinator CITUS_URL names, and its workers.

Each test session (and each test of distribution that needs one) gets a database of its own
on every node, with the citus extension and the workers added, dropped at the end: Citus
keeps its metadata per database. `scripts/citus_cluster.sh start` starts a local cluster
and prints the CITUS_URL. Without CITUS_URL the tests are skipped, and say why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import URL

from adapters.postgres import citus
from adapters.postgres.migrations import under_migration_lock
from adapters.postgres.storage import PostgresStorage
from adapters.postgres.urls import asyncpg_dsn, postgres_url

CITUS_URL = os.environ.get("CITUS_URL", "")

MARKS = [pytest.mark.citus]


def require_citus() -> None:
    """Skip the calling test module (once, with the reason) unless CITUS_URL is set."""
    if not CITUS_URL:
        pytest.skip(
            "CITUS_URL is not set (scripts/citus_cluster.sh start prints one for a local cluster)",
            allow_module_level=True,
        )


@dataclass(frozen=True)
class CitusDatabase:
    """One database on every node of the cluster: URLs of the coordinator and the workers."""

    coordinator: str
    workers: tuple[str, ...]


def _on(url: URL, host: str, port: int, database: str | None = None) -> URL:
    return url.set(host=host, port=port, database=database or url.database)


async def create_database() -> CitusDatabase:
    admin = postgres_url(CITUS_URL)
    connection = await asyncpg.connect(asyncpg_dsn(CITUS_URL))
    try:
        workers = [
            (str(row["nodename"]), int(row["nodeport"]))
            for row in await connection.fetch(
                "SELECT nodename, nodeport FROM pg_dist_node "
                "WHERE groupid <> 0 AND noderole = 'primary' ORDER BY nodeport"
            )
        ]
    finally:
        await connection.close()
    assert workers, "the coordinator CITUS_URL names has no workers (citus_add_node)"
    host, port = admin.host or "127.0.0.1", admin.port or 5432
    name = f"taskapi_citus_{uuid.uuid4().hex[:10]}"
    nodes = [(host, port), *workers]
    for node_host, node_port in nodes:
        server = await asyncpg.connect(asyncpg_dsn(str(_on(admin, node_host, node_port))))
        try:
            await server.execute(f'CREATE DATABASE "{name}"')
        finally:
            await server.close()
        fresh = await asyncpg.connect(asyncpg_dsn(str(_on(admin, node_host, node_port, name))))
        try:
            await fresh.execute("CREATE EXTENSION citus")
        finally:
            await fresh.close()
    coordinator = _on(admin, host, port, name)
    connection = await asyncpg.connect(asyncpg_dsn(str(coordinator)))
    try:
        await connection.execute("SELECT citus_set_coordinator_host($1, $2)", host, port)
        for node_host, node_port in workers:
            await connection.execute("SELECT citus_add_node($1, $2)", node_host, node_port)
    finally:
        await connection.close()
    return CitusDatabase(
        coordinator.render_as_string(hide_password=False),
        tuple(_on(admin, h, p, name).render_as_string(hide_password=False) for h, p in workers),
    )


async def drop_database(database: CitusDatabase) -> None:
    for url in (database.coordinator, *database.workers):
        parsed = postgres_url(url)
        name = parsed.database
        home = parsed.set(database=postgres_url(CITUS_URL).database)
        server = await asyncpg.connect(asyncpg_dsn(str(home)))
        try:
            await server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await server.close()


@pytest.fixture
async def fresh_citus() -> AsyncIterator[CitusDatabase]:
    """An empty database on every node (no migration), dropped afterwards."""
    database = await create_database()
    try:
        yield database
    finally:
        await drop_database(database)


async def distribute(storage: PostgresStorage) -> citus.Distribution:
    async with storage.engine.connect() as connection:
        done: citus.Distribution = await connection.run_sync(under_migration_lock, citus.distribute)
    return done


@pytest.fixture(scope="session")
async def cluster() -> AsyncIterator[CitusDatabase]:
    """The session's database: migrated to head, then distributed."""
    database = await create_database()
    storage = PostgresStorage(database.coordinator, Path("unused"))
    try:
        await storage.start()
        await distribute(storage)
        await storage.stop()
        yield database
    finally:
        await drop_database(database)


@pytest.fixture(scope="session")
async def coordinator(cluster: CitusDatabase) -> AsyncIterator[PostgresStorage]:
    """The service's storage entering the cluster by its coordinator."""
    storage = PostgresStorage(cluster.coordinator, Path("unused"), migrate_on_start=False)
    await storage.start()
    yield storage
    await storage.stop()


@pytest.fixture(scope="session")
async def worker(cluster: CitusDatabase) -> AsyncIterator[PostgresStorage]:
    """The service's storage entering the cluster by a worker (Citus 13 runs queries on
    distributed tables on every node)."""
    storage = PostgresStorage(cluster.workers[0], Path("unused"), migrate_on_start=False)
    await storage.start()
    yield storage
    await storage.stop()
