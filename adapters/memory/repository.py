"""A task collection in a dict, with the same semantics as the PostgreSQL one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from adapters.memory.changes import Journal
from domain.changes import ChangeType
from domain.listing import SortField, TagCount, TaskOrder, TaskQuery
from domain.task import Task, TaskStats

TaskKey = tuple[str, UUID]


def _sort_key(order: TaskOrder, value: Any, task_id: UUID) -> tuple[Any, ...]:
    if order.field is SortField.DUE_AT:
        # Tasks without a due date come last in both directions.
        missing = value is None
        return (missing if not order.descending else not missing, value, task_id)
    return (value, task_id)


class InMemoryTaskRepository:
    """Works on the unit of work's private copy; tasks go in and out as copies."""

    def __init__(self, tasks: dict[TaskKey, Task], journal: Journal | None = None) -> None:
        self._tasks = tasks
        self._journal = journal or Journal()

    def _put(self, task: Task) -> None:
        self._tasks[(task.user_id, task.id)] = task.copy()
        self._journal.wrote(ChangeType.CREATED, task)

    async def add_if_fewer_than(self, task: Task, limit: int) -> bool:
        if await self.count(task.user_id) >= limit:
            return False
        self._put(task)
        return True

    async def add_many(self, tasks: Sequence[Task]) -> None:
        for task in tasks:
            self._put(task)

    async def get(self, owner: str, task_id: UUID, *, for_update: bool = False) -> Task | None:
        task = self._tasks.get((owner, task_id))
        return None if task is None else task.copy()

    async def update(self, task: Task, expected_version: int) -> bool:
        stored = self._tasks.get((task.user_id, task.id))
        if stored is None or stored.version != expected_version:
            return False
        self._tasks[(task.user_id, task.id)] = task.copy()
        if task != stored:  # as the trigger: a write that changes nothing logs nothing
            self._journal.wrote(ChangeType.UPDATED, task)
        return True

    async def remove(self, owner: str, task_id: UUID) -> bool:
        gone = self._tasks.pop((owner, task_id), None)
        if gone is not None:
            self._journal.wrote(ChangeType.DELETED, gone, gone=True)
        return gone is not None

    async def remove_completed(self, owner: str) -> int:
        doomed = [key for key, t in self._tasks.items() if key[0] == owner and t.completed]
        for key in doomed:
            self._journal.wrote(ChangeType.DELETED, self._tasks.pop(key), gone=True)
        return len(doomed)

    def _owned(self, owner: str) -> list[Task]:
        return [t for (o, _), t in self._tasks.items() if o == owner]

    async def list(self, owner: str, query: TaskQuery) -> list[Task]:
        order = query.order
        tasks = [t for t in self._owned(owner) if query.filter.matches(t)]
        keyed = [(_sort_key(order, order.value_of(t), t.id), t) for t in tasks]
        if query.after is not None:
            start = _sort_key(order, query.after.value, query.after.id)
            keyed = [(k, t) for k, t in keyed if (k < start if order.descending else k > start)]
        keyed.sort(key=lambda kt: kt[0], reverse=order.descending)
        return [t.copy() for _, t in keyed[: query.limit]]

    async def count(self, owner: str) -> int:
        return len(self._owned(owner))

    async def lock_owner(self, owner: str) -> None:
        # The unit of work already holds the store's lock for its whole life.
        return None

    async def tag_counts(self, owner: str) -> tuple[TagCount, ...]:
        counts: dict[str, list[int]] = {}
        for task in self._owned(owner):
            for tag in task.tags:
                tally = counts.setdefault(tag, [0, 0])
                tally[0] += 1
                tally[1] += not task.completed
        return tuple(TagCount(tag, *counts[tag]) for tag in sorted(counts))

    async def stats(self, owner: str, now: datetime) -> TaskStats:
        tasks = self._owned(owner)
        completed = sum(t.completed for t in tasks)
        return TaskStats(
            total=len(tasks),
            completed=completed,
            pending=len(tasks) - completed,
            overdue=sum(t.is_overdue(now) for t in tasks),
        )
