"""Bulk import and export of one owner's tasks, every field kept, for backups and moves."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, assert_never
from uuid import UUID

from application.commands import ListTasksQuery
from application.tasks import MAX_PAGE_SIZE, ListTasks
from application.unit_of_work import UnitOfWorkFactory
from domain.errors import TaskLimitReached, ValidationFailed
from domain.ids import UUID_RULE, is_task_id, new_task_id
from domain.listing import SortField, TaskFilter, TaskOrder, TaskQuery
from domain.ports import Clock
from domain.task import (
    EDITABLE_FIELDS,
    SHOWN_FIELDS,
    SHOWN_NAMES,
    TASK_FIELDS,
    Task,
    TaskField,
    Wire,
    check_owner,
    to_utc,
)

IMPORT_BATCH_SIZE: Final = 1000

TIMESTAMP_EXAMPLE: Final = "2026-12-01T17:00:00+01:00"
# Every task goes to the importing owner, whatever the row says.
_IGNORED: Final = frozenset({"user_id"})


def checked_timestamp(field: str, value: object) -> datetime:
    """A timestamp with an offset, from what an entrypoint's RFC 3339 parser made of a text
    (a datetime, naive without an offset), or ValidationFailed naming `field`.

    Text is parsed at the edge, by the API's own parser (entrypoints/timestamps.py), so the
    API, the CLI and imports take the same spellings; anything else is not a timestamp.
    """
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise ValidationFailed(
                field, f"must have an offset (Z or +hh:mm), like {TIMESTAMP_EXAMPLE}"
            )
        return value
    raise ValidationFailed(field, f"must be an RFC 3339 timestamp, like {TIMESTAMP_EXAMPLE}")


class InvalidImportRow(ValidationFailed):
    """A row of an import breaks a rule; `row` counts the file's tasks from 1."""

    def __init__(self, row: int, field: str | None, reason: str) -> None:
        super().__init__(field or "row", reason)
        self.row = row
        # What is wrong, without where: "title must not be empty".
        self.detail = reason if field is None else f"{field} {reason}"
        self.message = f"row {row}: {self.detail}"
        self.args = (self.message,)


class ImportExceedsLimit(TaskLimitReached):
    """The owner's tasks and the imported ones together would pass the per-user maximum."""

    def __init__(self, limit: int, existing: int, importing: int) -> None:
        super().__init__(limit)
        self.message = (
            f"importing {importing} tasks would give the user {existing + importing} tasks, "
            f"over the maximum of {limit} (they have {existing})"
        )
        self.args = (self.message,)


@dataclass(frozen=True, slots=True)
class ImportTasksCommand:
    """`rows`: one mapping per task, with JSON values (strings, booleans, integers, null),
    except that timestamps are datetimes, as the entrypoint's parser read them.

    Only `title` is required. `id`, `created_at`, `updated_at`, `completed_at`, `version` and
    `series_id` are kept when present (an export read back is the same tasks); `user_id` is
    ignored: every task goes to `owner`. A null value counts as absent.
    """

    owner: str
    rows: Sequence[Mapping[str, object]]


class _Row:
    """Reads one row's fields by their wire type, each failure an InvalidImportRow naming
    the row and the field; an absent field reads as None."""

    def __init__(self, number: int, values: Mapping[str, object]) -> None:
        self.number = number
        self.values = values

    def fail(self, field: str | None, reason: str) -> InvalidImportRow:
        return InvalidImportRow(self.number, field, reason)

    def value(self, field: TaskField) -> object:
        match field.wire:
            case Wire.UUID:
                return self.uuid(field.name)
            case Wire.TEXT:
                return self.text(field.name)
            case Wire.BOOLEAN:
                return self.flag(field.name)
            case Wire.INTEGER:
                return self.count(field.name)
            case Wire.TIMESTAMP:
                return self.timestamp(field.name)
            case Wire.CHOICE:
                return self.choice(field)
            case Wire.TAGS:
                return self.tags(field.name)
            case unknown:
                assert_never(unknown)

    def text(self, field: str) -> str | None:
        value = self.values.get(field)
        if value is None or isinstance(value, str):
            return value
        raise self.fail(field, "must be a string")

    def flag(self, field: str) -> bool | None:
        value = self.values.get(field)
        if value is None or isinstance(value, bool):
            return value
        raise self.fail(field, "must be true or false")

    def timestamp(self, field: str) -> datetime | None:
        value = self.values.get(field)
        if value is None:
            return None
        try:
            return to_utc(checked_timestamp(field, value), field)
        except ValidationFailed as error:
            raise self.fail(field, error.reason) from None

    def uuid(self, field: str) -> UUID | None:
        value = self.values.get(field)
        if value is None or isinstance(value, UUID):
            return value
        if isinstance(value, str) and is_task_id(value):
            return UUID(value)
        raise self.fail(field, UUID_RULE)

    def choice(self, field: TaskField) -> StrEnum | None:
        value = self.values.get(field.name)
        if value is None:
            return None
        choices: type[StrEnum] = field.type
        if isinstance(value, str):
            try:
                return choices(value)
            except ValueError:
                pass
        raise self.fail(field.name, f"must be one of {', '.join(c.value for c in choices)}")

    def tags(self, field: str) -> tuple[str, ...] | None:
        value = self.values.get(field)
        if value is None:
            return None
        if isinstance(value, list | tuple) and all(isinstance(tag, str) for tag in value):
            return tuple(value)
        raise self.fail(field, "must be a list of strings")

    def count(self, field: str) -> int | None:
        """An integer such as `version`, which counts from 1."""
        value = self.values.get(field)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value
        raise self.fail(field, "must be an integer of at least 1")


def task_from_row(number: int, values: Mapping[str, object], owner: str, now: datetime) -> Task:
    """The task a row describes, after the same checks as the API's, plus the kept fields'."""
    if not isinstance(values, Mapping):
        raise InvalidImportRow(number, None, "must be an object of task fields")
    unknown = [str(name) for name in values if name not in SHOWN_NAMES]
    if unknown:
        raise InvalidImportRow(
            number, None, f"unknown field {unknown[0]!r} (known: {', '.join(SHOWN_NAMES)})"
        )
    row = _Row(number, values)
    given: dict[str, Any] = {f.name: row.value(f) for f in SHOWN_FIELDS if f.name not in _IGNORED}
    for field in EDITABLE_FIELDS:
        if given[field.name] is None:
            if field.required:
                raise row.fail(field.name, "is required")
            given[field.name] = field.default
    given_created, given_updated = given["created_at"], given["updated_at"]
    created_at = given_created or given_updated or now
    updated_at = given_updated or created_at
    try:
        # The API's rules for a new task: every editable field's.
        checked = Task.create(
            id=given["id"] or new_task_id(),
            user_id=owner,
            now=created_at,
            **{f.name: given[f.name] for f in EDITABLE_FIELDS},
        )
    except ValidationFailed as error:
        raise row.fail(error.field, error.reason) from None
    if updated_at < created_at:
        raise row.fail("updated_at", "must not be before created_at")
    completed_at = given["completed_at"]
    if not checked.completed and completed_at is not None:
        raise row.fail("completed_at", "must be empty when the task is not completed")
    if checked.completed:
        completed_at = completed_at or updated_at
        if not created_at <= completed_at <= updated_at:
            raise row.fail("completed_at", "must be between created_at and updated_at")
    series_id = given["series_id"]
    kept = {
        "completed_at": completed_at,
        "updated_at": updated_at,
        "version": given["version"] or 1,
        "series_id": series_id,
        # Not in a file: a completed occurrence of a series has had its one next occurrence.
        "recurred": checked.completed and checked.recurrence is not None and series_id is not None,
    }
    return Task(**{f.name: kept.get(f.name, getattr(checked, f.name)) for f in TASK_FIELDS})


class ImportTasks:
    """Add many tasks to one owner at once: all of them, or (on any bad row) none."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        max_tasks_per_user: int,
        batch_size: int = IMPORT_BATCH_SIZE,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._max_tasks = max_tasks_per_user
        self._batch_size = batch_size

    async def __call__(
        self, command: ImportTasksCommand, progress: Callable[[int], None] | None = None
    ) -> int:
        """Returns how many tasks were added; `progress` hears of each stored batch's size."""
        owner = check_owner(command.owner)
        now = self._clock.now()
        tasks: list[Task] = []
        row_of_id: dict[UUID, int] = {}
        for number, values in enumerate(command.rows, start=1):
            task = task_from_row(number, values, owner, now)
            first = row_of_id.setdefault(task.id, number)
            if first != number:
                raise InvalidImportRow(number, "id", f"{task.id} is also on row {first}")
            tasks.append(task)
        if not tasks:
            return 0
        async with self._uow() as uow:
            # As for a create: under the owner's lock, so the count cannot change before the insert.
            await uow.tasks.lock_owner(owner)
            existing = await uow.tasks.count(owner)
            if existing + len(tasks) > self._max_tasks:
                raise ImportExceedsLimit(self._max_tasks, existing, len(tasks))
            if existing:
                # Bounded by the limit just checked: the owner has fewer tasks than it allows.
                everything = TaskQuery(TaskFilter(), TaskOrder(), limit=existing)
                for present in await uow.tasks.list(owner, everything):
                    if present.id in row_of_id:
                        raise InvalidImportRow(
                            row_of_id[present.id],
                            "id",
                            f"{present.id} already exists for this user",
                        )
            for start in range(0, len(tasks), self._batch_size):
                batch = tasks[start : start + self._batch_size]
                await uow.tasks.add_many(batch)
                if progress is not None:
                    progress(len(batch))
            await uow.commit()
        return len(tasks)


class ExportTasks:
    """Every task of the owner, oldest first, a page at a time: a walk of ListTasks' cursor.

    Each page is read on its own, so tasks created or deleted meanwhile may or may not be
    in the export; a task that exists throughout is in it exactly once.
    """

    def __init__(self, list_tasks: ListTasks, page_size: int = MAX_PAGE_SIZE) -> None:
        self._list_tasks = list_tasks
        self._page_size = page_size

    async def __call__(self, owner: str) -> AsyncIterator[list[Task]]:
        order = TaskOrder(SortField.CREATED_AT, descending=False)
        cursor: str | None = None
        while True:
            page = await self._list_tasks(
                ListTasksQuery(owner, order=order, limit=self._page_size, cursor=cursor)
            )
            if page.items:
                yield page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor
