"""/mcp as an HTTP route of the app: JWT mode (a good, a missing, an invalid and another
user's token), tool errors for the unexpected, the edge (request id, Host check), metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import msgspec
import pytest
from dependency_injector import providers

from entrypoints.config import Settings
from tests.mcp.conftest import Served, serving
from tests.mcp.helpers import call, fail, token

# A tools/call as a client sends it, without the SDK (stateless: no session to open first).
PROTOCOL = {"mcp-protocol-version": "2025-11-25"}
MISSING_TASK_ID = "0b7e3f5e-5d0a-4a4e-9f1e-3c1d2b8f6a10"
HEADERS = {"accept": "application/json, text/event-stream", **PROTOCOL}


def rpc(tool: str, **arguments: Any) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }


async def test_a_good_token_acts_as_its_subject(served_jwt: Served, owner: str) -> None:
    async with served_jwt.mcp(token(owner)) as session:
        tools = await session.list_tools()
        task = await call(session, "add_task", title="mine")
        same = await call(session, "get_task", user_id=owner, task_id=task["id"])

    assert all("user_id" not in tool.input_schema.get("required", ()) for tool in tools.tools)
    assert task["user_id"] == owner
    assert same == task


async def test_a_result_equals_rest_get_with_the_same_token(served_jwt: Served, owner: str) -> None:
    async with served_jwt.mcp(token(owner)) as session:
        task = await call(session, "add_task", title="compare", priority="low")
    shown = await served_jwt.rest.get(
        f"/api/{owner}/tasks/{task['id']}", headers={"Authorization": f"Bearer {token(owner)}"}
    )

    assert shown.json()["data"] == task


async def test_another_users_token_is_forbidden_and_sees_nothing(
    served_jwt: Served, owner: str
) -> None:
    async with served_jwt.mcp(token(owner)) as session:
        task = await call(session, "add_task", title="private")
    async with served_jwt.mcp(token(f"{owner}-other")) as session:
        forbidden = await fail(session, "get_task", user_id=owner, task_id=task["id"])
        not_found = await fail(session, "get_task", task_id=task["id"])
        listed = await call(session, "list_tasks")

    assert forbidden["code"] == "FORBIDDEN"
    assert not_found["code"] == "TASK_NOT_FOUND"
    assert listed["tasks"] == []


async def test_no_token_is_a_401_with_a_bearer_challenge(served_jwt: Served) -> None:
    answer = await served_jwt.rest.post("/mcp", json=rpc("task_stats"), headers=HEADERS)

    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    error = answer.json()["error"]
    assert error["code"] == "UNAUTHORIZED"
    assert error["request_id"] == answer.headers["x-request-id"]


async def test_a_token_signed_with_another_key_is_a_401(served_jwt: Served, owner: str) -> None:
    forged = token(owner, key="not-the-server-secret-but-32-bytes-long")
    answer = await served_jwt.rest.post(
        "/mcp",
        json=rpc("task_stats"),
        headers={**HEADERS, "authorization": f"Bearer {forged}"},
    )

    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_a_call_without_the_sdk_gets_a_json_answer(served: Served, owner: str) -> None:
    answer = await served.rest.post(
        "/mcp", json=rpc("task_stats", user_id=owner), headers={**HEADERS, "x-request-id": "r-1"}
    )

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["x-request-id"] == "r-1"
    assert answer.headers["cache-control"] == "no-store"
    result = answer.json()["result"]
    assert result["structuredContent"] == {"total": 0, "completed": 0, "pending": 0, "overdue": 0}
    assert result["isError"] is False


async def test_a_strange_host_is_refused(served: Served, owner: str) -> None:
    answer = await served.rest.post(
        "/mcp", json=rpc("task_stats", user_id=owner), headers={**HEADERS, "host": "evil.example"}
    )

    assert answer.status_code == 421


async def test_the_body_is_not_held_to_the_rest_json_rules(served: Served) -> None:
    # MCP's own envelope is JSON-RPC: the REST edge's rules (unknown fields, the task
    # decoding) do not apply to it; a malformed message is the SDK's JSON-RPC parse error.
    answer = await served.rest.post(
        "/mcp",
        content=b"{not json",
        headers={**HEADERS, "content-type": "application/json"},
    )

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == -32700


@pytest.fixture
async def broken(mcp_settings: Settings) -> AsyncIterator[Served]:
    """An app whose get_task use case fails unexpectedly."""

    async def explode(*_: Any) -> None:
        raise RuntimeError("a bug")

    async with serving(replace(mcp_settings, log_format="json")) as served:
        container = served.app.state.container
        container.get_task.override(providers.Object(explode))
        yield served
        container.get_task.reset_override()


async def test_an_unexpected_error_is_an_internal_error_with_the_request_id(
    broken: Served, owner: str, caplog: pytest.LogCaptureFixture
) -> None:
    answer = await broken.rest.post(
        "/mcp",
        json=rpc("get_task", user_id=owner, task_id=MISSING_TASK_ID),
        headers={**HEADERS, "x-request-id": "bug-1"},
    )
    async with broken.mcp() as session:
        still_serving = await call(session, "task_stats", user_id=owner)

    result = answer.json()["result"]
    assert result["isError"] is True
    assert result["structuredContent"] == {
        "code": "INTERNAL_ERROR",
        "message": "internal error; it has been logged",
        "request_id": "bug-1",
    }
    assert "a bug" not in answer.text
    assert any("bug-1" in record.getMessage() for record in caplog.records)
    assert still_serving["total"] == 0


async def test_an_unknown_tool_is_a_protocol_error(served: Served, owner: str) -> None:
    answer = await served.rest.post("/mcp", json=rpc("fly", user_id=owner), headers=HEADERS)

    assert answer.json()["error"]["code"] == -32602


async def test_tool_calls_are_counted_by_tool_and_outcome(served: Served, owner: str) -> None:
    async with served.mcp() as session:
        await call(session, "task_stats", user_id=owner)
        await fail(
            session, "get_task", user_id=owner, task_id="0b7e3f5e-5d0a-4a4e-9f1e-3c1d2b8f6a10"
        )

    text = (await served.rest.get("/metrics")).text

    assert 'taskapi_mcp_tool_calls_total{outcome="ok",tool="task_stats"}' in text
    assert 'taskapi_mcp_tool_calls_total{outcome="TASK_NOT_FOUND",tool="get_task"}' in text
    assert 'taskapi_mcp_tool_call_duration_seconds_count{tool="task_stats"}' in text
    assert 'taskapi_http_requests_total{method="POST",route="/mcp",status="200"}' in text


async def test_each_call_writes_one_access_log_line(
    mcp_settings: Settings, owner: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async with serving(mcp_settings) as served, served.mcp() as session:
        await fail(session, "get_task", user_id=owner, task_id=MISSING_TASK_ID)

    err = capsys.readouterr().err
    lines = [msgspec.json.decode(line) for line in err.splitlines() if line.startswith("{")]
    calls = [line for line in lines if line.get("event") == "tool_call"]
    requests = [line for line in lines if line.get("event") == "request"]
    assert len(calls) == 1
    assert calls[0]["tool"] == "get_task"
    assert calls[0]["outcome"] == "TASK_NOT_FOUND"
    assert calls[0]["transport"] == "http"
    assert calls[0]["request_id"] in {line["request_id"] for line in requests}
