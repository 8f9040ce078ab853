"""The unit-of-work port: one transaction, committed explicitly."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from application.idempotency import IdempotencyStore
from domain.ports import ChangeLog, TaskRepository


class UnitOfWork(Protocol):
    """An async context manager around one transaction; leaving it without `commit()` rolls back."""

    # Read-only here, so that an adapter's own repository types satisfy the port (a plain
    # attribute of a protocol is invariant: only exactly TaskRepository would match).
    @property
    def tasks(self) -> TaskRepository: ...

    @property
    def idempotency(self) -> IdempotencyStore: ...

    @property
    def changes(self) -> ChangeLog: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, one_write: bool = False) -> UnitOfWork:
        """A new unit of work.

        `one_write=True` is the caller's promise that the unit of work runs at most one
        writing statement, and commits right after it: a store may then skip BEGIN and
        COMMIT, since one statement is atomic on its own (two round trips fewer).
        """
        ...


class StorageUnavailable(Exception):
    """The store cannot be reached right now (connection refused, dropped, timed out)."""

    code = "SERVICE_UNAVAILABLE"
