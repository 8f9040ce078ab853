"""The envelope every response shares: request ids, routing errors, and nothing leaked."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from httpx import Response

from tests.e2e.helpers import (
    JSON,
    MISSING_TASK_ID,
    Client,
    assert_error,
    complete_url,
    create_task,
    list_tasks,
    task_url,
    tasks_url,
)

SANE_REQUEST_ID = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]{0,126}[\x21-\x7e])?")


@pytest.mark.parametrize("request_id", ["client-req-42", "a", "x" * 128, "req id with spaces"])
async def test_sane_client_request_id_is_echoed(
    client: Client, owner: str, request_id: str
) -> None:
    response = await client.get(tasks_url(owner), headers={"X-Request-ID": request_id})

    assert response.status_code == 200
    assert response.headers["x-request-id"] == request_id


async def test_client_request_id_is_the_error_request_id(client: Client, owner: str) -> None:
    response = await client.get(
        task_url(owner, MISSING_TASK_ID), headers={"X-Request-ID": "trace-me-123"}
    )

    error = assert_error(response, 404, "TASK_NOT_FOUND")
    assert error["request_id"] == "trace-me-123"


@pytest.mark.parametrize(
    "request_id",
    ["x" * 129, "x" * 200, "bad\x01id", "tab\tinside", "nul\x00", "del\x7f", "", " padded "],
)
async def test_insane_client_request_id_is_replaced(
    client: Client, owner: str, request_id: str
) -> None:
    response = await client.get(
        task_url(owner, MISSING_TASK_ID), headers={"X-Request-ID": request_id}
    )

    generated = response.headers["x-request-id"]
    assert generated != request_id
    assert SANE_REQUEST_ID.fullmatch(generated)
    assert assert_error(response, 404, "TASK_NOT_FOUND")["request_id"] == generated


async def test_generated_request_ids_differ_between_requests(client: Client) -> None:
    first = await client.get("/health")
    second = await client.get("/health")

    assert SANE_REQUEST_ID.fullmatch(first.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_every_kind_of_response_carries_a_request_id(client: Client, owner: str) -> None:
    task = await create_task(client, owner)
    responses = [
        await client.get("/health"),
        await client.get("/ready"),
        await client.get("/docs"),
        await client.get("/openapi.json"),
        await client.get(task_url(owner, task["id"]), headers={"If-None-Match": '"1"'}),
        await client.get("/no/such/route"),
        await client.request("TRACE", tasks_url(owner)),
        await client.post(tasks_url(owner), content=b"{", headers=JSON),
    ]

    for response in responses:
        assert SANE_REQUEST_ID.fullmatch(response.headers["x-request-id"]), response.url


@pytest.mark.parametrize(
    "path",
    [
        "/nope",
        "/api",
        "/api/alice",
        "/api/alice/task",
        "/api/alice/tasks/0b7e3f5e-5d0a-4a4e-9f1e-3c1d2b8f6a10/nope",
        "/api/alice/tasks/stats/more",
        "/health/extra",
    ],
)
async def test_unknown_route_is_not_found(client: Client, path: str) -> None:
    response = await client.get(path)

    assert_error(response, 404, "NOT_FOUND")


def _allowed(response: Response) -> set[str]:
    return {method.strip().upper() for method in response.headers["allow"].split(",")}


@pytest.mark.parametrize(
    ("method", "route", "allowed"),
    [
        ("PUT", "tasks", {"GET", "POST", "DELETE"}),
        ("PATCH", "tasks", {"GET", "POST", "DELETE"}),
        ("TRACE", "tasks", {"GET", "POST", "DELETE"}),
        ("FOO", "tasks", {"GET", "POST", "DELETE"}),
        ("POST", "task", {"GET", "PUT", "PATCH", "DELETE"}),
        ("TRACE", "task", {"GET", "PUT", "PATCH", "DELETE"}),
        ("CONNECT", "task", {"GET", "PUT", "PATCH", "DELETE"}),
        ("GET", "complete", {"PATCH"}),
        ("PUT", "complete", {"PATCH"}),
        ("POST", "stats", {"GET"}),
        ("BREW", "stats", {"GET"}),
        ("POST", "health", {"GET"}),
        ("DELETE", "ready", {"GET"}),
    ],
)
async def test_unsupported_method_is_method_not_allowed_with_allow(
    client: Client, owner: str, method: str, route: str, allowed: set[str]
) -> None:
    url = {
        "tasks": tasks_url(owner),
        "task": task_url(owner, MISSING_TASK_ID),
        "complete": complete_url(owner, MISSING_TASK_ID),
        "stats": f"{tasks_url(owner)}/stats",
        "health": "/health",
        "ready": "/ready",
    }[route]

    response = await client.request(method, url)

    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert allowed <= _allowed(response)
    assert method not in _allowed(response)


async def test_success_envelope_has_success_true_and_data(client: Client, owner: str) -> None:
    task = await create_task(client, owner)
    responses = [
        await client.get(tasks_url(owner)),
        await client.get(task_url(owner, task["id"])),
        await client.get(f"{tasks_url(owner)}/stats"),
        await client.patch(task_url(owner, task["id"]), json={"title": "x"}),
        await client.delete(tasks_url(owner), params={"completed": "true"}),
        await client.delete(task_url(owner, task["id"])),
        await client.get("/health"),
    ]

    for response in responses:
        body = response.json()
        assert body["success"] is True, response.url
        assert "data" in body
        assert set(body) <= {"success", "data", "meta", "message"}
        assert response.headers["content-type"].startswith("application/json")


def _error_requests(owner: str, task_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    """Requests that (mostly) end in an error, reaching as deep into the stack as they can."""
    task = task_url(owner, task_id)
    return [
        ("POST", tasks_url(owner), {"content": b'{"title": ', "headers": JSON}),
        ("POST", tasks_url(owner), {"content": b"", "headers": JSON}),
        ("POST", tasks_url(owner), {"content": b'{"title": "\\ud800"}', "headers": JSON}),
        ("POST", tasks_url(owner), {"content": b'{"title": "\xff\xfe"}', "headers": JSON}),
        ("POST", tasks_url(owner), {"json": {"title": "a\u0000b"}}),
        ("POST", tasks_url(owner), {"json": {"title": "ok", "description": "\u0000"}}),
        ("POST", tasks_url(owner), {"json": {"title": "x" * 501}}),
        (
            "POST",
            tasks_url(owner),
            {"json": {"title": "ok", "due_at": "0001-01-01T00:00:00+01:00"}},
        ),
        (
            "POST",
            tasks_url(owner),
            {"json": {"title": "ok", "due_at": "9999-12-31T23:59:59-01:00"}},
        ),
        ("POST", tasks_url(owner), {"json": {"title": "ok", "priority": "\u0000"}}),
        ("POST", tasks_url(owner), {"json": {"title": "ok", "version": 2**70}}),
        ("POST", tasks_url(owner), {"json": [{"title": "ok"}]}),
        ("POST", tasks_url(owner), {"content": b"x" * 70_000, "headers": JSON}),
        (
            "POST",
            tasks_url(owner),
            {"content": b"title=x", "headers": {"content-type": "text/plain"}},
        ),
        ("POST", tasks_url(owner), {"json": {"title": "ok"}, "headers": {"Idempotency-Key": ""}}),
        ("GET", tasks_url(owner), {"params": {"q": "\u0000"}}),
        ("GET", tasks_url(owner), {"params": {"q": "%_\\'\";--"}}),
        ("GET", tasks_url(owner), {"params": {"limit": "1" + "0" * 40}}),
        ("GET", tasks_url(owner), {"params": {"cursor": "eyJsIjoxfQ.AAAA"}}),
        ("GET", tasks_url(owner), {"params": {"cursor": "\u0000"}}),
        ("GET", tasks_url(owner), {"params": {"due_before": "0001-01-01T00:00:00+01:00"}}),
        ("GET", tasks_url(owner), {"params": {"due_after": "9999-12-31T23:59:59-01:00"}}),
        ("GET", tasks_url(owner), {"params": {"sort": "title; DROP TABLE tasks"}}),
        ("GET", tasks_url(owner), {"params": {"x" * 300: "y"}}),
        ("GET", f"/api/{'x' * 129}/tasks", {}),
        ("GET", "/api/al%00ice/tasks", {}),
        ("GET", task_url(owner, "not-a-uuid"), {}),
        ("GET", task_url(owner, MISSING_TASK_ID), {}),
        ("PUT", task, {"json": {"title": "x"}, "headers": {"If-Match": '"999999999999999999"'}}),
        ("PATCH", task, {"json": {"due_at": "not a date"}}),
        ("PATCH", task, {"json": {"title": None}}),
        ("PATCH", f"{task}/complete", {"json": {"completed": "true"}}),
        ("DELETE", tasks_url(owner), {}),
        ("TRACE", tasks_url(owner), {}),
        ("GET", "/no/such/route", {}),
    ]


async def test_no_error_body_leaks_a_stack_trace_sql_or_driver_message(
    client: Client, owner: str
) -> None:
    task = await create_task(client, owner)

    for method, url, options in _error_requests(owner, task["id"]):
        response = await client.request(method, url, **options)

        text = response.text.lower()
        for leak in ("traceback", "sqlalchemy", "asyncpg", "psycopg", 'file "', "select "):
            assert leak not in text, (method, url, response.text)
        if response.status_code >= 400:
            assert response.json()["success"] is False
            assert response.json()["error"]["request_id"] == response.headers["x-request-id"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("q", "\u0000"),
        ("cursor", "\u0000"),
        ("sort", "\u0000"),
        ("due_before", "0001-01-01T00:00:00+01:00"),
        ("due_after", "0001-01-01T00:00:00Z"),
        ("due_before", "9999-12-31T23:59:59Z"),
    ],
)
async def test_odd_query_values_never_cause_a_server_error(
    client: Client, owner: str, name: str, value: str
) -> None:
    await create_task(client, owner, due_at="2026-12-01T17:00:00Z")

    response = await client.get(tasks_url(owner), params={name: value})

    assert response.status_code in {200, 422}, response.text


@pytest.mark.parametrize("due_at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
async def test_due_at_beyond_the_representable_range_is_a_validation_error(
    client: Client, owner: str, method: str, due_at: str
) -> None:
    task = await create_task(client, owner)
    url = tasks_url(owner) if method == "POST" else task_url(owner, task["id"])

    response = await client.request(method, url, json={"title": "edge", "due_at": due_at})

    assert_error(response, 422, "VALIDATION_ERROR", "due_at")
    assert await list_tasks(client, owner) == [task]


async def test_concurrent_requests_each_get_their_own_request_id(
    client: Client, owner: str
) -> None:
    sent = [f"concurrent-{n}" for n in range(10)]

    responses = await asyncio.gather(
        *(
            client.get(task_url(owner, MISSING_TASK_ID), headers={"X-Request-ID": request_id})
            for request_id in sent
        )
    )

    for request_id, response in zip(sent, responses, strict=True):
        assert response.headers["x-request-id"] == request_id
        assert response.json()["error"]["request_id"] == request_id


@pytest.mark.parametrize(
    ("route", "allowed"),
    [
        ("tasks", {"GET", "POST", "DELETE"}),
        ("task", {"GET", "PUT", "PATCH", "DELETE"}),
        ("complete", {"PATCH"}),
        ("stats", {"GET"}),
    ],
)
async def test_options_lists_every_method_of_the_route(
    client: Client, owner: str, route: str, allowed: set[str]
) -> None:
    url = {
        "tasks": tasks_url(owner),
        "task": task_url(owner, MISSING_TASK_ID),
        "complete": complete_url(owner, MISSING_TASK_ID),
        "stats": f"{tasks_url(owner)}/stats",
    }[route]

    response = await client.options(url)

    assert response.status_code in {200, 204}
    assert allowed <= _allowed(response)
