"""One LISTEN connection per process: the trigger's NOTIFY (sent at commit, with the user id)
wakes this process's followers of that user, so an idle stream holds no pooled connection."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Final

import asyncpg

from application.changes import ChangeSignals

CHANNEL: Final = "taskapi_changes"  # migration 0008's trigger notifies it
logger = logging.getLogger("taskapi.changes")


class ChangeListener:
    """Keeps a dedicated connection (not from the pool) listening, reconnecting after an
    outage. Every (re)connection wakes every follower: notifications sent while it was away
    are lost, and the followers' next read catches up from their own positions."""

    def __init__(
        self,
        dsn: str,
        signals: ChangeSignals,
        *,
        connect_timeout: float = 5.0,
        retry_seconds: float = 1.0,
        ping_seconds: float = 15.0,
    ) -> None:
        self._dsn = dsn
        self._signals = signals
        self._connect_timeout = connect_timeout
        self._retry_seconds = retry_seconds
        self._ping_seconds = ping_seconds
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self.connections = 0  # how many times it has (re)connected, for tests and logs

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def start(self) -> None:
        """Starts listening; waits for the first connection at most the connect timeout (the
        database may be down: it keeps trying in the background)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="taskapi-change-listener")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), self._connect_timeout)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _on_notify(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        self._signals.notify(payload)

    async def _run(self) -> None:
        while True:
            connection: asyncpg.Connection | None = None
            try:
                connection = await asyncpg.connect(
                    self._dsn,
                    timeout=self._connect_timeout,
                    server_settings={"application_name": "taskapi-listen"},
                )
                lost = asyncio.Event()
                connection.add_termination_listener(lambda _, lost=lost: lost.set())
                await connection.add_listener(CHANNEL, self._on_notify)
                self._connected.set()
                self.connections += 1
                if self.connections > 1:
                    logger.info("change listener reconnected")
                self._signals.notify_all()
                while not lost.is_set():
                    try:
                        await asyncio.wait_for(lost.wait(), self._ping_seconds)
                    except TimeoutError:
                        # A silent peer (a dropped route) shows only when asked.
                        await connection.fetchval("SELECT 1", timeout=self._connect_timeout)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if self.connected:
                    logger.warning("change listener lost its connection: %r", error)
            finally:
                self._connected.clear()
                if connection is not None:
                    with contextlib.suppress(Exception):
                        connection.terminate()
            # Followers re-read once it is back; meanwhile they wait on their keep-alives.
            await asyncio.sleep(self._retry_seconds)
