"""What Citus does with each statement of a request: one shard for everything a user reads or
changes, through the coordinator and through a worker; only the sweeps touch every shard."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.postgres import idempotency, ratelimit_store, repository
from adapters.postgres.mapping import row_from_task
from adapters.postgres.repository import _list_statement
from adapters.postgres.statements import Statement
from adapters.postgres.storage import PostgresStorage
from domain.listing import Position, SortField, TaskFilter, TaskOrder, TaskQuery
from domain.task import Task
from tests.citus.conftest import MARKS, require_citus

pytestmark = MARKS
require_citus()

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
AFTER_VALUES: dict[SortField, Any] = {
    SortField.CREATED_AT: NOW,
    SortField.UPDATED_AT: NOW,
    SortField.DUE_AT: NOW,
    SortField.PRIORITY: 2,
    SortField.TITLE: "m",
}


async def _plan(storage: PostgresStorage, statement: Statement, **values: Any) -> str:
    async with storage.pool.acquire() as connection:
        rows = await connection.fetch(
            "EXPLAIN (COSTS OFF) " + statement.sql, *statement.args(values)
        )
    return "\n".join(row[0] for row in rows)


def _one_shard(plan: str) -> bool:
    return "Task Count: 1\n" in plan + "\n" and "Distributed Subplan" not in plan


@pytest.fixture(params=["coordinator", "worker"])
def entry(request: pytest.FixtureRequest) -> PostgresStorage:
    storage: PostgresStorage = request.getfixturevalue(request.param)
    return storage


@pytest.mark.parametrize(
    "order",
    [TaskOrder(field, descending) for field in SortField for descending in (False, True)],
    ids=str,
)
@pytest.mark.parametrize("cursor", [False, True], ids=["first page", "with cursor"])
async def test_a_listing_runs_on_one_shard(
    entry: PostgresStorage, owner: str, order: TaskOrder, cursor: bool
) -> None:
    after = Position(AFTER_VALUES[order.field], uuid.uuid4()) if cursor else None
    query = TaskQuery(TaskFilter(), order, limit=51, after=after)
    values = {"owner": owner, "limit": 51}
    if after is not None:
        values |= {"after_id": after.id, "after_value": after.value}

    plan = await _plan(entry, _list_statement(query), **values)

    # One shard is the point here. Which scan that shard uses is the planner's call on a
    # nearly empty shard (an index, or a seq scan and a sort, by its statistics of the
    # moment); the index plans are checked on plain PostgreSQL (tests/integration).
    assert _one_shard(plan), plan


async def test_reads_and_changes_of_a_user_run_on_one_shard(
    entry: PostgresStorage, owner: str
) -> None:
    task = Task.create(id=uuid.uuid4(), user_id=owner, title="t", now=NOW)
    changed = {k: v for k, v in row_from_task(task).items() if k not in ("user_id", "created_at")}
    plans = {
        "get": await _plan(entry, repository.GET, owner=owner, task_id=task.id),
        "stats": await _plan(entry, repository.STATS, owner=owner, now=NOW),
        "count": await _plan(entry, repository.COUNT, owner=owner),
        "update": await _plan(
            entry,
            repository.UPDATE,
            owner=owner,
            task_id=task.id,
            expected_version=1,
            **{k: v for k, v in changed.items() if k != "id"},
        ),
        "delete": await _plan(entry, repository.DELETE, owner=owner, task_id=task.id),
        "delete completed": await _plan(entry, repository.DELETE_COMPLETED, owner=owner),
        "idempotency upsert": await _plan(
            entry,
            idempotency.CLAIM,
            owner=owner,
            key="k",
            fingerprint="f",
            now=NOW,
            expired_before=NOW - timedelta(days=1),
        ),
        "idempotency read": await _plan(entry, idempotency.READ, owner=owner, key="k"),
        "rate limit set": await _plan(
            entry, ratelimit_store.SET, key=f"limit::user:{owner}", value=b"x", expires_at=NOW
        ),
        "rate limit get": await _plan(entry, ratelimit_store.GET, key=f"limit::user:{owner}"),
    }

    spread = {name: plan for name, plan in plans.items() if not _one_shard(plan)}
    assert not spread, spread


async def test_the_sweeps_run_on_every_shard(entry: PostgresStorage) -> None:
    purge = await _plan(entry, idempotency.PURGE, before=NOW)
    expired = await _plan(entry, ratelimit_store.DELETE_EXPIRED)

    assert "Task Count: 32" in purge, purge
    assert "Task Count: 32" in expired, expired


async def test_a_create_checks_the_cap_on_the_entry_node_then_inserts_on_one_shard(
    entry: PostgresStorage, owner: str
) -> None:
    """The create's INSERT ... SELECT calls a function: Citus evaluates it where the statement
    entered (the function's upsert on task_counts is one shard), then routes the row."""
    task = Task.create(id=uuid.uuid4(), user_id=owner, title="t", now=NOW)
    plan = await _plan(
        entry, repository.INSERT_IF_FEWER, owner=owner, limit=10, **row_from_task(task)
    )

    assert "Citus INSERT ... SELECT" in plan, plan
    assert "pull to coordinator" in plan, plan
