"""Domain errors: each carries a stable `code` that the entrypoints map once."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the core raises on purpose."""

    code = "DOMAIN_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(DomainError):
    """A value breaks a rule; `field` names the offending input."""

    code = "VALIDATION_ERROR"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field} {message}")
        self.field = field
        self.reason = message


class InvalidTitle(ValidationFailed):
    def __init__(self, message: str) -> None:
        super().__init__("title", message)


class InvalidDescription(ValidationFailed):
    def __init__(self, message: str) -> None:
        super().__init__("description", message)


class InvalidOwner(ValidationFailed):
    def __init__(self, message: str) -> None:
        super().__init__("user_id", message)


class InvalidDueDate(ValidationFailed):
    def __init__(self, message: str) -> None:
        super().__init__("due_at", message)


class TaskNotFound(DomainError):
    """No such task for this owner, whoever else may own that id."""

    code = "TASK_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("task not found")


class VersionConflict(DomainError):
    """The caller's expected version is not the task's current one."""

    code = "PRECONDITION_FAILED"

    def __init__(self, current_version: int) -> None:
        super().__init__("the task has changed since the given version")
        self.current_version = current_version


class TaskLimitReached(DomainError):
    """The owner already has the maximum number of tasks."""

    code = "TASK_LIMIT_REACHED"

    def __init__(self, limit: int) -> None:
        super().__init__(f"the user already has the maximum of {limit} tasks")
        self.limit = limit
