"""GET /api/{user_id}/events against real `taskapi serve` processes: a change through one
instance reaches a stream on another, Last-Event-ID resumes, keep-alive comments, bad tokens,
the JWT's expiry ends the stream, and 1,000 idle streams leave the pool free."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import pytest

from tests.e2e.test_observability import _sample
from tests.serving import ROOT, SERVE, free_port, wait_until_answering

KEEPALIVE = "0.5"


@contextmanager
def serving(**settings: str) -> Iterator[str]:
    """One `taskapi serve` process with these settings; its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "ACCESS_LOG": "false",
        "LOG_LEVEL": "warning",
        "CURSOR_SECRET": "events-test",
        "EVENTS_KEEPALIVE_SECONDS": KEEPALIVE,
        **settings,
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen(
        [sys.executable, *SERVE], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=None
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_answering(server, f"{base}/ready")
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


@pytest.fixture
def two_instances(database_url: str) -> Iterator[tuple[str, str]]:
    with serving(DATABASE_URL=database_url) as a, serving(DATABASE_URL=database_url) as b:
        yield a, b


@dataclass
class Stream:
    """What a stream has sent so far, parsed."""

    events: list[dict[str, Any]] = field(default_factory=list)
    comments: int = 0
    status: int = 0
    ended: bool = False
    arrived: asyncio.Event = field(default_factory=asyncio.Event)


async def _read(response: httpx.Response, stream: Stream) -> None:
    event: dict[str, Any] = {}
    async for line in response.aiter_lines():
        if line.startswith(":"):
            stream.comments += 1
            stream.arrived.set()
        elif line == "":
            if event:
                stream.events.append(event)
                stream.arrived.set()
            event = {}
        else:
            name, _, value = line.partition(": ")
            event[name] = json.loads(value) if name == "data" else value
    stream.ended = True
    stream.arrived.set()


@asynccontextmanager
async def open_stream(client: httpx.AsyncClient, url: str, **kw: Any) -> AsyncIterator[Stream]:
    stream = Stream()
    async with client.stream("GET", url, **kw) as response:
        stream.status = response.status_code
        if response.status_code != 200:
            await response.aread()
            stream.events.append(response.json())
            yield stream
            return
        assert response.headers["content-type"].startswith("text/event-stream")
        reader = asyncio.create_task(_read(response, stream))
        try:
            yield stream
        finally:
            reader.cancel()


async def until(stream: Stream, condition: Any, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while True:
        stream.arrived.clear()
        if condition(stream):
            return
        left = deadline - time.monotonic()
        assert left > 0, f"timed out; the stream has {stream.events}"
        with suppress(TimeoutError):
            await asyncio.wait_for(stream.arrived.wait(), left)


async def test_a_change_through_one_instance_reaches_a_stream_on_another_and_resumes(
    two_instances: tuple[str, str], owner: str
) -> None:
    a, b = two_instances
    async with httpx.AsyncClient(timeout=30) as client:
        async with open_stream(client, f"{a}/api/{owner}/events") as stream:
            await until(stream, lambda s: s.comments >= 1)  # idle: keep-alive comments
            created = (await client.post(f"{b}/api/{owner}/tasks", json={"title": "x"})).json()
            await until(stream, lambda s: len(s.events) == 1)
        first = stream.events[0]
        assert first["event"] == "task.created"
        assert first["data"]["type"] == "task.created"
        assert first["data"]["task"] == created["data"]
        task_url = f"{b}/api/{owner}/tasks/{created['data']['id']}"
        # Missed while no stream was open: Last-Event-ID brings them back, in order.
        await client.patch(task_url, json={"title": "y"})
        await client.delete(task_url)
        headers = {"Last-Event-ID": first["id"]}
        async with open_stream(client, f"{a}/api/{owner}/events", headers=headers) as stream:
            await until(stream, lambda s: len(s.events) == 2)
        assert [e["event"] for e in stream.events] == ["task.updated", "task.deleted"]
        async with open_stream(
            client, f"{b}/api/{owner}/events", params={"since": first["id"]}
        ) as stream:
            await until(stream, lambda s: len(s.events) == 2)
        assert [e["data"]["version"] for e in stream.events] == [2, 2]


async def test_a_bad_or_foreign_token_is_a_422_naming_since(
    two_instances: tuple[str, str], owner: str
) -> None:
    a, _ = two_instances
    async with httpx.AsyncClient(timeout=30) as client:
        token = (await client.get(f"{a}/api/{owner}/changes")).json()["meta"]["next_token"]
        for kw in (
            {"headers": {"Last-Event-ID": "garbage"}},
            {"headers": {"Last-Event-ID": token}, "url": f"{a}/api/{owner}-other/events"},
            {"params": {"since": token + "x"}},
        ):
            url = kw.pop("url", f"{a}/api/{owner}/events")
            async with open_stream(client, url, **kw) as stream:
                pass
            assert stream.status == 422, stream.events
            assert stream.events[0]["error"]["details"][0]["field"] == "since"


async def test_the_stream_ends_when_the_token_expires() -> None:
    secret = "x" * 32
    with serving(TASK_STORE="memory", AUTH_MODE="jwt", JWT_SECRET=secret) as base:
        token = jwt.encode({"sub": "alice", "exp": int(time.time()) + 2}, secret)
        async with httpx.AsyncClient(timeout=30) as client:
            headers = {"Authorization": f"Bearer {token}"}
            refused = await client.get(f"{base}/api/alice/events")
            async with open_stream(client, f"{base}/api/alice/events", headers=headers) as stream:
                await until(stream, lambda s: s.ended, seconds=10)

    assert refused.status_code == 401
    assert stream.status == 200
    assert stream.ended


async def test_a_thousand_idle_streams_leave_the_pool_free(database_url: str) -> None:
    users = [f"fan-{i}-{time.monotonic_ns()}" for i in range(50)]
    with serving(
        DATABASE_URL=database_url,
        DB_POOL_SIZE="4",
        DB_MAX_OVERFLOW="0",
        HTTP_MAX_CONNECTIONS="1500",
        EVENTS_KEEPALIVE_SECONDS="15",
    ) as base:
        limits = httpx.Limits(max_connections=1100, max_keepalive_connections=0)
        async with (
            httpx.AsyncClient(timeout=60, limits=limits) as streams_client,
            httpx.AsyncClient(timeout=30) as client,
        ):
            opened: list[Stream] = []
            ready = asyncio.Event()
            release = asyncio.Event()

            async def hold(user: str) -> Stream:
                async with open_stream(streams_client, f"{base}/api/{user}/events") as stream:
                    opened.append(stream)
                    if len(opened) == 1000:
                        ready.set()
                    await until(stream, lambda s: len(s.events) >= 1, seconds=120)
                    await release.wait()
                return stream

            holders = [asyncio.create_task(hold(users[i % 50])) for i in range(1000)]
            await asyncio.wait_for(ready.wait(), 120)

            metrics = (await client.get(f"{base}/metrics")).text
            in_use = _sample(metrics, "taskapi_db_pool_connections", state="in_use")
            listed = await client.get(f"{base}/api/{users[0]}/tasks")
            for user in users:
                response = await client.post(f"{base}/api/{user}/tasks", json={"title": user})
                assert response.status_code == 201
            release.set()
            streams = await asyncio.wait_for(asyncio.gather(*holders), 120)

    assert all(s.status == 200 for s in streams)
    assert in_use <= 1  # at most the metrics request's own read
    assert listed.status_code == 200
    assert all(s.events[0]["data"]["task"]["title"] in users for s in streams)
