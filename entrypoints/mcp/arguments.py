"""Tool arguments: msgspec structs built on the REST request bodies (entrypoints/http/schemas.py)
and decoded by the REST body decoder, so a bad argument is the same VALIDATION_ERROR, naming the
same field with the same words, as the same value sent to the REST API. Their JSON schemas,
tidied for a model to read, are the tools' input schemas.

A field added to `TaskWrite` / `TaskPatch` (and their `to_fields` / `to_changes`) is an argument
of add_task / update_task, in its schema and its decoding, with no change here.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, TypeVar

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from application.tasks import MAX_PAGE_SIZE, MAX_SEARCH_LENGTH
from domain.ids import UUID_PATTERN
from domain.listing import TaskOrder
from domain.task import OWNER_PATTERN, OWNER_RULE, Priority
from entrypoints.http.controllers import SORT_VALUES
from entrypoints.http.decoding import RequestInvalid, decode_body
from entrypoints.http.schemas import PriorityName, TaskPatch, TaskWrite, Timestamp

T = TypeVar("T")

STATUSES: Final = ("all", "pending", "completed")
DEFAULT_LIMIT: Final = 50

# Rules stated in the schema only (`extra_json_schema`): the core checks them, with the REST
# API's words, so that a model reads the same message whichever way it calls.
UserId = Annotated[
    str,
    Meta(
        description=f"The user whose tasks these are: {OWNER_RULE.removeprefix('must be ')}",
        extra_json_schema={"minLength": 1, "maxLength": 128, "pattern": OWNER_PATTERN},
    ),
]
TaskId = Annotated[
    str,
    Meta(
        description="The task's id (a UUID), as the `id` of a task in an earlier result",
        extra_json_schema={"format": "uuid", "pattern": UUID_PATTERN},
    ),
]


# Every tool takes `user_id`: required in AUTH_MODE=none and over stdio (the schema says so
# and tools.py checks it); with a bearer token it defaults to the token's subject and must
# equal it. msgspec takes fields from one base with fields only, so each struct declares it.


class AddTaskArguments(TaskWrite, kw_only=True, forbid_unknown_fields=True):
    """add_task: the REST create body, and the user."""

    user_id: UserId | UnsetType = UNSET


class UpdateTaskArguments(TaskPatch, kw_only=True, forbid_unknown_fields=True):
    """update_task: the REST PATCH body, the task and the user."""

    user_id: UserId | UnsetType = UNSET
    task_id: TaskId


class TaskArguments(Struct, kw_only=True, forbid_unknown_fields=True):
    """get_task, delete_task."""

    user_id: UserId | UnsetType = UNSET
    task_id: TaskId


class CompleteTaskArguments(Struct, kw_only=True, forbid_unknown_fields=True):
    user_id: UserId | UnsetType = UNSET
    task_id: TaskId
    completed: Annotated[
        bool,
        Meta(
            description="true (the default) marks it done; false reopens it. Setting the "
            "value it already has changes nothing."
        ),
    ] = True


class OwnerArguments(Struct, kw_only=True, forbid_unknown_fields=True):
    """clear_completed, task_stats."""

    user_id: UserId | UnsetType = UNSET


class ListTasksArguments(Struct, kw_only=True, forbid_unknown_fields=True):
    user_id: UserId | UnsetType = UNSET
    status: Annotated[
        str,
        Meta(
            description="all (default), pending (not completed) or completed",
            extra_json_schema={"enum": list(STATUSES)},
        ),
    ] = "all"
    q: (
        Annotated[
            str,
            Meta(
                description="Case-insensitive text to find in the title or description",
                extra_json_schema={"minLength": 1, "maxLength": MAX_SEARCH_LENGTH},
            ),
        ]
        | None
    ) = None
    tags: (
        Annotated[
            str,
            Meta(
                description="Only tasks with this tag (1 to 5, comma-separated: with every one)",
                extra_json_schema={"minLength": 1},
            ),
        ]
        | None
    ) = None
    priority: Annotated[PriorityName, Meta(description="Only tasks of this priority")] | None = None
    due_before: (
        Annotated[Timestamp, Meta(description="Only tasks due strictly before this instant")] | None
    ) = None
    due_after: (
        Annotated[Timestamp, Meta(description="Only tasks due strictly after this instant")] | None
    ) = None
    sort: Annotated[
        str,
        Meta(
            description="Order: a field, `-` first for descending; default -created_at "
            "(newest first). Tasks without a due date come last either way.",
            extra_json_schema={"enum": list(SORT_VALUES)},
        ),
    ] = "-created_at"
    limit: Annotated[
        int, Meta(ge=1, le=MAX_PAGE_SIZE, description="How many tasks at most (default 50)")
    ] = DEFAULT_LIMIT
    cursor: (
        Annotated[
            str, Meta(description="The next_cursor of the previous result, for the next page")
        ]
        | None
    ) = None

    def order(self) -> TaskOrder:
        if self.sort not in SORT_VALUES:
            raise RequestInvalid.of("sort", f"must be one of {', '.join(SORT_VALUES)}")
        return TaskOrder.parse(self.sort)

    def completed(self) -> bool | None:
        if self.status not in STATUSES:
            raise RequestInvalid.of("status", f"must be one of {', '.join(STATUSES)}")
        return None if self.status == "all" else self.status == "completed"


def decode_arguments(arguments: dict[str, Any] | None, shape: type[T]) -> T:
    """The arguments as `shape`, by the REST decoder (RequestInvalid naming the field)."""
    return decode_body(msgspec.json.encode(arguments or {}), shape)


_PRIORITY_ORDER: Final = [p.value for p in Priority]


def _tidy(schema: Any) -> Any:
    """msgspec's schema, for a model: Litestar's `extra` spellings merged into their schema,
    priorities in rank order, no struct names."""
    if isinstance(schema, list):
        return [_tidy(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    tidy = {key: _tidy(value) for key, value in schema.items() if key != "extra"}
    tidy.update(schema.get("extra", {}))
    if "enum" in tidy and set(tidy["enum"]) == set(_PRIORITY_ORDER):
        tidy["enum"] = list(_PRIORITY_ORDER)
    return tidy


def _definition(shape: type[Any]) -> dict[str, Any]:
    _, components = msgspec.json.schema_components([shape], ref_template="#/$defs/{name}")
    schema: dict[str, Any] = _tidy(components[shape.__name__])
    schema.pop("title", None)
    return schema


def input_schema(shape: type[Any], *, user_id_required: bool) -> dict[str, Any]:
    """The JSON schema of a tool's arguments: user_id and task_id first."""
    schema = _definition(shape)
    schema.pop("description", None)
    properties = schema["properties"]
    first = [name for name in ("user_id", "task_id") if name in properties]
    schema["properties"] = {name: properties[name] for name in [*first, *properties]}
    required = [name for name in schema.get("required", ()) if name != "user_id"]
    if user_id_required:
        required.insert(0, "user_id")
    if required:
        schema["required"] = required
    else:
        schema.pop("required", None)
    return schema


def output_schema(shape: type[Any]) -> dict[str, Any]:
    """The JSON schema of a REST response struct, for a tool's structured content."""
    return _definition(shape)


__all__ = [
    "DEFAULT_LIMIT",
    "UNSET",
    "AddTaskArguments",
    "CompleteTaskArguments",
    "ListTasksArguments",
    "OwnerArguments",
    "TaskArguments",
    "UpdateTaskArguments",
    "decode_arguments",
    "input_schema",
    "output_schema",
]
