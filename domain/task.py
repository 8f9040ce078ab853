"""The Task aggregate and the rules its fields keep."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final, final, get_origin
from uuid import UUID

from domain.errors import (
    InvalidDescription,
    InvalidDueDate,
    InvalidOwner,
    InvalidTitle,
    ValidationFailed,
)
from domain.recurrence import check_time_zone, normalize_tags, parse_recurrence

TITLE_MAX_LENGTH: Final = 500
DESCRIPTION_MAX_LENGTH: Final = 2000
# "." and ".." are excluded: no URL can carry them as a path segment. The one owner rule:
# the HTTP edge and its document take the pattern and the text from here.
OWNER_PATTERN: Final = r"^(?!\.{1,2}$)[A-Za-z0-9._~@:|+\-]{1,128}$"
OWNER_RULE: Final = "must be 1 to 128 characters from A-Z a-z 0-9 . _ ~ @ : | + -"
_OWNER_PATTERN: Final = re.compile(OWNER_PATTERN)
# The title and description rules as patterns, for documents that describe them: no NUL, and
# a title of 1 to 500 characters once surrounding white space is trimmed.
NO_NUL: Final = "^[^\\u0000]*$"
TITLE_PATTERN: Final = "^\\s*[^\\s\\u0000](?:[^\\u0000]{0,498}[^\\s\\u0000])?\\s*$"


class Priority(StrEnum):
    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        """Sort order: none < low < medium < high."""
        return _PRIORITY_RANK[self]


_PRIORITY_RANK: Final = {p: i for i, p in enumerate(Priority)}


def check_owner(user_id: str) -> str:
    """Return `user_id` if it is a valid owner id, else raise InvalidOwner."""
    if not _OWNER_PATTERN.fullmatch(user_id):
        raise InvalidOwner(OWNER_RULE)
    return user_id


def _check_text(value: str, error: type[InvalidTitle] | type[InvalidDescription]) -> None:
    if "\x00" in value:
        raise error("must not contain the NUL character")


def normalize_title(title: str) -> str:
    """Trim surrounding white space; 1 to 500 characters must remain."""
    _check_text(title, InvalidTitle)
    trimmed = title.strip()
    if not trimmed:
        raise InvalidTitle("must not be empty")
    if len(trimmed) > TITLE_MAX_LENGTH:
        raise InvalidTitle(f"must be at most {TITLE_MAX_LENGTH} characters")
    return trimmed


def normalize_description(description: str | None) -> str | None:
    """At most 2000 characters; the empty string means no description."""
    if description is None or description == "":
        return None
    _check_text(description, InvalidDescription)
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise InvalidDescription(f"must be at most {DESCRIPTION_MAX_LENGTH} characters")
    return description


_EDGE_OF_TIME: Final = datetime.min.replace(tzinfo=UTC)
_END_OF_TIME: Final = datetime.max.replace(tzinfo=UTC)


def normalize_due_at(due_at: datetime | None) -> datetime | None:
    """Due dates carry an offset and are kept in UTC."""
    if due_at is None:
        return None
    try:
        return to_utc(due_at, "due_at")
    except ValidationFailed as error:
        raise InvalidDueDate(error.reason) from None


def to_utc(value: datetime, field: str) -> datetime:
    """A timestamp with an offset, in UTC; naive ones and ones beyond years 1-9999 in UTC
    are refused, naming `field`."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationFailed(field, "must be a timestamp with an offset")
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        utc = _EDGE_OF_TIME
    # The very first and last instants are what PostgreSQL drivers use for -infinity and
    # infinity: they would not come back as timestamps.
    if utc in (_EDGE_OF_TIME, _END_OF_TIME):
        raise ValidationFailed(field, "is out of range (years 1 to 9999 in UTC)")
    return utc


def _storable(value: datetime) -> bool:
    """Whether a computed timestamp keeps the rules a given one must (years 1 to 9999 in UTC,
    and not the instants drivers read as infinity)."""
    try:
        to_utc(value, "due_at")
    except ValidationFailed:
        return False
    return True


class _Unset:
    """Marks a field that a change leaves as it is (distinct from None)."""

    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Final = _Unset()


class Wire(StrEnum):
    """How a field's values are written outside Python: the API, task files, a JSON column."""

    UUID = "uuid"  # 8-4-4-4-12 hexadecimal digits
    TEXT = "text"
    BOOLEAN = "boolean"
    INTEGER = "integer"
    TIMESTAMP = "timestamp"  # RFC 3339 with an offset; shown in UTC
    CHOICE = "choice"  # one of a StrEnum's values
    TAGS = "tags"  # a list of strings; none holds a comma, so a CSV cell joins them with ","


_WIRE_OF_TYPE: Final[dict[type, Wire]] = {
    UUID: Wire.UUID,
    str: Wire.TEXT,
    bool: Wire.BOOLEAN,
    int: Wire.INTEGER,
    datetime: Wire.TIMESTAMP,
    tuple: Wire.TAGS,  # of strings
}


@dataclass(frozen=True, slots=True)
class TaskField:
    """One field of a task.

    `editable`: a client writes it (create, replace, patch); a create or a replace that leaves
    it out gives it `default`, unless it is `required`. Not editable: read-only, shown but
    only ever set by the task itself. Not `shown`: the task's own bookkeeping, stored but
    never shown to a client, exported or imported.
    """

    name: str
    type: Any  # of its values, None aside: a class, or tuple[str, ...]
    nullable: bool = False
    editable: bool = False
    required: bool = False
    default: object = None
    shown: bool = True

    @property
    def wire(self) -> Wire:
        if isinstance(self.type, type) and issubclass(self.type, StrEnum):
            return Wire.CHOICE
        return _WIRE_OF_TYPE[get_origin(self.type) or self.type]


# Every field of a task, once, in the order the API, exports and imports use. A new field
# goes here and in `Task`; tests/unit/test_task_fields.py names every other place that must
# agree (it fails until they do), and the mappings, the idempotency snapshot, import, export
# and the CLI's output follow this table by themselves.
TASK_FIELDS: Final[tuple[TaskField, ...]] = (
    TaskField("id", UUID),
    TaskField("user_id", str),
    TaskField("title", str, editable=True, required=True),
    TaskField("description", str, nullable=True, editable=True, default=None),
    TaskField("completed", bool, editable=True, default=False),
    TaskField("completed_at", datetime, nullable=True),
    TaskField("due_at", datetime, nullable=True, editable=True, default=None),
    TaskField("priority", Priority, editable=True, default=Priority.NONE),
    TaskField("tags", tuple[str, ...], editable=True, default=()),
    TaskField("recurrence", str, nullable=True, editable=True, default=None),
    TaskField("time_zone", str, nullable=True, editable=True, default=None),
    TaskField("remind_at", datetime, nullable=True, editable=True, default=None),
    TaskField("series_id", UUID, nullable=True),
    TaskField("created_at", datetime),
    TaskField("updated_at", datetime),
    TaskField("version", int),
    # True once this occurrence of a recurring task has created its next one: it never does
    # again, however often it is reopened and completed.
    TaskField("recurred", bool, shown=False),
)
FIELD_NAMES: Final = tuple(f.name for f in TASK_FIELDS)
EDITABLE_FIELDS: Final = tuple(f for f in TASK_FIELDS if f.editable)
SHOWN_FIELDS: Final = tuple(f for f in TASK_FIELDS if f.shown)
SHOWN_NAMES: Final = tuple(f.name for f in SHOWN_FIELDS)


@dataclass(frozen=True, slots=True)
class TaskChanges:
    """A set of edits to apply at once; UNSET fields are left alone."""

    title: str | _Unset = UNSET
    description: str | _Unset | None = UNSET
    completed: bool | _Unset = UNSET
    due_at: datetime | _Unset | None = UNSET
    priority: Priority | _Unset = UNSET
    tags: tuple[str, ...] | _Unset = UNSET
    recurrence: str | _Unset | None = UNSET
    time_zone: str | _Unset | None = UNSET
    remind_at: datetime | _Unset | None = UNSET


def normalize_remind_at(remind_at: datetime | None) -> datetime | None:
    return None if remind_at is None else to_utc(remind_at, "remind_at")


def _check_recurring(recurrence: str | None, due_at: datetime | None) -> None:
    if recurrence is not None and due_at is None:
        raise ValidationFailed("recurrence", "needs a due_at: a recurring task must have one")


@final
class Task:
    """A user's task. State changes only through its methods, which keep its rules."""

    __slots__ = FIELD_NAMES

    def __init__(
        self,
        *,
        id: UUID,
        user_id: str,
        title: str,
        description: str | None,
        completed: bool,
        completed_at: datetime | None,
        due_at: datetime | None,
        priority: Priority,
        tags: tuple[str, ...],
        recurrence: str | None,
        time_zone: str | None,
        remind_at: datetime | None,
        series_id: UUID | None,
        created_at: datetime,
        updated_at: datetime,
        version: int,
        recurred: bool,
    ) -> None:
        self.id = id
        self.user_id = user_id
        self.title = title
        self.description = description
        self.completed = completed
        self.completed_at = completed_at
        self.due_at = due_at
        self.priority = priority
        self.tags = tags
        self.recurrence = recurrence
        self.time_zone = time_zone
        self.remind_at = remind_at
        self.series_id = series_id
        self.created_at = created_at
        self.updated_at = updated_at
        self.version = version
        self.recurred = recurred

    @classmethod
    def create(
        cls,
        *,
        id: UUID,
        user_id: str,
        title: str,
        now: datetime,
        description: str | None = None,
        completed: bool = False,
        due_at: datetime | None = None,
        priority: Priority = Priority.NONE,
        tags: tuple[str, ...] = (),
        recurrence: str | None = None,
        time_zone: str | None = None,
        remind_at: datetime | None = None,
    ) -> Task:
        """A new task at version 1, every field checked."""
        rule = parse_recurrence(recurrence)
        checked_due_at = normalize_due_at(due_at)
        recurrence_text = None if rule is None else rule.text
        _check_recurring(recurrence_text, checked_due_at)
        return cls(
            id=id,
            user_id=check_owner(user_id),
            title=normalize_title(title),
            description=normalize_description(description),
            completed=completed,
            completed_at=now if completed else None,
            due_at=checked_due_at,
            priority=priority,
            tags=normalize_tags(tags),
            recurrence=recurrence_text,
            time_zone=check_time_zone(time_zone),
            remind_at=normalize_remind_at(remind_at),
            series_id=None,
            created_at=now,
            updated_at=now,
            version=1,
            recurred=False,
        )

    def apply(self, changes: TaskChanges, now: datetime) -> bool:
        """Apply every edit at once; bump the version once, and only if something changed."""
        # Validate everything before touching anything, so a bad field changes nothing.
        c = changes
        title = self.title if isinstance(c.title, _Unset) else normalize_title(c.title)
        description = (
            self.description
            if isinstance(c.description, _Unset)
            else normalize_description(c.description)
        )
        due_at = self.due_at if isinstance(c.due_at, _Unset) else normalize_due_at(c.due_at)
        priority = self.priority if isinstance(c.priority, _Unset) else c.priority
        completed = self.completed if isinstance(c.completed, _Unset) else c.completed
        tags = self.tags if isinstance(c.tags, _Unset) else normalize_tags(c.tags)
        recurrence = self.recurrence
        if not isinstance(c.recurrence, _Unset):
            rule = parse_recurrence(c.recurrence)
            recurrence = None if rule is None else rule.text
        time_zone = (
            self.time_zone if isinstance(c.time_zone, _Unset) else check_time_zone(c.time_zone)
        )
        remind_at = (
            self.remind_at if isinstance(c.remind_at, _Unset) else normalize_remind_at(c.remind_at)
        )
        _check_recurring(recurrence, due_at)

        changed = (
            title != self.title
            or description != self.description
            or due_at != self.due_at
            or priority != self.priority
            or completed != self.completed
            or tags != self.tags
            or recurrence != self.recurrence
            or time_zone != self.time_zone
            or remind_at != self.remind_at
        )
        if not changed:
            return False
        if completed != self.completed:
            self.completed_at = now if completed else None
        self.title = title
        self.description = description
        self.due_at = due_at
        self.priority = priority
        self.completed = completed
        self.tags = tags
        self.recurrence = recurrence
        self.time_zone = time_zone
        self.remind_at = remind_at
        self.updated_at = now
        self.version += 1
        return True

    def toggle(self, now: datetime) -> bool:
        return self.apply(TaskChanges(completed=not self.completed), now)

    def recur(self, next_id: UUID, now: datetime) -> Task | None:
        """The next occurrence of a recurring task that has just been completed, or None.

        Called after a change that completed the task: it recurs once at most (a task
        reopened and completed again, or one that never recurs, gives None), and marks
        itself as recurred, in the same version as its completion. None as well when the
        rule ends the series. The next occurrence keeps the title, description, priority,
        tags, rule, zone and series; `due_at` is the rule's next date after both the due
        date and now; `remind_at` keeps its distance from `due_at`.
        """
        rule = parse_recurrence(self.recurrence)
        if rule is None or self.recurred or not self.completed or self.due_at is None:
            return None
        self.recurred = True
        following = rule.next_occurrence(self.due_at, self.time_zone, now)
        if following is None or not _storable(following.due_at):
            return None  # the series ends (at the latest at the end of year 9999)
        if self.series_id is None:
            self.series_id = self.id
        remind_at = None
        if self.remind_at is not None:
            try:
                remind_at = following.due_at + (self.remind_at - self.due_at)
            except OverflowError:  # a reminder years before a date near year 1: none
                remind_at = None
            if remind_at is not None and not _storable(remind_at):
                remind_at = None
        return Task(
            id=next_id,
            user_id=self.user_id,
            title=self.title,
            description=self.description,
            completed=False,
            completed_at=None,
            due_at=following.due_at,
            priority=self.priority,
            tags=self.tags,
            recurrence=following.recurrence,
            time_zone=self.time_zone,
            remind_at=remind_at,
            series_id=self.series_id,
            created_at=now,
            updated_at=now,
            version=1,
            recurred=False,
        )

    def is_overdue(self, now: datetime) -> bool:
        return not self.completed and self.due_at is not None and self.due_at < now

    def copy(self) -> Task:
        """An independent copy (the fields are immutable values)."""
        return Task(**{name: getattr(self, name) for name in Task.__slots__})

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Task):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in Task.__slots__)

    def __hash__(self) -> int:
        return hash((self.user_id, self.id))

    def __repr__(self) -> str:
        return f"Task(id={self.id}, user_id={self.user_id!r}, version={self.version})"


@dataclass(frozen=True, slots=True)
class TaskStats:
    """Counts for a dashboard."""

    total: int
    completed: int
    pending: int
    overdue: int


__all__ = [
    "DESCRIPTION_MAX_LENGTH",
    "EDITABLE_FIELDS",
    "FIELD_NAMES",
    "SHOWN_FIELDS",
    "SHOWN_NAMES",
    "TASK_FIELDS",
    "TITLE_MAX_LENGTH",
    "UNSET",
    "Priority",
    "Task",
    "TaskChanges",
    "TaskField",
    "TaskStats",
    "Wire",
    "check_owner",
    "normalize_description",
    "normalize_due_at",
    "normalize_remind_at",
    "normalize_title",
]
