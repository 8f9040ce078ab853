"""The task routes end to end: the task's shape, each endpoint, conditional requests."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.helpers import (
    MISSING_TASK_ID,
    TASK_FIELDS,
    TASK_LIMIT,
    TIMESTAMP,
    Client,
    assert_error,
    complete_url,
    create_task,
    fetch_task,
    ids,
    instant,
    list_tasks,
    task_url,
    tasks_url,
)

PAST = "2000-01-01T00:00:00Z"
FUTURE = "2999-01-01T00:00:00Z"


async def test_create_returns_the_full_task_with_location_and_etag(
    client: Client, owner: str
) -> None:
    response = await client.post(tasks_url(owner), json={"title": "Buy milk"})

    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True
    task = body["data"]
    assert set(task) == TASK_FIELDS
    assert task["user_id"] == owner
    assert task["title"] == "Buy milk"
    assert task["description"] is None
    assert task["completed"] is False
    assert task["completed_at"] is None
    assert task["due_at"] is None
    assert task["priority"] == "none"
    assert task["version"] == 1
    assert TIMESTAMP.fullmatch(task["created_at"])
    assert task["updated_at"] == task["created_at"]
    assert response.headers["location"] == f"/api/{owner}/tasks/{task['id']}"
    assert response.headers["etag"] == '"1"'


async def test_location_of_a_new_task_serves_that_task(client: Client, owner: str) -> None:
    response = await client.post(tasks_url(owner), json={"title": "Buy milk"})

    fetched = await client.get(response.headers["location"])

    assert fetched.status_code == 200
    assert fetched.json()["data"] == response.json()["data"]


async def test_create_keeps_every_editable_field(client: Client, owner: str) -> None:
    task = await create_task(
        client,
        owner,
        title="Write report",
        description="Quarterly numbers",
        completed=True,
        due_at="2026-12-01T17:00:00Z",
        priority="high",
    )

    assert task["description"] == "Quarterly numbers"
    assert task["completed"] is True
    assert TIMESTAMP.fullmatch(task["completed_at"])
    assert instant(task["due_at"]) == instant("2026-12-01T17:00:00Z")
    assert task["priority"] == "high"
    assert await fetch_task(client, owner, task["id"]) == task


async def test_due_at_with_an_offset_is_shown_in_utc(client: Client, owner: str) -> None:
    task = await create_task(client, owner, due_at="2026-12-01T18:00:00+01:00")

    assert task["due_at"].endswith("Z")
    assert TIMESTAMP.fullmatch(task["due_at"])
    assert instant(task["due_at"]) == instant("2026-12-01T17:00:00Z")
    assert (await fetch_task(client, owner, task["id"]))["due_at"] == task["due_at"]


async def test_title_surrounding_white_space_is_trimmed(client: Client, owner: str) -> None:
    task = await create_task(client, owner, title="  \t Buy milk \n ")

    assert task["title"] == "Buy milk"


async def test_empty_description_is_stored_as_null(client: Client, owner: str) -> None:
    task = await create_task(client, owner, description="")

    assert task["description"] is None
    assert (await fetch_task(client, owner, task["id"]))["description"] is None


async def test_emoji_and_other_unicode_are_stored_intact(client: Client, owner: str) -> None:
    title = "Buy 🥛 and 🍪 for 👩‍👩‍👧 — ça coûte 5 €"
    description = "日本語のメモ 🚀 𝄞"

    created = await create_task(client, owner, title=title, description=description)

    fetched = await fetch_task(client, owner, created["id"])
    assert (fetched["title"], fetched["description"]) == (title, description)
    assert ids(await list_tasks(client, owner, q="🍪")) == [created["id"]]


@pytest.mark.parametrize("title", ["x" * 500, "🥛" * 500, " " + "y" * 500 + " "])
async def test_title_of_500_characters_is_accepted(client: Client, owner: str, title: str) -> None:
    task = await create_task(client, owner, title=title)

    assert task["title"] == title.strip()


async def test_description_of_2000_characters_is_accepted(client: Client, owner: str) -> None:
    task = await create_task(client, owner, description="d" * 2000)

    assert task["description"] == "d" * 2000


async def test_a_json_content_type_with_parameters_is_accepted(client: Client, owner: str) -> None:
    response = await client.post(
        tasks_url(owner),
        content=b'{"title": "charset"}',
        headers={"content-type": "application/json; charset=utf-8"},
    )

    assert response.status_code == 201


async def test_get_returns_the_task_with_its_etag(client: Client, owner: str) -> None:
    created = await create_task(client, owner)

    response = await client.get(task_url(owner, created["id"]))

    assert response.status_code == 200
    assert response.json() == {"success": True, "data": created}
    assert response.headers["etag"] == '"1"'


async def test_get_of_an_unknown_task_is_task_not_found(client: Client, owner: str) -> None:
    response = await client.get(task_url(owner, MISSING_TASK_ID))

    assert_error(response, 404, "TASK_NOT_FOUND")


async def test_if_none_match_with_the_current_etag_gives_304_without_body(
    client: Client, owner: str
) -> None:
    created = await create_task(client, owner)

    response = await client.get(task_url(owner, created["id"]), headers={"If-None-Match": '"1"'})

    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == '"1"'


async def test_if_none_match_with_an_old_etag_gives_the_task(client: Client, owner: str) -> None:
    created = await create_task(client, owner)
    await client.patch(task_url(owner, created["id"]), json={"title": "renamed"})

    response = await client.get(task_url(owner, created["id"]), headers={"If-None-Match": '"1"'})

    assert response.status_code == 200
    assert response.headers["etag"] == '"2"'
    assert response.json()["data"]["title"] == "renamed"


async def test_put_replaces_and_resets_omitted_fields_to_defaults(
    client: Client, owner: str
) -> None:
    created = await create_task(
        client,
        owner,
        title="old",
        description="old description",
        completed=True,
        due_at=FUTURE,
        priority="high",
    )

    response = await client.put(task_url(owner, created["id"]), json={"title": "new"})

    assert response.status_code == 200
    assert response.headers["etag"] == '"2"'
    task = response.json()["data"]
    assert task["title"] == "new"
    assert task["description"] is None
    assert task["completed"] is False
    assert task["completed_at"] is None
    assert task["due_at"] is None
    assert task["priority"] == "none"
    assert task["version"] == 2
    assert (task["id"], task["created_at"]) == (created["id"], created["created_at"])
    assert instant(task["updated_at"]) > instant(created["updated_at"])
    assert await fetch_task(client, owner, created["id"]) == task


async def test_put_sets_every_given_field(client: Client, owner: str) -> None:
    created = await create_task(client, owner)

    response = await client.put(
        task_url(owner, created["id"]),
        json={
            "title": "all",
            "description": "set",
            "completed": True,
            "due_at": "2027-01-01T00:00:00-05:00",
            "priority": "low",
        },
    )

    task = response.json()["data"]
    assert (task["title"], task["description"], task["priority"]) == ("all", "set", "low")
    assert task["completed"] is True
    assert TIMESTAMP.fullmatch(task["completed_at"])
    assert instant(task["due_at"]) == instant("2027-01-01T05:00:00Z")


async def test_put_of_an_unknown_task_is_task_not_found(client: Client, owner: str) -> None:
    response = await client.put(task_url(owner, MISSING_TASK_ID), json={"title": "x"})

    assert_error(response, 404, "TASK_NOT_FOUND")


async def test_patch_changes_only_the_given_fields(client: Client, owner: str) -> None:
    created = await create_task(
        client, owner, title="keep", description="keep too", due_at=FUTURE, priority="low"
    )

    response = await client.patch(task_url(owner, created["id"]), json={"priority": "high"})

    assert response.status_code == 200
    assert response.headers["etag"] == '"2"'
    task = response.json()["data"]
    assert task["priority"] == "high"
    assert (task["title"], task["description"], task["due_at"]) == (
        created["title"],
        created["description"],
        created["due_at"],
    )
    assert task["version"] == 2
    assert instant(task["updated_at"]) > instant(created["updated_at"])


@pytest.mark.parametrize("field", ["description", "due_at"])
async def test_patch_null_clears_description_and_due_at(
    client: Client, owner: str, field: str
) -> None:
    created = await create_task(client, owner, description="something", due_at=FUTURE)

    response = await client.patch(task_url(owner, created["id"]), json={field: None})

    assert response.status_code == 200
    assert response.json()["data"][field] is None
    assert (await fetch_task(client, owner, created["id"]))[field] is None


@pytest.mark.parametrize("field", ["title", "completed", "priority"])
async def test_patch_null_for_a_required_field_is_rejected(
    client: Client, owner: str, field: str
) -> None:
    created = await create_task(client, owner)

    response = await client.patch(task_url(owner, created["id"]), json={field: None})

    assert_error(response, 422, "VALIDATION_ERROR", field)
    assert await fetch_task(client, owner, created["id"]) == created


async def test_patch_with_an_empty_object_changes_nothing(client: Client, owner: str) -> None:
    created = await create_task(client, owner)

    response = await client.patch(task_url(owner, created["id"]), json={})

    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    assert response.json()["data"] == created
    assert await fetch_task(client, owner, created["id"]) == created


async def test_patch_completed_sets_and_clears_completed_at(client: Client, owner: str) -> None:
    created = await create_task(client, owner)

    done = (await client.patch(task_url(owner, created["id"]), json={"completed": True})).json()
    reopened = (
        await client.patch(task_url(owner, created["id"]), json={"completed": False})
    ).json()

    assert done["data"]["completed"] is True
    assert TIMESTAMP.fullmatch(done["data"]["completed_at"])
    assert reopened["data"]["completed"] is False
    assert reopened["data"]["completed_at"] is None
    assert reopened["data"]["version"] == 3


async def test_patch_of_an_unknown_task_is_task_not_found(client: Client, owner: str) -> None:
    response = await client.patch(task_url(owner, MISSING_TASK_ID), json={"title": "x"})

    assert_error(response, 404, "TASK_NOT_FOUND")


async def test_complete_without_body_toggles_completion(client: Client, owner: str) -> None:
    created = await create_task(client, owner)

    first = await client.patch(complete_url(owner, created["id"]))
    second = await client.patch(complete_url(owner, created["id"]))

    assert first.status_code == 200
    assert first.headers["etag"] == '"2"'
    assert first.json()["data"]["completed"] is True
    assert TIMESTAMP.fullmatch(first.json()["data"]["completed_at"])
    assert second.status_code == 200
    assert second.json()["data"]["completed"] is False
    assert second.json()["data"]["completed_at"] is None
    assert second.json()["data"]["version"] == 3


@pytest.mark.parametrize("completed", [True, False])
async def test_complete_with_a_value_sets_it_and_a_repeat_changes_nothing(
    client: Client, owner: str, completed: bool
) -> None:
    created = await create_task(client, owner, completed=not completed)

    first = await client.patch(complete_url(owner, created["id"]), json={"completed": completed})
    repeat = await client.patch(complete_url(owner, created["id"]), json={"completed": completed})

    assert first.status_code == 200
    assert first.json()["data"]["completed"] is completed
    assert first.json()["data"]["version"] == 2
    assert repeat.status_code == 200
    assert repeat.json()["data"] == first.json()["data"]
    assert repeat.headers["etag"] == '"2"'


async def test_complete_with_an_empty_object_toggles(client: Client, owner: str) -> None:
    created = await create_task(client, owner)

    response = await client.patch(complete_url(owner, created["id"]), json={})

    assert response.status_code == 200
    assert response.json()["data"]["completed"] is True


async def test_complete_of_an_unknown_task_is_task_not_found(client: Client, owner: str) -> None:
    response = await client.patch(complete_url(owner, MISSING_TASK_ID))

    assert_error(response, 404, "TASK_NOT_FOUND")


async def test_delete_returns_the_id_and_the_task_is_gone(client: Client, owner: str) -> None:
    created = await create_task(client, owner)

    response = await client.delete(task_url(owner, created["id"]))

    assert response.status_code == 200
    assert response.json() == {"success": True, "data": {"id": created["id"]}}
    assert_error(await client.get(task_url(owner, created["id"])), 404, "TASK_NOT_FOUND")
    assert await list_tasks(client, owner) == []


async def test_delete_twice_is_task_not_found_the_second_time(client: Client, owner: str) -> None:
    created = await create_task(client, owner)
    await client.delete(task_url(owner, created["id"]))

    response = await client.delete(task_url(owner, created["id"]))

    assert_error(response, 404, "TASK_NOT_FOUND")


async def test_clear_completed_deletes_only_completed_tasks(client: Client, owner: str) -> None:
    await create_task(client, owner, title="done 1", completed=True)
    await create_task(client, owner, title="done 2", completed=True)
    pending = await create_task(client, owner, title="pending")

    response = await client.delete(tasks_url(owner), params={"completed": "true"})

    assert response.status_code == 200
    assert response.json() == {"success": True, "data": {"deleted": 2}}
    assert ids(await list_tasks(client, owner)) == [pending["id"]]


async def test_clear_completed_with_nothing_completed_deletes_nothing(
    client: Client, owner: str
) -> None:
    await create_task(client, owner)

    response = await client.delete(tasks_url(owner), params={"completed": "true"})

    assert response.json()["data"] == {"deleted": 0}
    assert len(await list_tasks(client, owner)) == 1


@pytest.mark.parametrize("query", [{}, {"completed": "false"}, {"completed": "1"}])
async def test_bulk_delete_without_completed_true_is_rejected_and_deletes_nothing(
    client: Client, owner: str, query: dict[str, str]
) -> None:
    done = await create_task(client, owner, completed=True)
    pending = await create_task(client, owner)

    response = await client.delete(tasks_url(owner), params=query)

    assert_error(response, 422, "VALIDATION_ERROR", "completed")
    assert sorted(ids(await list_tasks(client, owner))) == sorted([done["id"], pending["id"]])


async def test_stats_count_total_completed_pending_and_overdue(client: Client, owner: str) -> None:
    await create_task(client, owner, title="overdue", due_at=PAST)
    await create_task(client, owner, title="due later", due_at=FUTURE)
    await create_task(client, owner, title="no due date")
    await create_task(client, owner, title="done late", due_at=PAST, completed=True)
    await create_task(client, owner, title="done", completed=True)

    response = await client.get(f"{tasks_url(owner)}/stats")

    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "data": {"total": 5, "completed": 2, "pending": 3, "overdue": 1},
    }


async def test_stats_of_a_user_without_tasks_are_zero(client: Client, owner: str) -> None:
    response = await client.get(f"{tasks_url(owner)}/stats")

    assert response.json()["data"] == {"total": 0, "completed": 0, "pending": 0, "overdue": 0}


_CHANGES = {
    "put": ("PUT", "", {"title": "changed"}),
    "patch": ("PATCH", "", {"title": "changed"}),
    "complete": ("PATCH", "/complete", None),
    "delete": ("DELETE", "", None),
}


@pytest.mark.parametrize("change", list(_CHANGES))
async def test_stale_if_match_is_precondition_failed_and_changes_nothing(
    client: Client, owner: str, change: str
) -> None:
    method, suffix, body = _CHANGES[change]
    created = await create_task(client, owner)
    await client.patch(task_url(owner, created["id"]), json={"priority": "low"})
    current = await fetch_task(client, owner, created["id"])

    response = await client.request(
        method, task_url(owner, created["id"]) + suffix, json=body, headers={"If-Match": '"1"'}
    )

    assert_error(response, 412, "PRECONDITION_FAILED")
    assert await fetch_task(client, owner, created["id"]) == current


@pytest.mark.parametrize("change", list(_CHANGES))
async def test_current_if_match_lets_the_change_through(
    client: Client, owner: str, change: str
) -> None:
    method, suffix, body = _CHANGES[change]
    created = await create_task(client, owner)

    response = await client.request(
        method, task_url(owner, created["id"]) + suffix, json=body, headers={"If-Match": '"1"'}
    )

    assert response.status_code == 200
    assert response.json()["success"] is True


async def test_two_writers_with_the_same_etag_cannot_both_win(client: Client, owner: str) -> None:
    created = await create_task(client, owner)
    url = task_url(owner, created["id"])

    first = await client.patch(url, json={"title": "first"}, headers={"If-Match": '"1"'})
    second = await client.patch(url, json={"title": "second"}, headers={"If-Match": '"1"'})

    assert first.status_code == 200
    assert_error(second, 412, "PRECONDITION_FAILED")
    assert (await fetch_task(client, owner, created["id"]))["title"] == "first"


async def test_concurrent_writers_with_the_same_etag_cannot_both_win(
    client: Client, owner: str
) -> None:
    created = await create_task(client, owner)
    url = task_url(owner, created["id"])

    responses = await asyncio.gather(
        *(
            client.patch(url, json={"title": f"writer {n}"}, headers={"If-Match": '"1"'})
            for n in range(6)
        )
    )

    winners = [r for r in responses if r.status_code == 200]
    assert len(winners) == 1
    for response in responses:
        if response.status_code != 200:
            assert_error(response, 412, "PRECONDITION_FAILED")
    final = await fetch_task(client, owner, created["id"])
    assert final == winners[0].json()["data"]
    assert final["version"] == 2


@pytest.mark.parametrize(
    ("if_match", "status"),
    [("*", 200), ('"5", "1"', 200), ('W/"1"', 412), ('"01"', 412), ("1", 412), ('"x"', 412)],
)
async def test_if_match_forms(client: Client, owner: str, if_match: str, status: int) -> None:
    created = await create_task(client, owner)

    response = await client.patch(
        task_url(owner, created["id"]), json={"title": "changed"}, headers={"If-Match": if_match}
    )

    assert response.status_code == status, response.text


@pytest.mark.parametrize(
    ("if_none_match", "status"),
    [("*", 304), ('"5", "1"', 304), ('W/"1"', 304), ('"2"', 200), ('"x"', 200)],
)
async def test_if_none_match_forms(
    client: Client, owner: str, if_none_match: str, status: int
) -> None:
    created = await create_task(client, owner)

    response = await client.get(
        task_url(owner, created["id"]), headers={"If-None-Match": if_none_match}
    )

    assert response.status_code == status


async def test_completed_at_stays_when_a_completed_task_is_replaced_still_completed(
    client: Client, owner: str
) -> None:
    created = await create_task(client, owner, completed=True)

    response = await client.put(
        task_url(owner, created["id"]), json={"title": "renamed", "completed": True}
    )

    assert response.json()["data"]["completed_at"] == created["completed_at"]


async def test_create_beyond_the_task_limit_is_task_limit_reached(
    limited_client: Client, owner: str, other_owner: str
) -> None:
    for number in range(TASK_LIMIT):
        await create_task(limited_client, owner, title=f"task {number}")

    response = await limited_client.post(tasks_url(owner), json={"title": "one too many"})

    assert_error(response, 409, "TASK_LIMIT_REACHED")
    assert len(await list_tasks(limited_client, owner)) == TASK_LIMIT
    assert (await create_task(limited_client, other_owner))["user_id"] == other_owner


async def test_concurrent_creates_never_overshoot_the_limit(
    limited_client: Client, owner: str
) -> None:
    responses = await asyncio.gather(
        *(limited_client.post(tasks_url(owner), json={"title": f"t{n}"}) for n in range(8))
    )

    assert sum(r.status_code == 201 for r in responses) == TASK_LIMIT
    for response in responses:
        if response.status_code != 201:
            assert_error(response, 409, "TASK_LIMIT_REACHED")
    assert len(await list_tasks(limited_client, owner)) == TASK_LIMIT


async def test_deleting_a_task_makes_room_under_the_limit(
    limited_client: Client, owner: str
) -> None:
    tasks = [await create_task(limited_client, owner) for _ in range(TASK_LIMIT)]
    await limited_client.delete(task_url(owner, tasks[0]["id"]))

    response = await limited_client.post(tasks_url(owner), json={"title": "fits again"})

    assert response.status_code == 201
