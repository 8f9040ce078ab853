"""Microseconds a request costs our HTTP stack, in process, without wrk's and PostgreSQL's noise.

The app of a checkout (this one, or any other given by path) is called as an ASGI app on
uvloop with the in-memory store, after a warm-up and with the garbage collector settled as
`taskapi serve` settles it; each figure is the median of 9 batches of 300 requests:

    uv run python bench/inprocess.py                   # this checkout
    uv run python bench/inprocess.py ../before         # another one (a git worktree)

Run two checkouts alternately, a few times each, to compare them.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

BATCHES = 9
BATCH = 300
TASKS = 100

Call = Callable[[], Awaitable[list[dict[str, Any]]]]


def _scope(method: str, path: str, headers: tuple[tuple[bytes, bytes], ...] = ()) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }


async def _call(app: Any, scope: dict[str, Any], body: bytes = b"") -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects
        return {}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def _json_headers(body: bytes) -> tuple[tuple[bytes, bytes], ...]:
    return ((b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()))


async def _measure(call: Call) -> float:
    for _ in range(200):
        await call()
    samples = []
    for _ in range(BATCHES):
        started = time.perf_counter()
        for _ in range(BATCH):
            await call()
        samples.append((time.perf_counter() - started) / BATCH * 1e6)
    return round(statistics.median(samples), 1)


async def main(checkout: Path) -> None:
    sys.path.insert(0, str(checkout))
    os.chdir(checkout)
    from entrypoints.config import Settings  # noqa: PLC0415 (from the checkout's path)
    from entrypoints.container import Container  # noqa: PLC0415
    from entrypoints.http.app import create_app  # noqa: PLC0415

    settings = Settings(task_store="memory", access_log=False, log_format="json")
    app = create_app(Container(settings=settings))
    lifespan_in: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    lifespan_out: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await lifespan_in.put({"type": "lifespan.startup"})
    lifespan = asyncio.create_task(
        app(
            {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}},
            lifespan_in.get,
            lifespan_out.put,
        )
    )
    await lifespan_out.get()

    task_id = ""
    for n in range(TASKS):
        body = json.dumps(
            {"title": f"task {n}", "priority": "high", "due_at": "2026-12-01T10:00:00Z"}
        )
        sent = await _call(
            app, _scope("POST", "/api/lister/tasks", _json_headers(body.encode())), body.encode()
        )
        task_id = json.loads(sent[1]["body"])["data"]["id"]
    # The same tasks with three tags each, where the checkout has tags (contract 1.1).
    tagged = True
    for n in range(TASKS):
        body = json.dumps(
            {
                "title": f"task {n}",
                "priority": "high",
                "due_at": "2026-12-01T10:00:00Z",
                "tags": ["home", "work", f"t{n % 10}"],
            }
        )
        sent = await _call(
            app, _scope("POST", "/api/tagger/tasks", _json_headers(body.encode())), body.encode()
        )
        tagged = sent[0]["status"] == 201
        if not tagged:
            break
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)

    create_body = b'{"title": "Buy milk", "priority": "high"}'
    users = iter(range(10**9))
    figures = {
        "get": await _measure(lambda: _call(app, _scope("GET", f"/api/lister/tasks/{task_id}"))),
        f"list {TASKS}": await _measure(lambda: _call(app, _scope("GET", "/api/lister/tasks"))),
        **(
            {
                f"list {TASKS} tagged": await _measure(
                    lambda: _call(app, _scope("GET", "/api/tagger/tasks"))
                )
            }
            if tagged
            else {}
        ),
        "create": await _measure(
            lambda: _call(
                app,
                _scope("POST", f"/api/creator-{next(users)}/tasks", _json_headers(create_body)),
                create_body,
            )
        ),
    }
    print(f"{checkout}: " + ", ".join(f"{name} {us} us" for name, us in figures.items()))
    await lifespan_in.put({"type": "lifespan.shutdown"})
    await lifespan_out.get()
    lifespan.cancel()


if __name__ == "__main__":
    import uvloop

    target = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    uvloop.run(main(target))
