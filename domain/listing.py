"""What a listing asks of the task collection: filters, order and a keyset position."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeAlias
from uuid import UUID

from domain.task import Priority, Task

SortValue: TypeAlias = datetime | int | str | None


class SortField(StrEnum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    DUE_AT = "due_at"
    PRIORITY = "priority"
    TITLE = "title"


@dataclass(frozen=True, slots=True)
class TaskOrder:
    """A sort field and direction; ties are broken by id in the same direction."""

    field: SortField = SortField.CREATED_AT
    descending: bool = True

    @classmethod
    def parse(cls, text: str) -> TaskOrder:
        """`created_at` ascending, `-created_at` descending; ValueError on anything else."""
        descending = text.startswith("-")
        return cls(SortField(text.removeprefix("-")), descending)

    def __str__(self) -> str:
        return f"-{self.field}" if self.descending else str(self.field)

    def value_of(self, task: Task) -> SortValue:
        """The value a task is ordered by (a priority's rank, not its name)."""
        match self.field:
            case SortField.PRIORITY:
                return task.priority.rank
            case _:
                value: SortValue = getattr(task, self.field.value)
                return value


@dataclass(frozen=True, slots=True)
class TaskFilter:
    """Every condition is optional; a task must meet all that are given."""

    completed: bool | None = None
    priority: Priority | None = None
    search: str | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None
    tags: tuple[str, ...] | None = None  # normalized; a task must carry every one

    def matches(self, task: Task) -> bool:
        if self.completed is not None and task.completed != self.completed:
            return False
        if self.priority is not None and task.priority != self.priority:
            return False
        if self.search is not None:
            # lower(), not casefold(): the same folding as PostgreSQL's ILIKE.
            needle = self.search.lower()
            haystacks = (task.title, task.description or "")
            if not any(needle in h.lower() for h in haystacks):
                return False
        if self.tags is not None and not set(self.tags).issubset(task.tags):
            return False
        if self.due_before is not None and (task.due_at is None or task.due_at >= self.due_before):
            return False
        return not (
            self.due_after is not None and (task.due_at is None or task.due_at <= self.due_after)
        )


@dataclass(frozen=True, slots=True)
class TagCount:
    """A tag the owner's tasks carry, on how many, and on how many not completed."""

    tag: str
    tasks: int
    pending: int


@dataclass(frozen=True, slots=True)
class Position:
    """The last task of a page: the next page starts strictly after it."""

    value: SortValue
    id: UUID


@dataclass(frozen=True, slots=True)
class TaskQuery:
    filter: TaskFilter
    order: TaskOrder
    limit: int
    after: Position | None = None
