"""The per-user cap through several entry nodes: an advisory lock holds on one node only;
the owner's task_counts row, on one shard, holds on all of them."""

from __future__ import annotations

import asyncio
import uuid

from adapters.postgres.storage import PostgresStorage
from application.commands import CreateTaskCommand, TaskFields
from application.import_export import ImportTasks, ImportTasksCommand
from application.tasks import CreateTask
from domain.errors import TaskLimitReached
from tests.citus.conftest import MARKS, require_citus
from tests.conftest import FixedClock

pytestmark = MARKS
require_citus()

CAP = 20


async def _count(storage: PostgresStorage, owner: str) -> int:
    async with storage.unit_of_work_factory()() as unit:
        return await unit.tasks.count(owner)


async def test_creates_through_two_entry_nodes_stop_at_the_cap(
    coordinator: PostgresStorage, worker: PostgresStorage
) -> None:
    entries = [
        CreateTask(s.unit_of_work_factory(), FixedClock(), max_tasks_per_user=CAP)
        for s in (coordinator, worker)
    ]
    for run in range(6):
        owner = f"racer-{run}-{uuid.uuid4().hex[:8]}"
        results = await asyncio.gather(
            *(
                entries[i % 2](CreateTaskCommand(owner, TaskFields(title=f"race {i}")))
                for i in range(2 * CAP)
            ),
            return_exceptions=True,
        )

        unexpected = [
            r
            for r in results
            if isinstance(r, BaseException) and not isinstance(r, TaskLimitReached)
        ]
        assert not unexpected, unexpected
        assert sum(isinstance(r, TaskLimitReached) for r in results) == CAP
        assert await _count(coordinator, owner) == CAP
        assert await _count(worker, owner) == CAP


async def test_an_import_and_creates_through_two_entry_nodes_stop_at_the_cap(
    coordinator: PostgresStorage, worker: PostgresStorage
) -> None:
    for run in range(4):
        owner = f"importer-{run}-{uuid.uuid4().hex[:8]}"
        importing = ImportTasks(worker.unit_of_work_factory(), FixedClock(), CAP)
        create = CreateTask(coordinator.unit_of_work_factory(), FixedClock(), CAP)
        rows = [{"title": f"imported {i}"} for i in range(CAP // 2)]
        results = await asyncio.gather(
            importing(ImportTasksCommand(owner, rows)),
            *(create(CreateTaskCommand(owner, TaskFields(title=f"c{i}"))) for i in range(CAP)),
            return_exceptions=True,
        )

        unexpected = [
            r
            for r in results
            if isinstance(r, BaseException) and not isinstance(r, TaskLimitReached)
        ]
        assert not unexpected, unexpected
        imported = results[0] == CAP // 2
        created = sum(not isinstance(r, BaseException) for r in results[1:])
        assert await _count(coordinator, owner) == created + (CAP // 2 if imported else 0)
        assert await _count(coordinator, owner) <= CAP
