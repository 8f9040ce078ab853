"""The tools of the contract's table: each decodes its arguments (arguments.py), calls the use
case its REST route calls, and answers with the REST shapes (entrypoints/http/schemas.py) and
a one-line summary."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import msgspec
from mcp_types import ToolAnnotations

from application.commands import (
    CreateTaskCommand,
    ListTasksQuery,
    PatchTaskCommand,
    SetCompletionCommand,
    TaskRef,
)
from domain.listing import TaskFilter
from domain.task import Priority, Task
from entrypoints.http.decoding import task_id_from_path
from entrypoints.http.schemas import (
    DeletedCount,
    DeletedTask,
    StatsRead,
    TaskRead,
    wire_timestamp,
)
from entrypoints.mcp.arguments import (
    AddTaskArguments,
    CompleteTaskArguments,
    ListTasksArguments,
    OwnerArguments,
    TaskArguments,
    UpdateTaskArguments,
    output_schema,
)

if TYPE_CHECKING:
    from entrypoints.container import Container


@dataclass(frozen=True, slots=True)
class Outcome:
    """A tool's result: its structured content and a one-line summary of it."""

    content: dict[str, Any]
    summary: str


Run = Callable[["Container", str, Any], Awaitable[Outcome]]


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    title: str
    description: str
    arguments: type[msgspec.Struct]
    output_schema: dict[str, Any]
    annotations: ToolAnnotations
    run: Run


def task_content(task: Task) -> dict[str, Any]:
    """A task exactly as the REST API shows it (its own struct and encoder)."""
    content: dict[str, Any] = msgspec.to_builtins(TaskRead.of(task))
    return content


_SUMMARY_TITLE_LENGTH: Final = 80


def _about(task: Task) -> str:
    """`"Buy milk" (id ..., due ..., high priority, done)`, on one line."""
    title = " ".join(task.title.split())
    if len(title) > _SUMMARY_TITLE_LENGTH:
        title = title[: _SUMMARY_TITLE_LENGTH - 3] + "..."
    facts = [f"id {task.id}"]
    if task.due_at is not None:
        facts.append(f"due {msgspec.to_builtins(wire_timestamp(task.due_at))}")
    if task.priority is not Priority.NONE:
        facts.append(f"{task.priority} priority")
    facts.append("done" if task.completed else "pending")
    return f'"{title}" ({", ".join(facts)})'


def _ref(owner: str, task_id: str) -> TaskRef:
    return TaskRef(owner=owner, task_id=task_id_from_path(task_id))


async def _add_task(container: Container, owner: str, args: AddTaskArguments) -> Outcome:
    created = await container.create_task()(CreateTaskCommand(owner, args.to_fields()))
    return Outcome(task_content(created.task), f"Added {_about(created.task)}.")


async def _list_tasks(container: Container, owner: str, args: ListTasksArguments) -> Outcome:
    query = ListTasksQuery(
        owner=owner,
        filter=TaskFilter(
            completed=args.completed(),
            priority=None if args.priority is None else Priority(args.priority),
            search=args.q,
            due_before=args.due_before,
            due_after=args.due_after,
            tags=None if args.tags is None else tuple(args.tags.split(",")),
        ),
        order=args.order(),
        limit=args.limit,
        cursor=args.cursor,
    )
    page = await container.list_tasks()(query)
    tasks = [task_content(task) for task in page.items]
    summary = f"{len(tasks)} task{'' if len(tasks) == 1 else 's'}"
    if tasks:
        summary += ": " + "; ".join(_about(task) for task in page.items[:3])
        if len(tasks) > 3:
            summary += f"; and {len(tasks) - 3} more"
    if page.next_cursor is not None:
        summary += " (more: call again with next_cursor)"
    return Outcome({"tasks": tasks, "next_cursor": page.next_cursor}, summary + ".")


async def _get_task(container: Container, owner: str, args: TaskArguments) -> Outcome:
    task = await container.get_task()(_ref(owner, args.task_id))
    return Outcome(task_content(task), f"Task {_about(task)}.")


async def _update_task(container: Container, owner: str, args: UpdateTaskArguments) -> Outcome:
    command = PatchTaskCommand(_ref(owner, args.task_id), args.to_changes())
    changed = await container.patch_task()(command)
    task = changed.task
    summary = f"Updated {_about(task)}, now at version {task.version}"
    if changed.next_occurrence is not None:
        summary += f"; the series continues with {_about(changed.next_occurrence)}"
    return Outcome(task_content(task), summary + ".")


async def _complete_task(container: Container, owner: str, args: CompleteTaskArguments) -> Outcome:
    command = SetCompletionCommand(_ref(owner, args.task_id), args.completed)
    changed = await container.set_completion()(command)
    task, following = changed.task, changed.next_occurrence
    summary = f"{'Completed' if task.completed else 'Reopened'} {_about(task)}"
    if following is not None:
        summary += f"; next occurrence {_about(following)}"
    return Outcome(
        {
            "task": task_content(task),
            "next_occurrence": None if following is None else task_content(following),
        },
        summary + ".",
    )


async def _delete_task(container: Container, owner: str, args: TaskArguments) -> Outcome:
    ref = _ref(owner, args.task_id)
    await container.delete_task()(ref)
    return Outcome(msgspec.to_builtins(DeletedTask(id=ref.task_id)), f"Deleted task {ref.task_id}.")


async def _clear_completed(container: Container, owner: str, args: OwnerArguments) -> Outcome:
    deleted = await container.clear_completed()(owner)
    return Outcome(
        msgspec.to_builtins(DeletedCount(deleted=deleted)),
        f"Deleted {deleted} completed task{'' if deleted == 1 else 's'}.",
    )


async def _task_stats(container: Container, owner: str, args: OwnerArguments) -> Outcome:
    stats = await container.task_statistics()(owner)
    return Outcome(
        msgspec.to_builtins(StatsRead.of(stats)),
        f"{stats.total} tasks: {stats.pending} pending ({stats.overdue} overdue), "
        f"{stats.completed} completed.",
    )


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required}


_TASK: Final = output_schema(TaskRead)
_NULLABLE_TASK: Final = {"anyOf": [_TASK, {"type": "null"}]}
_TASK_RULES: Final = (
    "A task has: id, user_id, title, description (or null), completed, completed_at, due_at "
    "(RFC 3339 in UTC, or null), priority (none, low, medium, high), tags (a sorted list), "
    "recurrence (an RFC 5545 RRULE such as FREQ=WEEKLY;BYDAY=MO, or null), time_zone (IANA, "
    "or null for UTC), remind_at (RFC 3339, or null), series_id (the first task of its "
    "recurring series, or null), created_at, updated_at and version."
)

TOOLS: Final[tuple[ToolSpec, ...]] = (
    ToolSpec(
        name="add_task",
        title="Add a task",
        description="Create a task for the user. Only `title` is needed; `description`, "
        "`due_at` (an RFC 3339 timestamp with an offset, e.g. 2026-12-01T17:00:00Z or "
        "2026-12-01T18:00:00+01:00), `priority` (none, low, medium, high; default none), "
        "`tags` (a list of short words), `recurrence` (an RFC 5545 RRULE, e.g. "
        "FREQ=WEEKLY;BYDAY=SU for every Sunday; needs `due_at`), `time_zone` (IANA, e.g. "
        "Europe/Berlin: a recurring task keeps its local time there), `remind_at` and "
        "`completed` are optional. Returns the new task. " + _TASK_RULES,
        arguments=AddTaskArguments,
        output_schema=_TASK,
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=False
        ),
        run=_add_task,
    ),
    ToolSpec(
        name="list_tasks",
        title="List tasks",
        description="List the user's tasks, newest first unless `sort` says otherwise, "
        "filtered by `status` (all, pending, completed), `q` (text in the title or "
        "description), `tags` (comma-separated; tasks with every one), `priority`, and "
        "`due_before` / `due_after` (RFC 3339 timestamps; "
        "for overdue tasks use status=pending and due_before=now). Returns at most `limit` "
        "tasks (default 50) and `next_cursor`: when it is not null, call again with the same "
        "arguments and `cursor` set to it for the next page.",
        arguments=ListTasksArguments,
        output_schema=_object(
            {
                "tasks": {"type": "array", "items": _TASK},
                "next_cursor": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            },
            ["tasks", "next_cursor"],
        ),
        annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True),
        run=_list_tasks,
    ),
    ToolSpec(
        name="get_task",
        title="Get a task",
        description="One task of the user, by its id. TASK_NOT_FOUND when the user has no "
        "task with that id. " + _TASK_RULES,
        arguments=TaskArguments,
        output_schema=_TASK,
        annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True),
        run=_get_task,
    ),
    ToolSpec(
        name="update_task",
        title="Change a task",
        description="Change some fields of a task: give only those to change (`title`, "
        "`description`, `due_at`, `priority`, `completed`, `tags`, `recurrence`, "
        "`time_zone`, `remind_at`). null clears `description`, `due_at`, `recurrence`, "
        "`time_zone` or `remind_at`; `title`, `priority`, `completed` and `tags` cannot be "
        "null (send [] to clear tags). Returns the task as it is now; its version goes up by "
        "one when something changed.",
        arguments=UpdateTaskArguments,
        output_schema=_TASK,
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=True
        ),
        run=_update_task,
    ),
    ToolSpec(
        name="complete_task",
        title="Complete a task",
        description="Mark a task done (or, with completed=false, not done). Calling it again "
        "changes nothing. Returns {task, next_occurrence}: next_occurrence is the next task "
        "of a recurring series that this completion created, or null.",
        arguments=CompleteTaskArguments,
        output_schema=_object(
            {"task": _TASK, "next_occurrence": _NULLABLE_TASK}, ["task", "next_occurrence"]
        ),
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=True
        ),
        run=_complete_task,
    ),
    ToolSpec(
        name="delete_task",
        title="Delete a task",
        description="Delete one task for good. Returns {id}. A second call finds nothing "
        "(TASK_NOT_FOUND).",
        arguments=TaskArguments,
        output_schema=output_schema(DeletedTask),
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=True, idempotent_hint=True
        ),
        run=_delete_task,
    ),
    ToolSpec(
        name="clear_completed",
        title="Delete completed tasks",
        description="Delete all of the user's completed tasks for good. Returns {deleted}: "
        "how many went.",
        arguments=OwnerArguments,
        output_schema=output_schema(DeletedCount),
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=True, idempotent_hint=True
        ),
        run=_clear_completed,
    ),
    ToolSpec(
        name="task_stats",
        title="Task counts",
        description="Counts of the user's tasks: total, completed, pending, and overdue "
        "(pending with a due_at in the past).",
        arguments=OwnerArguments,
        output_schema=output_schema(StatsRead),
        annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True),
        run=_task_stats,
    ),
)
TOOLS_BY_NAME: Final = {tool.name: tool for tool in TOOLS}
