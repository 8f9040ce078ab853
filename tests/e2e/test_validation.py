"""What the API refuses: bodies, fields, path and query parameters, media types and sizes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.helpers import (
    JSON,
    MISSING_TASK_ID,
    READ_ONLY_FIELDS,
    Client,
    assert_error,
    complete_url,
    create_task,
    fetch_task,
    list_tasks,
    task_url,
    tasks_url,
)

MAX_BODY_BYTES = 64 * 1024


async def _target(client: Client, owner: str, route: str) -> tuple[str, str]:
    """(method, url) of a body-taking route; the task routes get a fresh task to act on."""
    if route == "POST":
        return "POST", tasks_url(owner)
    task = await create_task(client, owner)
    if route == "COMPLETE":
        return "PATCH", complete_url(owner, task["id"])
    return route, task_url(owner, task["id"])


BODY_ROUTES = ["POST", "PUT", "PATCH"]
ALL_BODY_ROUTES = [*BODY_ROUTES, "COMPLETE"]


@pytest.mark.parametrize("route", ALL_BODY_ROUTES)
@pytest.mark.parametrize(
    "body", [b'{"completed": ', b"{'completed': true}", b"not json", b'{"completed": true,}']
)
async def test_invalid_json_is_malformed_request(
    client: Client, owner: str, route: str, body: bytes
) -> None:
    method, url = await _target(client, owner, route)
    before = await list_tasks(client, owner)

    response = await client.request(method, url, content=body, headers=JSON)

    assert_error(response, 400, "MALFORMED_REQUEST")
    assert await list_tasks(client, owner) == before


@pytest.mark.parametrize("route", ALL_BODY_ROUTES)
@pytest.mark.parametrize("body", [b'{"colour": 1', b'{"title": 3', b"[1, 2"])
async def test_invalid_json_with_a_bad_field_before_the_error_is_malformed_request(
    client: Client, owner: str, route: str, body: bytes
) -> None:
    method, url = await _target(client, owner, route)

    response = await client.request(method, url, content=body, headers=JSON)

    assert_error(response, 400, "MALFORMED_REQUEST")


@pytest.mark.parametrize("route", BODY_ROUTES)
@pytest.mark.parametrize("body", [b"", b"  \n "])
async def test_empty_body_where_one_is_required_is_malformed_request(
    client: Client, owner: str, route: str, body: bytes
) -> None:
    method, url = await _target(client, owner, route)

    response = await client.request(method, url, content=body, headers=JSON)

    assert_error(response, 400, "MALFORMED_REQUEST")


@pytest.mark.parametrize("route", ALL_BODY_ROUTES)
@pytest.mark.parametrize("body", [b"[]", b"null", b"3", b'"title"', b"true"])
async def test_json_that_is_not_an_object_is_a_validation_error(
    client: Client, owner: str, route: str, body: bytes
) -> None:
    method, url = await _target(client, owner, route)
    before = await list_tasks(client, owner)

    response = await client.request(method, url, content=body, headers=JSON)

    assert_error(response, 422, "VALIDATION_ERROR")
    assert await list_tasks(client, owner) == before


@pytest.mark.parametrize("route", ALL_BODY_ROUTES)
async def test_unknown_field_is_a_validation_error_naming_it(
    client: Client, owner: str, route: str
) -> None:
    method, url = await _target(client, owner, route)
    before = await list_tasks(client, owner)

    response = await client.request(method, url, json={"completed": True, "colour": "blue"})

    assert_error(response, 422, "VALIDATION_ERROR", "colour")
    assert await list_tasks(client, owner) == before


@pytest.mark.parametrize("route", BODY_ROUTES)
@pytest.mark.parametrize("field", READ_ONLY_FIELDS)
async def test_read_only_field_is_a_validation_error_naming_it(
    client: Client, owner: str, route: str, field: str
) -> None:
    method, url = await _target(client, owner, route)
    before = await list_tasks(client, owner)
    value = {"id": MISSING_TASK_ID, "user_id": owner, "version": 1}.get(
        field, "2026-11-22T10:00:00.123456Z"
    )

    response = await client.request(method, url, json={"title": "x", field: value})

    assert_error(response, 422, "VALIDATION_ERROR", field)
    assert await list_tasks(client, owner) == before


async def test_title_is_required_on_create(client: Client, owner: str) -> None:
    response = await client.post(tasks_url(owner), json={"description": "no title"})

    assert_error(response, 422, "VALIDATION_ERROR", "title")
    assert await list_tasks(client, owner) == []


async def test_title_is_required_on_replace(client: Client, owner: str) -> None:
    task = await create_task(client, owner)

    response = await client.put(task_url(owner, task["id"]), json={"priority": "high"})

    assert_error(response, 422, "VALIDATION_ERROR", "title")
    assert await fetch_task(client, owner, task["id"]) == task


_BAD_FIELDS: list[tuple[str, Any]] = [
    ("title", ""),
    ("title", "   \t\n "),
    ("title", "x" * 501),
    ("title", "🥛" * 501),
    ("title", "a\u0000b"),
    ("title", 3),
    ("title", ["a list"]),
    ("description", "d" * 2001),
    ("description", "nul \u0000 inside"),
    ("description", 12),
    ("completed", "true"),
    ("completed", 1),
    ("completed", "false"),
    ("due_at", "2026-12-01T17:00:00"),
    ("due_at", "2026-12-01"),
    ("due_at", "tomorrow"),
    ("due_at", 1767225600),
    ("priority", "urgent"),
    ("priority", "HIGH"),
    ("priority", 3),
]


@pytest.mark.parametrize(("field", "value"), _BAD_FIELDS)
async def test_bad_field_on_create_is_rejected_and_nothing_is_stored(
    client: Client, owner: str, field: str, value: Any
) -> None:
    body = {"title": "ok", field: value}

    response = await client.post(tasks_url(owner), json=body)

    assert_error(response, 422, "VALIDATION_ERROR", field)
    assert await list_tasks(client, owner) == []


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize(("field", "value"), _BAD_FIELDS)
async def test_bad_field_on_update_is_rejected_and_changes_nothing(
    client: Client, owner: str, method: str, field: str, value: Any
) -> None:
    task = await create_task(client, owner, description="keep", priority="low")

    response = await client.request(
        method, task_url(owner, task["id"]), json={"title": "ok", field: value}
    )

    assert_error(response, 422, "VALIDATION_ERROR", field)
    assert await fetch_task(client, owner, task["id"]) == task


@pytest.mark.parametrize("value", ["true", 1, None])
async def test_completion_value_must_be_a_boolean(client: Client, owner: str, value: Any) -> None:
    task = await create_task(client, owner)

    response = await client.patch(complete_url(owner, task["id"]), json={"completed": value})

    assert_error(response, 422, "VALIDATION_ERROR", "completed")
    assert await fetch_task(client, owner, task["id"]) == task


def _body_of_size(size: int) -> bytes:
    """A valid JSON object of exactly `size` bytes (its description is far too long)."""
    frame = b'{"title": "big", "description": ""}'
    body = frame[:-2] + b"d" * (size - len(frame)) + frame[-2:]
    assert len(body) == size
    json.loads(body)
    return body


@pytest.mark.parametrize("route", ALL_BODY_ROUTES)
async def test_body_over_64_kib_is_payload_too_large(
    client: Client, owner: str, route: str
) -> None:
    method, url = await _target(client, owner, route)
    before = await list_tasks(client, owner)

    response = await client.request(
        method, url, content=_body_of_size(MAX_BODY_BYTES + 1), headers=JSON
    )

    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert await list_tasks(client, owner) == before


async def test_body_of_exactly_64_kib_is_read(client: Client, owner: str) -> None:
    response = await client.post(
        tasks_url(owner), content=_body_of_size(MAX_BODY_BYTES), headers=JSON
    )

    # Read and judged on its content (the description is too long), not refused for its size.
    assert_error(response, 422, "VALIDATION_ERROR", "description")


async def test_much_larger_body_is_payload_too_large(client: Client, owner: str) -> None:
    response = await client.post(
        tasks_url(owner), content=_body_of_size(4 * 1024 * 1024), headers=JSON
    )

    assert_error(response, 413, "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize("route", ALL_BODY_ROUTES)
@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data"],
)
async def test_body_that_is_not_json_is_unsupported_media_type(
    client: Client, owner: str, route: str, content_type: str
) -> None:
    method, url = await _target(client, owner, route)
    before = await list_tasks(client, owner)

    response = await client.request(
        method, url, content=b'{"title": "x"}', headers={"content-type": content_type}
    )

    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert await list_tasks(client, owner) == before


BAD_USER_IDS = ["al!ce", "x" * 129, "al ice", "al%00ice", "é", "al'ice", "al*ce", "al,ice"]


def _user_routes(user_id: str) -> list[tuple[str, str]]:
    return [
        ("GET", f"/api/{user_id}/tasks"),
        ("POST", f"/api/{user_id}/tasks"),
        ("DELETE", f"/api/{user_id}/tasks?completed=true"),
        ("GET", f"/api/{user_id}/tasks/stats"),
        ("GET", f"/api/{user_id}/tasks/{MISSING_TASK_ID}"),
        ("PUT", f"/api/{user_id}/tasks/{MISSING_TASK_ID}"),
        ("PATCH", f"/api/{user_id}/tasks/{MISSING_TASK_ID}"),
        ("DELETE", f"/api/{user_id}/tasks/{MISSING_TASK_ID}"),
        ("PATCH", f"/api/{user_id}/tasks/{MISSING_TASK_ID}/complete"),
    ]


@pytest.mark.parametrize("user_id", BAD_USER_IDS)
async def test_bad_user_id_is_a_validation_error_naming_user_id(
    client: Client, user_id: str
) -> None:
    for method, url in _user_routes(user_id):
        body = {"title": "x"} if method in {"POST", "PUT", "PATCH"} else None

        response = await client.request(method, url, json=body)

        assert_error(response, 422, "VALIDATION_ERROR", "user_id")


@pytest.mark.parametrize("user_id", ["a", "x" * 128, "A-Z.a_z~0@9:|+-"])
async def test_user_id_of_the_allowed_characters_is_accepted(
    client: Client, user_id: str, owner: str
) -> None:
    # Prefixed with the test's own owner when room allows, so reruns never share rows.
    user_id = user_id if len(user_id) == 128 else f"{owner}{user_id}"

    created = await create_task(client, user_id)

    assert created["user_id"] == user_id
    assert (await fetch_task(client, user_id, created["id"]))["user_id"] == user_id
    await client.delete(task_url(user_id, created["id"]))


@pytest.mark.parametrize(
    "task_id",
    ["not-a-uuid", "12345", MISSING_TASK_ID[:-1], MISSING_TASK_ID + "0", "g" * 32],
)
async def test_malformed_task_id_is_a_validation_error_naming_task_id(
    client: Client, owner: str, task_id: str
) -> None:
    routes = [
        ("GET", task_url(owner, task_id)),
        ("PUT", task_url(owner, task_id)),
        ("PATCH", task_url(owner, task_id)),
        ("DELETE", task_url(owner, task_id)),
        ("PATCH", complete_url(owner, task_id)),
    ]
    for method, url in routes:
        body = {"title": "x"} if method in {"PUT", "PATCH"} else None

        response = await client.request(method, url, json=body)

        assert_error(response, 422, "VALIDATION_ERROR", "task_id")


@pytest.mark.parametrize(
    ("route", "query", "unknown"),
    [
        ("list", {"foo": "1"}, "foo"),
        ("list", {"page": "2"}, "page"),
        ("list", {"Limit": "2"}, "Limit"),
        ("stats", {"completed": "true"}, "completed"),
        ("task", {"verbose": "1"}, "verbose"),
        ("bulk", {"completed": "true", "priority": "high"}, "priority"),
    ],
)
async def test_unknown_query_parameter_is_a_validation_error_naming_it(
    client: Client, owner: str, route: str, query: dict[str, str], unknown: str
) -> None:
    task = await create_task(client, owner, completed=True)
    method, url = {
        "list": ("GET", tasks_url(owner)),
        "stats": ("GET", f"{tasks_url(owner)}/stats"),
        "task": ("GET", task_url(owner, task["id"])),
        "bulk": ("DELETE", tasks_url(owner)),
    }[route]

    response = await client.request(method, url, params=query)

    assert_error(response, 422, "VALIDATION_ERROR", unknown)
    assert len(await list_tasks(client, owner)) == 1


async def test_query_string_of_10000_characters_is_a_validation_error(
    client: Client, owner: str
) -> None:
    response = await client.get(tasks_url(owner), params={"q": "q" * 10_000})

    assert_error(response, 422, "VALIDATION_ERROR", "q")


async def test_unknown_query_parameter_of_10000_characters_is_a_validation_error(
    client: Client, owner: str
) -> None:
    response = await client.get(tasks_url(owner), params={"x" * 5_000: "y" * 5_000})

    assert_error(response, 422, "VALIDATION_ERROR")


@pytest.mark.parametrize("limit", ["0", "501", "abc", "-1", "1.5", "", "99999999999999999999999"])
async def test_bad_limit_is_a_validation_error_naming_limit(
    client: Client, owner: str, limit: str
) -> None:
    response = await client.get(tasks_url(owner), params={"limit": limit})

    assert_error(response, 422, "VALIDATION_ERROR", "limit")


@pytest.mark.parametrize("limit", [1, 500])
async def test_limit_bounds_are_accepted(client: Client, owner: str, limit: int) -> None:
    response = await client.get(tasks_url(owner), params={"limit": limit})

    assert response.status_code == 200
    assert response.json()["meta"]["limit"] == limit


@pytest.mark.parametrize(
    "sort", ["bogus", "-", "--title", "id", "+title", "TITLE", "title,-id", ""]
)
async def test_bad_sort_is_a_validation_error_naming_sort(
    client: Client, owner: str, sort: str
) -> None:
    response = await client.get(tasks_url(owner), params={"sort": sort})

    assert_error(response, 422, "VALIDATION_ERROR", "sort")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("completed", "yes"),
        ("completed", "1"),
        ("priority", "urgent"),
        ("q", ""),
        ("q", "q" * 201),
        ("due_before", "2026-12-01T17:00:00"),
        ("due_before", "soon"),
        ("due_after", "2026-12-01"),
        ("cursor", "not-a-cursor"),
    ],
)
async def test_bad_listing_parameter_is_a_validation_error_naming_it(
    client: Client, owner: str, name: str, value: str
) -> None:
    response = await client.get(tasks_url(owner), params={name: value})

    assert_error(response, 422, "VALIDATION_ERROR", name)
