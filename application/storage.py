"""The storage port: what the entrypoints start, stop and draw units of work from."""

from __future__ import annotations

from typing import Protocol, TypeVar

from application.changes import ChangeSignals
from application.unit_of_work import UnitOfWorkFactory

# The rate limiter's store is the HTTP framework's type, which the core may not name: each
# adapter says which it returns, and the entrypoint that hands it to the framework says
# which it needs (`Storage[litestar.stores.base.Store]`).
RateLimitStoreT_co = TypeVar("RateLimitStoreT_co", covariant=True)


class Storage(Protocol[RateLimitStoreT_co]):
    """One process's tasks store, through its life: start, serve units of work, stop."""

    async def start(self) -> None:
        """Make the store usable (start or join a server, migrate, open a pool)."""
        ...

    async def stop(self) -> None:
        """Release what start() took; safe to call after a failed or partial start."""
        ...

    async def ready(self) -> bool:
        """The store answers and its schema is the one this code expects."""
        ...

    def pool_stats(self) -> dict[str, int]:
        """Connections by state (`in_use`, `idle`, `max`), for the metrics; {} without a pool."""
        ...

    async def change_signals(self) -> ChangeSignals:
        """Wakes this process's followers of a user when that user's changes commit, through
        any process; started on first use (a served worker's streams, `tasks changes
        --follow`), stopped by stop()."""
        ...

    def rate_limit_store(self) -> RateLimitStoreT_co:
        """Where the rate limiter counts requests, shared as widely as the tasks are."""
        ...

    def unit_of_work_factory(self) -> UnitOfWorkFactory: ...
