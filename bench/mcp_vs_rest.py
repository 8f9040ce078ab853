"""One MCP tool call over Streamable HTTP against the REST call of the same use case, on a
running taskapi: get_task vs GET one task, add_task vs POST, list_tasks vs GET the list.

    uv run taskapi serve &
    uv run python bench/mcp_vs_rest.py --url http://127.0.0.1:8000 [--calls 500]

One client, one call at a time on a kept-alive connection (latency, not throughput), in
blocks of REST and MCP calls alternated so that noise from other processes hits both sides.
The MCP side sends what the SDK's client sends for a call on a stateless server (one POST of
a JSON-RPC `tools/call`, answered with JSON); `--sdk` also times the SDK's own
`ClientSession.call_tool`, whose client-side work (pydantic, output-schema validation) is
not the server's. Traffic goes only to --url.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

BLOCKS = 4
MCP_HEADERS = {
    "accept": "application/json, text/event-stream",
    "content-type": "application/json",
    "mcp-protocol-version": "2025-11-25",
}


def _tool_call(tool: str, **arguments: Any) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }


def _timed(call: Callable[[], httpx.Response], expected: int = 200) -> float:
    started = time.perf_counter()
    answer = call()
    seconds = time.perf_counter() - started
    if answer.status_code != expected or b'"isError":true' in answer.content:
        raise SystemExit(f"unexpected answer {answer.status_code}: {answer.text[:300]}")
    return seconds


def _report(name: str, rest: list[float], mcp: list[float]) -> None:
    def ms(values: list[float]) -> tuple[float, float]:
        return statistics.median(values) * 1000, statistics.fmean(values) * 1000

    (rest_p50, rest_mean), (mcp_p50, mcp_mean) = ms(rest), ms(mcp)
    print(
        f"{name:<28} REST p50 {rest_p50:6.2f} ms mean {rest_mean:6.2f} ms | "
        f"MCP p50 {mcp_p50:6.2f} ms mean {mcp_mean:6.2f} ms | "
        f"ratio p50 {mcp_p50 / rest_p50:4.2f}x mean {mcp_mean / rest_mean:4.2f}x"
    )


async def _sdk_get(url: str, user: str, task_id: str, calls: int, token: str | None) -> list[float]:
    import httpx2  # noqa: PLC0415 (only --sdk needs the SDK)
    from mcp import ClientSession  # noqa: PLC0415
    from mcp.client.streamable_http import streamable_http_client  # noqa: PLC0415

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    timings = []
    async with (
        httpx2.AsyncClient(headers=headers) as http,
        streamable_http_client(f"{url}/mcp", http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        await session.list_tools()
        for _ in range(calls):
            started = time.perf_counter()
            await session.call_tool("get_task", {"user_id": user, "task_id": task_id})
            timings.append(time.perf_counter() - started)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--calls", type=int, default=500, help="timed calls per workload")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--token", help="a JWT for AUTH_MODE=jwt; its sub is the user")
    parser.add_argument("--user", help="the user (default: a fresh one; the token's sub)")
    parser.add_argument("--sdk", action="store_true", help="also time the SDK's call_tool")
    args = parser.parse_args()
    user = args.user or f"bench-mcp-{uuid.uuid4().hex[:8]}"
    auth = {"Authorization": f"Bearer {args.token}"} if args.token else {}

    with httpx.Client(base_url=args.url, headers=auth, timeout=30) as client:
        tasks = f"/api/{user}/tasks"
        for n in range(100):  # a list of 100 tasks, as bench/run.py's list workload
            client.post(tasks, json={"title": f"bench {n}", "priority": "low"})
        task_id = client.get(tasks, params={"limit": 1}).json()["data"][0]["id"]
        one = f"{tasks}/{task_id}"
        workloads: dict[str, tuple[Callable[[], httpx.Response], Callable[[], httpx.Response]]]
        workloads = {
            "get_task / GET one": (
                lambda: client.get(one),
                lambda: client.post(
                    "/mcp",
                    json=_tool_call("get_task", user_id=user, task_id=task_id),
                    headers=MCP_HEADERS,
                ),
            ),
            "add_task / POST": (
                lambda: client.post(tasks, json={"title": "bench add"}),
                lambda: client.post(
                    "/mcp",
                    json=_tool_call("add_task", user_id=user, title="bench add"),
                    headers=MCP_HEADERS,
                ),
            ),
            "list_tasks / GET 100": (
                lambda: client.get(tasks, params={"limit": 100}),
                lambda: client.post(
                    "/mcp",
                    json=_tool_call("list_tasks", user_id=user, limit=100),
                    headers=MCP_HEADERS,
                ),
            ),
        }
        expected = {"add_task / POST": 201}
        # Blocks of calls, REST then MCP, alternated a few times so that noise from other
        # processes falls on both. Not interleaved call by call: the SDK finishes a stateless
        # request (its per-request task) after the answer has gone, and that work would be
        # charged to the REST call that follows.
        timings: dict[str, tuple[list[float], list[float]]] = {w: ([], []) for w in workloads}
        block = max(1, args.calls // BLOCKS)
        for name, (rest, mcp) in workloads.items():
            status = expected.get(name, 200)
            for _ in range(args.warmup):
                _timed(rest, status)
                _timed(mcp)
            for _ in range(BLOCKS):
                timings[name][0].extend(_timed(rest, status) for _ in range(block))
                timings[name][1].extend(_timed(mcp) for _ in range(block))
        print(f"{block * BLOCKS} calls each after {args.warmup} warm-up calls, one at a time")
        for name, (rest_times, mcp_times) in timings.items():
            _report(name, rest_times, mcp_times)
        if args.sdk:
            rest_times = [_timed(lambda: client.get(one)) for _ in range(args.calls)]
            sdk_times = asyncio.run(_sdk_get(args.url, user, task_id, args.calls, args.token))
            _report("get_task via SDK client", rest_times, sdk_times)


if __name__ == "__main__":
    main()
