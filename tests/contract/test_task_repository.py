"""One contract for every TaskRepository adapter: the in-memory one and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.memory.unit_of_work import InMemoryUnitOfWorkFactory
from adapters.postgres.storage import PostgresStorage
from application.unit_of_work import UnitOfWorkFactory
from domain.ids import new_task_id
from domain.listing import Position, SortField, TaskFilter, TaskOrder, TaskQuery
from domain.task import Priority, Task, TaskChanges
from tests.conftest import FixedClock

T0 = datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture(params=["memory", "postgres"])
def uow(request: pytest.FixtureRequest) -> UnitOfWorkFactory:
    if request.param == "memory":
        return InMemoryUnitOfWorkFactory()
    storage: PostgresStorage = request.getfixturevalue("storage")
    return storage.unit_of_work_factory()


def make_task(owner: str, title: str = "task", *, at: datetime = T0, **fields: Any) -> Task:
    return Task.create(id=new_task_id(), user_id=owner, title=title, now=at, **fields)


async def store(uow: UnitOfWorkFactory, *tasks: Task) -> None:
    async with uow() as unit:
        await unit.tasks.add_many(tasks)
        await unit.commit()


async def listing(uow: UnitOfWorkFactory, owner: str, query: TaskQuery) -> list[Task]:
    async with uow() as unit:
        return await unit.tasks.list(owner, query)


async def test_added_task_reads_back_with_every_field(uow: UnitOfWorkFactory, owner: str) -> None:
    task = make_task(
        owner,
        "Buy milk 🥛",
        description="two litres",
        due_at=T0 + timedelta(days=1),
        priority=Priority.HIGH,
        completed=True,
    )
    await store(uow, task)

    async with uow() as unit:
        loaded = await unit.tasks.get(owner, task.id)

    assert loaded == task
    assert loaded is not None
    assert loaded.created_at.tzinfo is not None
    assert loaded.created_at.microsecond == 123456


async def test_another_owner_sees_nothing(uow: UnitOfWorkFactory, owner: str) -> None:
    task = make_task(owner)
    await store(uow, task)

    async with uow() as unit:
        assert await unit.tasks.get(f"{owner}-other", task.id) is None
        assert await unit.tasks.remove(f"{owner}-other", task.id) is False
        assert await unit.tasks.count(f"{owner}-other") == 0
        await unit.commit()
    async with uow() as unit:
        assert await unit.tasks.get(owner, task.id) == task


async def test_leaving_without_commit_rolls_back(uow: UnitOfWorkFactory, owner: str) -> None:
    async with uow() as unit:
        assert await unit.tasks.add_if_fewer_than(make_task(owner), 10)

    async with uow() as unit:
        assert await unit.tasks.count(owner) == 0


async def test_an_error_inside_the_unit_of_work_rolls_back(
    uow: UnitOfWorkFactory, owner: str
) -> None:
    async def add_then_fail() -> None:
        async with uow() as unit:
            assert await unit.tasks.add_if_fewer_than(make_task(owner), 10)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await add_then_fail()

    async with uow() as unit:
        assert await unit.tasks.count(owner) == 0


async def test_update_stores_only_at_the_expected_version(
    uow: UnitOfWorkFactory, owner: str
) -> None:
    task = make_task(owner, "first")
    await store(uow, task)
    task.apply(TaskChanges(title="second"), T0 + timedelta(seconds=1))

    async with uow() as unit:
        stale = await unit.tasks.update(task, expected_version=5)
        fresh = await unit.tasks.update(task, expected_version=1)
        await unit.commit()

    assert (stale, fresh) == (False, True)
    async with uow() as unit:
        loaded = await unit.tasks.get(owner, task.id)
    assert loaded is not None
    assert (loaded.title, loaded.version) == ("second", 2)
    assert loaded.updated_at == T0 + timedelta(seconds=1)


async def test_remove_then_remove_again(uow: UnitOfWorkFactory, owner: str) -> None:
    task = make_task(owner)
    await store(uow, task)

    async with uow() as unit:
        first = await unit.tasks.remove(owner, task.id)
        second = await unit.tasks.remove(owner, task.id)
        await unit.commit()

    assert (first, second) == (True, False)


async def test_remove_completed_touches_only_the_owners_completed_tasks(
    uow: UnitOfWorkFactory, owner: str
) -> None:
    other = f"{owner}-other"
    await store(
        uow,
        make_task(owner, "done", completed=True),
        make_task(owner, "done too", completed=True),
        make_task(owner, "open"),
        make_task(other, "theirs", completed=True),
    )

    async with uow() as unit:
        deleted = await unit.tasks.remove_completed(owner)
        await unit.commit()

    assert deleted == 2
    async with uow() as unit:
        assert await unit.tasks.count(owner) == 1
        assert await unit.tasks.count(other) == 1


async def test_stats_count_overdue_as_open_and_past_due(uow: UnitOfWorkFactory, owner: str) -> None:
    now = T0 + timedelta(days=10)
    await store(
        uow,
        make_task(owner, "late", due_at=now - timedelta(minutes=1)),
        make_task(owner, "late but done", due_at=now - timedelta(days=1), completed=True),
        make_task(owner, "future", due_at=now + timedelta(days=1)),
        make_task(owner, "no due date"),
        make_task(f"{owner}-other", "someone else's", due_at=now - timedelta(days=1)),
    )

    async with uow() as unit:
        stats = await unit.tasks.stats(owner, now)

    assert (stats.total, stats.completed, stats.pending, stats.overdue) == (4, 1, 3, 1)


def expected_order(tasks: list[Task], order: TaskOrder) -> list[Task]:
    """An independent statement of the contract's order: key, then id; no due date last."""

    def key(task: Task) -> tuple[Any, ...]:
        value = order.value_of(task)
        return (value is None, value, task.id)

    present = [t for t in tasks if order.value_of(t) is not None]
    missing = [t for t in tasks if order.value_of(t) is None]
    present.sort(key=key, reverse=order.descending)
    missing.sort(key=lambda t: t.id, reverse=order.descending)
    return present + missing


@pytest.fixture
async def varied_tasks(uow: UnitOfWorkFactory, owner: str) -> list[Task]:
    """Tasks with ties on every sort key and some without a due date."""
    clock = FixedClock(T0)
    priorities = [Priority.NONE, Priority.HIGH, Priority.LOW, Priority.MEDIUM]
    titles = ["banana", "Apple", "apple", "cherry", "banana", "Zed", "émile"]
    tasks = []
    for i in range(14):
        due = None if i % 4 == 0 else T0 + timedelta(hours=i % 3)
        task = make_task(
            owner,
            titles[i % len(titles)],
            at=clock.advance(seconds=i % 2),  # pairs share created_at
            due_at=due,
            priority=priorities[i % len(priorities)],
            completed=i % 5 == 1,
        )
        tasks.append(task)
    await store(uow, *tasks)
    return tasks


SORTS = [TaskOrder(field, descending) for field in SortField for descending in (False, True)]


@pytest.mark.parametrize("order", SORTS, ids=str)
async def test_list_orders_by_key_then_id(
    uow: UnitOfWorkFactory, owner: str, varied_tasks: list[Task], order: TaskOrder
) -> None:
    tasks = await listing(uow, owner, TaskQuery(TaskFilter(), order, limit=100))

    assert [t.id for t in tasks] == [t.id for t in expected_order(varied_tasks, order)]


@pytest.mark.parametrize("order", SORTS, ids=str)
async def test_list_after_a_position_continues_where_the_page_ended(
    uow: UnitOfWorkFactory, owner: str, varied_tasks: list[Task], order: TaskOrder
) -> None:
    walked: list[Task] = []
    after: Position | None = None
    while True:
        page = await listing(uow, owner, TaskQuery(TaskFilter(), order, limit=3, after=after))
        if not page:
            break
        walked.extend(page)
        after = Position(order.value_of(page[-1]), page[-1].id)

    assert [t.id for t in walked] == [t.id for t in expected_order(varied_tasks, order)]


FILTERS: list[tuple[str, TaskFilter, Callable[[Task], bool]]] = [
    ("high", TaskFilter(priority=Priority.HIGH), lambda t: t.priority is Priority.HIGH),
    ("open", TaskFilter(completed=False), lambda t: not t.completed),
    ("done", TaskFilter(completed=True), lambda t: t.completed),
    ("search", TaskFilter(search="APPLE"), lambda t: "apple" in t.title.lower()),
    (
        "due window",
        TaskFilter(due_after=T0, due_before=T0 + timedelta(hours=2)),
        lambda t: t.due_at is not None and T0 < t.due_at < T0 + timedelta(hours=2),
    ),
]


@pytest.mark.parametrize(("name", "task_filter", "keep"), FILTERS, ids=[f[0] for f in FILTERS])
async def test_list_filters(
    uow: UnitOfWorkFactory,
    owner: str,
    varied_tasks: list[Task],
    name: str,
    task_filter: TaskFilter,
    keep: Callable[[Task], bool],
) -> None:
    tasks = await listing(uow, owner, TaskQuery(task_filter, TaskOrder(), limit=100))

    expected = {t.id for t in varied_tasks if keep(t)}
    assert {t.id for t in tasks} == expected
    assert expected, f"the fixture should exercise the {name} filter"


async def test_search_treats_like_wildcards_literally(uow: UnitOfWorkFactory, owner: str) -> None:
    await store(
        uow,
        make_task(owner, "100% done"),
        make_task(owner, "1000 done"),
        make_task(owner, "snake_case"),
        make_task(owner, "snakeXcase"),
        make_task(owner, "plain", description="back\\slash"),
    )

    async def titles(search: str) -> set[str]:
        found = await listing(uow, owner, TaskQuery(TaskFilter(search=search), TaskOrder(), 100))
        return {t.title for t in found}

    assert await titles("0%") == {"100% done"}
    assert await titles("e_c") == {"snake_case"}
    assert await titles("k\\s") == {"plain"}


async def test_list_respects_the_limit(uow: UnitOfWorkFactory, owner: str) -> None:
    await store(uow, *(make_task(owner, f"t{i}") for i in range(5)))

    tasks = await listing(uow, owner, TaskQuery(TaskFilter(), TaskOrder(), limit=2))

    assert len(tasks) == 2


async def test_lock_owner_can_be_taken_in_a_unit_of_work(
    uow: UnitOfWorkFactory, owner: str
) -> None:
    async with uow() as unit:
        await unit.tasks.lock_owner(owner)
        assert await unit.tasks.add_if_fewer_than(make_task(owner), 10)
        await unit.commit()

    async with uow() as unit:
        assert await unit.tasks.count(owner) == 1


async def test_an_idempotency_key_is_claimed_once_and_remembers_its_task(
    uow: UnitOfWorkFactory, owner: str
) -> None:
    task = make_task(owner, "keyed")
    async with uow() as unit:
        first_claim = await unit.idempotency.claim(owner, "key-1", "fp", T0)
        assert await unit.tasks.add_if_fewer_than(task, 10)
        await unit.idempotency.remember(owner, "key-1", task)
        await unit.commit()

    async with uow() as unit:
        again = await unit.idempotency.claim(owner, "key-1", "fp", T0 + timedelta(hours=1))
        elsewhere = await unit.idempotency.claim(f"{owner}-other", "key-1", "fp", T0)

    assert first_claim is None
    assert again is not None
    assert again.fingerprint == "fp"
    assert again.task == task
    assert elsewhere is None


async def test_an_uncommitted_claim_is_forgotten(uow: UnitOfWorkFactory, owner: str) -> None:
    async with uow() as unit:
        await unit.idempotency.claim(owner, "key-2", "fp", T0)

    async with uow() as unit:
        assert await unit.idempotency.claim(owner, "key-2", "other", T0) is None


async def test_expired_keys_are_free_and_purged(uow: UnitOfWorkFactory, owner: str) -> None:
    async with uow() as unit:
        await unit.idempotency.claim(owner, "old", "fp", T0)
        await unit.commit()
    later = T0 + timedelta(hours=24, seconds=1)

    async with uow() as unit:
        reclaimed = await unit.idempotency.claim(owner, "old", "new-fp", later)
        await unit.commit()
    async with uow() as unit:
        purged = await unit.idempotency.purge(later + timedelta(seconds=1))
        await unit.commit()

    assert reclaimed is None
    assert purged >= 1


async def test_search_folds_case_beyond_ascii(uow: UnitOfWorkFactory, owner: str) -> None:
    await store(
        uow,
        make_task(owner, "ÉCOLE"),
        make_task(owner, "Straße", description="Über alles"),
        make_task(owner, "plain"),
    )

    async def titles(search: str) -> set[str]:
        found = await listing(uow, owner, TaskQuery(TaskFilter(search=search), TaskOrder(), 100))
        return {t.title for t in found}

    assert await titles("école") == {"ÉCOLE"}
    assert await titles("über") == {"Straße"}
    assert await titles("STRASSE") == set()  # no casefold: ß stays ß, as in PostgreSQL


async def test_add_many_stores_every_task_with_every_field(
    uow: UnitOfWorkFactory, owner: str
) -> None:
    tasks = [
        make_task(
            owner,
            f"bulk {i} ✓",
            description=None if i % 3 else f"line one\nline {i}",
            due_at=None if i % 4 == 0 else T0 + timedelta(days=i, microseconds=i),
            priority=list(Priority)[i % 4],
            completed=i % 2 == 0,
        )
        for i in range(25)
    ]
    edited = tasks[1]
    edited.apply(TaskChanges(title="edited", completed=True), T0 + timedelta(hours=1))

    async with uow() as unit:
        await unit.tasks.add_many(tasks)
        await unit.tasks.add_many([])
        await unit.commit()

    async with uow() as unit:
        loaded = [await unit.tasks.get(owner, task.id) for task in tasks]
        assert await unit.tasks.count(owner) == len(tasks)
    assert loaded == tasks
    assert loaded[1] is not None
    assert (loaded[1].version, loaded[1].completed_at) == (2, T0 + timedelta(hours=1))


async def test_add_many_without_commit_adds_nothing(uow: UnitOfWorkFactory, owner: str) -> None:
    async with uow() as unit:
        await unit.tasks.add_many([make_task(owner, f"t{i}") for i in range(3)])

    async with uow() as unit:
        assert await unit.tasks.count(owner) == 0


async def test_add_if_fewer_than_stops_at_the_limit(uow: UnitOfWorkFactory, owner: str) -> None:
    async with uow() as unit:
        await unit.tasks.lock_owner(owner)
        added = [await unit.tasks.add_if_fewer_than(make_task(owner, f"t{i}"), 2) for i in range(3)]
        await unit.commit()

    assert added == [True, True, False]
    async with uow() as unit:
        assert await unit.tasks.count(owner) == 2


async def test_the_1_1_fields_read_back(uow: UnitOfWorkFactory, owner: str) -> None:
    task = make_task(
        owner,
        tags=("été", "work"),
        recurrence="FREQ=MONTHLY;BYDAY=-1FR",
        time_zone="Europe/Berlin",
        due_at=T0 + timedelta(days=3),
        remind_at=T0 + timedelta(days=2, microseconds=7),
    )
    following = (
        task.recur(new_task_id(), T0) if task.apply(TaskChanges(completed=True), T0) else None
    )
    assert following is not None
    await store(uow, task, following)

    async with uow() as unit:
        loaded, loaded_next = (
            await unit.tasks.get(owner, task.id),
            await unit.tasks.get(owner, following.id),
        )

    assert loaded == task
    assert (loaded.recurred, loaded.series_id) == (True, task.id)
    assert loaded_next == following


async def test_the_tag_filter_needs_every_tag(uow: UnitOfWorkFactory, owner: str) -> None:
    both = make_task(owner, "both", tags=("a", "b"), at=T0)
    only_a = make_task(owner, "a", tags=("a",), at=T0 + timedelta(seconds=1))
    none = make_task(owner, "none", at=T0 + timedelta(seconds=2))
    other = make_task(f"{owner}-other", "other", tags=("a", "b"))
    await store(uow, both, only_a, none, other)

    def query(*tags: str) -> TaskQuery:
        return TaskQuery(TaskFilter(tags=tags), TaskOrder(), limit=10)

    assert [t.id for t in await listing(uow, owner, query("a"))] == [only_a.id, both.id]
    assert [t.id for t in await listing(uow, owner, query("a", "b"))] == [both.id]
    assert await listing(uow, owner, query("c")) == []


async def test_tag_counts_are_the_owners_in_code_point_order(
    uow: UnitOfWorkFactory, owner: str
) -> None:
    done = make_task(owner, tags=("work", "Ωmega"), completed=True)
    await store(
        uow,
        make_task(owner, tags=("work", "b")),
        done,
        make_task(owner, tags=("Z",)),
        make_task(owner),
        make_task(f"{owner}-other", tags=("work", "secret")),
    )

    async with uow() as unit:
        counts = await unit.tasks.tag_counts(owner)

    assert [(c.tag, c.tasks, c.pending) for c in counts] == [
        ("b", 1, 1),
        ("work", 2, 1),
        ("z", 1, 1),
        ("ωmega", 1, 0),
    ]
