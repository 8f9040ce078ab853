"""A minimal agent loop over the taskapi tools, on Streamable HTTP.

The loop is what any agent does: list the tools, let the model pick one, call it, give the
model the result, until the model answers. `scripted_model` stands in for the model here (so
this runs without an LLM); a real one gets `tools` (name, description, input schema) and the
transcript, and returns the same two kinds of step.

    TASKAPI_MCP_URL=http://127.0.0.1:8000/mcp TASKAPI_TOKEN=<jwt> python agent_loop.py
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


async def agent_loop(session: ClientSession, model: Any, goal: str) -> str:
    tools = (await session.list_tools()).tools
    transcript: list[dict[str, Any]] = [{"role": "user", "content": goal}]
    while True:
        step = await model(transcript, tools)
        if "answer" in step:
            return str(step["answer"])
        result = await session.call_tool(step["tool"], step["arguments"])
        # The structured content is the task (or the error object when is_error is true).
        transcript.append(
            {
                "role": "tool",
                "tool": step["tool"],
                "is_error": result.is_error,
                "content": result.structured_content,
            }
        )


async def scripted_model(transcript: list[dict[str, Any]], tools: list[Any]) -> dict[str, Any]:
    """'What is overdue? And add "Call mom" for Sunday.' as a model would work it out."""
    now = datetime.now(UTC)
    done = [entry for entry in transcript if entry["role"] == "tool"]
    if not done:
        return {
            "tool": "list_tasks",
            "arguments": {"status": "pending", "due_before": now.isoformat()},
        }
    if len(done) == 1:
        sunday = now + timedelta(days=(6 - now.weekday()) or 7)
        return {
            "tool": "add_task",
            "arguments": {"title": "Call mom", "due_at": sunday.isoformat(), "priority": "high"},
        }
    overdue = [task["title"] for task in done[0]["content"]["tasks"]]
    added = done[1]["content"]
    return {
        "answer": f"Overdue: {', '.join(overdue) or 'nothing'}. "
        f"Added '{added['title']}' due {added['due_at']} (id {added['id']})."
    }


async def main() -> None:
    url = os.environ.get("TASKAPI_MCP_URL", "http://127.0.0.1:8000/mcp")
    token = os.environ.get("TASKAPI_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        goal = 'What is overdue? And add "Call mom" for Sunday.'
        print(await agent_loop(session, scripted_model, goal))


if __name__ == "__main__":
    asyncio.run(main())
