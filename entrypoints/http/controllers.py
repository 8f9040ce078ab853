"""HTTP handlers: typed values in (decoded strictly by entrypoints/http/decoding.py), one use
case, a response struct out. Their signatures and declared responses are the OpenAPI
document."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Final, Literal
from urllib.parse import urlencode
from uuid import UUID

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import HeaderParameter, JSONBody, PathParameter, QueryParameter

from application.commands import (
    ChangedTask,
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
    ListTags,
    ListTasks,
    PatchTask,
    ReplaceTask,
    SetCompletion,
    TaskStatistics,
)
from domain.listing import SortField, TaskFilter, TaskOrder
from domain.task import OWNER_PATTERN, OWNER_RULE, Priority, Task
from entrypoints.http.conditional import etag, expected_versions, none_match
from entrypoints.http.decoding import StrictJson, check_request
from entrypoints.http.openapi import responses
from entrypoints.http.schemas import (
    ChangedTaskEnvelope,
    CompletionWrite,
    DeletedCount,
    DeletedCountEnvelope,
    DeletedTask,
    DeletedTaskEnvelope,
    StatsEnvelope,
    StatsRead,
    TagListEnvelope,
    TaskEnvelope,
    TaskListEnvelope,
    TaskPatch,
    TaskRead,
    TaskWrite,
)

SORT_VALUES: Final = tuple(f"{sign}{field}" for field in SortField for sign in ("", "-"))
SortKey = Literal[SORT_VALUES]  # type: ignore[valid-type]

UserId = Annotated[
    str,
    PathParameter(
        description=f"The owner: {OWNER_RULE.removeprefix('must be ')}",
        pattern=OWNER_PATTERN,
        min_length=1,
        max_length=128,
    ),
]
TaskId = Annotated[UUID, PathParameter(description="The task's id (8-4-4-4-12 hexadecimal digits)")]
IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        required=False,
        description='Refuse the change (412) unless the task\'s ETag is one of these, e.g. "3"',
    ),
]
ETAG_HEADER: Final = ResponseHeader(
    name="ETag",
    documentation_only=True,
    required=True,
    description='The task\'s version, quoted: "3"',
)


def _task_response(task: Task, status_code: int = 200, **headers: str) -> Response[TaskEnvelope]:
    return Response(
        TaskEnvelope(data=TaskRead.of(task)),
        status_code=status_code,
        headers={"ETag": etag(task.version), **headers},
    )


def _changed_task_response(changed: ChangedTask) -> Response[ChangedTaskEnvelope]:
    return Response(ChangedTaskEnvelope.of(changed), headers={"ETag": etag(changed.task.version)})


def _ref(user_id: str, task_id: UUID, if_match: str | None = None) -> TaskRef:
    return TaskRef(owner=user_id, task_id=task_id, expected_versions=expected_versions(if_match))


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
    if f.tags is not None:
        params["tags"] = ",".join(f.tags)
    params["sort"] = str(query.order)
    params["limit"] = str(query.limit)
    params["cursor"] = cursor
    return f"/api/{query.owner}/tasks?{urlencode(params)}"


class TaskController(Controller):
    """The task routes, all scoped by the owner's id."""

    path = "/api/{user_id:str}/tasks"
    tags = ["tasks"]
    before_request = check_request

    @get(
        "/",
        summary="List the user's tasks",
        responses=responses(422),
        response_headers=[
            ResponseHeader(
                name="Link",
                documentation_only=True,
                description='The next page: <url>; rel="next" (absent on the last page)',
            )
        ],
    )
    async def list_tasks(
        self,
        user_id: UserId,
        list_tasks: NamedDependency[ListTasks],
        completed: Annotated[bool | None, QueryParameter(description="true or false")] = None,
        priority: Annotated[
            Priority | None, QueryParameter(description="Only this priority")
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
            datetime | None,
            QueryParameter(description="RFC 3339 with an offset; only tasks due strictly before"),
        ] = None,
        due_after: Annotated[
            datetime | None,
            QueryParameter(description="RFC 3339 with an offset; only tasks due strictly after"),
        ] = None,
        tags: Annotated[
            str | None,
            QueryParameter(
                min_length=1,
                description="1 to 5 comma-separated tags (normalized as a task's): only tasks "
                "that carry every one",
                examples=[Example(value="work,urgent")],
            ),
        ] = None,
        sort: Annotated[
            SortKey,
            QueryParameter(
                description="Sort key; `-` for descending. Ties break on id in the same "
                "direction; tasks without due_at come last either way.",
                examples=[Example(value="-created_at")],
            ),
        ] = "-created_at",
        limit: Annotated[int, QueryParameter(ge=1, le=500, description="Page size")] = 100,
        cursor: Annotated[
            str | None, QueryParameter(description="The previous page's meta.next_cursor")
        ] = None,
    ) -> Response[TaskListEnvelope]:
        query = ListTasksQuery(
            owner=user_id,
            filter=TaskFilter(
                completed=completed,
                priority=priority,
                search=q,
                due_before=due_before,
                due_after=due_after,
                tags=None if tags is None else tuple(tags.split(",")),
            ),
            order=TaskOrder.parse(sort),
            limit=limit,
            cursor=cursor,
        )
        page = await list_tasks(query)
        headers = {}
        if page.next_cursor is not None:
            headers["Link"] = f'<{_next_link(query, page.next_cursor)}>; rel="next"'
        return Response(TaskListEnvelope.of(page), headers=headers)

    @post(
        "/",
        summary="Create a task",
        dto=StrictJson[TaskWrite],
        return_dto=None,
        responses=responses(400, 409, 413, 415, 422),
        response_headers=[
            ETAG_HEADER,
            ResponseHeader(
                name="Location",
                documentation_only=True,
                required=True,
                description="The new task's URL",
            ),
            ResponseHeader(
                name="Idempotent-Replayed",
                documentation_only=True,
                description="true when the response is a replay of an earlier one",
            ),
        ],
    )
    async def create_task(
        self,
        user_id: UserId,
        data: JSONBody[TaskWrite],
        create_task: NamedDependency[CreateTask],
        idempotency_key: Annotated[
            str | None,
            HeaderParameter(
                name="Idempotency-Key",
                required=False,
                # Checked by the use case (its message names the header); documented here.
                schema_extra={"minLength": 1, "maxLength": 255, "pattern": r"^[\x20-\x7e]+$"},
                description="1 to 255 printable ASCII characters, scoped to the user, kept 24 "
                "hours: a repeat with the same body returns the first response "
                "(Idempotent-Replayed: true) and creates nothing; another body is a 409",
            ),
        ] = None,
    ) -> Response[TaskEnvelope]:
        created = await create_task(CreateTaskCommand(user_id, data.to_fields(), idempotency_key))
        headers = {"Location": f"/api/{user_id}/tasks/{created.task.id}"}
        if created.replayed:
            headers["Idempotent-Replayed"] = "true"
        return _task_response(created.task, 201, **headers)

    @delete("/", status_code=200, summary="Delete all completed tasks", responses=responses(422))
    async def clear_completed(
        self,
        user_id: UserId,
        clear_completed: NamedDependency[ClearCompleted],
        completed: Annotated[
            Literal["true"],
            QueryParameter(description="Must be `true`: deletes the completed tasks"),
        ],
    ) -> DeletedCountEnvelope:
        deleted = await clear_completed(user_id)
        return DeletedCountEnvelope(data=DeletedCount(deleted=deleted))

    @get("/stats", summary="Counts for a dashboard", responses=responses(422))
    async def stats(
        self, user_id: UserId, task_statistics: NamedDependency[TaskStatistics]
    ) -> StatsEnvelope:
        return StatsEnvelope(data=StatsRead.of(await task_statistics(user_id)))

    @get(
        "/{task_id:str}",
        summary="One task",
        responses=responses(304, 404, 422),
        response_headers=[ETAG_HEADER],
    )
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
    ) -> Response[TaskEnvelope]:
        task = await get_task(_ref(user_id, task_id))
        if none_match(if_none_match, task.version):
            return Response(None, status_code=304, headers={"ETag": etag(task.version)})  # type: ignore[arg-type]
        return _task_response(task)

    @put(
        "/{task_id:str}",
        summary="Replace the editable fields",
        dto=StrictJson[TaskWrite],
        return_dto=None,
        responses=responses(400, 404, 409, 412, 413, 415, 422),
        response_headers=[ETAG_HEADER],
    )
    async def replace_task(
        self,
        user_id: UserId,
        task_id: TaskId,
        data: JSONBody[TaskWrite],
        replace_task: NamedDependency[ReplaceTask],
        if_match: IfMatch = None,
    ) -> Response[ChangedTaskEnvelope]:
        command = ReplaceTaskCommand(_ref(user_id, task_id, if_match), data.to_fields())
        return _changed_task_response(await replace_task(command))

    @patch(
        "/{task_id:str}",
        summary="Change some fields",
        dto=StrictJson[TaskPatch],
        return_dto=None,
        responses=responses(400, 404, 409, 412, 413, 415, 422),
        response_headers=[ETAG_HEADER],
    )
    async def patch_task(
        self,
        user_id: UserId,
        task_id: TaskId,
        data: JSONBody[TaskPatch],
        patch_task: NamedDependency[PatchTask],
        if_match: IfMatch = None,
    ) -> Response[ChangedTaskEnvelope]:
        command = PatchTaskCommand(_ref(user_id, task_id, if_match), data.to_changes())
        return _changed_task_response(await patch_task(command))

    @patch(
        "/{task_id:str}/complete",
        summary="Flip completion, or set it",
        dto=StrictJson[CompletionWrite],
        return_dto=None,
        responses=responses(400, 404, 409, 412, 413, 415, 422),
        response_headers=[ETAG_HEADER],
    )
    async def set_completion(
        self,
        user_id: UserId,
        task_id: TaskId,
        set_completion: NamedDependency[SetCompletion],
        data: JSONBody[CompletionWrite | None] = None,
        if_match: IfMatch = None,
    ) -> Response[ChangedTaskEnvelope]:
        command = SetCompletionCommand(_ref(user_id, task_id, if_match), _completed(data))
        return _changed_task_response(await set_completion(command))

    @delete(
        "/{task_id:str}",
        status_code=200,
        summary="Delete a task",
        responses=responses(404, 412, 422),
    )
    async def delete_task(
        self,
        user_id: UserId,
        task_id: TaskId,
        delete_task: NamedDependency[DeleteTask],
        if_match: IfMatch = None,
    ) -> DeletedTaskEnvelope:
        await delete_task(_ref(user_id, task_id, if_match))
        return DeletedTaskEnvelope(data=DeletedTask(id=task_id))


class TagController(Controller):
    """The tags the user's tasks carry."""

    path = "/api/{user_id:str}/tags"
    tags = ["tags"]
    before_request = check_request

    @get("/", summary="Every tag of the user's tasks, with counts", responses=responses(422))
    async def list_tags(
        self, user_id: UserId, list_tags: NamedDependency[ListTags]
    ) -> TagListEnvelope:
        return TagListEnvelope.of(await list_tags(user_id))


def _completed(body: CompletionWrite | None) -> bool | None:
    """No body, or no `completed` in it, flips completion; a value sets it."""
    if body is None or not isinstance(body.completed, bool):
        return None
    return body.completed
