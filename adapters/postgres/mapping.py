"""Rows to aggregates and back: the only place that knows both shapes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from adapters.postgres.tables import tasks
from domain.task import TASK_FIELDS, Priority, Task, Wire

# Columns that are the database's bookkeeping, not the task's: the reminder scheduler's mark.
BOOKKEEPING_COLUMNS = ("reminded_at",)
# Every column but the generated one and the bookkeeping, in table order: what a query reads.
TASK_COLUMNS = [c for c in tasks.c if c.computed is None and c.name not in BOOKKEEPING_COLUMNS]
# A dict lookup, not Priority(...): the enum's constructor is slow for 100 rows a page.
_PRIORITIES = {p.value: p for p in Priority}
_bare_task = object.__new__

# task_from_record, row_from_task and task_from_json spell the fields out: they run for every
# task read or written (task_from_json for each replay and change), and a loop over
# TASK_FIELDS costs more. tests/unit/test_task_fields.py checks that each carries every
# declared field.


def task_from_record(row: Sequence[Any]) -> Task:
    """An asyncpg record of TASK_COLUMNS (in their order) as the aggregate."""
    # The same object Task(...) makes, its slots set one by one: a call with 17 keywords
    # took 0.66 us, the assignments 0.11 us, and a page restores up to 500 tasks.
    task = _bare_task(Task)
    (
        task.user_id,
        task.id,
        task.title,
        task.description,
        task.completed,
        task.completed_at,
        task.due_at,
        priority,
        task.created_at,
        task.updated_at,
        task.version,
        tags,
        task.recurrence,
        task.time_zone,
        task.remind_at,
        task.series_id,
        task.recurred,
    ) = row
    task.priority = _PRIORITIES[priority]
    task.tags = tuple(tags)
    return task


def row_from_task(task: Task) -> dict[str, Any]:
    return {
        "user_id": task.user_id,
        "id": task.id,
        "title": task.title,
        "description": task.description,
        "completed": task.completed,
        "completed_at": task.completed_at,
        "due_at": task.due_at,
        "priority": task.priority.value,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "version": task.version,
        "tags": list(task.tags),
        "recurrence": task.recurrence,
        "time_zone": task.time_zone,
        "remind_at": task.remind_at,
        "series_id": task.series_id,
        "recurred": task.recurred,
    }


# The idempotency key's snapshot (a JSON column): every declared field, by its wire type. A
# StrEnum's str() is its value; texts, booleans and integers are JSON values already.
_TO_JSON: dict[Wire, Callable[[Any], object]] = {
    Wire.UUID: str,
    Wire.TIMESTAMP: datetime.isoformat,
    Wire.CHOICE: str,
    Wire.TAGS: list,
}
_ENCODERS = tuple((f.name, _TO_JSON.get(f.wire)) for f in TASK_FIELDS)


def task_to_json(task: Task) -> dict[str, Any]:
    """A snapshot for a JSON column (the idempotency key's first result)."""
    data: dict[str, Any] = {}
    for name, encode in _ENCODERS:
        value = getattr(task, name)
        data[name] = value if encode is None or value is None else encode(value)
    return data


def _timestamp(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _uuid(value: str | None) -> UUID | None:
    return None if value is None else UUID(value)


def task_from_json(data: dict[str, Any]) -> Task:
    # A snapshot taken before version 1.1 has none of its fields: they take their defaults.
    get = data.get
    return Task(
        id=UUID(data["id"]),
        user_id=data["user_id"],
        title=data["title"],
        description=data["description"],
        completed=data["completed"],
        completed_at=_timestamp(data["completed_at"]),
        due_at=_timestamp(data["due_at"]),
        priority=_PRIORITIES[data["priority"]],
        tags=tuple(get("tags", ())),
        recurrence=get("recurrence"),
        time_zone=get("time_zone"),
        remind_at=_timestamp(get("remind_at")),
        series_id=_uuid(get("series_id")),
        created_at=datetime.fromisoformat(data["created_at"]),
        updated_at=datetime.fromisoformat(data["updated_at"]),
        version=data["version"],
        recurred=get("recurred", False),
    )
