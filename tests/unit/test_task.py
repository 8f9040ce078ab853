"""The Task aggregate and the rules its fields keep."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta, timezone, tzinfo

import pytest

from domain.errors import (
    InvalidDescription,
    InvalidDueDate,
    InvalidOwner,
    InvalidTitle,
    ValidationFailed,
)
from domain.ids import new_task_id
from domain.task import UNSET, Priority, Task, TaskChanges, check_owner

NOW = datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)
OWNER_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~@:|+-"


def make_task(**fields: object) -> Task:
    arguments: dict[str, object] = {
        "id": uuid.uuid4(),
        "user_id": "alice",
        "title": "Buy milk",
        "now": NOW,
    }
    arguments.update(fields)
    return Task.create(**arguments)  # type: ignore[arg-type]


def snapshot(task: Task) -> dict[str, object]:
    return {name: getattr(task, name) for name in Task.__slots__}


# --- creation -------------------------------------------------------------------------------


def test_create_starts_at_version_one_with_defaults() -> None:
    task = make_task()

    assert task.version == 1
    assert task.title == "Buy milk"
    assert task.description is None
    assert task.completed is False
    assert task.completed_at is None
    assert task.due_at is None
    assert task.priority is Priority.NONE
    assert task.created_at == NOW
    assert task.updated_at == NOW


def test_create_completed_sets_completed_at() -> None:
    task = make_task(completed=True)

    assert task.completed is True
    assert task.completed_at == NOW


def test_create_refuses_an_invalid_owner() -> None:
    with pytest.raises(InvalidOwner) as caught:
        make_task(user_id="not valid")

    assert caught.value.field == "user_id"


# --- title ----------------------------------------------------------------------------------


def test_title_surrounding_white_space_is_trimmed() -> None:
    task = make_task(title="  \t Buy milk \n ")

    assert task.title == "Buy milk"


def test_title_of_500_characters_with_surrounding_spaces_is_accepted() -> None:
    task = make_task(title="   " + "x" * 500 + "   ")

    assert task.title == "x" * 500


def test_title_of_501_characters_is_refused() -> None:
    with pytest.raises(InvalidTitle) as caught:
        make_task(title="x" * 501)

    assert caught.value.field == "title"


@pytest.mark.parametrize("title", ["", " ", " \t\n "])
def test_title_empty_after_trimming_is_refused(title: str) -> None:
    with pytest.raises(InvalidTitle):
        make_task(title=title)


@pytest.mark.parametrize("title", ["a\x00b", "\x00", " \x00 "])
def test_title_with_nul_is_refused(title: str) -> None:
    with pytest.raises(InvalidTitle) as caught:
        make_task(title=title)

    assert caught.value.field == "title"


def test_title_keeps_emoji_and_other_unicode() -> None:
    title = "Café 🥛 — 牛乳"

    task = make_task(title=title)

    assert task.title == title


def test_title_length_counts_characters_not_bytes() -> None:
    task = make_task(title="🥛" * 500)

    assert len(task.title) == 500


# --- description ----------------------------------------------------------------------------


def test_description_of_2000_characters_is_accepted() -> None:
    task = make_task(description="d" * 2000)

    assert task.description == "d" * 2000


def test_description_of_2001_characters_is_refused() -> None:
    with pytest.raises(InvalidDescription) as caught:
        make_task(description="d" * 2001)

    assert caught.value.field == "description"


def test_empty_description_is_stored_as_none() -> None:
    task = make_task(description="")

    assert task.description is None


def test_description_with_nul_is_refused() -> None:
    with pytest.raises(InvalidDescription):
        make_task(description="line\x00break")


def test_description_set_to_empty_string_clears_it() -> None:
    task = make_task(description="something")

    changed = task.apply(TaskChanges(description=""), LATER)

    assert changed is True
    assert task.description is None


# --- due date -------------------------------------------------------------------------------


def test_due_at_without_offset_is_refused() -> None:
    with pytest.raises(InvalidDueDate) as caught:
        make_task(due_at=datetime(2026, 12, 1, 17, 0))

    assert caught.value.field == "due_at"


class _OffsetlessZone(tzinfo):
    """A tzinfo that knows no offset: the datetime is naive in effect."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


def test_due_at_with_a_tzinfo_without_offset_is_refused() -> None:
    with pytest.raises(InvalidDueDate):
        make_task(due_at=datetime(2026, 12, 1, 17, 0, tzinfo=_OffsetlessZone()))


def test_due_at_is_converted_to_utc() -> None:
    paris_winter = timezone(timedelta(hours=1))

    task = make_task(due_at=datetime(2026, 12, 1, 18, 0, tzinfo=paris_winter))

    assert task.due_at == datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    assert task.due_at is not None
    assert task.due_at.utcoffset() == timedelta(0)
    assert task.due_at.hour == 17


def test_a_new_due_date_is_converted_to_utc_and_none_clears_it() -> None:
    task = make_task()

    five_hours_behind = timezone(timedelta(hours=-5))
    task.apply(TaskChanges(due_at=datetime(2026, 12, 1, 12, 0, tzinfo=five_hours_behind)), LATER)
    assert task.due_at is not None
    assert (task.due_at.hour, task.due_at.utcoffset()) == (17, timedelta(0))

    task.apply(TaskChanges(due_at=None), LATER)
    assert task.due_at is None


def test_the_same_instant_in_another_offset_is_not_a_change() -> None:
    task = make_task(due_at=datetime(2026, 12, 1, 17, 0, tzinfo=UTC))

    changed = task.apply(
        TaskChanges(due_at=datetime(2026, 12, 1, 19, 0, tzinfo=timezone(timedelta(hours=2)))),
        LATER,
    )

    assert changed is False
    assert task.version == 1


# --- priority -------------------------------------------------------------------------------


def test_priorities_are_the_four_of_the_contract() -> None:
    assert [p.value for p in Priority] == ["none", "low", "medium", "high"]


def test_priority_rank_orders_none_low_medium_high() -> None:
    ranks = [Priority.NONE.rank, Priority.LOW.rank, Priority.MEDIUM.rank, Priority.HIGH.rank]

    assert ranks == sorted(ranks)
    assert len(set(ranks)) == 4


def test_unknown_priority_is_refused() -> None:
    with pytest.raises(ValueError, match="urgent"):
        Priority("urgent")


def test_a_priority_change_sets_the_priority() -> None:
    task = make_task()

    task.apply(TaskChanges(priority=Priority.HIGH), LATER)

    assert task.priority is Priority.HIGH


# --- version and updated_at -----------------------------------------------------------------


def test_each_change_bumps_version_by_one_and_moves_updated_at() -> None:
    task = make_task()

    first = task.apply(TaskChanges(title="Buy oat milk"), LATER)
    second = task.apply(TaskChanges(priority=Priority.LOW), LATER + timedelta(seconds=1))

    assert (first, second) == (True, True)
    assert task.version == 3
    assert task.updated_at == LATER + timedelta(seconds=1)
    assert task.created_at == NOW


def test_several_fields_changed_at_once_bump_version_once() -> None:
    task = make_task()

    changed = task.apply(
        TaskChanges(
            title="New",
            description="desc",
            completed=True,
            due_at=datetime(2026, 12, 1, tzinfo=UTC),
            priority=Priority.HIGH,
        ),
        LATER,
    )

    assert changed is True
    assert task.version == 2
    assert task.updated_at == LATER
    assert (task.title, task.description, task.completed, task.priority) == (
        "New",
        "desc",
        True,
        Priority.HIGH,
    )


def test_no_op_change_keeps_version_and_updated_at() -> None:
    task = make_task(description="desc", priority=Priority.LOW)
    before = snapshot(task)

    changed = task.apply(
        TaskChanges(title="Buy milk", description="desc", completed=False, priority=Priority.LOW),
        LATER,
    )

    assert changed is False
    assert snapshot(task) == before


def test_empty_changes_are_a_no_op() -> None:
    task = make_task()
    before = snapshot(task)

    changed = task.apply(TaskChanges(), LATER)

    assert changed is False
    assert snapshot(task) == before


def test_renaming_to_the_same_title_with_spaces_is_a_no_op() -> None:
    task = make_task()

    changed = task.apply(TaskChanges(title="  Buy milk  "), LATER)

    assert changed is False
    assert task.version == 1
    assert task.updated_at == NOW


def test_unset_differs_from_none() -> None:
    task = make_task(description="keep me")

    task.apply(TaskChanges(description=UNSET, title="Renamed"), LATER)

    assert task.description == "keep me"


# --- completion -----------------------------------------------------------------------------


def test_completing_sets_completed_at_and_reopening_clears_it() -> None:
    task = make_task()

    task.apply(TaskChanges(completed=True), LATER)
    assert (task.completed, task.completed_at) == (True, LATER)

    task.apply(TaskChanges(completed=False), LATER + timedelta(hours=1))
    assert (task.completed, task.completed_at) == (False, None)
    assert task.version == 3


def test_completing_a_completed_task_changes_nothing() -> None:
    task = make_task()
    task.apply(TaskChanges(completed=True), LATER)
    before = snapshot(task)

    changed = task.apply(TaskChanges(completed=True), LATER + timedelta(hours=1))

    assert changed is False
    assert snapshot(task) == before


def test_toggle_flips_completion() -> None:
    task = make_task()

    task.toggle(LATER)
    assert (task.completed, task.completed_at, task.version) == (True, LATER, 2)

    task.toggle(LATER + timedelta(seconds=1))
    assert (task.completed, task.completed_at, task.version) == (False, None, 3)


def test_is_overdue_only_when_pending_and_due_strictly_before_now() -> None:
    due = datetime(2026, 12, 1, tzinfo=UTC)
    task = make_task(due_at=due)

    assert task.is_overdue(due + timedelta(microseconds=1)) is True
    assert task.is_overdue(due) is False
    task.apply(TaskChanges(completed=True), LATER)
    assert task.is_overdue(due + timedelta(days=1)) is False
    assert make_task().is_overdue(due + timedelta(days=1)) is False


# --- atomic changes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        TaskChanges(title="Fine", description="d" * 2001),
        TaskChanges(title="Fine", completed=True, due_at=datetime(2026, 12, 1)),
        TaskChanges(title="", priority=Priority.HIGH, completed=True),
        TaskChanges(description="fine", title="bad\x00"),
    ],
)
def test_bad_field_in_a_multi_field_change_leaves_the_task_untouched(
    changes: TaskChanges,
) -> None:
    task = make_task(description="original")
    before = snapshot(task)

    with pytest.raises(ValidationFailed):
        task.apply(changes, LATER)

    assert snapshot(task) == before


# --- copies ---------------------------------------------------------------------------------


def test_copy_is_equal_and_independent() -> None:
    task = make_task()

    copy = task.copy()
    copy.apply(TaskChanges(title="Changed"), LATER)

    assert task.title == "Buy milk"
    assert copy != task
    assert task.copy() == task


# --- owner ids ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "user_id",
    [
        "alice",
        "a",
        OWNER_CHARACTERS,
        "auth0|1234567890",
        "user@example.com",
        "urn:x:1+2~3",
        "x" * 128,
        "-",
    ],
)
def test_check_owner_accepts_the_contract_character_set(user_id: str) -> None:
    assert check_owner(user_id) == user_id


@pytest.mark.parametrize(
    "user_id",
    [
        "",
        "x" * 129,
        "with space",
        "slash/here",
        "percent%20",
        "hash#",
        "question?",
        "comma,",
        "quote'",
        "back\\slash",
        "alice\n",
        "\nalice",
        "nul\x00",
        "émile",
        "ａｌｉｃｅ",  # noqa: RUF001 - full-width letters are not ASCII letters
        "٣",  # an Arabic-Indic digit is not 0-9
        "tab\t",
    ],
)
def test_check_owner_refuses_other_ids(user_id: str) -> None:
    with pytest.raises(InvalidOwner) as caught:
        check_owner(user_id)

    assert caught.value.field == "user_id"


# --- task ids -------------------------------------------------------------------------------


def test_new_task_id_is_a_uuid_version_7() -> None:
    task_id = new_task_id()

    assert task_id.version == 7
    assert task_id.variant == uuid.RFC_4122


def test_new_task_id_carries_the_creation_millisecond() -> None:
    before_ms = time.time_ns() // 1_000_000

    task_id = new_task_id()

    after_ms = time.time_ns() // 1_000_000
    assert before_ms <= task_id.int >> 80 <= after_ms


def test_new_task_ids_sort_by_creation_time(monkeypatch: pytest.MonkeyPatch) -> None:
    clock_ns = iter(range(1_800_000_000_000_000_000, 1_800_000_000_200_000_000, 1_000_000))
    monkeypatch.setattr(time, "time_ns", lambda: next(clock_ns))

    ids = [new_task_id() for _ in range(200)]

    assert ids == sorted(ids)
    assert ids == sorted(ids, key=str)
    assert len(set(ids)) == 200


def test_new_task_ids_made_in_the_same_millisecond_are_distinct(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(time, "time_ns", lambda: 1_800_000_000_000_000_000)

    ids = {new_task_id() for _ in range(1000)}

    assert len(ids) == 1000
    assert {i.int >> 80 for i in ids} == {1_800_000_000_000}
