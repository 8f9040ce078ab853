"""The PostgreSQL adapter against a real server: schema, scoping, plans, paging, concurrency."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres.engine import PoolSettings
from adapters.postgres.migrations import (
    current_revision,
    head_revision,
    migrate,
    schema_is_current,
)
from adapters.postgres.repository import _list_statement
from adapters.postgres.storage import PostgresStorage, keep_session
from adapters.postgres.unit_of_work import PostgresUnitOfWorkFactory
from adapters.postgres.urls import asyncpg_dsn
from application.commands import (
    CreateTaskCommand,
    ListTasksQuery,
    PatchTaskCommand,
    SetCompletionCommand,
    TaskFields,
    TaskRef,
)
from application.cursor import CursorCodec
from application.tasks import (
    ClearCompleted,
    CreateTask,
    DeleteTask,
    GetTask,
    ListTasks,
    PatchTask,
    PurgeIdempotencyKeys,
    SetCompletion,
)
from application.unit_of_work import StorageUnavailable
from domain.errors import TaskLimitReached, TaskNotFound, VersionConflict
from domain.ids import new_task_id
from domain.listing import Position, SortField, TaskFilter, TaskOrder, TaskQuery
from domain.task import Task, TaskChanges
from tests.conftest import FixedClock

pytestmark = pytest.mark.postgres


@pytest.fixture
def uow(storage: PostgresStorage) -> PostgresUnitOfWorkFactory:
    return storage.unit_of_work_factory()


async def test_migrations_bring_the_schema_to_head(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        revision = await current_revision(connection)

    assert revision == head_revision()
    assert await schema_is_current(engine)


async def test_migrating_again_changes_nothing(engine: AsyncEngine) -> None:
    await migrate(engine)
    await asyncio.gather(migrate(engine), migrate(engine))  # instances starting together

    assert await schema_is_current(engine)


# Indexes that serve a scan across users, by design: the reminder scheduler looks for due
# reminders of every user (partial: only the armed ones, so it stays small); the change
# log's purge looks for old changes of every user (BRIN on the time, a few pages).
_ACROSS_USERS = {"ix_tasks_armed_reminders", "ix_changes_at"}


async def test_every_key_and_index_leads_with_user_id(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        rows = await connection.execute(
            sa.text(
                "SELECT indexname, indexdef FROM pg_indexes "
                "WHERE tablename IN ('tasks', 'changes', 'task_counts')"
            )
        )
        definitions: dict[str, str] = {row[0]: row[1] for row in rows}

    assert definitions, "the tasks table has indexes"
    assert set(definitions) >= _ACROSS_USERS
    for name, definition in definitions.items():
        if name in _ACROSS_USERS:
            continue
        columns = definition.split("(", 1)[1]
        assert columns.startswith(("user_id,", "user_id)")), f"{name}: {definition}"
    assert "pk_tasks" in definitions


@pytest.fixture
async def logged(
    database_url: str, storage: PostgresStorage
) -> AsyncIterator[tuple[PostgresUnitOfWorkFactory, list[str]]]:
    """Units of work on a pool whose one connection logs every statement it runs (on the
    schema `storage` migrated)."""
    captured: list[str] = []

    async def log_queries(connection: asyncpg.Connection) -> None:
        connection.add_query_logger(lambda record: captured.append(record.query))

    pool = await asyncpg.create_pool(
        asyncpg_dsn(database_url), min_size=1, max_size=1, init=log_queries, reset=keep_session
    )
    try:
        yield PostgresUnitOfWorkFactory(pool), captured
    finally:
        await pool.close()


async def test_every_statement_on_tasks_is_scoped_by_owner(
    logged: tuple[PostgresUnitOfWorkFactory, list[str]], owner: str
) -> None:
    uow, statements = logged
    clock = FixedClock()
    create = CreateTask(uow, clock, max_tasks_per_user=100)
    task = (await create(CreateTaskCommand(owner, TaskFields(title="scoped")))).task
    await GetTask(uow)(TaskRef(owner, task.id))
    await PatchTask(uow, clock, 10_000)(
        PatchTaskCommand(TaskRef(owner, task.id), TaskChanges(title="x"))
    )
    await ListTasks(uow, CursorCodec(b"k"))(ListTasksQuery(owner))
    async with uow() as unit:
        await unit.tasks.stats(owner, clock.now())
        await unit.tasks.remove_completed(owner)
        await unit.tasks.remove(owner, task.id)

    on_tasks = [s for s in statements if re.search(r"\btasks\b", s)]
    assert len(on_tasks) >= 8
    for statement in on_tasks:
        if statement.startswith("INSERT INTO tasks (user_id,"):
            continue  # the row carries its owner
        assert "WHERE" in statement, statement
        assert "tasks.user_id = " in statement.split("WHERE", 1)[1], statement


async def test_a_create_and_a_change_need_no_transaction(
    logged: tuple[PostgresUnitOfWorkFactory, list[str]], owner: str
) -> None:
    uow, statements = logged
    clock = FixedClock()
    task = (await CreateTask(uow, clock, 100)(CreateTaskCommand(owner, TaskFields("a")))).task
    created = list(statements)
    statements.clear()
    await PatchTask(uow, clock, 10_000)(
        PatchTaskCommand(TaskRef(owner, task.id), TaskChanges(title="b"))
    )

    # Cap check and insert in one statement; a change reads, then writes if unchanged since.
    assert [s.split()[0] for s in created] == ["INSERT"]
    assert [s.split()[0] for s in statements] == ["SELECT", "UPDATE"]
    assert "FOR UPDATE" not in statements[0]


async def test_parallel_toggles_lose_no_update(uow: PostgresUnitOfWorkFactory, owner: str) -> None:
    clock = FixedClock()
    task = (
        await CreateTask(uow, clock, 100)(CreateTaskCommand(owner, TaskFields(title="flip")))
    ).task
    toggle = SetCompletion(uow, clock, 10_000)

    # Most of these find the version they read gone by the time they write, and retry locked.
    flip = SetCompletionCommand(TaskRef(owner, task.id))
    await asyncio.gather(*(toggle(flip) for _ in range(20)))

    stored = await GetTask(uow)(TaskRef(owner, task.id))
    assert (stored.version, stored.completed) == (21, False)


@pytest.mark.parametrize(
    "order",
    [TaskOrder(field, descending) for field in SortField for descending in (False, True)],
    ids=str,
)
async def test_an_index_serves_every_sort_without_sorting(
    storage: PostgresStorage, owner: str, order: TaskOrder
) -> None:
    first_page = TaskQuery(TaskFilter(), order, limit=10)
    later_page = TaskQuery(TaskFilter(), order, limit=10, after=Position(None, uuid.uuid4()))
    plans = []
    async with storage.pool.acquire() as connection, connection.transaction():
        # With sorting and sequential scans priced out, a plan without a Sort node exists
        # only if an index gives this order.
        await connection.execute("SET LOCAL enable_sort = off")
        await connection.execute("SET LOCAL enable_seqscan = off")
        for query in (first_page, later_page):
            statement = _list_statement(query)
            values = {"owner": owner, "limit": 10, "after_id": uuid.uuid4(), "after_value": None}
            rows = await connection.fetch("EXPLAIN " + statement.sql, *statement.args(values))
            plans.append("\n".join(row[0] for row in rows))

    for plan in plans:
        assert "Index" in plan, plan
        assert "Sort" not in plan.replace("Sort Key", ""), plan


async def test_keyset_paging_under_concurrent_inserts_and_deletes(
    uow: PostgresUnitOfWorkFactory, owner: str
) -> None:
    clock = FixedClock()
    create = CreateTask(uow, clock, max_tasks_per_user=10_000)
    survivors = []
    doomed = []
    for i in range(40):
        clock.advance(seconds=1)
        created = await create(
            CreateTaskCommand(
                owner, TaskFields(title=f"task {i:02}", due_at=None if i % 3 else clock.now())
            )
        )
        task = created.task
        (doomed if i % 4 == 1 else survivors).append(task)
    lister = ListTasks(uow, CursorCodec(b"k"))

    for sort in ("-created_at", "created_at", "title", "-due_at", "priority"):
        seen: list[uuid.UUID] = []
        cursor = None
        page_number = 0
        while True:
            page = await lister(
                ListTasksQuery(owner, order=TaskOrder.parse(sort), limit=5, cursor=cursor)
            )
            seen.extend(t.id for t in page.items)
            # Between pages another client creates and deletes tasks.
            page_number += 1
            clock.advance(seconds=1)
            await create(CreateTaskCommand(owner, TaskFields(title=f"new {sort} {page_number}")))
            if doomed:
                victim = doomed.pop()
                async with uow() as unit:
                    await unit.tasks.remove(owner, victim.id)
                    await unit.commit()
            cursor = page.next_cursor
            if cursor is None:
                break

        assert len(seen) == len(set(seen)), f"{sort}: a task was shown twice"
        missing = {t.id for t in survivors} - set(seen)
        assert not missing, f"{sort}: tasks that existed throughout were skipped"


async def test_parallel_creates_at_the_cap_never_overshoot(
    uow: PostgresUnitOfWorkFactory, owner: str
) -> None:
    cap = 25
    create = CreateTask(uow, FixedClock(), max_tasks_per_user=cap)
    for i in range(cap - 5):
        await create(CreateTaskCommand(owner, TaskFields(title=f"seed {i}")))

    results = await asyncio.gather(
        *(create(CreateTaskCommand(owner, TaskFields(title=f"race {i}"))) for i in range(50)),
        return_exceptions=True,
    )

    refused = [r for r in results if isinstance(r, TaskLimitReached)]
    others = [
        r for r in results if isinstance(r, BaseException) and not isinstance(r, TaskLimitReached)
    ]
    assert not others, others
    assert len(refused) == 45
    async with uow() as unit:
        assert await unit.tasks.count(owner) == cap


def _task(owner: str, title: str) -> Task:
    return Task.create(id=new_task_id(), user_id=owner, title=title, now=FixedClock().now())


async def test_task_counts_follow_every_write_to_tasks(
    uow: PostgresUnitOfWorkFactory, engine: AsyncEngine, owner: str
) -> None:
    clock = FixedClock()
    other = f"{owner}-other"
    create = CreateTask(uow, clock, max_tasks_per_user=100)
    made = [
        (await create(CreateTaskCommand(o, TaskFields(title=f"t{i}", completed=i % 2 == 0)))).task
        for i in range(6)
        for o in (owner, other)
    ]
    async with uow() as unit:
        await unit.tasks.add_many([_task(owner, "bulk") for _ in range(5)])
        await unit.tasks.remove(owner, made[0].id)
        await unit.tasks.remove_completed(other)
        await unit.commit()
    async with uow() as unit:  # rolled back: counts nothing
        await unit.tasks.add_many([_task(owner, "never")])
    async with engine.begin() as connection:  # a script's write counts too
        await connection.execute(
            sa.text("DELETE FROM tasks WHERE user_id = :o AND title = 't5'"), {"o": other}
        )

    counts = "SELECT tasks FROM task_counts WHERE user_id = :o"
    async with engine.connect() as connection:
        for who in (owner, other):
            counted = (await connection.execute(sa.text(counts), {"o": who})).scalar_one()
            async with uow() as unit:
                assert counted == await unit.tasks.count(who)
    async with uow() as unit:
        assert (await unit.tasks.count(owner), await unit.tasks.count(other)) == (10, 2)


async def test_task_counts_work_whatever_the_search_path(engine: AsyncEngine, owner: str) -> None:
    async with engine.begin() as connection:
        await connection.execute(sa.text("SET LOCAL search_path = ''"))  # as pg_dump output does
        await connection.execute(
            sa.text(
                "INSERT INTO public.tasks (user_id, id, title, completed, priority, created_at,"
                " updated_at, version) SELECT :o, gen_random_uuid(), 't', false, 'none', now(),"
                " now(), 1 FROM generate_series(1, 3)"
            ),
            {"o": owner},
        )
        counted = await connection.execute(
            sa.text("SELECT public.taskapi_lock_and_count_tasks(:o)"), {"o": owner}
        )

        assert counted.scalar_one() == 3


@pytest.fixture
async def impatient(database_url: str, storage: PostgresStorage) -> AsyncIterator[PostgresStorage]:
    """A second storage on the test database whose statements may take one second."""
    impatient = PostgresStorage(
        database_url,
        Path("unused"),
        PoolSettings(statement_timeout_seconds=1),
        migrate_on_start=False,
    )
    await impatient.start()
    yield impatient
    await impatient.stop()


async def test_a_create_that_timed_out_does_not_land_later(
    impatient: PostgresStorage, database_url: str, owner: str
) -> None:
    create = CreateTask(impatient.unit_of_work_factory(), FixedClock(), 100)
    blocker = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        async with blocker.transaction():  # a long import of the owner holds its lock
            await blocker.execute("SELECT taskapi_lock_and_count_tasks($1)", owner)
            with pytest.raises(StorageUnavailable):
                await create(CreateTaskCommand(owner, TaskFields(title="late")))
        await asyncio.sleep(0.2)  # the lock is free: a statement still waiting would run now

        assert await blocker.fetchval("SELECT count(*) FROM tasks WHERE user_id = $1", owner) == 0
    finally:
        await blocker.close()


async def test_a_change_that_timed_out_does_not_land_later(
    impatient: PostgresStorage, database_url: str, owner: str
) -> None:
    uow = impatient.unit_of_work_factory()
    task = (
        await CreateTask(uow, FixedClock(), 100)(CreateTaskCommand(owner, TaskFields("t")))
    ).task
    blocker = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        async with blocker.transaction():  # another writer holds the row
            await blocker.execute(
                "SELECT 1 FROM tasks WHERE user_id = $1 AND id = $2 FOR UPDATE", owner, task.id
            )
            with pytest.raises(StorageUnavailable):
                await SetCompletion(uow, FixedClock(), 10_000)(
                    SetCompletionCommand(TaskRef(owner, task.id))
                )
        await asyncio.sleep(0.2)

        stored = await GetTask(uow)(TaskRef(owner, task.id))
        assert (stored.completed, stored.version) == (False, 1)
    finally:
        await blocker.close()


async def test_two_writers_with_the_same_if_match_one_wins(
    uow: PostgresUnitOfWorkFactory, owner: str
) -> None:
    clock = FixedClock()
    task = (
        await CreateTask(uow, clock, 100)(CreateTaskCommand(owner, TaskFields(title="shared")))
    ).task
    patch = PatchTask(uow, clock, 10_000)
    ref = TaskRef(owner, task.id, expected_versions=frozenset({1}))

    results = await asyncio.gather(
        patch(PatchTaskCommand(ref, TaskChanges(title="from tab A"))),
        patch(PatchTaskCommand(ref, TaskChanges(title="from tab B"))),
        return_exceptions=True,
    )

    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, VersionConflict)]
    assert (len(winners), len(losers)) == (1, 1)
    stored = await GetTask(uow)(TaskRef(owner, task.id))
    assert (stored.title, stored.version) == (winners[0].task.title, 2)


@pytest.fixture
async def unreachable_pool() -> AsyncIterator[asyncpg.Pool]:
    # Nothing listens on port 1; a connect fails at once.
    pool = await asyncpg.create_pool("postgresql://postgres@127.0.0.1:1/nowhere", min_size=0)
    yield pool
    await pool.close()


async def test_an_unreachable_database_is_storage_unavailable(
    unreachable_pool: asyncpg.Pool, owner: str
) -> None:
    uow = PostgresUnitOfWorkFactory(unreachable_pool)

    with pytest.raises(StorageUnavailable):
        await GetTask(uow)(TaskRef(owner, uuid.uuid4()))


async def test_timestamps_round_trip_with_microseconds_in_utc(
    uow: PostgresUnitOfWorkFactory, owner: str
) -> None:
    clock = FixedClock(datetime(2026, 1, 2, 3, 4, 5, 0, tzinfo=UTC))
    due = datetime(2026, 3, 4, 5, 6, 7, 890, tzinfo=UTC) + timedelta(hours=0)
    created = await CreateTask(uow, clock, 100)(
        CreateTaskCommand(owner, TaskFields(title="t", due_at=due))
    )
    task = created.task

    stored = await GetTask(uow)(TaskRef(owner, task.id))

    assert stored.created_at == clock.now()
    assert stored.due_at == due
    assert stored.created_at.utcoffset() == timedelta(0)


async def test_twenty_parallel_creates_with_one_key_make_one_task(
    uow: PostgresUnitOfWorkFactory, owner: str
) -> None:
    create = CreateTask(uow, FixedClock(), max_tasks_per_user=100)
    command = CreateTaskCommand(owner, TaskFields(title="once"), idempotency_key="retry-1")

    results = await asyncio.gather(*(create(command) for _ in range(20)))

    assert len({r.task.id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    async with uow() as unit:
        assert await unit.tasks.count(owner) == 1


async def test_a_key_is_scoped_to_its_owner(uow: PostgresUnitOfWorkFactory, owner: str) -> None:
    create = CreateTask(uow, FixedClock(), max_tasks_per_user=100)
    fields = TaskFields(title="same key, two users")

    mine = await create(CreateTaskCommand(owner, fields, idempotency_key="k"))
    theirs = await create(CreateTaskCommand(f"{owner}-other", fields, idempotency_key="k"))

    assert not mine.replayed
    assert not theirs.replayed
    assert mine.task.id != theirs.task.id


async def test_a_key_is_free_again_after_its_lifetime_and_purged(
    uow: PostgresUnitOfWorkFactory, owner: str
) -> None:
    clock = FixedClock()
    create = CreateTask(uow, clock, max_tasks_per_user=100)
    first = await create(CreateTaskCommand(owner, TaskFields(title="a"), idempotency_key="k"))
    clock.advance(hours=24, seconds=1)

    second = await create(CreateTaskCommand(owner, TaskFields(title="b"), idempotency_key="k"))
    clock.advance(hours=24, seconds=1)
    purged = await PurgeIdempotencyKeys(uow, clock)()

    assert not second.replayed
    assert second.task.id != first.task.id
    assert purged >= 1
    async with uow() as unit:
        assert await unit.idempotency.claim(owner, "k", "x", clock.now()) is None


async def test_a_failed_create_does_not_keep_its_key(
    uow: PostgresUnitOfWorkFactory, owner: str
) -> None:
    create = CreateTask(uow, FixedClock(), max_tasks_per_user=1)
    await create(CreateTaskCommand(owner, TaskFields(title="fills the cap")))

    with pytest.raises(TaskLimitReached):
        await create(CreateTaskCommand(owner, TaskFields(title="b"), idempotency_key="k"))
    async with uow() as unit:
        claimed = await unit.idempotency.claim(owner, "k", "x", FixedClock().now())

    assert claimed is None


@pytest.mark.parametrize("completion", [True, None], ids=["set", "toggle"])
async def test_racing_completions_create_one_next_occurrence(
    uow: PostgresUnitOfWorkFactory, owner: str, completion: bool | None
) -> None:
    clock = FixedClock()
    fields = TaskFields(
        title="weekly", recurrence="FREQ=WEEKLY", due_at=clock.now() + timedelta(days=1)
    )
    task = (await CreateTask(uow, clock, 100)(CreateTaskCommand(owner, fields))).task
    complete = SetCompletion(uow, clock, 100)
    command = SetCompletionCommand(TaskRef(owner, task.id), completed=completion)

    results = await asyncio.gather(*(complete(command) for _ in range(8)))

    created = [r.next_occurrence for r in results if r.next_occurrence is not None]
    everything = TaskQuery(TaskFilter(), TaskOrder(), limit=100)
    async with uow() as unit:
        stored = await unit.tasks.list(owner, everything)
    assert len(created) == 1
    assert {t.id for t in stored} == {task.id, created[0].id}
    assert created[0].series_id == task.id


async def test_one_users_writes_of_every_kind_at_once_never_deadlock(
    uow: PostgresUnitOfWorkFactory, owner: str
) -> None:
    """Creates, patches, deletes, clear-completed and recurring completions of one user, in
    parallel: each takes the user's locks in the one order (docs/architecture.md), so none
    fails."""
    clock = FixedClock()
    create, delete = CreateTask(uow, clock, 10_000), DeleteTask(uow)
    clear, complete = ClearCompleted(uow), SetCompletion(uow, clock, 10_000)
    patch = PatchTask(uow, clock, 10_000)
    recurring = TaskFields("daily", recurrence="FREQ=DAILY", due_at=clock.now())
    for _ in range(15):
        doomed = [(await create(CreateTaskCommand(owner, TaskFields("x")))).task for _ in range(3)]
        series = (await create(CreateTaskCommand(owner, recurring))).task
        done = (await create(CreateTaskCommand(owner, TaskFields("d", completed=True)))).task

        outcomes = await asyncio.gather(
            *(create(CreateTaskCommand(owner, TaskFields("new"))) for _ in range(3)),
            *(delete(TaskRef(owner, task.id)) for task in doomed),
            *(
                patch(PatchTaskCommand(TaskRef(owner, t.id), TaskChanges(title="p")))
                for t in doomed
            ),
            patch(PatchTaskCommand(TaskRef(owner, series.id), TaskChanges(title="s"))),
            complete(SetCompletionCommand(TaskRef(owner, series.id), completed=True)),
            clear(owner),
            return_exceptions=True,
        )

        # A patch of a task deleted meanwhile finds nothing; nothing else may fail.
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        assert [f for f in failures if not isinstance(f, TaskNotFound)] == []
        async with uow() as unit:
            assert await unit.tasks.get(owner, done.id) is None
