"""Idempotency keys: a repeated create returns the first result instead of making a second task."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Protocol

from application.commands import TaskFields
from domain.errors import DomainError, ValidationFailed
from domain.task import Task

KEY_LIFETIME: Final = timedelta(hours=24)
_KEY_PATTERN: Final = re.compile(r"[\x20-\x7e]{1,255}")


class IdempotencyKeyReused(DomainError):
    """The key was first used with another request."""

    code = "IDEMPOTENCY_KEY_REUSED"

    def __init__(self) -> None:
        super().__init__("this Idempotency-Key was used with a different request body")


class IdempotencyKeyInUse(DomainError):
    """A request with the same key is still being processed."""

    code = "IDEMPOTENCY_KEY_IN_USE"

    def __init__(self) -> None:
        super().__init__("a request with this Idempotency-Key is still being processed")


def check_idempotency_key(key: str) -> str:
    if not _KEY_PATTERN.fullmatch(key):
        raise ValidationFailed("Idempotency-Key", "must be 1 to 255 printable ASCII characters")
    return key


def fingerprint(*parts: object) -> str:
    """A stable digest of what a request asked for."""
    return hashlib.sha256("\x1f".join(repr(p) for p in parts).encode()).hexdigest()


# The fields a version 1 request could set: their digest is the one version 1 stored.
_VERSION_1_FIELDS: Final = ("title", "description", "completed", "due_at", "priority")


def fields_fingerprint(fields: TaskFields) -> str:
    """The digest of a create's fields, the same for a version 1 request before and after an
    upgrade (a client retrying across a deploy gets its replay, not a 409): the fields added
    since count only when they are set, so version 1's digest is unchanged."""
    unset = TaskFields(title=fields.title)
    shown = [
        f"{f.name}={getattr(fields, f.name)!r}"
        for f in dataclasses.fields(fields)
        if f.name in _VERSION_1_FIELDS or getattr(fields, f.name) != getattr(unset, f.name)
    ]
    return hashlib.sha256(f"TaskFields({', '.join(shown)})".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredResult:
    """What an earlier request with the same key asked for, and what it got (None: in flight)."""

    fingerprint: str
    task: Task | None


class IdempotencyStore(Protocol):
    """Keys scoped by owner. Lives in the unit of work, so a key and its task commit together."""

    async def claim(
        self, owner: str, key: str, request_fingerprint: str, now: datetime
    ) -> StoredResult | None:
        """Take the key for this request (None), or return what holds it already.

        A key older than KEY_LIFETIME counts as free. When another unit of work holds the
        key uncommitted, this waits for it to finish.
        """
        ...

    async def remember(self, owner: str, key: str, task: Task) -> None:
        """Record the task the claimed key produced."""
        ...

    async def purge(self, before: datetime) -> int:
        """Forget keys claimed before `before`; returns how many."""
        ...


@dataclass(frozen=True, slots=True)
class CreatedTask:
    task: Task
    replayed: bool = False


__all__ = [
    "KEY_LIFETIME",
    "CreatedTask",
    "IdempotencyKeyInUse",
    "IdempotencyKeyReused",
    "IdempotencyStore",
    "StoredResult",
    "check_idempotency_key",
    "fields_fingerprint",
    "fingerprint",
]
