"""What a listing asks: the sort spellings of the contract and the filters' conditions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.listing import SortField, TaskFilter, TaskOrder
from domain.task import Priority, Task

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
DUE = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


def make_task(**fields: object) -> Task:
    arguments: dict[str, object] = {
        "id": uuid.uuid4(),
        "user_id": "alice",
        "title": "Buy milk",
        "now": NOW,
    }
    arguments.update(fields)
    return Task.create(**arguments)  # type: ignore[arg-type]


# --- TaskOrder.parse ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "field", "descending"),
    [
        ("created_at", SortField.CREATED_AT, False),
        ("-created_at", SortField.CREATED_AT, True),
        ("updated_at", SortField.UPDATED_AT, False),
        ("-updated_at", SortField.UPDATED_AT, True),
        ("due_at", SortField.DUE_AT, False),
        ("-due_at", SortField.DUE_AT, True),
        ("priority", SortField.PRIORITY, False),
        ("-priority", SortField.PRIORITY, True),
        ("title", SortField.TITLE, False),
        ("-title", SortField.TITLE, True),
    ],
)
def test_parse_reads_every_sort_of_the_contract(
    text: str, field: SortField, descending: bool
) -> None:
    order = TaskOrder.parse(text)

    assert (order.field, order.descending) == (field, descending)
    assert str(order) == text


def test_default_order_is_newest_first() -> None:
    assert str(TaskOrder()) == "-created_at"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "-",
        "--created_at",
        "+created_at",
        "created",
        "Created_At",
        "TITLE",
        " title",
        "title ",
        "id",
        "-id",
        "completed",
        "created_at,title",
        "title-",
    ],
)
def test_parse_refuses_other_spellings(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the parser's documented error
        TaskOrder.parse(text)


def test_priority_order_uses_the_rank_not_the_name() -> None:
    order = TaskOrder.parse("priority")
    tasks = [make_task(priority=p) for p in (Priority.HIGH, Priority.NONE, Priority.MEDIUM)]
    tasks.append(make_task(priority=Priority.LOW))

    ranked = sorted(tasks, key=order.value_of)  # type: ignore[arg-type, return-value]

    assert [t.priority for t in ranked] == [
        Priority.NONE,
        Priority.LOW,
        Priority.MEDIUM,
        Priority.HIGH,
    ]


def test_value_of_reads_the_sorted_field() -> None:
    task = make_task(title="Zebra", due_at=DUE)

    assert TaskOrder.parse("title").value_of(task) == "Zebra"
    assert TaskOrder.parse("-due_at").value_of(task) == DUE
    assert TaskOrder.parse("created_at").value_of(task) == NOW
    assert TaskOrder.parse("updated_at").value_of(make_task(due_at=None)) == NOW
    assert TaskOrder.parse("due_at").value_of(make_task()) is None


# --- TaskFilter.matches ---------------------------------------------------------------------


def test_empty_filter_matches_everything() -> None:
    assert TaskFilter().matches(make_task())
    assert TaskFilter().matches(make_task(completed=True, due_at=DUE))


def test_completed_filter() -> None:
    done = make_task(completed=True)
    pending = make_task()

    assert TaskFilter(completed=True).matches(done)
    assert not TaskFilter(completed=True).matches(pending)
    assert TaskFilter(completed=False).matches(pending)
    assert not TaskFilter(completed=False).matches(done)


def test_priority_filter() -> None:
    task = make_task(priority=Priority.MEDIUM)

    assert TaskFilter(priority=Priority.MEDIUM).matches(task)
    assert not TaskFilter(priority=Priority.HIGH).matches(task)
    assert not TaskFilter(priority=Priority.NONE).matches(task)


@pytest.mark.parametrize("needle", ["milk", "MILK", "Buy O", "y o", "oat", "buy oat milk"])
def test_search_matches_title_case_insensitively(needle: str) -> None:
    task = make_task(title="Buy Oat MILK")

    assert TaskFilter(search=needle).matches(task)


def test_search_matches_description_case_insensitively() -> None:
    task = make_task(title="Shopping", description="Remember the Milk")

    assert TaskFilter(search="the milk").matches(task)
    assert TaskFilter(search="REMEMBER").matches(task)


def test_search_that_is_in_neither_field_does_not_match() -> None:
    assert not TaskFilter(search="bread").matches(make_task(description="milk"))
    assert not TaskFilter(search="bread").matches(make_task(description=None))


def test_due_before_is_strict_and_excludes_tasks_without_due_date() -> None:
    task = make_task(due_at=DUE)

    assert TaskFilter(due_before=DUE + timedelta(microseconds=1)).matches(task)
    assert not TaskFilter(due_before=DUE).matches(task)
    assert not TaskFilter(due_before=DUE - timedelta(days=1)).matches(task)
    assert not TaskFilter(due_before=DUE).matches(make_task(due_at=None))


def test_due_after_is_strict_and_excludes_tasks_without_due_date() -> None:
    task = make_task(due_at=DUE)

    assert TaskFilter(due_after=DUE - timedelta(microseconds=1)).matches(task)
    assert not TaskFilter(due_after=DUE).matches(task)
    assert not TaskFilter(due_after=DUE + timedelta(days=1)).matches(task)
    assert not TaskFilter(due_after=DUE).matches(make_task(due_at=None))


def test_due_range_keeps_only_tasks_inside_it() -> None:
    window = TaskFilter(due_after=DUE - timedelta(days=1), due_before=DUE + timedelta(days=1))

    assert window.matches(make_task(due_at=DUE))
    assert not window.matches(make_task(due_at=DUE + timedelta(days=2)))
    assert not window.matches(make_task(due_at=DUE - timedelta(days=2)))


def test_every_given_condition_must_hold() -> None:
    task = make_task(title="Call mum", priority=Priority.HIGH, completed=True, due_at=DUE)
    everything = TaskFilter(
        completed=True,
        priority=Priority.HIGH,
        search="mum",
        due_before=DUE + timedelta(hours=1),
        due_after=DUE - timedelta(hours=1),
    )

    assert everything.matches(task)
    assert not TaskFilter(completed=True, priority=Priority.HIGH, search="dad").matches(task)
    assert not TaskFilter(completed=False, priority=Priority.HIGH, search="mum").matches(task)
