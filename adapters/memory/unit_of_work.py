"""An in-memory unit of work with real commit and rollback."""

from __future__ import annotations

import asyncio
from datetime import datetime
from types import TracebackType
from typing import Self

from litestar.stores.memory import MemoryStore

from adapters.memory.changes import InMemoryChangeLog, Journal, UserLog, publish
from adapters.memory.idempotency import InMemoryIdempotencyStore, KeyTable
from adapters.memory.repository import InMemoryTaskRepository, TaskKey
from application.changes import ChangeSignals
from application.storage import Storage
from domain.task import Task


class InMemoryStore:
    """The committed state, shared by every unit of work of one process."""

    def __init__(self) -> None:
        self.tasks: dict[TaskKey, Task] = {}
        self.idempotency_keys: KeyTable = {}
        self.change_logs: dict[str, UserLog] = {}
        self.reminded: dict[TaskKey, datetime] = {}
        self.signals = ChangeSignals()
        # One unit of work at a time: the in-memory store's stand-in for row locks.
        self.lock = asyncio.Lock()


class InMemoryUnitOfWork:
    """Works on a private copy of the store; `commit()` publishes it, anything else drops it."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store
        self._working: dict[TaskKey, Task] = {}
        self._working_keys: KeyTable = {}
        self._working_reminded: dict[TaskKey, datetime] = {}
        self._journal = Journal()
        self.tasks = InMemoryTaskRepository(self._working)
        self.idempotency = InMemoryIdempotencyStore(self._working_keys)
        self.changes = self._change_log()
        self.committed = False

    def _change_log(self) -> InMemoryChangeLog:
        return InMemoryChangeLog(
            self._store.change_logs, self._working, self._working_reminded, self._journal
        )

    async def __aenter__(self) -> Self:
        await self._store.lock.acquire()
        # A shallow copy suffices: stored tasks are never mutated in place, only replaced.
        self._working = dict(self._store.tasks)
        self._working_keys = dict(self._store.idempotency_keys)
        self._working_reminded = dict(self._store.reminded)
        self._journal = Journal()
        self.tasks = InMemoryTaskRepository(self._working, self._journal)
        self.idempotency = InMemoryIdempotencyStore(self._working_keys)
        self.changes = self._change_log()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._working = {}
        self._working_keys = {}
        self._store.lock.release()

    async def commit(self) -> None:
        self._store.tasks = dict(self._working)
        self._store.idempotency_keys = dict(self._working_keys)
        self._store.reminded = dict(self._working_reminded)
        publish(self._store.change_logs, self._journal, self._store.signals)
        self.committed = True

    async def rollback(self) -> None:
        self._working.clear()
        self._working.update(self._store.tasks)
        self._working_keys.clear()
        self._working_keys.update(self._store.idempotency_keys)
        self._working_reminded.clear()
        self._working_reminded.update(self._store.reminded)
        self._journal.entries.clear()


class InMemoryUnitOfWorkFactory:
    """Makes units of work over one store."""

    def __init__(self, store: InMemoryStore | None = None) -> None:
        self.store = store or InMemoryStore()

    def __call__(self, *, one_write: bool = False) -> InMemoryUnitOfWork:
        # Always a real transaction here: it costs nothing in memory.
        return InMemoryUnitOfWork(self.store)


class InMemoryStorage(Storage[MemoryStore]):
    """The in-memory side of the service's life: nothing to start, always ready."""

    def __init__(self) -> None:
        self.store = InMemoryStore()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def ready(self) -> bool:
        return True

    def pool_stats(self) -> dict[str, int]:
        return {}

    async def change_signals(self) -> ChangeSignals:
        """Woken by each commit, in this process (the only one that sees these tasks)."""
        return self.store.signals

    def rate_limit_store(self) -> MemoryStore:
        """This process only, like the tasks."""
        return MemoryStore()

    def unit_of_work_factory(self) -> InMemoryUnitOfWorkFactory:
        return InMemoryUnitOfWorkFactory(self.store)
