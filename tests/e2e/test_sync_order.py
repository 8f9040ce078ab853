"""The sync feed's promise, against real `taskapi serve` workers: a reader following tokens
while others write sees every acknowledged write exactly once, in commit order. And the same
workload against the naive design (one global sequence, read as `seq > since`) loses writes.

docs/architecture.md ("Incremental sync") says why the per-user counter holds."""

from __future__ import annotations

import asyncio
import bisect
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest

from adapters.postgres.urls import asyncpg_dsn
from tests.serving import ROOT, SERVE, free_port, wait_until_answering

WRITERS = 6
ROUNDS = 25  # per writer; each round is 5 writes (one of them two changes in one transaction)

# The naive design, for comparison: one global sequence, numbered when the row is written.
NAIVE_SCHEMA = """
CREATE TABLE naive_changes (
    seq bigserial PRIMARY KEY, user_id text NOT NULL, task_id uuid NOT NULL, version int NOT NULL
);
CREATE FUNCTION naive_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO naive_changes (user_id, task_id, version) VALUES (OLD.user_id, OLD.id, -1);
    ELSE
        INSERT INTO naive_changes (user_id, task_id, version)
        VALUES (NEW.user_id, NEW.id, NEW.version);
    END IF;
    RETURN NULL;
END $$;
"""
NAIVE_DROP = "DROP TABLE IF EXISTS naive_changes; DROP FUNCTION IF EXISTS naive_log() CASCADE;"


@dataclass(frozen=True, slots=True)
class Write:
    key: tuple[str, int]  # (task id, version; -1 for a delete)
    sent: float
    acknowledged: float


@pytest.fixture
def served(database_url: str) -> Iterator[str]:
    """`taskapi serve --workers 2` on the session's database."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "ACCESS_LOG": "false",
        "CURSOR_SECRET": "sync-order-test",  # both workers sign tokens alike
        "LOG_LEVEL": "warning",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen(
        [sys.executable, *SERVE, "--workers", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_answering(server, f"{base}/ready")
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


@pytest.fixture
async def admin(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    await connection.execute(NAIVE_DROP)
    await connection.execute(NAIVE_SCHEMA)
    try:
        yield connection
    finally:
        await connection.execute("ALTER TABLE tasks ENABLE TRIGGER log_task_change")
        await connection.execute(NAIVE_DROP)
        await connection.close()


async def _write(client: httpx.AsyncClient, method: str, url: str, **kw: Any) -> Any:
    response = await client.request(method, url, **kw)
    assert response.status_code in (200, 201), response.text
    return response.json()


async def _writer(base: str, owner: str, log: list[Write]) -> None:
    """Creates, renames, completes (a recurring task: two changes in one transaction) and
    deletes, on new connections now and then so both workers serve it."""
    tasks = f"{base}/api/{owner}/tasks"
    for _ in range(ROUNDS):
        async with httpx.AsyncClient(timeout=30) as client:

            async def step(method: str, url: str, *keys: tuple[str, int], **kw: Any) -> Any:
                sent = time.monotonic()
                body = await _write(client, method, url, **kw)
                done = time.monotonic()
                found = keys or ((body["data"]["id"], body["data"]["version"]),)
                log.extend(Write(k, sent, done) for k in found)
                return body

            created = await step(
                "POST",
                tasks,
                json={"title": "t", "recurrence": "FREQ=DAILY", "due_at": "2030-01-01T09:00:00Z"},
            )
            task_id = created["data"]["id"]
            await step("PATCH", f"{tasks}/{task_id}", json={"title": "u"})
            sent = time.monotonic()
            completed = await _write(client, "PATCH", f"{tasks}/{task_id}/complete")
            following = completed["meta"]["next_occurrence"]
            log.extend(
                Write(k, sent, time.monotonic()) for k in ((task_id, 3), (following["id"], 1))
            )
            await step("DELETE", f"{tasks}/{task_id}", (task_id, -1))
            await step("DELETE", f"{tasks}/{following['id']}", (following["id"], -1))


async def _follow_feed(base: str, owner: str, stop: asyncio.Event) -> list[tuple[str, int]]:
    seen: list[tuple[str, int]] = []
    async with httpx.AsyncClient(timeout=30) as client:
        token = (await client.get(f"{base}/api/{owner}/changes")).json()["meta"]["next_token"]
        while True:
            finished = stop.is_set()
            response = await client.get(
                f"{base}/api/{owner}/changes", params={"since": token, "limit": 50}
            )
            assert response.status_code == 200, response.text
            body = response.json()
            seen += [
                (c["task_id"], -1 if c["type"] == "task.deleted" else c["version"])
                for c in body["data"]
            ]
            token = body["meta"]["next_token"]
            if finished and not body["meta"]["has_more"]:
                return seen


async def _follow_naive(
    connection: asyncpg.Connection, owner: str, stop: asyncio.Event
) -> list[tuple[str, int]]:
    seen: list[tuple[str, int]] = []
    since = 0
    while True:
        finished = stop.is_set()
        rows = await connection.fetch(
            "SELECT seq, task_id, version FROM naive_changes "
            "WHERE user_id = $1 AND seq > $2 ORDER BY seq",
            owner,
            since,
        )
        seen += [(str(r["task_id"]), r["version"]) for r in rows]
        if rows:
            since = rows[-1]["seq"]
        if finished:
            return seen
        await asyncio.sleep(0)


async def _run(base: str, owner: str, follow: Any) -> tuple[list[Write], list[tuple[str, int]]]:
    log: list[Write] = []
    stop = asyncio.Event()
    reader = asyncio.create_task(follow(stop))
    await asyncio.sleep(0.2)  # the reader holds its starting token before anyone writes
    await asyncio.gather(*(_writer(base, owner, log) for _ in range(WRITERS)))
    stop.set()
    return log, await reader


def _out_of_order(log: list[Write], seen: list[tuple[str, int]]) -> list[tuple[Write, Write]]:
    """Pairs where a write acknowledged before another was sent shows up after it."""
    position = {key: i for i, key in enumerate(seen)}
    by_ack = sorted(log, key=lambda w: w.acknowledged)
    acks = [w.acknowledged for w in by_ack]
    # latest[i]: the write with the highest position among the first i+1 acknowledged.
    latest: list[Write] = []
    for write in by_ack:
        if not latest or position[write.key] > position[latest[-1].key]:
            latest.append(write)
        else:
            latest.append(latest[-1])
    wrong = []
    for write in log:
        before = bisect.bisect_left(acks, write.sent)  # acknowledged before it was sent
        if before and position[latest[before - 1].key] > position[write.key]:
            wrong.append((latest[before - 1], write))
    return wrong


async def test_a_follower_sees_every_write_once_in_commit_order_and_the_naive_log_does_not(
    served: str, admin: asyncpg.Connection, owner: str
) -> None:
    # The naive design alone: its trigger instead of the change log's.
    await admin.execute("ALTER TABLE tasks DISABLE TRIGGER log_task_change")
    await admin.execute(
        "CREATE TRIGGER naive_log AFTER INSERT OR UPDATE OR DELETE ON tasks "
        "FOR EACH ROW EXECUTE FUNCTION naive_log()"
    )
    naive_log, naive_seen = await _run(
        served, f"{owner}-naive", lambda stop: _follow_naive(admin, f"{owner}-naive", stop)
    )
    await admin.execute("DROP TRIGGER naive_log ON tasks")
    await admin.execute("ALTER TABLE tasks ENABLE TRIGGER log_task_change")

    log, seen = await _run(served, owner, lambda stop: _follow_feed(served, owner, stop))

    # The change log: every acknowledged write exactly once, and in the order they committed
    # (one acknowledged before another was sent comes first).
    assert len(log) == WRITERS * ROUNDS * 6
    assert len(seen) == len(set(seen))
    assert set(seen) == {w.key for w in log}
    assert _out_of_order(log, seen) == []
    # The naive design: the writes all reached its table, yet its reader missed some for good.
    committed = await admin.fetchval(
        "SELECT count(*) FROM naive_changes WHERE user_id = $1", f"{owner}-naive"
    )
    missed = {w.key for w in naive_log} - set(naive_seen)
    print(f"naive design: {len(missed)} of {committed} changes skipped by its reader")
    assert committed == len(naive_log)
    assert missed, "the naive reader happened to see every change in this run"


async def test_the_naive_log_skips_a_late_commit_and_the_change_log_cannot(
    database_url: str, admin: asyncpg.Connection, owner: str
) -> None:
    """The race made deterministic: two transactions that take numbers, committed in the
    opposite order."""
    dsn = asyncpg_dsn(database_url)
    first, second = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    try:
        # Naive: 1 is taken, then 2; 2 commits; the reader moves past 2; then 1 commits.
        naive_sql = (
            "INSERT INTO naive_changes (user_id, task_id, version) "
            "VALUES ($1, gen_random_uuid(), 1)"
        )
        early, late = first.transaction(), second.transaction()
        await early.start()
        await first.execute(naive_sql, owner)
        await late.start()
        await second.execute(naive_sql, owner)
        await late.commit()
        since = await admin.fetchval("SELECT max(seq) FROM naive_changes WHERE user_id = $1", owner)
        await early.commit()
        after = await admin.fetch(
            "SELECT seq FROM naive_changes WHERE user_id = $1 AND seq > $2", owner, since
        )
        assert after == []  # the reader never sees the first transaction's change
        assert (
            await admin.fetchval("SELECT count(*) FROM naive_changes WHERE user_id = $1", owner)
            == 2
        )

        # The change log: the second transaction cannot take a number until the first ends.
        insert = (
            "INSERT INTO tasks (user_id, id, title, created_at, updated_at) "
            "VALUES ($1, gen_random_uuid(), 't', now(), now())"
        )
        early, late = first.transaction(), second.transaction()
        await early.start()
        await first.execute(insert, owner)
        await late.start()
        waiting = asyncio.create_task(second.execute(insert, owner))
        await asyncio.sleep(0.5)
        assert not waiting.done()  # it waits for the user's counter
        assert await admin.fetch("SELECT seq FROM changes WHERE user_id = $1", owner) == []
        await early.commit()
        await waiting
        await late.commit()
        rows = await admin.fetch("SELECT seq FROM changes WHERE user_id = $1 ORDER BY seq", owner)
        assert [r["seq"] for r in rows] == [1, 2]
    finally:
        await first.close()
        await second.close()
