"""Distributing the tables, in either order with the migrations; the counts stay exact."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from click.testing import CliRunner

from adapters.postgres.engine import create_engine
from adapters.postgres.migrations import alembic_config, head_revision, migrate
from adapters.postgres.storage import PostgresStorage
from adapters.postgres.urls import asyncpg_dsn
from entrypoints.cli.main import cli
from tests.citus.conftest import MARKS, CitusDatabase, distribute, require_citus

pytestmark = MARKS
require_citus()

# Every revision but the newest, oldest first: distribute there, then migrate.
EARLIER = [
    r.revision
    for r in reversed(list(ScriptDirectory.from_config(alembic_config()).walk_revisions()))
    if r.revision != head_revision()
]
T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
INSERT = (
    "INSERT INTO tasks (user_id, id, title, completed, created_at, updated_at) "
    "SELECT $1, gen_random_uuid(), 'task ' || i, i % 2 = 0, $2, $2 FROM generate_series(1, $3) i"
)


def _cli(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, list(args), env={"TASK_STORE": "postgres", "DATABASE_URL": url}, prog_name="taskapi"
    )
    return result.exit_code, result.output


async def _placements(url: str) -> dict[str, tuple[str, str | None, int]]:
    """Each Citus table: its method (h: hashed, n: reference), column and colocation group."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        rows = await connection.fetch(
            "SELECT logicalrelid::regclass::text AS name, partmethod::text, colocationid, "
            "CASE WHEN partkey IS NULL THEN NULL "
            "ELSE column_to_column_name(logicalrelid, partkey) END AS col "
            "FROM pg_dist_partition"
        )
    finally:
        await connection.close()
    return {r["name"]: (r["partmethod"], r["col"], r["colocationid"]) for r in rows}


def _assert_distributed(placements: dict[str, tuple[str, str | None, int]]) -> None:
    assert placements["tasks"][:2] == ("h", "user_id")
    assert placements["task_counts"][:2] == ("h", "user_id")
    assert placements["idempotency_keys"][:2] == ("h", "user_id")
    assert placements["changes"][:2] == ("h", "user_id")
    group = placements["tasks"][2]
    colocated = ("task_counts", "idempotency_keys", "changes")
    assert {placements[table][2] for table in colocated} == {group}
    assert placements["rate_limit_entries"][:2] == ("h", "key")
    assert placements["alembic_version"][0] == "n"


async def _miscounted(connection: asyncpg.Connection) -> list[tuple[str, int, int]]:
    """Owners whose task_counts row differs from their number of tasks (missing rows: 0)."""
    counted = {r[0]: r[1] for r in await connection.fetch("SELECT user_id, tasks FROM task_counts")}
    real = {
        r[0]: r[1]
        for r in await connection.fetch("SELECT user_id, count(*) FROM tasks GROUP BY user_id")
    }
    return [
        (owner, counted.get(owner, 0), real.get(owner, 0))
        for owner in counted.keys() | real.keys()
        if counted.get(owner, 0) != real.get(owner, 0)
    ]


async def _write_every_way_and_count(database: CitusDatabase) -> None:
    """Single rows, many owners in one statement, COPY, deletes, through the coordinator and a
    worker; the counts follow each; TRUNCATE forgets them."""
    owners = [f"user-{uuid.uuid4().hex[:8]}" for _ in range(4)]
    coordinator = await asyncpg.connect(asyncpg_dsn(database.coordinator))
    worker = await asyncpg.connect(asyncpg_dsn(database.workers[0]))
    try:
        assert await _miscounted(coordinator) == []
        for i, owner in enumerate(owners):
            entry = coordinator if i % 2 else worker
            await entry.execute(INSERT, owner, T0, 1)
            await entry.execute(INSERT, owner, T0, 5 + i)
        await coordinator.execute(
            "INSERT INTO tasks (user_id, id, title, created_at, updated_at) "
            "SELECT o, gen_random_uuid(), 'many', $2, $2 FROM unnest($1::text[]) o",
            owners,
            T0,
        )
        await worker.copy_records_to_table(
            "tasks",
            columns=["user_id", "id", "title", "created_at", "updated_at"],
            records=[(o, uuid.uuid4(), "copied", T0, T0) for o in owners for _ in range(3)],
        )
        await worker.execute("DELETE FROM tasks WHERE user_id = $1 AND completed", owners[0])
        await coordinator.execute("DELETE FROM tasks WHERE user_id = ANY($1)", owners[2:])
        assert await _miscounted(coordinator) == []
        counts = {
            r[0]: r[1]
            for r in await coordinator.fetch(
                "SELECT user_id, tasks FROM task_counts WHERE user_id = ANY($1)", owners
            )
        }
        assert counts == {owners[0]: 8, owners[1]: 11, owners[2]: 0, owners[3]: 0}

        await coordinator.execute("TRUNCATE tasks")
        assert await coordinator.fetchval("SELECT count(*) FROM task_counts WHERE tasks <> 0") == 0
        await worker.execute(INSERT, owners[0], T0, 2)
        assert (
            await coordinator.fetchval(
                "SELECT tasks FROM task_counts WHERE user_id = $1", owners[0]
            )
            == 2
        )
    finally:
        await coordinator.close()
        await worker.close()


async def _seed(url: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute(INSERT, "seeded-a", T0, 7)
        await connection.execute(INSERT, "seeded-b", T0, 3)
    finally:
        await connection.close()


def test_migrate_then_distribute_keeps_the_counts(fresh_citus: CitusDatabase) -> None:
    url = fresh_citus.coordinator
    assert _cli(url, "db", "upgrade")[0] == 0
    asyncio.run(_seed(url))

    code, first = _cli(url, "db", "distribute")
    again_code, again = _cli(url, "db", "distribute")

    assert code == 0, first
    assert first.splitlines() == [
        "Distributed tasks by user_id.",
        "Distributed task_counts by user_id, with tasks.",
        "Distributed idempotency_keys by user_id, with tasks.",
        "Distributed changes by user_id, with tasks.",
        "Distributed rate_limit_entries by key.",
        "Distributed alembic_version (a reference table, on every node).",
    ]
    assert again_code == 0, again
    assert again.splitlines()[0] == (
        "Already distributed: tasks, task_counts, idempotency_keys, changes, rate_limit_entries, "
        "alembic_version."
    )
    assert again.splitlines()[1].startswith("Nothing to do (Citus 13.")
    _assert_distributed(asyncio.run(_placements(url)))
    asyncio.run(_write_every_way_and_count(fresh_citus))


@pytest.mark.parametrize("revision", EARLIER)
async def test_distribute_at_an_earlier_revision_then_migrate(
    fresh_citus: CitusDatabase, revision: str
) -> None:
    url = fresh_citus.coordinator
    engine = create_engine(url, poolclass=sa.NullPool)
    try:
        await migrate(engine, revision)
        await _seed(url)
        storage = PostgresStorage(url, Path("unused"), migrate_on_start=False)
        await storage.start()
        try:
            done = await distribute(storage)
            assert done.distributed[0].table == "tasks"
            await migrate(engine)  # to the newest
            assert await storage.ready()
        finally:
            await storage.stop()
    finally:
        await engine.dispose()

    _assert_distributed(await _placements(url))
    await _write_every_way_and_count(fresh_citus)


def test_distribute_refuses_an_unmigrated_database(fresh_citus: CitusDatabase) -> None:
    code, output = _cli(fresh_citus.coordinator, "db", "distribute")

    assert code == 1
    assert "no tasks table yet: run taskapi db upgrade first" in output


async def test_an_instance_entering_by_a_worker_is_ready(worker: PostgresStorage) -> None:
    assert await worker.ready()  # alembic_version is on every node
