"""Every use case of application/tasks.py on the in-memory unit of work and a fixed clock."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.memory.unit_of_work import InMemoryUnitOfWork, InMemoryUnitOfWorkFactory
from application.commands import (
    ChangedTask,
    CreateTaskCommand,
    ListTasksQuery,
    PatchTaskCommand,
    ReplaceTaskCommand,
    SetCompletionCommand,
    TaskFields,
    TaskRef,
)
from application.cursor import CursorCodec, InvalidCursor
from application.idempotency import IdempotencyKeyReused, fields_fingerprint
from application.tasks import (
    ClearCompleted,
    CreateTask,
    DeleteTask,
    GetTask,
    ListTasks,
    PatchTask,
    PurgeIdempotencyKeys,
    ReplaceTask,
    SetCompletion,
    TaskStatistics,
)
from domain.errors import (
    InvalidOwner,
    InvalidTitle,
    TaskLimitReached,
    TaskNotFound,
    ValidationFailed,
    VersionConflict,
)
from domain.listing import TaskFilter, TaskOrder
from domain.task import Priority, Task, TaskChanges, TaskStats
from tests.conftest import FixedClock

ALL_SORTS = [
    "created_at",
    "-created_at",
    "updated_at",
    "-updated_at",
    "due_at",
    "-due_at",
    "priority",
    "-priority",
    "title",
    "-title",
]


class RecordingUnitOfWorkFactory:
    """The real in-memory factory, remembering the units of work it made."""

    def __init__(self) -> None:
        self.inner = InMemoryUnitOfWorkFactory()
        self.made: list[InMemoryUnitOfWork] = []

    def __call__(self, *, one_write: bool = False) -> InMemoryUnitOfWork:
        uow = self.inner(one_write=one_write)
        self.made.append(uow)
        return uow


def _task_of(change: Callable[[Any], Awaitable[ChangedTask]]) -> Callable[[Any], Awaitable[Task]]:
    async def changed_task(command: Any) -> Task:
        return (await change(command)).task

    return changed_task


@dataclass
class Service:
    """The use cases wired over one store, as the container would wire them."""

    clock: FixedClock
    max_tasks: int = 10_000
    uow: RecordingUnitOfWorkFactory = field(default_factory=RecordingUnitOfWorkFactory)

    def __post_init__(self) -> None:
        self.create = CreateTask(self.uow, self.clock, self.max_tasks)
        self.get = GetTask(self.uow)
        self.list = ListTasks(self.uow, CursorCodec(b"unit-test-secret"))
        self.stats = TaskStatistics(self.uow, self.clock)
        # The changes as their use cases answer (the task and any next occurrence) ...
        self.replace_changed = ReplaceTask(self.uow, self.clock, self.max_tasks)
        self.patch_changed = PatchTask(self.uow, self.clock, self.max_tasks)
        self.complete_changed = SetCompletion(self.uow, self.clock, self.max_tasks)
        # ... and as most tests look at them: the changed task.
        self.replace = _task_of(self.replace_changed)
        self.patch = _task_of(self.patch_changed)
        self.set_completion = _task_of(self.complete_changed)
        self.delete = DeleteTask(self.uow)
        self.clear_completed = ClearCompleted(self.uow)
        self.purge_keys = PurgeIdempotencyKeys(self.uow, self.clock)

    async def add(self, owner: str, title: str = "Buy milk", **fields: Any) -> Task:
        created = await self.create(CreateTaskCommand(owner, TaskFields(title=title, **fields)))
        return created.task

    async def stored(self, owner: str, task_id: uuid.UUID) -> Task | None:
        """What a fresh unit of work sees: the committed state."""
        async with self.uow.inner() as uow:
            return await uow.tasks.get(owner, task_id)

    async def stored_count(self, owner: str) -> int:
        async with self.uow.inner() as uow:
            return await uow.tasks.count(owner)


@pytest.fixture
def service(clock: FixedClock) -> Service:
    return Service(clock)


def ref(task: Task, versions: frozenset[int] | None = None) -> TaskRef:
    return TaskRef(task.user_id, task.id, versions)


# --- CreateTask -----------------------------------------------------------------------------


async def test_create_task_stores_and_commits(service: Service, owner: str) -> None:
    due = service.clock.now() + timedelta(days=3)

    task = await service.add(owner, "  Buy milk  ", description="2 litres", due_at=due)

    assert service.uow.made[-1].committed is True
    assert await service.stored(owner, task.id) == task
    assert task.title == "Buy milk"
    assert task.description == "2 litres"
    assert task.due_at == due
    assert task.version == 1
    assert task.user_id == owner
    assert task.created_at == task.updated_at == service.clock.now()


async def test_create_task_gives_each_task_its_own_uuid7(service: Service, owner: str) -> None:
    first = await service.add(owner)
    second = await service.add(owner)

    assert first.id != second.id
    assert first.id.version == second.id.version == 7


async def test_create_task_refuses_at_the_cap_and_stores_nothing(
    clock: FixedClock, owner: str
) -> None:
    service = Service(clock, max_tasks=3)
    for n in range(3):
        await service.add(owner, f"task {n}")

    with pytest.raises(TaskLimitReached) as caught:
        await service.add(owner, "one too many")

    assert caught.value.limit == 3
    assert await service.stored_count(owner) == 3


async def test_the_cap_is_per_owner(clock: FixedClock) -> None:
    service = Service(clock, max_tasks=1)
    await service.add("alice")

    task = await service.add("bob")

    assert await service.stored(task.user_id, task.id) == task


async def test_deleting_a_task_makes_room_under_the_cap(clock: FixedClock, owner: str) -> None:
    service = Service(clock, max_tasks=2)
    first = await service.add(owner)
    await service.add(owner)

    await service.delete(ref(first))
    await service.add(owner, "fits again")

    assert await service.stored_count(owner) == 2


async def test_create_task_with_an_invalid_title_stores_nothing(
    service: Service, owner: str
) -> None:
    with pytest.raises(InvalidTitle):
        await service.add(owner, "   ")

    assert await service.stored_count(owner) == 0


async def test_create_task_with_an_invalid_owner_is_refused(service: Service) -> None:
    with pytest.raises(InvalidOwner):
        await service.add("not/valid")


# --- CreateTask with an Idempotency-Key ----------------------------------------------------


def keyed(owner: str, key: str, title: str = "Buy milk", **fields: Any) -> CreateTaskCommand:
    return CreateTaskCommand(owner, TaskFields(title=title, **fields), idempotency_key=key)


async def test_a_repeat_with_the_same_key_and_fields_replays_the_first_task(
    service: Service, owner: str
) -> None:
    first = await service.create(keyed(owner, "key-1", priority=Priority.HIGH))
    service.clock.advance(minutes=1)

    again = await service.create(keyed(owner, "key-1", priority=Priority.HIGH))

    assert (first.replayed, again.replayed) == (False, True)
    assert again.task == first.task
    assert await service.stored_count(owner) == 1


async def test_the_same_key_with_other_fields_is_refused(service: Service, owner: str) -> None:
    await service.create(keyed(owner, "key-1", "Buy milk"))

    with pytest.raises(IdempotencyKeyReused):
        await service.create(keyed(owner, "key-1", "Buy bread"))

    assert await service.stored_count(owner) == 1


async def test_a_replay_returns_the_first_result_even_after_changes(
    service: Service, owner: str
) -> None:
    first = await service.create(keyed(owner, "key-1"))
    await service.patch(PatchTaskCommand(ref(first.task), TaskChanges(title="Renamed")))

    again = await service.create(keyed(owner, "key-1"))

    assert again.replayed is True
    assert again.task == first.task


async def test_idempotency_keys_are_scoped_to_the_owner(service: Service, owner: str) -> None:
    mine = await service.create(keyed(owner, "shared-key"))

    theirs = await service.create(keyed("someone-else", "shared-key"))

    assert theirs.replayed is False
    assert theirs.task.id != mine.task.id


async def test_a_key_is_forgotten_after_24_hours(service: Service, owner: str) -> None:
    first = await service.create(keyed(owner, "key-1"))
    service.clock.advance(hours=24, seconds=1)

    again = await service.create(keyed(owner, "key-1"))

    assert again.replayed is False
    assert again.task.id != first.task.id


async def test_a_create_refused_at_the_cap_does_not_use_up_its_key(
    clock: FixedClock, owner: str
) -> None:
    service = Service(clock, max_tasks=1)
    blocker = await service.add(owner)
    with pytest.raises(TaskLimitReached):
        await service.create(keyed(owner, "key-1"))
    await service.delete(ref(blocker))

    created = await service.create(keyed(owner, "key-1"))

    assert created.replayed is False
    assert await service.stored(owner, created.task.id) == created.task


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "new\nline", "clé"])
async def test_a_malformed_idempotency_key_is_refused(
    service: Service, owner: str, key: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await service.create(keyed(owner, key))

    assert caught.value.field == "Idempotency-Key"
    assert await service.stored_count(owner) == 0


async def test_purge_forgets_only_expired_keys(service: Service, owner: str) -> None:
    await service.create(keyed(owner, "old"))
    service.clock.advance(hours=23)
    await service.create(keyed(owner, "recent"))
    service.clock.advance(hours=1, seconds=1)

    purged = await service.purge_keys()
    recent = await service.create(keyed(owner, "recent"))

    assert purged == 1
    assert recent.replayed is True


async def test_a_key_of_255_printable_ascii_characters_is_accepted(
    service: Service, owner: str
) -> None:
    key = ("~ !Az09" * 40)[:255]

    created = await service.create(keyed(owner, key))

    assert created.replayed is False
    assert await service.stored_count(owner) == 1


# --- GetTask --------------------------------------------------------------------------------


async def test_get_task_returns_the_owners_task(service: Service, owner: str) -> None:
    task = await service.add(owner)

    assert await service.get(ref(task)) == task


async def test_get_task_of_another_owner_is_not_found(service: Service, owner: str) -> None:
    task = await service.add("someone-else")

    with pytest.raises(TaskNotFound):
        await service.get(TaskRef(owner, task.id))


async def test_get_task_of_an_unknown_id_is_not_found(service: Service, owner: str) -> None:
    with pytest.raises(TaskNotFound):
        await service.get(TaskRef(owner, uuid.uuid4()))


# --- ListTasks ------------------------------------------------------------------------------


async def seed_varied_tasks(service: Service, owner: str) -> list[Task]:
    """Tasks with ties on every sort key and some without a due date."""
    clock = service.clock
    base_due = clock.now() + timedelta(days=1)
    titles = ["banana", "apple", "cherry", "apple", "Banana", "date", "apple", "éclair"]
    priorities = list(Priority)
    tasks = []
    for n in range(14):
        if n % 2 == 0:  # pairs share created_at: ties broken by id
            clock.advance(seconds=1)
        due = None if n % 3 == 0 else base_due + timedelta(hours=n % 4)
        tasks.append(
            await service.add(
                owner,
                titles[n % len(titles)],
                priority=priorities[n % 4],
                due_at=due,
            )
        )
    # Some updates so updated_at differs from created_at, with ties too.
    clock.advance(minutes=1)
    for task in tasks[::4]:
        await service.patch(PatchTaskCommand(ref(task), TaskChanges(description="edited")))
    return [t for t in [await service.stored(owner, t.id) for t in tasks] if t is not None]


def expected_order(tasks: list[Task], sort: str) -> list[uuid.UUID]:
    """The contract's order, computed independently: key then id, same direction, no due last."""
    order = TaskOrder.parse(sort)
    present = [t for t in tasks if order.value_of(t) is not None]
    missing = [t for t in tasks if order.value_of(t) is None]
    present.sort(key=lambda t: (order.value_of(t), t.id), reverse=order.descending)
    missing.sort(key=lambda t: t.id, reverse=order.descending)
    return [t.id for t in present + missing]


async def walk(
    service: Service,
    owner: str,
    sort: str,
    limit: int,
    task_filter: TaskFilter | None = None,
) -> tuple[list[uuid.UUID], list[int]]:
    """Every page of a listing: the ids in order and each page's size."""
    ids: list[uuid.UUID] = []
    sizes: list[int] = []
    cursor = None
    for _ in range(1000):
        page = await service.list(
            ListTasksQuery(
                owner,
                filter=task_filter or TaskFilter(),
                order=TaskOrder.parse(sort),
                limit=limit,
                cursor=cursor,
            )
        )
        ids += [t.id for t in page.items]
        sizes.append(len(page.items))
        cursor = page.next_cursor
        if cursor is None:
            return ids, sizes
    raise AssertionError("paging never ended")


@pytest.mark.parametrize("limit", [1, 3, 5, 100])
@pytest.mark.parametrize("sort", ALL_SORTS)
async def test_paging_walks_every_task_once_in_order(
    service: Service, owner: str, sort: str, limit: int
) -> None:
    tasks = await seed_varied_tasks(service, owner)

    ids, _ = await walk(service, owner, sort, limit)

    assert len(ids) == len(set(ids)) == len(tasks)
    assert ids == expected_order(tasks, sort)


@pytest.mark.parametrize("sort", ["due_at", "-due_at"])
async def test_tasks_without_due_date_come_last_in_both_directions(
    service: Service, owner: str, sort: str
) -> None:
    tasks = await seed_varied_tasks(service, owner)
    without_due = {t.id for t in tasks if t.due_at is None}

    ids, _ = await walk(service, owner, sort, limit=2)

    assert set(ids[-len(without_due) :]) == without_due
    due_dates = [t.due_at for i in ids for t in tasks if t.id == i and t.due_at is not None]
    assert due_dates == sorted(due_dates, reverse=sort.startswith("-"))


async def test_default_listing_is_newest_first(service: Service, owner: str) -> None:
    first = await service.add(owner, "first")
    service.clock.advance(seconds=1)
    second = await service.add(owner, "second")

    page = await service.list(ListTasksQuery(owner))

    assert [t.id for t in page.items] == [second.id, first.id]


async def test_limit_and_next_cursor(service: Service, owner: str) -> None:
    for n in range(5):
        service.clock.advance(seconds=1)
        await service.add(owner, f"task {n}")

    exact = await service.list(ListTasksQuery(owner, limit=5))
    larger = await service.list(ListTasksQuery(owner, limit=6))
    _, sizes = await walk(service, owner, "-created_at", limit=2)

    assert (len(exact.items), exact.next_cursor, exact.limit) == (5, None, 5)
    assert (len(larger.items), larger.next_cursor) == (5, None)
    assert sizes == [2, 2, 1]


async def test_a_page_with_more_to_come_has_a_cursor(service: Service, owner: str) -> None:
    for n in range(3):
        await service.add(owner, f"task {n}")

    page = await service.list(ListTasksQuery(owner, limit=2))

    assert len(page.items) == 2
    assert page.limit == 2
    assert page.next_cursor is not None


async def test_empty_listing(service: Service, owner: str) -> None:
    page = await service.list(ListTasksQuery(owner))

    assert (page.items, page.next_cursor) == ([], None)


async def test_listing_shows_only_the_owners_tasks(service: Service, owner: str) -> None:
    mine = await service.add(owner, "mine")
    await service.add("someone-else", "theirs")

    page = await service.list(ListTasksQuery(owner))

    assert [t.id for t in page.items] == [mine.id]


async def test_paging_survives_creates_and_deletes_between_pages(
    service: Service, owner: str
) -> None:
    tasks = []
    for n in range(8):
        service.clock.advance(seconds=1)
        tasks.append(await service.add(owner, f"task {n}"))
    first_page = await service.list(ListTasksQuery(owner, order=TaskOrder.parse("title"), limit=3))
    seen = [t.id for t in first_page.items]
    unseen = [t for t in tasks if t.id not in seen]
    deleted = unseen[0]
    await service.delete(ref(deleted))
    service.clock.advance(seconds=1)
    await service.add(owner, "task 3½")  # sorts into the middle of the remaining pages

    cursor = first_page.next_cursor
    while cursor is not None:
        page = await service.list(
            ListTasksQuery(owner, order=TaskOrder.parse("title"), limit=3, cursor=cursor)
        )
        seen += [t.id for t in page.items]
        cursor = page.next_cursor

    assert len(seen) == len(set(seen))
    assert {t.id for t in tasks if t is not deleted} <= set(seen)
    assert deleted.id not in seen


async def test_list_filters(service: Service, owner: str) -> None:
    now = service.clock.now()
    milk = await service.add(
        owner, "Buy MILK", priority=Priority.HIGH, due_at=now + timedelta(days=1)
    )
    bread = await service.add(owner, "Bread", description="with milk inside", completed=True)
    call = await service.add(
        owner, "Call mum", priority=Priority.HIGH, due_at=now + timedelta(days=5)
    )

    async def ids(task_filter: TaskFilter) -> set[uuid.UUID]:
        page = await service.list(ListTasksQuery(owner, filter=task_filter))
        return {t.id for t in page.items}

    assert await ids(TaskFilter(completed=True)) == {bread.id}
    assert await ids(TaskFilter(completed=False)) == {milk.id, call.id}
    assert await ids(TaskFilter(priority=Priority.HIGH)) == {milk.id, call.id}
    assert await ids(TaskFilter(priority=Priority.LOW)) == set()
    assert await ids(TaskFilter(search="milk")) == {milk.id, bread.id}
    assert await ids(TaskFilter(due_before=now + timedelta(days=2))) == {milk.id}
    assert await ids(TaskFilter(due_after=now + timedelta(days=1))) == {call.id}
    assert await ids(TaskFilter(priority=Priority.HIGH, search="mum")) == {call.id}


async def test_paging_a_filtered_listing(service: Service, owner: str) -> None:
    wanted = set()
    for n in range(7):
        service.clock.advance(seconds=1)
        task = await service.add(
            owner, f"task {n}", priority=Priority.LOW if n % 2 else Priority.HIGH
        )
        if task.priority is Priority.HIGH:
            wanted.add(task.id)

    ids, _ = await walk(service, owner, "-created_at", 1, TaskFilter(priority=Priority.HIGH))

    assert len(ids) == len(wanted)
    assert set(ids) == wanted


async def test_a_cursor_used_with_another_sort_is_invalid(service: Service, owner: str) -> None:
    for n in range(3):
        await service.add(owner, f"task {n}")
    page = await service.list(ListTasksQuery(owner, limit=1))

    with pytest.raises(InvalidCursor):
        await service.list(
            ListTasksQuery(owner, order=TaskOrder.parse("title"), limit=1, cursor=page.next_cursor)
        )


async def test_a_cursor_used_with_other_filters_is_invalid(service: Service, owner: str) -> None:
    for n in range(3):
        await service.add(owner, f"task {n}")
    page = await service.list(ListTasksQuery(owner, limit=1))

    with pytest.raises(InvalidCursor) as caught:
        await service.list(
            ListTasksQuery(
                owner, filter=TaskFilter(completed=False), limit=1, cursor=page.next_cursor
            )
        )

    assert caught.value.field == "cursor"


async def test_a_garbage_cursor_is_invalid(service: Service, owner: str) -> None:
    with pytest.raises(InvalidCursor):
        await service.list(ListTasksQuery(owner, cursor="garbage"))


# --- ReplaceTask ----------------------------------------------------------------------------


async def test_replace_task_resets_omitted_fields_to_defaults(service: Service, owner: str) -> None:
    task = await service.add(
        owner,
        "Old",
        description="desc",
        completed=True,
        due_at=service.clock.now() + timedelta(days=1),
        priority=Priority.HIGH,
    )
    later = service.clock.advance(minutes=1)

    replaced = await service.replace(ReplaceTaskCommand(ref(task), TaskFields(title="New")))

    assert (replaced.title, replaced.description, replaced.completed) == ("New", None, False)
    assert (replaced.completed_at, replaced.due_at, replaced.priority) == (
        None,
        None,
        Priority.NONE,
    )
    assert (replaced.version, replaced.updated_at, replaced.created_at) == (
        2,
        later,
        task.created_at,
    )
    assert await service.stored(owner, task.id) == replaced


async def test_replace_task_with_the_same_fields_changes_nothing(
    service: Service, owner: str
) -> None:
    task = await service.add(owner, "Same", priority=Priority.LOW)
    service.clock.advance(minutes=1)

    replaced = await service.replace(
        ReplaceTaskCommand(ref(task), TaskFields(title="Same", priority=Priority.LOW))
    )

    assert replaced == task


async def test_replace_task_of_another_owner_is_not_found(service: Service, owner: str) -> None:
    task = await service.add("someone-else")

    with pytest.raises(TaskNotFound):
        await service.replace(ReplaceTaskCommand(TaskRef(owner, task.id), TaskFields(title="Mine")))

    assert (await service.stored("someone-else", task.id)) == task


# --- PatchTask ------------------------------------------------------------------------------


async def test_patch_task_changes_only_the_given_fields(service: Service, owner: str) -> None:
    task = await service.add(owner, "Title", description="desc", priority=Priority.LOW)
    later = service.clock.advance(minutes=1)

    patched = await service.patch(
        PatchTaskCommand(ref(task), TaskChanges(priority=Priority.HIGH, description=None))
    )

    assert (patched.title, patched.description, patched.priority) == ("Title", None, Priority.HIGH)
    assert (patched.version, patched.updated_at) == (2, later)
    assert await service.stored(owner, task.id) == patched


async def test_patch_task_with_empty_changes_leaves_version(service: Service, owner: str) -> None:
    task = await service.add(owner)
    service.clock.advance(minutes=1)

    patched = await service.patch(PatchTaskCommand(ref(task), TaskChanges()))

    assert patched == task
    assert patched.version == 1
    assert patched.updated_at == task.updated_at
    assert service.uow.made[-1].committed is False
    assert await service.stored(owner, task.id) == task


async def test_patch_task_with_a_bad_field_changes_nothing(service: Service, owner: str) -> None:
    task = await service.add(owner, "Title")

    with pytest.raises(InvalidTitle):
        await service.patch(
            PatchTaskCommand(ref(task), TaskChanges(priority=Priority.HIGH, title=" "))
        )

    assert await service.stored(owner, task.id) == task


# --- SetCompletion --------------------------------------------------------------------------


async def test_set_completion_without_value_toggles(service: Service, owner: str) -> None:
    task = await service.add(owner)
    first_time = service.clock.advance(minutes=1)

    done = await service.set_completion(SetCompletionCommand(ref(task)))
    service.clock.advance(minutes=1)
    reopened = await service.set_completion(SetCompletionCommand(ref(task)))

    assert (done.completed, done.completed_at, done.version) == (True, first_time, 2)
    assert (reopened.completed, reopened.completed_at, reopened.version) == (False, None, 3)
    assert await service.stored(owner, task.id) == reopened


async def test_set_completion_true_twice_is_a_no_op_the_second_time(
    service: Service, owner: str
) -> None:
    task = await service.add(owner)
    completed_at = service.clock.advance(minutes=1)
    first = await service.set_completion(SetCompletionCommand(ref(task), completed=True))
    service.clock.advance(minutes=1)

    second = await service.set_completion(SetCompletionCommand(ref(task), completed=True))

    assert (second.version, second.completed_at, second.updated_at) == (
        2,
        completed_at,
        completed_at,
    )
    assert second == first
    assert await service.stored(owner, task.id) == first


async def test_set_completion_false_reopens(service: Service, owner: str) -> None:
    task = await service.add(owner, completed=True)
    service.clock.advance(minutes=1)

    reopened = await service.set_completion(SetCompletionCommand(ref(task), completed=False))

    assert (reopened.completed, reopened.completed_at, reopened.version) == (False, None, 2)


# --- preconditions (If-Match) ---------------------------------------------------------------


async def test_matching_expected_version_lets_the_change_through(
    service: Service, owner: str
) -> None:
    task = await service.add(owner)

    patched = await service.patch(
        PatchTaskCommand(ref(task, frozenset({1, 7})), TaskChanges(title="New"))
    )

    assert patched.version == 2


@pytest.mark.parametrize("versions", [frozenset({2}), frozenset({0, 3}), frozenset()])
async def test_expected_versions_mismatch_is_a_conflict_and_changes_nothing(
    service: Service, owner: str, versions: frozenset[int]
) -> None:
    task = await service.add(owner)
    stale = ref(task, versions)
    attempts = [
        service.patch(PatchTaskCommand(stale, TaskChanges(title="New"))),
        service.replace(ReplaceTaskCommand(stale, TaskFields(title="New"))),
        service.set_completion(SetCompletionCommand(stale)),
        service.delete(stale),
    ]

    for attempt in attempts:
        with pytest.raises(VersionConflict) as caught:
            await attempt
        assert caught.value.current_version == 1

    assert await service.stored(owner, task.id) == task


async def test_a_stale_version_after_a_change_is_a_conflict(service: Service, owner: str) -> None:
    task = await service.add(owner)
    await service.patch(PatchTaskCommand(ref(task, frozenset({1})), TaskChanges(title="First")))

    with pytest.raises(VersionConflict) as caught:
        await service.patch(PatchTaskCommand(ref(task, frozenset({1})), TaskChanges(title="Lost")))

    assert caught.value.current_version == 2
    stored = await service.stored(owner, task.id)
    assert stored is not None
    assert stored.title == "First"


# --- DeleteTask -----------------------------------------------------------------------------


async def test_delete_task_then_again_is_not_found(service: Service, owner: str) -> None:
    task = await service.add(owner)

    await service.delete(ref(task))

    assert await service.stored(owner, task.id) is None
    with pytest.raises(TaskNotFound):
        await service.delete(ref(task))


async def test_delete_task_of_another_owner_is_not_found(service: Service, owner: str) -> None:
    task = await service.add("someone-else")

    with pytest.raises(TaskNotFound):
        await service.delete(TaskRef(owner, task.id))

    assert await service.stored("someone-else", task.id) == task


async def test_changing_a_deleted_task_is_not_found(service: Service, owner: str) -> None:
    task = await service.add(owner)
    await service.delete(ref(task))

    with pytest.raises(TaskNotFound):
        await service.patch(PatchTaskCommand(ref(task), TaskChanges(title="Ghost")))
    with pytest.raises(TaskNotFound):
        await service.set_completion(SetCompletionCommand(ref(task)))


# --- ClearCompleted -------------------------------------------------------------------------


async def test_clear_completed_removes_only_the_owners_completed_tasks(
    service: Service, owner: str
) -> None:
    done = [await service.add(owner, f"done {n}", completed=True) for n in range(3)]
    pending = await service.add(owner, "pending")
    theirs = await service.add("someone-else", "theirs", completed=True)

    deleted = await service.clear_completed(owner)

    assert deleted == 3
    assert [await service.stored(owner, t.id) for t in done] == [None, None, None]
    assert await service.stored(owner, pending.id) == pending
    assert await service.stored("someone-else", theirs.id) == theirs


async def test_clear_completed_with_nothing_to_clear_returns_zero(
    service: Service, owner: str
) -> None:
    await service.add(owner)

    assert await service.clear_completed(owner) == 0
    assert await service.stored_count(owner) == 1


# --- TaskStatistics -------------------------------------------------------------------------


async def test_task_statistics_counts(service: Service, owner: str) -> None:
    now = service.clock.now()
    await service.add(owner, "past due", due_at=now - timedelta(days=1))
    await service.add(owner, "past due too", due_at=now - timedelta(microseconds=1))
    await service.add(owner, "due right now", due_at=now)
    await service.add(owner, "due later", due_at=now + timedelta(days=1))
    await service.add(owner, "no due date")
    await service.add(owner, "done late", completed=True, due_at=now - timedelta(days=1))
    await service.add(owner, "done", completed=True)
    await service.add("someone-else", "theirs", due_at=now - timedelta(days=1))

    stats = await service.stats(owner)

    assert stats == TaskStats(total=7, completed=2, pending=5, overdue=2)


async def test_task_statistics_follow_the_clock(service: Service, owner: str) -> None:
    await service.add(owner, due_at=service.clock.now() + timedelta(hours=1))

    before = await service.stats(owner)
    service.clock.advance(hours=2)
    after = await service.stats(owner)

    assert (before.overdue, after.overdue) == (0, 1)


async def test_task_statistics_of_an_owner_without_tasks(service: Service, owner: str) -> None:
    assert await service.stats(owner) == TaskStats(total=0, completed=0, pending=0, overdue=0)


# --- the in-memory unit of work -------------------------------------------------------------


def a_task(owner: str, now: datetime) -> Task:
    return Task.create(id=uuid.uuid4(), user_id=owner, title="Uncommitted", now=now)


async def test_leaving_the_unit_of_work_without_commit_rolls_back(
    clock: FixedClock, owner: str
) -> None:
    factory = InMemoryUnitOfWorkFactory()
    task = a_task(owner, clock.now())

    async with factory() as uow:
        await uow.tasks.add_many([task])
        assert await uow.tasks.get(owner, task.id) == task

    async with factory() as uow:
        assert await uow.tasks.get(owner, task.id) is None
        assert await uow.tasks.count(owner) == 0


async def test_an_error_inside_the_unit_of_work_rolls_back(clock: FixedClock, owner: str) -> None:
    factory = InMemoryUnitOfWorkFactory()
    task = a_task(owner, clock.now())

    async def add_then_fail() -> None:
        async with factory() as uow:
            await uow.tasks.add_many([task])
            raise RuntimeError

    with pytest.raises(RuntimeError):
        await add_then_fail()

    async with factory() as uow:
        assert await uow.tasks.get(owner, task.id) is None


async def test_uncommitted_update_and_remove_are_rolled_back(clock: FixedClock, owner: str) -> None:
    factory = InMemoryUnitOfWorkFactory()
    kept = a_task(owner, clock.now())
    changed = a_task(owner, clock.now())
    async with factory() as uow:
        await uow.tasks.add_many([kept])
        await uow.tasks.add_many([changed])
        await uow.commit()

    async with factory() as uow:
        await uow.tasks.remove(owner, kept.id)
        loaded = await uow.tasks.get(owner, changed.id)
        assert loaded is not None
        loaded.apply(TaskChanges(title="Changed in place"), clock.now())
        await uow.tasks.update(loaded, expected_version=1)

    async with factory() as uow:
        assert await uow.tasks.get(owner, kept.id) == kept
        assert await uow.tasks.get(owner, changed.id) == changed


async def test_mutating_a_loaded_task_does_not_touch_the_store(
    clock: FixedClock, owner: str
) -> None:
    factory = InMemoryUnitOfWorkFactory()
    task = a_task(owner, clock.now())
    async with factory() as uow:
        await uow.tasks.add_many([task])
        await uow.commit()

    async with factory() as uow:
        loaded = await uow.tasks.get(owner, task.id)
        assert loaded is not None
        loaded.apply(TaskChanges(title="Mutated"), clock.now())
        await uow.commit()

    async with factory() as uow:
        assert await uow.tasks.get(owner, task.id) == task


async def test_explicit_rollback_drops_the_changes_so_far(clock: FixedClock, owner: str) -> None:
    factory = InMemoryUnitOfWorkFactory()
    dropped = a_task(owner, clock.now())
    kept = a_task(owner, clock.now())

    async with factory() as uow:
        await uow.tasks.add_many([dropped])
        await uow.rollback()
        await uow.tasks.add_many([kept])
        await uow.commit()

    async with factory() as uow:
        assert await uow.tasks.get(owner, dropped.id) is None
        assert await uow.tasks.get(owner, kept.id) == kept


async def test_changes_after_commit_without_another_commit_are_dropped(
    clock: FixedClock, owner: str
) -> None:
    factory = InMemoryUnitOfWorkFactory()
    committed = a_task(owner, clock.now())
    uncommitted = a_task(owner, clock.now())

    async with factory() as uow:
        await uow.tasks.add_many([committed])
        await uow.commit()
        await uow.tasks.add_many([uncommitted])

    async with factory() as uow:
        assert await uow.tasks.get(owner, committed.id) == committed
        assert await uow.tasks.get(owner, uncommitted.id) is None


async def test_update_with_a_stale_version_is_refused(clock: FixedClock, owner: str) -> None:
    factory = InMemoryUnitOfWorkFactory()
    task = a_task(owner, clock.now())
    async with factory() as uow:
        await uow.tasks.add_many([task])
        await uow.commit()

    async with factory() as uow:
        loaded = await uow.tasks.get(owner, task.id)
        assert loaded is not None
        loaded.apply(TaskChanges(title="New"), clock.now())
        refused = await uow.tasks.update(loaded, expected_version=5)

    assert refused is False


async def test_a_late_completion_skips_the_missed_dates(service: Service, owner: str) -> None:
    due = service.clock.now() + timedelta(hours=1)
    task = await service.add(owner, recurrence="FREQ=DAILY", due_at=due)
    service.clock.advance(days=3, hours=2)  # three occurrences missed

    changed = await service.complete_changed(SetCompletionCommand(ref(task), completed=True))

    assert changed.next_occurrence is not None
    assert changed.next_occurrence.due_at == due + timedelta(days=4)
    assert changed.next_occurrence.created_at == service.clock.now()
    assert await service.stored(owner, changed.next_occurrence.id) == changed.next_occurrence


async def test_an_early_completion_gives_the_date_after_the_due_date(
    service: Service, owner: str
) -> None:
    due = service.clock.now() + timedelta(days=10)
    task = await service.add(owner, recurrence="FREQ=WEEKLY;INTERVAL=2", due_at=due)

    changed = await service.complete_changed(SetCompletionCommand(ref(task)))

    assert changed.next_occurrence is not None
    assert changed.next_occurrence.due_at == due + timedelta(weeks=2)


async def test_a_completion_at_the_cap_changes_nothing(clock: FixedClock, owner: str) -> None:
    service = Service(clock, max_tasks=1)
    task = await service.add(owner, recurrence="FREQ=DAILY", due_at=clock.now())

    with pytest.raises(TaskLimitReached):
        await service.complete_changed(SetCompletionCommand(ref(task), completed=True))

    assert await service.stored(owner, task.id) == task
    assert await service.stored_count(owner) == 1


async def test_a_late_completion_counts_one_occurrence(service: Service, owner: str) -> None:
    due = service.clock.now() - timedelta(days=3)
    task = await service.add(owner, recurrence="FREQ=DAILY;COUNT=3", due_at=due)

    changed = await service.complete_changed(SetCompletionCommand(ref(task), completed=True))

    assert changed.next_occurrence is not None
    assert changed.next_occurrence.recurrence == "FREQ=DAILY;COUNT=2"
    assert changed.next_occurrence.due_at == due + timedelta(days=4)


async def test_a_series_ends_at_the_end_of_time(service: Service, owner: str) -> None:
    due = datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=UTC)
    task = await service.add(
        owner, recurrence="FREQ=DAILY", due_at=due, remind_at=due - timedelta(hours=1)
    )

    changed = await service.complete_changed(SetCompletionCommand(ref(task), completed=True))

    assert changed.task.completed
    assert changed.next_occurrence is None


def test_a_version_1_request_fingerprints_as_version_1_stored_it() -> None:
    # Digests stored by version 1 (f4597bb) for these fields: a retry across the upgrade
    # must replay, not be a 409.
    plain = TaskFields("Buy milk")
    full = TaskFields("Buy milk", "two", True, datetime(2026, 12, 1, 17, tzinfo=UTC), Priority.HIGH)

    assert fields_fingerprint(plain) == (
        "a635168d666b24ec8437d5016a31c36239132562f162c876adebd3dca700cbfc"
    )
    assert fields_fingerprint(full) == (
        "167c5af98806680680d21b900a04a41102826f0682c718b91b064cc0aae3106c"
    )
    assert fields_fingerprint(TaskFields("Buy milk", tags=("a",))) != fields_fingerprint(plain)
