"""HTTP handlers: decode, call one use case, shape the response. Nothing else."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Final, TypeVar
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, PathParameter, QueryParameter
from msgspec import UNSET

from application.commands import (
    CreateTaskCommand,
    ListTasksQuery,
    PatchTaskCommand,
    ReplaceTaskCommand,
    SetCompletionCommand,
    TaskRef,
)
from application.tasks import (
    ClearCompleted,
    CreateTask,
    DeleteTask,
    GetTask,
    ListTasks,
    PatchTask,
    ReplaceTask,
    SetCompletion,
    TaskStatistics,
)
from domain.listing import TaskFilter, TaskOrder
from domain.task import Priority, Task
from entrypoints.http.errors import RequestInvalid
from entrypoints.http.guards import check_task_request
from entrypoints.http.request_parsing import (
    decode_body,
    decode_optional_body,
    etag,
    expected_versions,
    none_match,
    owner_from_path,
    task_id_from_path,
)
from entrypoints.http.schemas import (
    CompletionWrite,
    DeletedCount,
    DeletedCountEnvelope,
    DeletedTask,
    DeletedTaskEnvelope,
    StatsEnvelope,
    StatsRead,
    TaskEnvelope,
    TaskListEnvelope,
    TaskPatch,
    TaskRead,
    TaskWrite,
)

T = TypeVar("T")

SORT_VALUES = (
    "created_at",
    "-created_at",
    "updated_at",
    "-updated_at",
    "due_at",
    "-due_at",
    "priority",
    "-priority",
    "title",
    "-title",
)
LIST_QUERY = frozenset(
    {"completed", "priority", "q", "due_before", "due_after", "sort", "limit", "cursor"}
)

UserId = Annotated[
    str,
    PathParameter(
        description="The owner: 1 to 128 characters from A-Z a-z 0-9 . _ ~ @ : | + -",
    ),
]
TaskId = Annotated[str, PathParameter(description="The task's UUID")]
IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        required=False,
        description='Refuse the change (412) unless the task\'s ETag is one of these, e.g. "3"',
    ),
]


def _task_response(task: Task, status_code: int = 200, **headers: str) -> Response[TaskEnvelope]:
    return Response(
        TaskEnvelope(data=TaskRead.of(task)),
        status_code=status_code,
        headers={"ETag": etag(task.version), **headers},
    )


def _ref(user_id: str, task_id: str, if_match: str | None = None) -> TaskRef:
    return TaskRef(
        owner=owner_from_path(user_id),
        task_id=task_id_from_path(task_id),
        expected_versions=expected_versions(if_match),
    )


_BOOLEANS: Final = {"true": True, "false": False}
_PRIORITIES: Final = {p.value: p for p in Priority}


def _choice(name: str, text: str | None, allowed: Mapping[str, T]) -> T | None:
    """Query values are checked here, not by Litestar, which reads `null` as absent."""
    if text is None:
        return None
    if text not in allowed:
        raise RequestInvalid.of(name, f"must be one of {', '.join(allowed)}")
    return allowed[text]


def _timestamp(name: str, text: str | None) -> datetime | None:
    """RFC 3339 only (Litestar would also take Unix epoch numbers)."""
    if text is None:
        return None
    try:
        return msgspec.convert(text, datetime)
    except msgspec.ValidationError:
        raise RequestInvalid.of(name, "must be an RFC 3339 timestamp with an offset") from None


def _sort(text: str) -> TaskOrder:
    try:
        return TaskOrder.parse(text)
    except ValueError:
        raise RequestInvalid.of("sort", f"must be one of {', '.join(SORT_VALUES)}") from None


def _next_link(query: ListTasksQuery, cursor: str) -> str:
    """The next page's URL: the same filters, sort and limit, and the cursor."""
    params: dict[str, str] = {}
    f = query.filter
    if f.completed is not None:
        params["completed"] = "true" if f.completed else "false"
    if f.priority is not None:
        params["priority"] = f.priority.value
    if f.search is not None:
        params["q"] = f.search
    if f.due_before is not None:
        params["due_before"] = f.due_before.isoformat()
    if f.due_after is not None:
        params["due_after"] = f.due_after.isoformat()
    params["sort"] = str(query.order)
    params["limit"] = str(query.limit)
    params["cursor"] = cursor
    return f"/api/{query.owner}/tasks?{urlencode(params)}"


class TaskController(Controller):
    """The task routes, all scoped by the owner's id."""

    path = "/api/{user_id:str}/tasks"
    tags = ["tasks"]
    before_request = check_task_request

    @get("/", opt={"query": LIST_QUERY}, summary="List the user's tasks")
    async def list_tasks(
        self,
        user_id: UserId,
        list_tasks: NamedDependency[ListTasks],
        completed: Annotated[str | None, QueryParameter(description="true or false")] = None,
        priority: Annotated[
            str | None, QueryParameter(description="none, low, medium or high")
        ] = None,
        q: Annotated[
            str | None,
            QueryParameter(
                min_length=1,
                max_length=200,
                description="Case-insensitive substring of title or description",
            ),
        ] = None,
        due_before: Annotated[
            str | None,
            QueryParameter(description="RFC 3339 with an offset; only tasks due strictly before"),
        ] = None,
        due_after: Annotated[
            str | None,
            QueryParameter(description="RFC 3339 with an offset; only tasks due strictly after"),
        ] = None,
        sort: Annotated[
            str,
            QueryParameter(
                description="Sort key; `-` for descending. Ties break on id in the same "
                "direction; tasks without due_at come last either way.",
                examples=[],
            ),
        ] = "-created_at",
        limit: Annotated[int, QueryParameter(ge=1, le=500, description="Page size")] = 100,
        cursor: Annotated[
            str | None, QueryParameter(description="The previous page's meta.next_cursor")
        ] = None,
    ) -> Response[TaskListEnvelope]:
        query = ListTasksQuery(
            owner=owner_from_path(user_id),
            filter=TaskFilter(
                completed=_choice("completed", completed, _BOOLEANS),
                priority=_choice("priority", priority, _PRIORITIES),
                search=q,
                due_before=_timestamp("due_before", due_before),
                due_after=_timestamp("due_after", due_after),
            ),
            order=_sort(sort),
            limit=limit,
            cursor=cursor,
        )
        page = await list_tasks(query)
        headers = {}
        if page.next_cursor is not None:
            headers["Link"] = f'<{_next_link(query, page.next_cursor)}>; rel="next"'
        return Response(TaskListEnvelope.of(page), headers=headers)

    @post("/", summary="Create a task")
    async def create_task(
        self,
        request: Request[Any, Any, Any],
        user_id: UserId,
        create_task: NamedDependency[CreateTask],
        idempotency_key: Annotated[
            str | None,
            HeaderParameter(
                name="Idempotency-Key",
                required=False,
                description="1 to 255 printable ASCII characters, scoped to the user, kept 24 "
                "hours: a repeat with the same body returns the first response "
                "(Idempotent-Replayed: true) and creates nothing; another body is a 409",
            ),
        ] = None,
    ) -> Response[TaskEnvelope]:
        owner = owner_from_path(user_id)
        body = decode_body(await request.body(), TaskWrite)
        created = await create_task(CreateTaskCommand(owner, body.to_fields(), idempotency_key))
        headers = {"Location": f"/api/{owner}/tasks/{created.task.id}"}
        if created.replayed:
            headers["Idempotent-Replayed"] = "true"
        return _task_response(created.task, 201, **headers)

    @delete(
        "/",
        opt={"query": frozenset({"completed"})},
        status_code=200,
        summary="Delete all completed tasks",
    )
    async def clear_completed(
        self,
        user_id: UserId,
        clear_completed: NamedDependency[ClearCompleted],
        completed: Annotated[
            str | None, QueryParameter(description="Must be `true`: deletes the completed tasks")
        ] = None,
    ) -> DeletedCountEnvelope:
        owner = owner_from_path(user_id)
        if completed != "true":
            raise RequestInvalid.of("completed", "must be true to delete the completed tasks")
        deleted = await clear_completed(owner)
        return DeletedCountEnvelope(data=DeletedCount(deleted=deleted))

    @get("/stats", summary="Counts for a dashboard")
    async def stats(
        self, user_id: UserId, task_statistics: NamedDependency[TaskStatistics]
    ) -> StatsEnvelope:
        stats = await task_statistics(owner_from_path(user_id))
        return StatsEnvelope(data=StatsRead.of(stats))

    @get("/{task_id:str}", summary="One task")
    async def get_task(
        self,
        user_id: UserId,
        task_id: TaskId,
        get_task: NamedDependency[GetTask],
        if_none_match: Annotated[
            str | None,
            HeaderParameter(
                name="If-None-Match", required=False, description="304 when it matches"
            ),
        ] = None,
    ) -> Response[Any]:
        task = await get_task(_ref(user_id, task_id))
        if none_match(if_none_match, task.version):
            return Response(None, status_code=304, headers={"ETag": etag(task.version)})
        return _task_response(task)

    @put("/{task_id:str}", summary="Replace the editable fields")
    async def replace_task(
        self,
        request: Request[Any, Any, Any],
        user_id: UserId,
        task_id: TaskId,
        replace_task: NamedDependency[ReplaceTask],
        if_match: IfMatch = None,
    ) -> Response[TaskEnvelope]:
        ref = _ref(user_id, task_id, if_match)
        body = decode_body(await request.body(), TaskWrite)
        return _task_response(await replace_task(ReplaceTaskCommand(ref, body.to_fields())))

    @patch("/{task_id:str}", summary="Change some fields")
    async def patch_task(
        self,
        request: Request[Any, Any, Any],
        user_id: UserId,
        task_id: TaskId,
        patch_task: NamedDependency[PatchTask],
        if_match: IfMatch = None,
    ) -> Response[TaskEnvelope]:
        ref = _ref(user_id, task_id, if_match)
        body = decode_body(await request.body(), TaskPatch)
        return _task_response(await patch_task(PatchTaskCommand(ref, body.to_changes())))

    @patch("/{task_id:str}/complete", summary="Flip completion, or set it")
    async def set_completion(
        self,
        request: Request[Any, Any, Any],
        user_id: UserId,
        task_id: TaskId,
        set_completion: NamedDependency[SetCompletion],
        if_match: IfMatch = None,
    ) -> Response[TaskEnvelope]:
        ref = _ref(user_id, task_id, if_match)
        body = decode_optional_body(await request.body(), CompletionWrite)
        completed = None if body is None or body.completed is UNSET else body.completed
        return _task_response(await set_completion(SetCompletionCommand(ref, completed)))

    @delete("/{task_id:str}", status_code=200, summary="Delete a task")
    async def delete_task(
        self,
        user_id: UserId,
        task_id: TaskId,
        delete_task: NamedDependency[DeleteTask],
        if_match: IfMatch = None,
    ) -> DeletedTaskEnvelope:
        ref = _ref(user_id, task_id, if_match)
        await delete_task(ref)
        return DeletedTaskEnvelope(data=DeletedTask(id=ref.task_id))
