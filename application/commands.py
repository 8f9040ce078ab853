"""What callers ask of the use cases: plain frozen values, no HTTP and no SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from domain.listing import TaskFilter, TaskOrder
from domain.task import Priority, Task, TaskChanges


@dataclass(frozen=True, slots=True)
class TaskFields:
    """The editable fields of a task, with their defaults."""

    title: str
    description: str | None = None
    completed: bool = False
    due_at: datetime | None = None
    priority: Priority = Priority.NONE
    tags: tuple[str, ...] = ()
    recurrence: str | None = None
    time_zone: str | None = None
    remind_at: datetime | None = None

    def as_changes(self) -> TaskChanges:
        """Every editable field set to its value here (a replace)."""
        return TaskChanges(
            title=self.title,
            description=self.description,
            completed=self.completed,
            due_at=self.due_at,
            priority=self.priority,
            tags=self.tags,
            recurrence=self.recurrence,
            time_zone=self.time_zone,
            remind_at=self.remind_at,
        )


@dataclass(frozen=True, slots=True)
class CreateTaskCommand:
    """`idempotency_key`: a repeat with the same key and fields returns the first result."""

    owner: str
    fields: TaskFields
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class TaskRef:
    """One task of one owner, with the versions the caller allows it to be at (None: any)."""

    owner: str
    task_id: UUID
    expected_versions: frozenset[int] | None = None


@dataclass(frozen=True, slots=True)
class ReplaceTaskCommand:
    ref: TaskRef
    fields: TaskFields


@dataclass(frozen=True, slots=True)
class PatchTaskCommand:
    ref: TaskRef
    changes: TaskChanges


@dataclass(frozen=True, slots=True)
class SetCompletionCommand:
    """`completed=None` flips the task; a value sets it (a retry changes nothing)."""

    ref: TaskRef
    completed: bool | None = None


@dataclass(frozen=True, slots=True)
class ListTasksQuery:
    owner: str
    filter: TaskFilter = field(default_factory=TaskFilter)
    order: TaskOrder = field(default_factory=TaskOrder)
    limit: int = 100
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class ChangedTask:
    """A task after a change, and the next occurrence that change created, if it completed a
    recurring task."""

    task: Task
    next_occurrence: Task | None = None


@dataclass(frozen=True, slots=True)
class TaskPage:
    items: list[Task]
    limit: int
    next_cursor: str | None
