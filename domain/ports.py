"""The ports the core needs from the outside world."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.changes import ChangeWindow
from domain.listing import TagCount, TaskQuery
from domain.task import Task, TaskStats


class TaskRepository(Protocol):
    """A user's tasks as a collection. Every call is scoped by owner; none commits."""

    async def add_if_fewer_than(self, task: Task, limit: int) -> bool:
        """Add the task unless its owner already has `limit` tasks, atomically: parallel calls
        for one owner never take it past the limit."""
        ...

    async def add_many(self, tasks: Sequence[Task]) -> None:
        """Add every task at once (a bulk import); none may exist yet. No tasks: nothing happens."""
        ...

    async def get(self, owner: str, task_id: UUID, *, for_update: bool = False) -> Task | None:
        """The task, or None when this owner has no task with that id."""
        ...

    async def update(self, task: Task, expected_version: int) -> bool:
        """Store the task's new state if the stored one is still at `expected_version`."""
        ...

    async def remove(self, owner: str, task_id: UUID) -> bool: ...

    async def remove_completed(self, owner: str) -> int: ...

    async def list(self, owner: str, query: TaskQuery) -> list[Task]: ...

    async def count(self, owner: str) -> int: ...

    async def lock_owner(self, owner: str) -> None:
        """Serialize the rest of this unit of work with others that lock the same owner."""
        ...

    async def stats(self, owner: str, now: datetime) -> TaskStats: ...

    async def tag_counts(self, owner: str) -> tuple[TagCount, ...]:
        """Every tag the owner's tasks carry, in code point order."""
        ...


class ChangeLog(Protocol):
    """The per-user change log. Writes to tasks log themselves in their own transaction (a
    trigger, or the in-memory repository): this port reads the log, records reminders and
    purges. Scoped by owner, except the two sweeps, which work across users."""

    async def read(self, owner: str, after: int, limit: int) -> ChangeWindow:
        """The owner's changes numbered above `after`, oldest first, at most `limit`."""
        ...

    async def record_due_reminder(self, now: datetime) -> bool:
        """Claim one task whose reminder is due at `now` (not completed, not yet recorded for
        its `remind_at`), record its `reminder.due` change and mark it; False when none is
        due. Concurrent callers never claim the same task."""
        ...

    async def purge(self, before: datetime, batch: int) -> int | None:
        """Delete up to `batch` changes logged before `before`, remembering per user the
        newest number gone; None when another purge is running."""
        ...


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...
