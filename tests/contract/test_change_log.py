"""The change log's contract, over both adapters: what writes log, in which order, reminders
and the purge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from application.changes import (
    ChangesQuery,
    PurgeChanges,
    ReadChanges,
    SyncTokenExpired,
    SyncTokens,
)
from application.unit_of_work import UnitOfWorkFactory
from domain.changes import ChangeType
from domain.task import TaskChanges
from tests.conftest import FixedClock
from tests.contract.test_task_repository import make_task, store, uow  # noqa: F401

TOKENS = SyncTokens(b"test secret")


async def log_of(uow: UnitOfWorkFactory, owner: str, after: int = 0) -> list[tuple[int, str]]:  # noqa: F811
    async with uow() as unit:
        window = await unit.changes.read(owner, after, 1000)
    return [(c.seq, c.type.value) for c in window.changes]


async def test_writes_log_in_commit_order_with_consecutive_numbers(
    uow: UnitOfWorkFactory,  # noqa: F811
    owner: str,
) -> None:
    first, second = make_task(owner, "one"), make_task(owner, "two")
    await store(uow, first, second)
    changed = first.copy()
    changed.apply(TaskChanges(title="renamed"), first.updated_at + timedelta(seconds=1))
    async with uow() as unit:
        assert await unit.tasks.update(changed, first.version)
        assert await unit.tasks.update(second.copy(), second.version)  # the same state
        assert await unit.tasks.remove(owner, second.id)
        await unit.commit()

    async with uow() as unit:
        window = await unit.changes.read(owner, 0, 10)

    assert [(c.seq, c.type, c.task_id) for c in window.changes] == [
        (1, ChangeType.CREATED, first.id),
        (2, ChangeType.CREATED, second.id),
        (3, ChangeType.UPDATED, first.id),
        (4, ChangeType.DELETED, second.id),
    ]
    assert window.changes[2].task == changed
    assert window.changes[2].version == 2
    assert window.changes[3].task is None
    assert window.head == 4
    assert window.purged == 0
    assert await log_of(uow, owner, after=3) == [(4, "task.deleted")]


async def test_a_rolled_back_write_logs_nothing(uow: UnitOfWorkFactory, owner: str) -> None:  # noqa: F811
    async with uow() as unit:
        await unit.tasks.add_many([make_task(owner)])  # no commit

    assert await log_of(uow, owner) == []


async def test_a_due_reminder_is_claimed_once_per_value(
    uow: UnitOfWorkFactory,  # noqa: F811
    owner: str,
) -> None:
    # Far in the past, so that no other test's reminder comes before it in either store.
    at = datetime(2001, 1, 1, tzinfo=UTC)
    task = make_task(owner, remind_at=at)
    done = make_task(owner, remind_at=at, completed=True)
    await store(uow, task, done)
    claimed = 0
    while True:
        async with uow() as unit:
            if not await unit.changes.record_due_reminder(at + timedelta(seconds=1)):
                break
            await unit.commit()
        claimed += 1

    assert claimed >= 1  # other tests' due reminders may be claimed too (one database)
    assert await log_of(uow, owner) == [
        (1, "task.created"),
        (2, "task.created"),
        (3, "reminder.due"),
    ]
    async with uow() as unit:
        assert await unit.tasks.get(owner, task.id) == task  # no new version


async def test_purged_changes_expire_the_tokens_before_them(
    uow: UnitOfWorkFactory,  # noqa: F811
    owner: str,
) -> None:
    read = ReadChanges(uow, TOKENS)
    start = (await read(ChangesQuery(owner))).next_token
    await store(uow, make_task(owner), make_task(owner))
    middle = (await read(ChangesQuery(owner, start, limit=1))).next_token
    clock = FixedClock(datetime.now(UTC) + timedelta(days=31))

    assert await PurgeChanges(uow, clock, retention_days=30, batch=1)() >= 2

    with pytest.raises(SyncTokenExpired):
        await read(ChangesQuery(owner, start))
    with pytest.raises(SyncTokenExpired):
        await read(ChangesQuery(owner, middle))
    fresh = await read(ChangesQuery(owner))
    assert (await read(ChangesQuery(owner, fresh.next_token))).changes == []
