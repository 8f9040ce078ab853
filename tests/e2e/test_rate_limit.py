"""RATE_LIMIT: per user per minute, 429 RATE_LIMITED with Retry-After, shared across instances."""

from __future__ import annotations

import uuid
from typing import Any

from litestar.testing import AsyncTestClient

from entrypoints.config import Settings
from entrypoints.container import Container
from entrypoints.http.app import create_app


async def test_the_limit_is_per_user_and_answers_429_with_retry_after() -> None:
    app = create_app(Container(settings=Settings(task_store="memory", rate_limit=3)))
    async with AsyncTestClient(app=app) as client:
        allowed = [(await client.get("/api/alice/tasks")).status_code for _ in range(3)]
        refused = await client.get("/api/alice/tasks")
        someone_else = await client.get("/api/bob/tasks")
        health = [(await client.get("/health")).status_code for _ in range(5)]

    assert allowed == [200, 200, 200]
    assert refused.status_code == 429
    body: dict[str, Any] = refused.json()
    assert body["error"]["code"] == "RATE_LIMITED"
    assert body["error"]["request_id"] == refused.headers["x-request-id"]
    assert int(refused.headers["retry-after"]) >= 1
    assert someone_else.status_code == 200
    assert health == [200] * 5


async def test_without_rate_limit_nothing_is_limited() -> None:
    app = create_app(Container(settings=Settings(task_store="memory")))
    async with AsyncTestClient(app=app) as client:
        statuses = {(await client.get("/api/alice/tasks")).status_code for _ in range(30)}

    assert statuses == {200}


async def test_instances_on_one_database_share_the_count(database_url: str) -> None:
    settings = Settings(task_store="postgres", database_url=database_url, rate_limit=4)
    user = f"limited-{uuid.uuid4().hex[:8]}"
    first = create_app(Container(settings=settings))
    second = create_app(Container(settings=settings))
    async with AsyncTestClient(app=first) as one, AsyncTestClient(app=second) as two:
        statuses = [
            (await client.get(f"/api/{user}/tasks")).status_code
            for client in (one, two, one, two, one, two)
        ]

    assert statuses == [200, 200, 200, 200, 429, 429]
