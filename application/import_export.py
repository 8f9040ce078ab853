"""Bulk import and export of one owner's tasks, every field kept, for backups and moves."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final
from uuid import UUID

from application.commands import ListTasksQuery
from application.tasks import MAX_PAGE_SIZE, ListTasks
from application.unit_of_work import UnitOfWorkFactory
from domain.errors import TaskLimitReached, ValidationFailed
from domain.ids import new_task_id
from domain.listing import SortField, TaskFilter, TaskOrder, TaskQuery
from domain.ports import Clock
from domain.task import Priority, Task, check_owner

# Every field of a task, in the order exports write them and imports read them.
TASK_FIELDS: Final = (
    "id",
    "user_id",
    "title",
    "description",
    "completed",
    "completed_at",
    "due_at",
    "priority",
    "created_at",
    "updated_at",
    "version",
)
IMPORT_BATCH_SIZE: Final = 1000

_UUID: Final = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_DATE_TIME: Final = r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?"
_RFC3339: Final = re.compile(_DATE_TIME + r"(?:[Zz]|[+-]\d{2}:\d{2})")
_WITHOUT_OFFSET: Final = re.compile(_DATE_TIME)
TIMESTAMP_EXAMPLE: Final = "2026-12-01T17:00:00+01:00"


def parse_timestamp(field: str, text: str) -> datetime:
    """An RFC 3339 timestamp with an offset (`Z` or `+01:00`), as the API takes it."""
    if _WITHOUT_OFFSET.fullmatch(text):
        raise ValidationFailed(
            field, f"must have an offset (Z or +hh:mm), like {TIMESTAMP_EXAMPLE}"
        )
    if _RFC3339.fullmatch(text):
        try:
            # The pattern has ruled out ISO 8601's other spellings; fromisoformat takes no "z".
            return datetime.fromisoformat(text.upper())
        except ValueError:  # a day, hour or offset out of range
            pass
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
    """`rows`: one mapping per task, with JSON values (strings, booleans, integers, null).

    Only `title` is required. `id`, `created_at`, `updated_at`, `completed_at` and `version`
    are kept when present (an export read back is the same tasks); `user_id` is ignored:
    every task goes to `owner`. A null value counts as absent.
    """

    owner: str
    rows: Sequence[Mapping[str, object]]


class _Row:
    """Reads one row's fields, each failure an InvalidImportRow naming the row and the field."""

    def __init__(self, number: int, values: Mapping[str, object]) -> None:
        self.number = number
        self.values = values

    def fail(self, field: str | None, reason: str) -> InvalidImportRow:
        return InvalidImportRow(self.number, field, reason)

    def text(self, field: str) -> str | None:
        value = self.values.get(field)
        if value is None or isinstance(value, str):
            return value
        raise self.fail(field, "must be a string")

    def flag(self, field: str) -> bool:
        value = self.values.get(field)
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        raise self.fail(field, "must be true or false")

    def timestamp(self, field: str) -> datetime | None:
        value = self.values.get(field)
        if value is None:
            return None
        if isinstance(value, datetime) and value.utcoffset() is not None:
            return value.astimezone(UTC)
        if isinstance(value, str):
            try:
                return parse_timestamp(field, value).astimezone(UTC)
            except ValidationFailed as error:
                raise self.fail(field, error.reason) from None
        raise self.fail(field, f"must be an RFC 3339 timestamp, like {TIMESTAMP_EXAMPLE}")

    def task_id(self) -> UUID | None:
        value = self.values.get("id")
        if value is None or isinstance(value, UUID):
            return value
        if isinstance(value, str) and _UUID.fullmatch(value):
            return UUID(value)
        raise self.fail("id", "must be a UUID (8-4-4-4-12 hexadecimal digits)")

    def priority(self) -> Priority:
        value = self.values.get("priority")
        if value is None:
            return Priority.NONE
        if isinstance(value, str):
            try:
                return Priority(value)
            except ValueError:
                pass
        raise self.fail("priority", f"must be one of {', '.join(p.value for p in Priority)}")

    def version(self) -> int:
        value = self.values.get("version")
        if value is None:
            return 1
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value
        raise self.fail("version", "must be an integer of at least 1")


def task_from_row(number: int, values: Mapping[str, object], owner: str, now: datetime) -> Task:
    """The task a row describes, after the same checks as the API's, plus the kept fields'."""
    if not isinstance(values, Mapping):
        raise InvalidImportRow(number, None, "must be an object of task fields")
    unknown = [str(name) for name in values if name not in TASK_FIELDS]
    if unknown:
        raise InvalidImportRow(
            number, None, f"unknown field {unknown[0]!r} (known: {', '.join(TASK_FIELDS)})"
        )
    row = _Row(number, values)
    title = row.text("title")
    if title is None:
        raise row.fail("title", "is required")
    task_id, description = row.task_id(), row.text("description")
    completed, due_at, priority = row.flag("completed"), row.timestamp("due_at"), row.priority()
    given_created, given_updated = row.timestamp("created_at"), row.timestamp("updated_at")
    created_at = given_created or given_updated or now
    updated_at = given_updated or created_at
    try:
        # The API's rules for a new task: title, description, due date.
        checked = Task.create(
            id=task_id or new_task_id(),
            user_id=owner,
            title=title,
            now=created_at,
            description=description,
            completed=completed,
            due_at=due_at,
            priority=priority,
        )
    except ValidationFailed as error:
        raise row.fail(error.field, error.reason) from None
    if updated_at < created_at:
        raise row.fail("updated_at", "must not be before created_at")
    completed_at = row.timestamp("completed_at")
    if not completed and completed_at is not None:
        raise row.fail("completed_at", "must be empty when the task is not completed")
    if completed:
        completed_at = completed_at or updated_at
        if not created_at <= completed_at <= updated_at:
            raise row.fail("completed_at", "must be between created_at and updated_at")
    return Task(
        id=checked.id,
        user_id=checked.user_id,
        title=checked.title,
        description=checked.description,
        completed=completed,
        completed_at=completed_at,
        due_at=checked.due_at,
        priority=checked.priority,
        created_at=checked.created_at,
        updated_at=updated_at,
        version=row.version(),
    )


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
