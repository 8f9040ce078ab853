"""The change log's trigger: any SQL write to tasks logs itself, whoever runs it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg

from adapters.postgres.storage import PostgresStorage


async def _log(connection: asyncpg.Connection, owner: str) -> list[tuple[int, str, int]]:
    rows = await connection.fetch(
        "SELECT seq, type, version FROM changes WHERE user_id = $1 ORDER BY seq", owner
    )
    return [(r["seq"], r["type"], r["version"]) for r in rows]


async def test_plain_sql_writes_log_and_bookkeeping_does_not(
    storage: PostgresStorage, owner: str
) -> None:
    async with storage.pool.acquire() as connection:
        await connection.execute(
            "INSERT INTO tasks (user_id, id, title, created_at, updated_at, remind_at) "
            "VALUES ($1, gen_random_uuid(), 'by hand', now(), now(), now() + interval '1 day')",
            owner,
        )
        await connection.execute(
            "UPDATE tasks SET title = 'again', version = 2 WHERE user_id = $1", owner
        )
        await connection.execute("UPDATE tasks SET title = title WHERE user_id = $1", owner)
        # The scheduler's mark for another value than remind_at: not a reminder, not a change.
        await connection.execute("UPDATE tasks SET reminded_at = now() WHERE user_id = $1", owner)
        await connection.execute("DELETE FROM tasks WHERE user_id = $1", owner)

        assert await _log(connection, owner) == [
            (1, "task.created", 1),
            (2, "task.updated", 2),
            (3, "task.deleted", 2),
        ]
        task = await connection.fetchval(
            "SELECT task FROM changes WHERE user_id = $1 AND seq = 2", owner
        )
        assert '"title": "again"' in task
        assert "priority_rank" not in task
        assert "reminded_at" not in task


async def test_a_copy_logs_every_row(storage: PostgresStorage, owner: str) -> None:
    async with storage.pool.acquire() as connection:
        await connection.copy_records_to_table(
            "tasks",
            columns=["user_id", "id", "title", "created_at", "updated_at"],
            records=[
                (owner, uuid.uuid4(), f"t{i}", datetime.now(UTC), datetime.now(UTC))
                for i in range(3)
            ],
        )
        assert [t for _, t, _ in await _log(connection, owner)] == ["task.created"] * 3
