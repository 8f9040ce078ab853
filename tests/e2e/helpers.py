"""Small request and assertion helpers shared by the end-to-end tests."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, Final

import pytest
from httpx import Response
from litestar.testing import AsyncTestClient

from entrypoints.config import Settings
from entrypoints.container import Container
from entrypoints.http.app import create_app

Client = AsyncTestClient[Any]
TASK_LIMIT: Final = 3

TIMESTAMP: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
TASK_FIELDS: Final = frozenset(
    {
        "id",
        "user_id",
        "title",
        "description",
        "completed",
        "completed_at",
        "due_at",
        "priority",
        "tags",
        "recurrence",
        "time_zone",
        "remind_at",
        "series_id",
        "created_at",
        "updated_at",
        "version",
    }
)
READ_ONLY_FIELDS: Final = (
    *("id", "user_id", "completed_at", "series_id", "created_at", "updated_at", "version"),
)
PRIORITY_RANK: Final = {"none": 0, "low": 1, "medium": 2, "high": 3}
JSON: Final = {"content-type": "application/json"}
MISSING_TASK_ID: Final = "0b7e3f5e-5d0a-4a4e-9f1e-3c1d2b8f6a10"


@asynccontextmanager
async def running_client(settings: Settings) -> AsyncIterator[Client]:
    """The app built from `settings`, started (storage up, migrations applied) and stopped."""
    app = create_app(Container(settings=settings))
    async with AsyncTestClient(app=app) as client:
        yield client


def tasks_url(owner: str) -> str:
    return f"/api/{owner}/tasks"


def task_url(owner: str, task_id: str) -> str:
    return f"/api/{owner}/tasks/{task_id}"


def complete_url(owner: str, task_id: str) -> str:
    return f"/api/{owner}/tasks/{task_id}/complete"


def instant(text: str) -> datetime:
    """An RFC 3339 timestamp as an aware datetime, for comparing instants."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def create_task(client: Client, owner: str, **fields: Any) -> dict[str, Any]:
    fields.setdefault("title", "a task")
    response = await client.post(tasks_url(owner), json=fields)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def fetch_task(client: Client, owner: str, task_id: str) -> dict[str, Any]:
    response = await client.get(task_url(owner, task_id))
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def list_tasks(client: Client, owner: str, **params: Any) -> list[dict[str, Any]]:
    """One page of up to 500 tasks (all of them, in these tests)."""
    params.setdefault("limit", 500)
    response = await client.get(tasks_url(owner), params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"]["next_cursor"] is None
    data: list[dict[str, Any]] = body["data"]
    return data


def ids(tasks: list[dict[str, Any]]) -> list[str]:
    return [task["id"] for task in tasks]


def assert_error(response: Response, status: int, code: str, *fields: str) -> dict[str, Any]:
    """The contract's error envelope, with `fields` among the details of a VALIDATION_ERROR."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"success", "error"}
    assert body["success"] is False
    error: dict[str, Any] = body["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    assert error["request_id"] == response.headers["x-request-id"]
    if code == "VALIDATION_ERROR":
        details = error["details"]
        assert details
        for detail in details:
            assert set(detail) == {"field", "message"}
            assert detail["message"]
            assert "." not in detail["field"]
            assert not detail["field"].startswith("$")
        named = [detail["field"] for detail in details]
        for field in fields:
            assert field in named, f"{field!r} not named in {named}"
    return error


def expected_order(tasks: list[dict[str, Any]], sort: str) -> list[str]:
    """The ids in the order the contract gives for `sort`: key, then id, same direction;
    tasks without a due date last in both directions of a due_at sort."""
    descending = sort.startswith("-")
    field = sort.removeprefix("-")

    def key(task: dict[str, Any]) -> tuple[Any, str]:
        value = task[field]
        if field == "priority":
            value = PRIORITY_RANK[value]
        elif field in {"created_at", "updated_at", "due_at"}:
            value = instant(value)
        return (value, task["id"])

    with_key = [t for t in tasks if t[field] is not None]
    without_key = [t for t in tasks if t[field] is None]
    ordered = sorted(with_key, key=key, reverse=descending)
    ordered += sorted(without_key, key=lambda t: t["id"], reverse=descending)
    return ids(ordered)


def xfail_on(request: Any, adapter: str, adapters: set[str], reason: str) -> None:
    """Mark the running test as a known failure on some adapters only (strictly: a pass there
    fails the run, so the mark is removed once the bug is fixed)."""
    if adapter in adapters:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))
