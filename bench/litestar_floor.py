"""The most a Litestar app can do here: the bench floor's SQL, behind Litestar, nothing else.

No middleware, no dependency injection, no envelope, no validation beyond the floor's: one
handler per route, one asyncpg call, msgspec bytes out. Measuring it next to the floor (a raw
ASGI callable doing the same) shows what the framework itself costs per request, which no
change inside taskapi can win back:

    cd ../shared/bench
    LITESTAR_FLOOR_DIR=/path/to/taskapi/bench \\
    LITESTAR_FLOOR_CMD='exec /path/to/taskapi/.venv/bin/uvicorn litestar_floor:app \\
        --host "$HOST" --port "$PORT" --loop uvloop --http httptools --no-access-log' \\
    ./compare.sh --full --workloads get-one,get-one-c10,list,create litestar_floor floor

It uses the floor's table (created at startup, as the floor does) and its routes.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
import msgspec
from litestar import Litestar, Request, Response, get, post

COLUMNS = "id, user_id, title, description, completed, created_at, updated_at"
DDL = (
    """CREATE TABLE IF NOT EXISTS tasks (
        title VARCHAR(500) NOT NULL, description VARCHAR(2000), completed BOOLEAN NOT NULL,
        id UUID NOT NULL, user_id VARCHAR(128) NOT NULL,
        created_at TIMESTAMP WITH TIME ZONE NOT NULL, updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
        PRIMARY KEY (id))""",
    "CREATE INDEX IF NOT EXISTS ix_tasks_user_id ON tasks (user_id)",
)
LIST = f"SELECT {COLUMNS} FROM tasks WHERE user_id = $1 ORDER BY created_at DESC LIMIT $2"
GET = f"SELECT {COLUMNS} FROM tasks WHERE id = $1 AND user_id = $2"
INSERT = (
    "INSERT INTO tasks (id, user_id, title, description, completed, created_at, updated_at) "
    f"VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {COLUMNS}"
)


class NewTask(msgspec.Struct):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    description: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    completed: bool = False


decode_new_task = msgspec.json.Decoder(NewTask).decode
encode = msgspec.json.Encoder().encode
pools: dict[str, asyncpg.Pool] = {}


def _json(body: Any, status_code: int = 200) -> Response[bytes]:
    return Response(encode(body), status_code=status_code, media_type="application/json")


async def start() -> None:
    url = os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    pool = await asyncpg.create_pool(url, min_size=10, max_size=20, reset=_no_reset)
    async with pool.acquire() as connection:
        for statement in DDL:
            await connection.execute(statement)
    pools["db"] = pool


async def _no_reset(connection: asyncpg.Connection) -> None:
    """As the floor: autocommit statements leave nothing to reset on release."""


async def stop() -> None:
    await pools["db"].close()


@get("/api/{user_id:str}/tasks")
async def list_tasks(user_id: str, limit: int = 100) -> Response[bytes]:
    rows = await pools["db"].fetch(LIST, user_id, limit)
    return _json([dict(row) for row in rows])


@get("/api/{user_id:str}/tasks/{task_id:uuid}")
async def get_task(user_id: str, task_id: uuid.UUID) -> Response[bytes]:
    row = await pools["db"].fetchrow(GET, task_id, user_id)
    if row is None:
        return _json({"detail": "Task not found"}, 404)
    return _json(dict(row))


@post("/api/{user_id:str}/tasks")
async def create_task(user_id: str, request: Request[Any, Any, Any]) -> Response[bytes]:
    try:
        new = decode_new_task(await request.body())
    except msgspec.DecodeError as error:
        return _json({"detail": str(error)}, 422)
    row = await pools["db"].fetchrow(
        INSERT,
        uuid.uuid4(),
        user_id,
        new.title,
        new.description,
        new.completed,
        datetime.now(UTC),
    )
    return _json(dict(row), 201)


app = Litestar([list_tasks, get_task, create_task], on_startup=[start], on_shutdown=[stop])
