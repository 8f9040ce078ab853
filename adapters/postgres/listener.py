"""One watching connection per process: it reads the change counters of the users this
process has followers for, a few times a second, and wakes the followers of each user whose
counter moved. An idle stream holds no pooled connection, and a write pays nothing for it.

Why not LISTEN/NOTIFY: PostgreSQL serializes the commits of every transaction that sent a
NOTIFY (one queue, one lock), and a NOTIFY from the change log's trigger halved the creates
a second at 16 clients (bench/creates.py: 0.46x of the same schema without it). Polling
costs one indexed read per process per tick while someone follows, whatever the write rate,
and sees writes from anywhere (the CLI, a script, another instance, a Citus worker).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final

import asyncpg

from application.changes import ChangeSignals

POLL_SECONDS: Final = 0.25  # the contract gives a change one second to reach its streams
_HEADS: Final = (
    "SELECT user_id, change_seq FROM task_counts WHERE user_id = ANY($1::varchar[])"  # its key
)
logger = logging.getLogger("taskapi.changes")


class ChangeListener:
    """Keeps a dedicated connection (not from the pool), reconnecting after an outage. Every
    (re)connection wakes every follower: the followers' next read catches up from their own
    positions, whatever happened meanwhile."""

    def __init__(
        self,
        dsn: str,
        signals: ChangeSignals,
        *,
        connect_timeout: float = 5.0,
        retry_seconds: float = 1.0,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self._dsn = dsn
        self._signals = signals
        self._connect_timeout = connect_timeout
        self._retry_seconds = retry_seconds
        self._poll_seconds = poll_seconds
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._heads: dict[str, int] = {}  # each followed user's counter, as last read
        self.connections = 0  # how many times it has (re)connected, for tests and logs

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def start(self) -> None:
        """Starts watching; waits for the first connection at most the connect timeout (the
        database may be down: it keeps trying in the background)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="taskapi-change-watcher")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), self._connect_timeout)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _poll(self, connection: asyncpg.Connection) -> None:
        owners = self._signals.owners()
        if not owners:
            self._heads.clear()
            return
        rows = await connection.fetch(_HEADS, owners, timeout=self._connect_timeout)
        found = {str(owner): int(seq) for owner, seq in rows}
        heads = {owner: found.get(owner, 0) for owner in owners}  # 0: no change yet
        for owner, head in heads.items():
            # A user seen for the first time is woken too: a change may have committed
            # between the follower's first read and this one.
            if self._heads.get(owner) != head:
                self._signals.notify(owner)
        self._heads = heads

    async def _run(self) -> None:
        while True:
            connection: asyncpg.Connection | None = None
            try:
                connection = await asyncpg.connect(
                    self._dsn,
                    timeout=self._connect_timeout,
                    server_settings={"application_name": "taskapi-changes"},
                )
                self._connected.set()
                self.connections += 1
                if self.connections > 1:
                    logger.info("change watcher reconnected")
                self._heads.clear()
                self._signals.notify_all()
                while True:
                    await self._poll(connection)
                    await asyncio.sleep(self._poll_seconds)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if self.connected:
                    logger.warning("change watcher lost its connection: %r", error)
            finally:
                self._connected.clear()
                if connection is not None:
                    with contextlib.suppress(Exception):
                        connection.terminate()
            # Followers re-read once it is back; meanwhile they wait on their keep-alives.
            await asyncio.sleep(self._retry_seconds)
