"""End-to-end fixtures: the whole HTTP app, lifespan included, over each storage adapter.

One client per adapter lives for the session (the event loop does too); tests stay apart by
using a fresh `owner` each, so they never see each other's rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from entrypoints.config import Settings
from tests.e2e.helpers import TASK_LIMIT, running_client

ADAPTERS = ("memory", "postgres")


@pytest.fixture(scope="session", params=ADAPTERS)
def adapter(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def storage_settings(request: pytest.FixtureRequest, adapter: str) -> Settings:
    """Settings for this adapter. Only the postgres runs ask for a database, so a memory-only
    selection needs no server; a sync fixture, so the async one resolves outside the loop."""
    url = request.getfixturevalue("database_url") if adapter == "postgres" else None
    # JSON logs: the production format, and far cheaper than the console's rendered tracebacks
    # on the many error paths these tests walk.
    return Settings(task_store=adapter, database_url=url, log_format="json")  # type: ignore[arg-type]


@pytest.fixture(scope="session")
async def client(storage_settings: Settings) -> AsyncIterator[AsyncTestClient[Any]]:
    async with running_client(storage_settings) as client:
        yield client


@pytest.fixture
async def limited_client(storage_settings: Settings) -> AsyncIterator[AsyncTestClient[Any]]:
    """A second app on the same storage whose users may hold only TASK_LIMIT tasks."""
    async with running_client(replace(storage_settings, max_tasks_per_user=TASK_LIMIT)) as client:
        yield client


@pytest.fixture
def other_owner(owner: str) -> str:
    """A second user, distinct from `owner`."""
    return f"{owner}-other"
