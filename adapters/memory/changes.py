"""The in-memory change log: the same semantics as PostgreSQL's trigger-written one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

from application.changes import ChangeSignals
from domain.changes import Change, ChangeType, ChangeWindow
from domain.task import Task

TaskKey = tuple[str, UUID]


@dataclass(slots=True)
class UserLog:
    changes: list[Change] = field(default_factory=list)
    head: int = 0
    purged: int = 0


@dataclass(frozen=True, slots=True)
class Pending:
    """A write of a unit of work, numbered when it commits."""

    owner: str
    type: ChangeType
    task_id: UUID
    version: int
    task: Task | None


class Journal:
    """The writes of one unit of work, in order; published to the log on commit."""

    def __init__(self) -> None:
        self.entries: list[Pending] = []

    def wrote(self, kind: ChangeType, task: Task, *, gone: bool = False) -> None:
        snapshot = None if gone else task.copy()
        self.entries.append(Pending(task.user_id, kind, task.id, task.version, snapshot))


def publish(logs: dict[str, UserLog], journal: Journal, signals: ChangeSignals) -> None:
    """Number the journal's writes after each user's newest, in order, and wake followers.
    The store's lock is held by the committing unit of work: numbers follow commit order."""
    now = datetime.now(UTC)
    owners: set[str] = set()
    for entry in journal.entries:
        log = logs.setdefault(entry.owner, UserLog())
        log.head += 1
        log.changes.append(
            Change(log.head, entry.type, entry.task_id, entry.version, now, entry.task)
        )
        owners.add(entry.owner)
    journal.entries.clear()
    for owner in owners:
        signals.notify(owner)


class InMemoryChangeLog:
    def __init__(
        self,
        logs: dict[str, UserLog],
        tasks: dict[TaskKey, Task],
        reminded: dict[TaskKey, datetime],
        journal: Journal,
    ) -> None:
        self._logs = logs
        self._tasks = tasks
        self._reminded = reminded
        self._journal = journal

    async def read(self, owner: str, after: int, limit: int) -> ChangeWindow:
        log = self._logs.get(owner)
        if log is None:
            return ChangeWindow([], head=0, purged=0)
        # Numbers are consecutive from purged + 1: the first one after `after` is at an index.
        start = max(0, after - log.purged)
        return ChangeWindow(log.changes[start : start + limit], log.head, log.purged)

    async def record_due_reminder(self, now: datetime) -> bool:
        due = [
            (task.remind_at, key)
            for key, task in self._tasks.items()
            if task.remind_at is not None
            and task.remind_at <= now
            and not task.completed
            and self._reminded.get(key) != task.remind_at
        ]
        if not due:
            return False
        remind_at, key = min(due)
        self._reminded[key] = remind_at
        self._journal.wrote(ChangeType.REMINDER_DUE, self._tasks[key])
        return True

    async def purge(self, before: datetime, batch: int) -> int | None:
        purged = 0
        for log in self._logs.values():
            while log.changes and log.changes[0].at < before and purged < batch:
                log.purged = log.changes.pop(0).seq
                purged += 1
        return purged
