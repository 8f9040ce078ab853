"""MCP fixtures: the whole HTTP app (lifespan included) on the session's PostgreSQL database,
reached by the SDK's own client (`ClientSession` over `streamable_http_client`) through an
in-process ASGI transport, and by a plain HTTP client for the REST side and raw requests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

import httpx
import httpx2
import pytest
from litestar import Litestar
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp_types import ListToolsResult

from entrypoints.config import Settings
from entrypoints.container import Container
from entrypoints.http.app import create_app

HOST = "testserver.local"  # the host Litestar's test client sends
BASE_URL = f"http://{HOST}"
SECRET = "a-test-secret-of-at-least-32-bytes!!"
TASK_LIMIT = 2


@dataclass
class Served:
    """One app: its REST client, and a way to open MCP sessions on it."""

    app: Litestar
    rest: httpx.AsyncClient

    @asynccontextmanager
    async def mcp(self, token: str | None = None) -> AsyncIterator[ClientSession]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        http = httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=self.app), base_url=BASE_URL, headers=headers
        )
        async with (
            http,
            streamable_http_client(f"{BASE_URL}/mcp", http_client=http) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Served]:
    """The app started in this event loop (the SDK's client calls it in-process, so its
    database pool must live here), its lifespan in a task of its own: the MCP session
    manager's task group must be left by the task that entered it, and a fixture's setup
    and teardown run in different tasks."""
    app = create_app(Container(settings=settings))
    started, stop = asyncio.Event(), asyncio.Event()

    async def live() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    running = asyncio.create_task(live())
    await asyncio.wait(
        [running, asyncio.create_task(started.wait())], return_when="FIRST_COMPLETED"
    )
    if running.done():
        running.result()  # the start failed: say why
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as rest:
            yield Served(app, rest)
    finally:
        stop.set()
        await running


@pytest.fixture(scope="session")
def mcp_settings(database_url: str) -> Settings:
    return Settings(
        task_store="postgres",
        database_url=database_url,
        log_format="json",
        mcp_allowed_hosts=(HOST,),
    )


@pytest.fixture(scope="session")
async def served(mcp_settings: Settings) -> AsyncIterator[Served]:
    """AUTH_MODE=none: every tool takes user_id."""
    async with serving(mcp_settings) as app:
        yield app


@pytest.fixture(scope="session")
async def served_jwt(mcp_settings: Settings) -> AsyncIterator[Served]:
    """AUTH_MODE=jwt on the same database: the user is the token's subject."""
    async with serving(replace(mcp_settings, auth_mode="jwt", jwt_secret=SECRET)) as app:
        yield app


@pytest.fixture
async def limited(mcp_settings: Settings) -> AsyncIterator[Served]:
    async with serving(replace(mcp_settings, max_tasks_per_user=TASK_LIMIT)) as app:
        yield app


class OneCallSessions:
    """A `ClientSession` per call: an SDK session lives in one task (anyio), while a pytest
    fixture's setup and teardown run in two. Stateless /mcp makes this cheap."""

    def __init__(self, served: Served, token: str | None = None) -> None:
        self._served = served
        self._token = token

    async def list_tools(self) -> ListToolsResult:
        async with self._served.mcp(self._token) as session:
            return await session.list_tools()

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> Any:
        async with self._served.mcp(self._token) as session:
            return await session.call_tool(name, arguments)


@pytest.fixture
def session(served: Served) -> OneCallSessions:
    return OneCallSessions(served)


Session = ClientSession | OneCallSessions
