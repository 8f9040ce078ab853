"""What the change log costs a write, and how fast the live feed fans out.

    uv run python bench/changes.py postgresql://postgres@127.0.0.1:5432/postgres

On a throwaway database made on that server (dropped at the end):

1. trigger cost: create, PUT (replace) and complete through the use cases on one pooled
   connection, sequentially, in rounds alternating the change-log trigger on and off
   (ALTER TABLE ... DISABLE TRIGGER); the median microseconds per operation of each.
2. fan-out: `taskapi serve --workers 2`, 100 open streams for 100 users, 8 writers creating
   and patching those users' tasks as fast as they are answered; for each write, the time
   from its acknowledgement to its event on the user's stream: p50, p99, max.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.clock import SystemClock  # noqa: E402
from adapters.postgres.storage import PostgresStorage  # noqa: E402
from adapters.postgres.urls import async_url, asyncpg_dsn  # noqa: E402
from application.commands import (  # noqa: E402
    CreateTaskCommand,
    ReplaceTaskCommand,
    SetCompletionCommand,
    TaskFields,
    TaskRef,
)
from application.tasks import CreateTask, ReplaceTask, SetCompletion  # noqa: E402
from tests.serving import SERVE, free_port, wait_until_answering  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "10"))
OPS = 300


async def trigger_cost(url: str) -> None:
    storage = PostgresStorage(url=url, data_dir=Path("/tmp/unused"))
    await storage.start()
    uow = storage.unit_of_work_factory()
    clock = SystemClock()
    create, replace, complete = (
        CreateTask(uow, clock, 10**6),
        ReplaceTask(uow, clock, 10**6),
        SetCompletion(uow, clock, 10**6),
    )
    results: dict[tuple[str, bool], list[float]] = {}
    try:
        for round_ in range(ROUNDS):
            for enabled in (True, False) if round_ % 2 else (False, True):
                verb = "ENABLE" if enabled else "DISABLE"
                await storage.pool.execute(f"ALTER TABLE tasks {verb} TRIGGER log_task_change")
                owner = f"bench-{uuid.uuid4().hex[:8]}"
                ids = []
                started = time.perf_counter()
                for _ in range(OPS):
                    ids.append((await create(CreateTaskCommand(owner, TaskFields("t")))).task.id)
                results.setdefault(("create", enabled), []).append(
                    (time.perf_counter() - started) / OPS * 1e6
                )
                started = time.perf_counter()
                for task_id in ids:
                    await replace(ReplaceTaskCommand(TaskRef(owner, task_id), TaskFields("u")))
                results.setdefault(("put", enabled), []).append(
                    (time.perf_counter() - started) / OPS * 1e6
                )
                started = time.perf_counter()
                for task_id in ids:
                    await complete(SetCompletionCommand(TaskRef(owner, task_id), True))
                results.setdefault(("complete", enabled), []).append(
                    (time.perf_counter() - started) / OPS * 1e6
                )
    finally:
        await storage.pool.execute("ALTER TABLE tasks ENABLE TRIGGER log_task_change")
        await storage.stop()
    print("operation   without log  with log   ratio (throughput with/without)")
    for op in ("create", "put", "complete"):
        off = statistics.median(results[(op, False)])
        on = statistics.median(results[(op, True)])
        print(f"{op:<10} {off:9.0f} us {on:8.0f} us   {off / on:.2f}x")


async def fan_out(url: str) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PORT": str(port),
        "ACCESS_LOG": "false",
        "LOG_LEVEL": "warning",
        "CURSOR_SECRET": "bench",
    }
    server = subprocess.Popen(  # noqa: ASYNC220 (started once, before anything is measured)
        [sys.executable, *SERVE, "--workers", "2"], cwd=ROOT, env=env
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await asyncio.to_thread(wait_until_answering, server, f"{base}/ready")
        users = [f"fan-{i}-{uuid.uuid4().hex[:6]}" for i in range(100)]
        arrived: dict[str, float] = {}
        acknowledged: dict[str, float] = {}

        async def stream(client: httpx.AsyncClient, user: str, ready: asyncio.Event) -> None:
            async with client.stream("GET", f"{base}/api/{user}/events") as response:
                ready.set()
                async for line in response.aiter_lines():
                    if line.startswith("data: "):
                        change = json.loads(line[6:])
                        arrived[f"{change['task_id']}/{change['version']}"] = time.monotonic()

        async def writer(client: httpx.AsyncClient, n: int, stop: float) -> None:
            i = n
            while time.monotonic() < stop:
                user = users[i % len(users)]
                i += 8
                response = await client.post(f"{base}/api/{user}/tasks", json={"title": "t"})
                task: dict[str, Any] = response.json()["data"]
                acknowledged[f"{task['id']}/1"] = time.monotonic()
                response = await client.patch(
                    f"{base}/api/{user}/tasks/{task['id']}", json={"title": "u"}
                )
                acknowledged[f"{task['id']}/2"] = time.monotonic()

        limits = httpx.Limits(max_connections=200)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            readies = [asyncio.Event() for _ in users]
            streams = [
                asyncio.create_task(stream(client, u, r))
                for u, r in zip(users, readies, strict=True)
            ]
            await asyncio.gather(*(r.wait() for r in readies))
            stop = time.monotonic() + 20
            await asyncio.gather(*(writer(client, n, stop) for n in range(8)))
            await asyncio.sleep(2)
            for task in streams:
                task.cancel()
        delays = sorted(
            (arrived[key] - at) * 1000 for key, at in acknowledged.items() if key in arrived
        )
        lost = len(acknowledged) - len(delays)
        p = lambda q: delays[min(len(delays) - 1, int(q * len(delays)))]  # noqa: E731
        print(
            f"fan-out: {len(acknowledged)} writes in 20 s ({len(acknowledged) / 20:.0f}/s), "
            f"{lost} not seen; acknowledgement to event: p50 {p(0.5):.1f} ms, "
            f"p99 {p(0.99):.1f} ms, max {delays[-1]:.1f} ms"
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


async def main(server_url: str) -> None:
    name = f"taskapi_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(asyncpg_dsn(server_url))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = async_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        await trigger_cost(url)
        await fan_out(url)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else os.environ["DATABASE_URL"]))
