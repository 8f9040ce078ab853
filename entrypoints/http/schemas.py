"""The HTTP shapes: msgspec structs for request bodies and the contract's envelope."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from application.changes import ChangePage
from application.commands import ChangedTask, TaskFields, TaskPage
from domain.changes import Change
from domain.listing import TagCount
from domain.recurrence import (
    MAX_TAGS,
    RECURRENCE_MAX_LENGTH,
    TAG_MAX_LENGTH,
    TIME_ZONE_MAX_LENGTH,
)
from domain.task import (
    DESCRIPTION_MAX_LENGTH,
    NO_NUL,
    TITLE_PATTERN,
    Priority,
    Task,
    TaskChanges,
    TaskStats,
)
from domain.task import UNSET as UNCHANGED

PriorityName = Literal["none", "low", "medium", "high"]
# The rules below are checked by msgspec (types, offsets) and by the domain (trimming, lengths,
# NUL), whose messages the API returns; `extra_json_schema` states them in the document too,
# without a second check.
Timestamp = Annotated[
    datetime,
    Meta(tz=True, description="RFC 3339 timestamp with an offset; stored and shown in UTC"),
]
Title = Annotated[
    str,
    Meta(
        description="Surrounding white space is trimmed; 1 to 500 characters remain. No NUL.",
        extra_json_schema={"extra": {"pattern": TITLE_PATTERN}},
    ),
]
Description = Annotated[
    str,
    Meta(
        description="At most 2000 characters; an empty string is stored as null. No NUL.",
        extra_json_schema={"extra": {"maxLength": DESCRIPTION_MAX_LENGTH, "pattern": NO_NUL}},
    ),
]
Tags = Annotated[
    list[str],
    Meta(
        description=f"Each tag is trimmed and lower-cased, then 1 to {TAG_MAX_LENGTH} "
        f"characters with no comma and no control character; duplicates are dropped and at "
        f"most {MAX_TAGS} may remain. Shown sorted.",
        examples=[["home", "work"]],
    ),
]
Recurrence = Annotated[
    str,
    Meta(
        description="An RFC 5545 RRULE value without the `RRULE:` prefix: FREQ (DAILY, WEEKLY, "
        "MONTHLY, YEARLY) first, then INTERVAL, BYDAY, BYMONTHDAY, BYMONTH and at most one of "
        "COUNT or UNTIL. Needs a due_at. Completing an occurrence creates the next one.",
        examples=["FREQ=WEEKLY;BYDAY=MO,WE"],
        extra_json_schema={"maxLength": RECURRENCE_MAX_LENGTH},
    ),
]
TimeZone = Annotated[
    str,
    Meta(
        description="An IANA time zone name; recurring tasks keep their wall-clock time in "
        "it. null means UTC.",
        examples=["Europe/Berlin"],
        extra_json_schema={"maxLength": TIME_ZONE_MAX_LENGTH},
    ),
]
ReadTimestamp = Annotated[
    datetime,
    Meta(
        description="UTC, RFC 3339 with Z and microseconds",
        examples=["2026-11-22T10:00:00.123456Z"],
    ),
]


class TaskWrite(Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of POST (create) and PUT (replace). A field left out takes its default:
    description, due_at, recurrence, time_zone and remind_at null, completed false, priority
    none, tags []."""

    # Optional fields are UNSET rather than defaulted here, so that the document carries no
    # `default` (which openapi-typescript would read as "always present").
    title: Title
    description: Description | UnsetType | None = UNSET
    completed: bool | UnsetType = UNSET
    due_at: Timestamp | UnsetType | None = UNSET
    priority: PriorityName | UnsetType = UNSET
    tags: Tags | UnsetType = UNSET
    recurrence: Recurrence | UnsetType | None = UNSET
    time_zone: TimeZone | UnsetType | None = UNSET
    remind_at: Timestamp | UnsetType | None = UNSET

    def to_fields(self) -> TaskFields:
        return TaskFields(
            title=self.title,
            description=None if self.description is UNSET else self.description,
            completed=False if self.completed is UNSET else self.completed,
            due_at=None if self.due_at is UNSET else self.due_at,
            priority=Priority.NONE if self.priority is UNSET else Priority(self.priority),
            tags=() if self.tags is UNSET else tuple(self.tags),
            recurrence=None if self.recurrence is UNSET else self.recurrence,
            time_zone=None if self.time_zone is UNSET else self.time_zone,
            remind_at=None if self.remind_at is UNSET else self.remind_at,
        )


class TaskPatch(Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of PATCH: any subset of the editable fields; null clears description, due_at,
    recurrence, time_zone or remind_at (tags are cleared with [])."""

    title: Title | UnsetType = UNSET
    description: Description | UnsetType | None = UNSET
    completed: bool | UnsetType = UNSET
    due_at: Timestamp | UnsetType | None = UNSET
    priority: PriorityName | UnsetType = UNSET
    tags: Tags | UnsetType = UNSET
    recurrence: Recurrence | UnsetType | None = UNSET
    time_zone: TimeZone | UnsetType | None = UNSET
    remind_at: Timestamp | UnsetType | None = UNSET

    def to_changes(self) -> TaskChanges:
        return TaskChanges(
            title=UNCHANGED if self.title is UNSET else self.title,
            description=UNCHANGED if self.description is UNSET else self.description,
            completed=UNCHANGED if self.completed is UNSET else self.completed,
            due_at=UNCHANGED if self.due_at is UNSET else self.due_at,
            priority=UNCHANGED if self.priority is UNSET else Priority(self.priority),
            tags=UNCHANGED if self.tags is UNSET else tuple(self.tags),
            recurrence=UNCHANGED if self.recurrence is UNSET else self.recurrence,
            time_zone=UNCHANGED if self.time_zone is UNSET else self.time_zone,
            remind_at=UNCHANGED if self.remind_at is UNSET else self.remind_at,
        )


class CompletionWrite(Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of PATCH .../complete: absent (or no body) flips completion; a value sets it."""

    completed: bool | UnsetType = UNSET


_encode_datetime = msgspec.json.Encoder().encode


def wire_timestamp(value: datetime) -> datetime | str:
    """UTC with `Z` and always six fraction digits.

    msgspec's encoder (in C) writes an aware UTC datetime exactly so, except that it drops a
    fraction of zero; only those are formatted here. Formatting every timestamp in Python was
    a fifth of the CPU time of a 100-task list (docs/performance.md).
    """
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    if value.microsecond:
        return value
    # b'"2026-11-22T10:00:00Z"' -> "2026-11-22T10:00:00.000000Z": 5x faster than isoformat().
    return _encode_datetime(value)[1:-2].decode() + ".000000Z"


class TaskRead(Struct):
    """A task as the API shows it. Made positionally by `of`: a struct of 16 fields takes
    0.07 us made so and 0.48 us by keywords, for each task of a page."""

    id: UUID
    user_id: str
    title: str
    description: str | None
    completed: bool
    completed_at: ReadTimestamp | None
    due_at: ReadTimestamp | None
    priority: PriorityName
    tags: list[str]
    recurrence: str | None
    time_zone: str | None
    remind_at: ReadTimestamp | None
    series_id: Annotated[
        UUID | None,
        Meta(description="The first task of its recurring series; null if it never recurred"),
    ]
    created_at: ReadTimestamp
    updated_at: ReadTimestamp
    version: Annotated[
        int, Meta(ge=1, description="+1 on every change; the ETag is its quoted value")
    ]

    @classmethod
    def of(cls, task: Task) -> TaskRead:
        completed_at, due_at, remind_at = task.completed_at, task.due_at, task.remind_at
        return cls(
            task.id,
            task.user_id,
            task.title,
            task.description,
            task.completed,
            None if completed_at is None else wire_timestamp(completed_at),
            None if due_at is None else wire_timestamp(due_at),
            # A StrEnum encodes as its value; skipping `.value` counts in a 500-task list.
            task.priority,  # type: ignore[arg-type]
            task.tags,  # type: ignore[arg-type]  # a tuple encodes as the same JSON array
            task.recurrence,
            task.time_zone,
            None if remind_at is None else wire_timestamp(remind_at),
            task.series_id,
            wire_timestamp(task.created_at),
            wire_timestamp(task.updated_at),
            task.version,
        )


class TaskEnvelope(Struct, kw_only=True):
    success: bool = True
    data: TaskRead
    message: str | UnsetType = UNSET


class ChangeMeta(Struct, kw_only=True):
    next_occurrence: Annotated[
        TaskRead | None,
        Meta(
            description="The next occurrence this change created (it completed a recurring "
            "task), or null"
        ),
    ]


class ChangedTaskEnvelope(Struct, kw_only=True):
    """A task after a write that may complete it."""

    success: bool = True
    data: TaskRead
    meta: ChangeMeta

    @classmethod
    def of(cls, changed: ChangedTask) -> ChangedTaskEnvelope:
        following = changed.next_occurrence
        return cls(
            data=TaskRead.of(changed.task),
            meta=ChangeMeta(next_occurrence=None if following is None else TaskRead.of(following)),
        )


class TagRead(Struct, kw_only=True):
    tag: str
    tasks: Annotated[int, Meta(description="How many of the user's tasks carry it")]
    pending: Annotated[int, Meta(description="How many of those are not completed")]


class TagListEnvelope(Struct, kw_only=True):
    success: bool = True
    data: list[TagRead]

    @classmethod
    def of(cls, counts: Sequence[TagCount]) -> TagListEnvelope:
        return cls(data=[TagRead(tag=c.tag, tasks=c.tasks, pending=c.pending) for c in counts])


class PageMeta(Struct, kw_only=True):
    count: int
    limit: int
    next_cursor: str | None


class TaskListEnvelope(Struct, kw_only=True):
    success: bool = True
    data: list[TaskRead]
    meta: PageMeta

    @classmethod
    def of(cls, page: TaskPage) -> TaskListEnvelope:
        return cls(
            data=[TaskRead.of(t) for t in page.items],
            meta=PageMeta(count=len(page.items), limit=page.limit, next_cursor=page.next_cursor),
        )


class DeletedTask(Struct, kw_only=True):
    id: UUID


class DeletedTaskEnvelope(Struct, kw_only=True):
    success: bool = True
    data: DeletedTask
    message: str | UnsetType = UNSET


class DeletedCount(Struct, kw_only=True):
    deleted: int


class DeletedCountEnvelope(Struct, kw_only=True):
    success: bool = True
    data: DeletedCount
    message: str | UnsetType = UNSET


class StatsRead(Struct, kw_only=True):
    total: int
    completed: int
    pending: int
    overdue: Annotated[int, Meta(description="not completed and due_at in the past")]

    @classmethod
    def of(cls, stats: TaskStats) -> StatsRead:
        return cls(
            total=stats.total,
            completed=stats.completed,
            pending=stats.pending,
            overdue=stats.overdue,
        )


class StatsEnvelope(Struct, kw_only=True):
    success: bool = True
    data: StatsRead


class HealthStatus(Struct, kw_only=True):
    status: str


class HealthEnvelope(Struct, kw_only=True):
    success: bool = True
    data: HealthStatus


ChangeTypeName = Literal["task.created", "task.updated", "task.deleted", "reminder.due"]


class ChangeRead(Struct, kw_only=True):
    """One write to one task, as it committed."""

    type: ChangeTypeName
    task_id: UUID
    version: Annotated[int, Meta(description="The task's version after the change")]
    at: ReadTimestamp
    task: Annotated[
        TaskRead | None,
        Meta(description="The task as the change left it; null for task.deleted"),
    ]

    @classmethod
    def of(cls, change: Change) -> ChangeRead:
        return cls(
            type=change.type.value,  # type: ignore[arg-type]
            task_id=change.task_id,
            version=change.version,
            at=wire_timestamp(change.at),
            task=None if change.task is None else TaskRead.of(change.task),
        )


class ChangesMeta(Struct, kw_only=True):
    next_token: Annotated[
        str, Meta(description="Pass as `since` for the changes after this page (opaque)")
    ]
    has_more: Annotated[bool, Meta(description="More changes follow right away")]


class ChangesEnvelope(Struct, kw_only=True):
    success: bool = True
    data: list[ChangeRead]
    meta: ChangesMeta

    @classmethod
    def of(cls, page: ChangePage) -> ChangesEnvelope:
        return cls(
            data=[ChangeRead.of(c.change) for c in page.changes],
            meta=ChangesMeta(next_token=page.next_token, has_more=page.has_more),
        )


class ErrorDetail(Struct, kw_only=True):
    field: str
    message: str


ErrorCode = Literal[
    "MALFORMED_REQUEST",
    "UNAUTHORIZED",
    "FORBIDDEN",
    "TASK_NOT_FOUND",
    "NOT_FOUND",
    "METHOD_NOT_ALLOWED",
    "TASK_LIMIT_REACHED",
    "IDEMPOTENCY_KEY_REUSED",
    "IDEMPOTENCY_KEY_IN_USE",
    "PRECONDITION_FAILED",
    "SYNC_TOKEN_EXPIRED",
    "PAYLOAD_TOO_LARGE",
    "UNSUPPORTED_MEDIA_TYPE",
    "VALIDATION_ERROR",
    "RATE_LIMITED",
    "INTERNAL_ERROR",
    "SERVICE_UNAVAILABLE",
]


class ErrorBody(Struct, kw_only=True):
    code: ErrorCode
    message: str
    details: list[ErrorDetail] | UnsetType = UNSET
    request_id: str


class ErrorEnvelope(Struct, kw_only=True):
    success: bool = False
    error: ErrorBody
