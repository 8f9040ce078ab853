"""The HTTP edge's pure functions: path values, entity tags, strict bodies, readable errors."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.task import UNSET, Priority
from entrypoints.http.conditional import etag, expected_versions, none_match
from entrypoints.http.decoding import (
    FieldError,
    MalformedRequest,
    RequestInvalid,
    decode_body,
    decode_optional_body,
    describe_decode_error,
    owner_from_path,
    task_id_from_path,
)
from entrypoints.http.schemas import CompletionWrite, TaskPatch, TaskWrite


def invalid_fields(body: bytes, shape: type[object]) -> list[str]:
    with pytest.raises(RequestInvalid) as caught:
        decode_body(body, shape)
    return [e.field for e in caught.value.errors]


# --- path values ----------------------------------------------------------------------------


def test_owner_from_path_accepts_a_valid_user_id() -> None:
    assert owner_from_path("auth0|abc.def@x") == "auth0|abc.def@x"


@pytest.mark.parametrize("user_id", ["", "a b", "x" * 129, "é"])
def test_owner_from_path_refuses_naming_user_id(user_id: str) -> None:
    with pytest.raises(RequestInvalid) as caught:
        owner_from_path(user_id)

    assert [e.field for e in caught.value.errors] == ["user_id"]


def test_task_id_from_path_reads_a_uuid() -> None:
    task_id = uuid.uuid4()

    assert task_id_from_path(str(task_id)) == task_id


@pytest.mark.parametrize("task_id", ["", "42", "not-a-uuid", "0b7e3f5e-5d0a-4a4e-9f1e-3c1d2b8f6a1"])
def test_task_id_from_path_refuses_naming_task_id(task_id: str) -> None:
    with pytest.raises(RequestInvalid) as caught:
        task_id_from_path(task_id)

    assert [e.field for e in caught.value.errors] == ["task_id"]


# --- entity tags ----------------------------------------------------------------------------


def test_etag_is_the_quoted_version() -> None:
    assert etag(3) == '"3"'


@pytest.mark.parametrize(
    ("header", "versions"),
    [
        (None, None),
        ("*", None),
        (" * ", None),
        ('"3"', frozenset({3})),
        (' "3" ', frozenset({3})),
        ('"1", "2"', frozenset({1, 2})),
        ('"1","2" , "10"', frozenset({1, 2, 10})),
        ('W/"3"', frozenset()),
        ('W/"3", "4"', frozenset({4})),
        ("garbage", frozenset()),
        ("3", frozenset()),
        ('"abc"', frozenset()),
        ('"-1"', frozenset()),
        ('"3', frozenset()),
        ("", frozenset()),
        ('"99999999999999999999"', frozenset()),
    ],
)
def test_expected_versions(header: str | None, versions: frozenset[int] | None) -> None:
    assert expected_versions(header) == versions


def test_an_etag_round_trips_through_if_match() -> None:
    assert expected_versions(etag(42)) == frozenset({42})


@pytest.mark.parametrize("header", ['"³"', '"¹²"'])
def test_superscript_digits_in_an_entity_tag_match_nothing(header: str) -> None:
    assert expected_versions(header) == frozenset()
    assert none_match(header, 3) is False


def test_an_entity_tag_with_leading_zeros_is_another_tag() -> None:
    assert expected_versions('"03"') == frozenset()
    assert none_match('"03"', 3) is False


@pytest.mark.parametrize(
    ("header", "version", "matches"),
    [
        (None, 3, False),
        ("*", 3, True),
        (" * ", 1, True),
        ('"3"', 3, True),
        ('"3"', 4, False),
        ('W/"3"', 3, True),
        ('"1", W/"3"', 3, True),
        ('"1", "2"', 3, False),
        ("3", 3, False),
        ("garbage", 3, False),
        ("", 3, False),
    ],
)
def test_none_match_uses_weak_comparison(header: str | None, version: int, matches: bool) -> None:
    assert none_match(header, version) is matches


# --- strict bodies --------------------------------------------------------------------------


def test_decode_body_reads_a_full_task() -> None:
    body = (
        b'{"title": " Buy milk ", "description": "2 l", "completed": true,'
        b' "due_at": "2026-12-01T19:00:00+02:00", "priority": "high"}'
    )

    task = decode_body(body, TaskWrite)

    assert task.title == " Buy milk "  # trimming is the domain's job
    assert (task.description, task.completed, task.priority) == ("2 l", True, "high")
    assert task.due_at == datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    assert task.due_at is not None
    assert task.due_at.utcoffset() == timedelta(hours=2)


def test_task_write_fills_defaults() -> None:
    fields = decode_body(b'{"title": "x"}', TaskWrite).to_fields()

    assert (fields.description, fields.completed, fields.due_at) == (None, False, None)
    assert fields.priority is Priority.NONE


def test_task_patch_keeps_absent_fields_unset_and_null_clears() -> None:
    changes = decode_body(b'{"description": null, "due_at": null}', TaskPatch).to_changes()

    assert (changes.description, changes.due_at) == (None, None)
    assert changes.title is UNSET
    assert changes.completed is UNSET
    assert changes.priority is UNSET


def test_empty_patch_object_changes_nothing() -> None:
    changes = decode_body(b"{}", TaskPatch).to_changes()

    assert all(
        value is UNSET
        for value in (
            changes.title,
            changes.description,
            changes.completed,
            changes.due_at,
            changes.priority,
        )
    )


def test_string_true_for_completed_is_invalid_naming_completed() -> None:
    assert invalid_fields(b'{"completed": "true"}', TaskPatch) == ["completed"]
    assert invalid_fields(b'{"completed": 1}', CompletionWrite) == ["completed"]


@pytest.mark.parametrize("body", [b"[]", b"null", b"3", b'"text"', b"true"])
@pytest.mark.parametrize("shape", [TaskWrite, TaskPatch, CompletionWrite])
def test_json_that_is_not_an_object_is_invalid_naming_body(
    body: bytes, shape: type[object]
) -> None:
    assert invalid_fields(body, shape) == ["body"]


@pytest.mark.parametrize("body", [b"{bad", b'{"title": "x",}', b'{"title": "x"} x', b"\xff"])
def test_invalid_json_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedRequest):
        decode_body(body, TaskPatch)


@pytest.mark.parametrize("body", [b"", b"  \n "])
def test_an_empty_body_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedRequest):
        decode_body(body, TaskWrite)


def test_decode_optional_body_treats_empty_as_absent() -> None:
    assert decode_optional_body(b"", CompletionWrite) is None
    assert decode_optional_body(b" ", CompletionWrite) is None
    body = decode_optional_body(b'{"completed": false}', CompletionWrite)
    assert body is not None
    assert body.completed is False


def test_decode_optional_body_is_still_strict() -> None:
    with pytest.raises(MalformedRequest):
        decode_optional_body(b"{bad", CompletionWrite)
    with pytest.raises(RequestInvalid):
        decode_optional_body(b'{"completed": "false"}', CompletionWrite)


def test_unknown_field_is_invalid_naming_it() -> None:
    with pytest.raises(RequestInvalid) as caught:
        decode_body(b'{"title": "x", "colour": "red"}', TaskWrite)

    assert caught.value.errors == [FieldError("colour", "is not a known field")]


@pytest.mark.parametrize(
    "field", ["id", "user_id", "version", "created_at", "updated_at", "completed_at"]
)
@pytest.mark.parametrize("shape", [TaskWrite, TaskPatch])
def test_read_only_field_is_invalid_naming_it(field: str, shape: type[object]) -> None:
    body = f'{{"title": "x", "{field}": 1}}'.encode()

    with pytest.raises(RequestInvalid) as caught:
        decode_body(body, shape)

    assert caught.value.errors == [FieldError(field, "is read-only")]


@pytest.mark.parametrize("field", ["title", "completed", "priority"])
def test_null_for_a_required_patch_field_is_invalid_naming_it(field: str) -> None:
    assert invalid_fields(f'{{"{field}": null}}'.encode(), TaskPatch) == [field]


def test_missing_title_is_invalid_naming_title() -> None:
    with pytest.raises(RequestInvalid) as caught:
        decode_body(b'{"description": "x"}', TaskWrite)

    assert caught.value.errors == [FieldError("title", "is required")]


@pytest.mark.parametrize(
    "due_at", ["2026-12-01T17:00:00", "2026-12-01", "tomorrow", "2026-13-01T00:00:00Z"]
)
@pytest.mark.parametrize("shape", [TaskWrite, TaskPatch])
def test_due_at_without_offset_or_malformed_is_refused(due_at: str, shape: type[object]) -> None:
    body = f'{{"title": "x", "due_at": "{due_at}"}}'.encode()

    with pytest.raises(RequestInvalid) as caught:
        decode_body(body, shape)

    assert caught.value.errors == [
        FieldError("due_at", "must be an RFC 3339 timestamp with an offset")
    ]


def test_unknown_priority_is_invalid_naming_priority() -> None:
    with pytest.raises(RequestInvalid) as caught:
        decode_body(b'{"priority": "urgent"}', TaskPatch)

    assert caught.value.errors == [FieldError("priority", "must be one of none, low, medium, high")]


def test_wrong_type_for_title_is_invalid_naming_title() -> None:
    with pytest.raises(RequestInvalid) as caught:
        decode_body(b'{"title": 42}', TaskWrite)

    assert caught.value.errors == [FieldError("title", "must be a string, not an integer")]


def test_nul_and_emoji_pass_the_edge_for_the_domain_to_judge() -> None:
    body = decode_body('{"title": "🥛\\u0000"}'.encode(), TaskWrite)

    assert body.title == "🥛\x00"


# --- describe_decode_error ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "Expected `bool`, got `str` - at `$.completed`",
            FieldError("completed", "must be a boolean, not a string"),
        ),
        (
            "Expected `str | null`, got `int` - at `$.description`",
            FieldError("description", "must be a string or null, not an integer"),
        ),
        ("Expected `object`, got `array`", FieldError("body", "must be a JSON object")),
        ("Expected `object`, got `null`", FieldError("body", "must be a JSON object")),
        ("Object contains unknown field `foo`", FieldError("foo", "is not a known field")),
        ("Object contains unknown field `version`", FieldError("version", "is read-only")),
        ("Object missing required field `title`", FieldError("title", "is required")),
        (
            "Expected `datetime` with a timezone component - at `$.due_at`",
            FieldError("due_at", "must be an RFC 3339 timestamp with an offset"),
        ),
        (
            "Invalid RFC3339 encoded datetime - at `$.due_before`",
            FieldError("due_before", "must be an RFC 3339 timestamp with an offset"),
        ),
        (
            "Invalid enum value 'urgent' - at `$.priority`",
            FieldError("priority", "must be one of none, low, medium, high"),
        ),
        (
            "Expected `str` of length <= 500 - at `$.title`",
            FieldError("title", "must be at most 500 characters"),
        ),
        ("Expected `int` >= 1 - at `$.limit`", FieldError("limit", "must be an integer >= 1")),
        ("Expected `int` <= 500 - at `$.limit`", FieldError("limit", "must be an integer <= 500")),
        (
            "Expected `bool`, got `str` - at `$.items[0].completed`",
            FieldError("items", "must be a boolean, not a string"),
        ),
        ("Something Else happened", FieldError("body", "something Else happened")),
    ],
)
def test_describe_decode_error(message: str, expected: FieldError) -> None:
    assert describe_decode_error(message) == expected


# --- msgspec's own messages -----------------------------------------------------------------

# One body per kind of message msgspec gives for our shapes, decoded by the msgspec in the lock
# file: a rewording in an upgrade makes describe_decode_error fall back to the raw text, and
# this fails. (The table above pins the readings; this pins that msgspec still says them.)
MSGSPEC_CASES = [
    (b'{"title": 1}', TaskWrite, FieldError("title", "must be a string, not an integer")),
    (
        b'{"title": "x", "completed": "true"}',
        TaskWrite,
        FieldError("completed", "must be a boolean, not a string"),
    ),
    (
        b'{"title": "x", "description": 5}',
        TaskWrite,
        FieldError("description", "must be a string or null, not an integer"),
    ),
    (b"[]", TaskWrite, FieldError("body", "must be a JSON object")),
    (b"null", TaskPatch, FieldError("body", "must be a JSON object")),
    (b'{"title": "x", "foo": 1}', TaskWrite, FieldError("foo", "is not a known field")),
    (b'{"title": "x", "": 1}', TaskWrite, FieldError("", "is not a known field")),
    (b'{"title": "x", "version": 1}', TaskWrite, FieldError("version", "is read-only")),
    (b"{}", TaskWrite, FieldError("title", "is required")),
    (
        b'{"due_at": "2026-12-01T17:00:00"}',
        TaskPatch,
        FieldError("due_at", "must be an RFC 3339 timestamp with an offset"),
    ),
    (
        b'{"due_at": "tomorrow"}',
        TaskPatch,
        FieldError("due_at", "must be an RFC 3339 timestamp with an offset"),
    ),
    (
        b'{"priority": "urgent"}',
        TaskPatch,
        FieldError("priority", "must be one of none, low, medium, high"),
    ),
    (
        b'{"completed": null}',
        CompletionWrite,
        FieldError("completed", "must be a boolean, not null"),
    ),
]


@pytest.mark.parametrize(("body", "shape", "expected"), MSGSPEC_CASES)
def test_msgspec_messages_are_all_read(
    body: bytes, shape: type[object], expected: FieldError
) -> None:
    with pytest.raises(RequestInvalid) as caught:
        decode_body(body, shape)

    assert caught.value.errors == [expected]
