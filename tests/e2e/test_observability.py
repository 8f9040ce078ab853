"""Metrics by route template, structured JSON logs with the request id, and X-Request-ID."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from entrypoints.config import Settings
from entrypoints.container import Container
from entrypoints.http.app import create_app


def _sample(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line[: line.rindex("}")]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_metrics_count_requests_by_route_template_not_raw_path() -> None:
    app = create_app(Container(settings=Settings(task_store="memory")))
    async with AsyncTestClient(app=app) as client:
        before = (await client.get("/metrics")).text
        for user in ("alice-metrics", "bob-metrics", "carol-metrics"):
            await client.get(f"/api/{user}/tasks")
        await client.get("/no/such/route")
        response = await client.get("/metrics")

    text = response.text
    labels = {"route": "/api/{user_id}/tasks", "method": "GET", "status": "200"}
    counted = _sample(text, "taskapi_http_requests_total", **labels) - _sample(
        before, "taskapi_http_requests_total", **labels
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert counted == 3
    assert "alice-metrics" not in text
    assert _sample(text, "taskapi_http_requests_total", route="unmatched", status="404") >= 1
    assert "taskapi_http_request_duration_seconds_bucket" in text


async def test_metrics_show_the_database_pool(database_url: str) -> None:
    app = create_app(Container(settings=Settings(task_store="postgres", database_url=database_url)))
    async with AsyncTestClient(app=app) as client:
        await client.get("/api/pool-user/tasks")
        text = (await client.get("/metrics")).text

    assert 'taskapi_db_pool_connections{state="idle"}' in text
    assert 'taskapi_db_pool_connections{state="in_use"}' in text


async def test_json_logs_carry_request_id_route_status_and_duration(
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = create_app(Container(settings=Settings(task_store="memory", log_format="json")))
    async with AsyncTestClient(app=app) as client:
        await client.get("/api/alice/tasks", headers={"X-Request-ID": "trace-me-123"})

    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    access: list[dict[str, Any]] = [
        line
        for line in lines
        if line.get("event") == "request" and line.get("request_id") == "trace-me-123"
    ]
    assert len(access) == 1
    assert access[0]["route"] == "/api/{user_id}/tasks"
    assert access[0]["status"] == 200
    assert access[0]["duration_ms"] >= 0
    assert access[0]["level"] == "info"


async def test_the_access_log_follows_the_log_level(capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(task_store="memory", log_format="json", log_level="WARNING")
    app = create_app(Container(settings=settings))
    async with AsyncTestClient(app=app) as client:
        await client.get("/api/alice/tasks", headers={"X-Request-ID": "quiet-please"})

    assert "quiet-please" not in capsys.readouterr().err
