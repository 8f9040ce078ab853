"""Does a page cost the same as the data grows? Seeds PostgreSQL directly, then times the
service's own listing use case (the adapter's SQL on asyncpg) and prints the plans.

    uv run python bench/scale.py                      # embedded PostgreSQL, a temp dir
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres uv run python bench/scale.py

It creates a throwaway database `taskapi_scale_<random>` on that server and drops it after.
Figures: the median of REPEAT runs of each query, in milliseconds (measured, not asserted).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg

from adapters.postgres.embedded import EmbeddedPostgres
from adapters.postgres.engine import PoolSettings
from adapters.postgres.migrations import downgrade, migrate
from adapters.postgres.repository import _list_statement
from adapters.postgres.storage import PostgresStorage
from adapters.postgres.urls import asyncpg_dsn
from application.commands import ListTasksQuery
from application.cursor import CursorCodec
from application.tasks import ListTasks
from domain.listing import TaskFilter, TaskOrder, TaskQuery

SORTS = ["-created_at", "created_at", "-updated_at", "due_at", "-due_at", "priority", "-title"]
BIG_USER = "scale-big"  # 10,000 tasks
SMALL_USER = "scale-small"  # 100 tasks


# Three tags a task: t0..t9 (one task in 10 has t3), u0..u6 and v0..v2 (t3 and u5 together: one
# in 70).
SEED_SQL = """
INSERT INTO tasks (user_id, id, title, description, completed, completed_at, due_at, priority,
                   created_at, updated_at, version, tags)
SELECT $1 || lpad(u::text, 3, '0'), gen_random_uuid(),
       'task ' || i || ' ' || md5(u::text || ':' || i::text),
       CASE WHEN i % 3 = 0 THEN 'notes for ' || md5(i::text) END,
       i % 4 = 0, CASE WHEN i % 4 = 0 THEN now() END,
       CASE WHEN i % 5 <> 0 THEN now() + (i % 400) * interval '1 hour' END,
       (ARRAY['none', 'low', 'medium', 'high'])[1 + i % 4],
       now() - i * interval '1 second', now() - i * interval '1 second', 1,
       ARRAY['t' || i % 10, 'u' || i % 7, 'v' || i % 3]
FROM generate_series(0, $2 - 1) AS u, generate_series(1, $3) AS i
"""


async def seed(pool: asyncpg.Pool, prefix: str, users: int, per_user: int) -> None:
    await pool.execute(SEED_SQL, prefix, users, per_user)


async def timed(repeat: int, run) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


async def page_costs(lister: ListTasks, owner: str, repeat: int) -> dict[str, tuple[float, float]]:
    """(first page, a page about 9,000 tasks deep via cursors) per sort, 100 tasks a page."""
    costs = {}
    for sort in SORTS:
        order = TaskOrder.parse(sort)
        first = await timed(
            repeat, lambda o=order: lister(ListTasksQuery(owner, order=o, limit=100))
        )
        cursor = None
        for _ in range(90):  # walk to a deep page
            page = await lister(ListTasksQuery(owner, order=order, limit=100, cursor=cursor))
            cursor = page.next_cursor
            if cursor is None:
                break
        deep = await timed(
            repeat,
            lambda o=order, c=cursor: lister(ListTasksQuery(owner, order=o, limit=100, cursor=c)),
        )
        costs[sort] = (first, deep)
    return costs


TAG_FILTERS = {"one tag (t3: 1 task in 10)": ("t3",), "two tags (t3,u5: 1 in 70)": ("t3", "u5")}


async def tag_costs(lister: ListTasks, owner: str, repeat: int) -> dict[str, tuple[float, float]]:
    """(first page, the last page via cursors) per tag filter, 100 tasks a page."""
    costs = {}
    for name, tags in TAG_FILTERS.items():
        tag_filter = TaskFilter(tags=tags)
        first = await timed(
            repeat, lambda f=tag_filter: lister(ListTasksQuery(owner, filter=f, limit=100))
        )
        cursor, last = None, None
        while True:
            page = await lister(ListTasksQuery(owner, filter=tag_filter, limit=100, cursor=cursor))
            if page.next_cursor is None:
                break
            last = cursor = page.next_cursor
        deep = await timed(
            repeat,
            lambda f=tag_filter, c=last: lister(
                ListTasksQuery(owner, filter=f, limit=100, cursor=c)
            ),
        )
        costs[name] = (first, deep)
    return costs


async def explain(pool: asyncpg.Pool, owner: str, query: TaskQuery) -> str:
    statement = _list_statement(query)
    values = {
        "owner": owner,
        "limit": query.limit,
        "pattern": "%abc%",
        "tags": list(query.filter.tags or ()),
    }
    rows = await pool.fetch("EXPLAIN (ANALYZE, BUFFERS) " + statement.sql, *statement.args(values))
    return "\n".join(row[0] for row in rows)


async def main() -> None:  # noqa: PLR0915 (a script that reads top to bottom)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--users", type=int, default=100, help="users of 10,000 tasks each")
    args = parser.parse_args()

    embedded = None
    server = os.environ.get("DATABASE_URL")
    if not server:
        embedded = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="taskapi-scale-")))
        server = embedded.start()
    name = f"taskapi_scale_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(asyncpg_dsn(server))
    await admin.execute(f'CREATE DATABASE "{name}"')
    database = asyncpg_dsn(server).rsplit("/", 1)[0] + f"/{name}"
    if "?" in asyncpg_dsn(server):
        base, _, query = asyncpg_dsn(server).partition("?")
        database = base.rsplit("/", 1)[0] + f"/{name}?{query}"
    # Seeding a million rows takes longer than the service's 5 s statement timeout.
    storage = PostgresStorage(
        url=database,
        data_dir=Path(tempfile.mkdtemp()),
        pool=PoolSettings(statement_timeout_seconds=900),
    )
    try:
        await storage.start()
        pool = storage.pool
        lister = ListTasks(storage.unit_of_work_factory(), CursorCodec(b"scale"))

        print(f"# {await pool.fetchval('SELECT version()')}")
        await seed(pool, SMALL_USER, 1, 100)
        await seed(pool, BIG_USER, 1, 10_000)
        await pool.execute("ANALYZE tasks")
        small_owner, big_owner = f"{SMALL_USER}000", f"{BIG_USER}000"
        rows = await pool.fetchval("SELECT count(*) FROM tasks")
        print(f"\n## table of {rows:,} rows: one user of 10,000 tasks, one of 100")
        at_10k = await page_costs(lister, big_owner, args.repeat)
        small = {
            s: await timed(
                args.repeat,
                lambda s=s: lister(ListTasksQuery(small_owner, order=TaskOrder.parse(s))),
            )
            for s in SORTS
        }
        search = await timed(
            args.repeat,
            lambda: lister(ListTasksQuery(big_owner, filter=TaskFilter(search="abc"))),
        )

        started = time.perf_counter()
        await seed(pool, "scale-crowd", args.users - 1, 10_000)
        await pool.execute("ANALYZE tasks")
        rows = await pool.fetchval("SELECT count(*) FROM tasks")
        print(f"## grown to {rows:,} rows in {time.perf_counter() - started:.0f} s")
        at_1m = await page_costs(lister, big_owner, args.repeat)
        search_1m = await timed(
            args.repeat,
            lambda: lister(ListTasksQuery(big_owner, filter=TaskFilter(search="abc"))),
        )
        tags_1m = await tag_costs(lister, big_owner, args.repeat)

        print("\n## table growth: the 10,000-task user's pages, median ms")
        print(
            f"| sort | first page @10k | @{rows / 1e6:.1f}M | ratio | deep page @10k | "
            f"@{rows / 1e6:.1f}M | ratio |"
        )
        print("|---|---|---|---|---|---|---|")
        for sort in SORTS:
            (f10, d10), (f1m, d1m) = at_10k[sort], at_1m[sort]
            print(
                f"| `{sort}` | {f10:.2f} | {f1m:.2f} | {f1m / f10:.2f} | {d10:.2f} | "
                f"{d1m:.2f} | {d1m / d10:.2f} |"
            )
        print("\n## user growth: first page, 10,000-task user vs 100-task user, median ms")
        print("| sort | 100 tasks | 10,000 tasks | ratio |")
        print("|---|---|---|---|")
        for sort in SORTS:
            print(
                f"| `{sort}` | {small[sort]:.2f} | {at_10k[sort][0]:.2f} | "
                f"{at_10k[sort][0] / small[sort]:.2f} |"
            )
        print(
            f"\n## q search over 10,000 tasks: p50 {search:.2f} ms "
            f"({search_1m:.2f} ms with {rows:,} rows in the table)"
        )

        print(f"\n## tag filter over 10,000 tasks, {rows:,} rows in the table, median ms")
        print("| filter | first page | last page (cursor) |")
        print("|---|---|---|")
        for name, (first, deep) in tags_1m.items():
            print(f"| {name} | {first:.2f} | {deep:.2f} |")

        print("\n## plans (EXPLAIN (ANALYZE, BUFFERS)), 10,000-task user, full table")
        for sort in ("-created_at", "due_at", "priority"):
            query = TaskQuery(TaskFilter(), TaskOrder.parse(sort), limit=101)
            print(f"\n### sort={sort}\n```\n{await explain(pool, big_owner, query)}\n```")
        query = TaskQuery(TaskFilter(search="abc"), TaskOrder(), limit=101)
        print(f"\n### q=abc\n```\n{await explain(pool, big_owner, query)}\n```")
        for tags in TAG_FILTERS.values():
            query = TaskQuery(TaskFilter(tags=tags), TaskOrder(), limit=101)
            shown = ",".join(tags)
            print(f"\n### tags={shown}\n```\n{await explain(pool, big_owner, query)}\n```")

        # Last, as it drops the tags: the newest migration, down and up, on the full table.
        started = time.perf_counter()
        await downgrade(storage.engine, "-1")
        dropped = time.perf_counter() - started
        started = time.perf_counter()
        await migrate(storage.engine)
        added = time.perf_counter() - started
        print(
            f"\n## the newest migration on {rows:,} rows: downgrade {dropped * 1000:.0f} ms, "
            f"upgrade {added * 1000:.0f} ms"
        )
    finally:
        await storage.stop()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        if embedded is not None:
            embedded.stop()


if __name__ == "__main__":
    asyncio.run(main())
