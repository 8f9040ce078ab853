"""A change to a user's tasks, as the change log keeps it (incremental sync)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from domain.task import Task


class ChangeType(StrEnum):
    CREATED = "task.created"
    UPDATED = "task.updated"
    DELETED = "task.deleted"
    REMINDER_DUE = "reminder.due"


@dataclass(frozen=True, slots=True)
class Change:
    """One write to one task, as it committed: `seq` orders a user's changes by commit."""

    seq: int
    type: ChangeType
    task_id: UUID
    version: int
    at: datetime
    task: Task | None  # as the change left it; None for a delete


@dataclass(frozen=True, slots=True)
class ChangeWindow:
    """What the log holds for a user after a position, read at one moment: up to `limit`
    changes, the newest number (`head`) and the newest number already purged."""

    changes: list[Change]
    head: int
    purged: int
