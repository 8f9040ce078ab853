"""Signed keyset cursors: they round-trip, and refuse anything altered or foreign."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from application.cursor import CursorCodec, InvalidCursor
from domain.errors import ValidationFailed
from domain.listing import Position, SortValue, TaskFilter, TaskOrder
from domain.task import Priority

SECRET = b"unit-test-cursor-secret"
B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
TASK_ID = uuid.UUID("0190f5c2-7a4b-7c3d-8e9f-0123456789ab")
WHEN = datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=UTC)


def codec() -> CursorCodec:
    return CursorCodec(SECRET)


def a_token(order: TaskOrder | None = None, task_filter: TaskFilter | None = None) -> str:
    return codec().encode(
        Position(WHEN, TASK_ID), order or TaskOrder(), task_filter or TaskFilter()
    )


def flip(token: str, index: int) -> str:
    """Change the character at `index` to one that differs in its most significant bit,
    so the decoded bytes always differ."""
    replacement = B64_ALPHABET[B64_ALPHABET.index(token[index]) ^ 0b100000]
    return token[:index] + replacement + token[index + 1 :]


@pytest.mark.parametrize(
    ("sort", "value"),
    [
        ("created_at", WHEN),
        ("-created_at", WHEN),
        ("updated_at", datetime(2026, 1, 1, tzinfo=UTC)),
        ("-updated_at", datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC)),
        ("due_at", datetime(2030, 6, 30, 23, 59, 59, 999999, tzinfo=UTC)),
        ("-due_at", WHEN),
        ("due_at", None),
        ("-due_at", None),
        ("priority", Priority.NONE.rank),
        ("-priority", Priority.HIGH.rank),
        ("title", "Buy milk"),
        ("-title", 'Quotes " and \\ and . and 🥛 and 牛乳'),
        ("title", "x" * 500),
    ],
)
def test_round_trip_for_every_sort(sort: str, value: SortValue) -> None:
    order = TaskOrder.parse(sort)
    position = Position(value, TASK_ID)

    token = codec().encode(position, order, TaskFilter())
    decoded = codec().decode(token, order, TaskFilter())

    assert decoded == position


def test_round_trip_keeps_a_datetime_instant_and_microseconds() -> None:
    order = TaskOrder.parse("due_at")
    value = datetime(2026, 12, 1, 19, 0, 0, 42, tzinfo=timezone(timedelta(hours=2)))

    decoded = codec().decode(
        codec().encode(Position(value, TASK_ID), order, TaskFilter()), order, TaskFilter()
    )

    assert decoded.value == value
    assert isinstance(decoded.value, datetime)
    assert decoded.value.microsecond == 42


def test_round_trip_with_filters() -> None:
    order = TaskOrder.parse("-priority")
    task_filter = TaskFilter(
        completed=False,
        priority=Priority.LOW,
        search="milk",
        due_before=WHEN + timedelta(days=1),
        due_after=WHEN - timedelta(days=1),
    )
    position = Position(Priority.LOW.rank, TASK_ID)

    decoded = codec().decode(codec().encode(position, order, task_filter), order, task_filter)

    assert decoded == position


def test_token_is_url_safe() -> None:
    token = codec().encode(Position("a/b+c?d&e=f", TASK_ID), TaskOrder.parse("title"), TaskFilter())

    assert set(token) <= set(B64_ALPHABET + ".")


def test_invalid_cursor_is_a_validation_error_naming_cursor() -> None:
    error = InvalidCursor()

    assert isinstance(error, ValidationFailed)
    assert error.field == "cursor"
    assert error.code == "VALIDATION_ERROR"


def test_flipping_any_character_of_the_token_is_refused() -> None:
    token = a_token()
    positions = [i for i, ch in enumerate(token) if ch != "."]

    for index in positions:
        with pytest.raises(InvalidCursor):
            codec().decode(flip(token, index), TaskOrder(), TaskFilter())


def test_flipping_one_character_of_the_payload_is_refused() -> None:
    token = a_token()

    with pytest.raises(InvalidCursor):
        codec().decode(flip(token, 5), TaskOrder(), TaskFilter())


def test_flipping_one_character_of_the_signature_is_refused() -> None:
    token = a_token()

    with pytest.raises(InvalidCursor):
        codec().decode(flip(token, token.index(".") + 3), TaskOrder(), TaskFilter())


def test_an_altered_token_that_decodes_to_the_same_bytes_is_refused() -> None:
    token = a_token()
    last = B64_ALPHABET.index(token[-1])
    # A 16-byte signature is 22 base64 characters; the last one carries 4 unused low bits.
    altered = token[:-1] + B64_ALPHABET[last ^ 0b000001]

    with pytest.raises(InvalidCursor):
        codec().decode(altered, TaskOrder(), TaskFilter())


def test_a_forged_payload_with_the_old_signature_is_refused() -> None:
    payload_text, signature_text = a_token().split(".")
    body = json.loads(base64.urlsafe_b64decode(payload_text + "=" * (-len(payload_text) % 4)))
    body["i"] = uuid.uuid4().hex
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()

    with pytest.raises(InvalidCursor):
        codec().decode(f"{forged}.{signature_text}", TaskOrder(), TaskFilter())


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        ".",
        "..",
        "abc",
        "abc.def",
        "a.b.c",
        "not a cursor at all",
        "%%%%.%%%%",
        "é.é",
        "eyJ9.",
        "\x00",
        "A" * 10_000,
    ],
)
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(InvalidCursor):
        codec().decode(garbage, TaskOrder(), TaskFilter())


def test_a_token_made_with_another_secret_is_refused() -> None:
    token = CursorCodec(b"another-secret").encode(
        Position(WHEN, TASK_ID), TaskOrder(), TaskFilter()
    )

    with pytest.raises(InvalidCursor):
        codec().decode(token, TaskOrder(), TaskFilter())


@pytest.mark.parametrize("other_sort", ["created_at", "-updated_at", "-due_at", "title"])
def test_a_token_used_with_another_sort_is_refused(other_sort: str) -> None:
    token = a_token(TaskOrder.parse("-created_at"))

    with pytest.raises(InvalidCursor):
        codec().decode(token, TaskOrder.parse(other_sort), TaskFilter())


@pytest.mark.parametrize(
    "other_filter",
    [
        TaskFilter(completed=True),
        TaskFilter(completed=False),
        TaskFilter(priority=Priority.NONE),
        TaskFilter(search="milk"),
        TaskFilter(search=""),
        TaskFilter(due_before=WHEN),
        TaskFilter(due_after=WHEN),
    ],
)
def test_a_token_used_with_other_filters_is_refused(other_filter: TaskFilter) -> None:
    token = a_token(TaskOrder(), TaskFilter())

    with pytest.raises(InvalidCursor):
        codec().decode(token, TaskOrder(), other_filter)


def test_a_filtered_token_used_without_its_filter_is_refused() -> None:
    token = a_token(TaskOrder(), TaskFilter(search="milk"))

    with pytest.raises(InvalidCursor):
        codec().decode(token, TaskOrder(), TaskFilter(search="MILK"))
    with pytest.raises(InvalidCursor):
        codec().decode(token, TaskOrder(), TaskFilter())


def test_a_title_cursor_used_for_a_priority_sort_is_refused() -> None:
    # Same direction, another field: even a value of the wrong type never reaches the keyset.
    token = codec().encode(Position("Buy milk", TASK_ID), TaskOrder.parse("title"), TaskFilter())

    with pytest.raises(InvalidCursor):
        codec().decode(token, TaskOrder.parse("priority"), TaskFilter())
