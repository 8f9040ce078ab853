"""The task use cases: one small class per operation of the contract."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Final

from application.commands import (
    ChangedTask,
    CreateTaskCommand,
    ListTasksQuery,
    PatchTaskCommand,
    ReplaceTaskCommand,
    SetCompletionCommand,
    TaskPage,
    TaskRef,
)
from application.cursor import CursorCodec
from application.idempotency import (
    KEY_LIFETIME,
    CreatedTask,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    StoredResult,
    check_idempotency_key,
    fields_fingerprint,
)
from application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from domain.errors import TaskLimitReached, TaskNotFound, ValidationFailed, VersionConflict
from domain.ids import new_task_id
from domain.listing import Position, TagCount, TaskFilter, TaskQuery
from domain.ports import Clock
from domain.recurrence import normalize_tag_filter
from domain.task import Task, TaskChanges, TaskStats, check_owner, to_utc

MAX_PAGE_SIZE: Final = 500
MAX_SEARCH_LENGTH: Final = 200


class CreateTask:
    """Create a task for its owner, within the owner's task limit, at most once per key."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, max_tasks_per_user: int) -> None:
        self._uow = uow
        self._clock = clock
        self._max_tasks = max_tasks_per_user

    async def __call__(self, command: CreateTaskCommand) -> CreatedTask:
        fields = command.fields
        now = self._clock.now()
        task = Task.create(
            id=new_task_id(),
            user_id=command.owner,
            title=fields.title,
            description=fields.description,
            completed=fields.completed,
            due_at=fields.due_at,
            priority=fields.priority,
            tags=fields.tags,
            recurrence=fields.recurrence,
            time_zone=fields.time_zone,
            remind_at=fields.remind_at,
            now=now,
        )
        key = (
            None
            if command.idempotency_key is None
            else check_idempotency_key(command.idempotency_key)
        )
        # Without a key the insert is the only write: one statement, one round trip.
        async with self._uow(one_write=key is None) as uow:
            if key is not None:
                earlier = await uow.idempotency.claim(
                    task.user_id, key, fields_fingerprint(fields), now
                )
                if earlier is not None:
                    return _replay(earlier, fields_fingerprint(fields))
            if not await uow.tasks.add_if_fewer_than(task, self._max_tasks):
                raise TaskLimitReached(self._max_tasks)
            if key is not None:
                await uow.idempotency.remember(task.user_id, key, task)
            await uow.commit()
        return CreatedTask(task)


def _replay(earlier: StoredResult, request_fingerprint: str) -> CreatedTask:
    if earlier.fingerprint != request_fingerprint:
        raise IdempotencyKeyReused
    if earlier.task is None:
        raise IdempotencyKeyInUse
    return CreatedTask(earlier.task, replayed=True)


class PurgeIdempotencyKeys:
    """Forget idempotency keys older than their lifetime."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self) -> int:
        async with self._uow() as uow:
            purged = await uow.idempotency.purge(self._clock.now() - KEY_LIFETIME)
            await uow.commit()
        return purged


class GetTask:
    """One task of its owner."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, ref: TaskRef) -> Task:
        async with self._uow() as uow:
            task = await uow.tasks.get(check_owner(ref.owner), ref.task_id)
        if task is None:
            raise TaskNotFound
        return task


class ListTasks:
    """A page of the owner's tasks, filtered and ordered, with a cursor to the next page."""

    def __init__(self, uow: UnitOfWorkFactory, cursors: CursorCodec) -> None:
        self._uow = uow
        self._cursors = cursors

    async def __call__(self, query: ListTasksQuery) -> TaskPage:
        if not 1 <= query.limit <= MAX_PAGE_SIZE:
            raise ValidationFailed("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
        task_filter = _checked_filter(query.filter)
        # Cursors are bound to the filters as given, but for tags as normalized (Work,home and
        # home,work are one listing). Other filters stay as given: cursors handed out before
        # tags existed keep working.
        bound = replace(query.filter, tags=task_filter.tags)
        after = (
            None if query.cursor is None else self._cursors.decode(query.cursor, query.order, bound)
        )
        # One extra row tells whether a next page exists without a second query.
        task_query = TaskQuery(task_filter, query.order, query.limit + 1, after)
        async with self._uow() as uow:
            tasks = await uow.tasks.list(check_owner(query.owner), task_query)
        next_cursor = None
        if len(tasks) > query.limit:
            tasks = tasks[: query.limit]
            last = tasks[-1]
            position = Position(query.order.value_of(last), last.id)
            next_cursor = self._cursors.encode(position, query.order, bound)
        return TaskPage(items=tasks, limit=query.limit, next_cursor=next_cursor)


def _checked_filter(task_filter: TaskFilter) -> TaskFilter:
    search = task_filter.search
    if search is not None:
        if not 1 <= len(search) <= MAX_SEARCH_LENGTH:
            raise ValidationFailed("q", f"must be 1 to {MAX_SEARCH_LENGTH} characters")
        if "\x00" in search:
            raise ValidationFailed("q", "must not contain the NUL character")
    tags = None if task_filter.tags is None else normalize_tag_filter(task_filter.tags)
    before, after = task_filter.due_before, task_filter.due_after
    return replace(
        task_filter,
        tags=tags,
        due_before=None if before is None else to_utc(before, "due_before"),
        due_after=None if after is None else to_utc(after, "due_after"),
    )


class TaskStatistics:
    """Counts for the owner's dashboard."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, owner: str) -> TaskStats:
        async with self._uow() as uow:
            return await uow.tasks.stats(check_owner(owner), self._clock.now())


class ListTags:
    """Every tag the owner's tasks carry, with counts."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, owner: str) -> tuple[TagCount, ...]:
        async with self._uow() as uow:
            return await uow.tasks.tag_counts(check_owner(owner))


def _check_precondition(task: Task, ref: TaskRef) -> None:
    if ref.expected_versions is not None and task.version not in ref.expected_versions:
        raise VersionConflict(task.version)


async def _current_task(uow: UnitOfWork, ref: TaskRef, *, lock: bool) -> Task:
    """The task, after its precondition held; with `lock`, locked for the unit of work."""
    task = await uow.tasks.get(check_owner(ref.owner), ref.task_id, for_update=lock)
    if task is None:
        raise TaskNotFound
    _check_precondition(task, ref)
    return task


class _ChangeTask:
    """Load the task, check If-Match, apply a change, store it if it changed.

    Optimistically first: read, then write only if the version is still the one read, two
    statements and no transaction. Only if another writer got in between, once more under
    the row lock, where nobody can. A change that completes a recurring task writes twice
    (the task and its next occurrence, within the owner's cap): always under the row lock,
    in one transaction, so that two racing completions create one next occurrence.
    """

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, max_tasks_per_user: int) -> None:
        self._uow = uow
        self._clock = clock
        self._max_tasks = max_tasks_per_user

    async def _change(self, ref: TaskRef, change: Callable[[Task, datetime], bool]) -> ChangedTask:
        for lock in (False, True):
            async with self._uow(one_write=not lock) as uow:
                task = await _current_task(uow, ref, lock=lock)
                loaded_version, was_completed = task.version, task.completed
                now = self._clock.now()
                if not change(task, now):
                    return ChangedTask(task)
                recurs = task.recurrence is not None and task.completed and not was_completed
                if recurs and not lock:
                    continue  # two writes: under the row lock, in one transaction
                following = task.recur(new_task_id(), now) if recurs else None
                if await uow.tasks.update(task, loaded_version):
                    if following is not None and not await uow.tasks.add_if_fewer_than(
                        following, self._max_tasks
                    ):
                        raise TaskLimitReached(self._max_tasks)  # rolls the completion back
                    await uow.commit()
                    return ChangedTask(task, following)
        # Under the row lock nobody else writes: the store broke its contract (a 500, not a 412).
        raise RuntimeError(f"task {ref.task_id} changed under its row lock")


class ReplaceTask(_ChangeTask):
    """Replace every editable field; those not given go back to their defaults."""

    async def __call__(self, command: ReplaceTaskCommand) -> ChangedTask:
        changes = command.fields.as_changes()
        return await self._change(command.ref, lambda task, now: task.apply(changes, now))


class PatchTask(_ChangeTask):
    """Change the given fields only; no change leaves the version as it was."""

    async def __call__(self, command: PatchTaskCommand) -> ChangedTask:
        return await self._change(command.ref, lambda task, now: task.apply(command.changes, now))


class SetCompletion(_ChangeTask):
    """Flip completion, or set it to a value (setting the value it has changes nothing)."""

    async def __call__(self, command: SetCompletionCommand) -> ChangedTask:
        completed = command.completed
        if completed is None:
            return await self._change(command.ref, lambda task, now: task.toggle(now))
        return await self._change(
            command.ref, lambda task, now: task.apply(TaskChanges(completed=completed), now)
        )


class DeleteTask:
    """Delete one task; deleting it again finds nothing."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, ref: TaskRef) -> None:
        async with self._uow() as uow:
            task = await _current_task(uow, ref, lock=True)
            await uow.tasks.remove(task.user_id, task.id)
            await uow.commit()


class ClearCompleted:
    """Delete all the owner's completed tasks; returns how many went."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, owner: str) -> int:
        async with self._uow() as uow:
            deleted = await uow.tasks.remove_completed(check_owner(owner))
            await uow.commit()
        return deleted
