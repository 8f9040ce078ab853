"""Isolation: a user sees, changes and deletes only their own tasks."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.helpers import (
    Client,
    assert_error,
    create_task,
    fetch_task,
    ids,
    list_tasks,
    task_url,
    tasks_url,
)

_FOREIGN_REQUESTS: dict[str, tuple[str, str, Any]] = {
    "get": ("GET", "", None),
    "put": ("PUT", "", {"title": "hijacked"}),
    "patch": ("PATCH", "", {"title": "hijacked"}),
    "complete": ("PATCH", "/complete", None),
    "set-complete": ("PATCH", "/complete", {"completed": False}),
    "delete": ("DELETE", "", None),
}


@pytest.mark.parametrize("action", list(_FOREIGN_REQUESTS))
async def test_another_users_task_is_task_not_found_and_stays_unchanged(
    client: Client, owner: str, other_owner: str, action: str
) -> None:
    method, suffix, body = _FOREIGN_REQUESTS[action]
    theirs = await create_task(client, owner, title="mine", completed=True)

    response = await client.request(method, task_url(other_owner, theirs["id"]) + suffix, json=body)

    assert_error(response, 404, "TASK_NOT_FOUND")
    assert await fetch_task(client, owner, theirs["id"]) == theirs


async def test_foreign_task_id_looks_exactly_like_a_missing_one(
    client: Client, owner: str, other_owner: str
) -> None:
    theirs = await create_task(client, owner)
    gone = await create_task(client, other_owner)
    await client.delete(task_url(other_owner, gone["id"]))

    foreign = await client.get(task_url(other_owner, theirs["id"]))
    missing = await client.get(task_url(other_owner, gone["id"]))

    foreign_error = assert_error(foreign, 404, "TASK_NOT_FOUND")
    missing_error = assert_error(missing, 404, "TASK_NOT_FOUND")
    assert foreign_error["message"] == missing_error["message"]


async def test_if_match_on_another_users_task_is_still_task_not_found(
    client: Client, owner: str, other_owner: str
) -> None:
    theirs = await create_task(client, owner)

    response = await client.patch(
        task_url(other_owner, theirs["id"]), json={"title": "x"}, headers={"If-Match": '"7"'}
    )

    assert_error(response, 404, "TASK_NOT_FOUND")


async def test_lists_show_only_the_users_own_tasks(
    client: Client, owner: str, other_owner: str
) -> None:
    mine = [await create_task(client, owner, title=f"mine {n}") for n in range(3)]
    theirs = await create_task(client, other_owner, title="mine too")

    assert sorted(ids(await list_tasks(client, owner))) == sorted(ids(mine))
    assert ids(await list_tasks(client, other_owner)) == [theirs["id"]]
    assert ids(await list_tasks(client, other_owner, q="mine")) == [theirs["id"]]


async def test_a_cursor_pages_only_its_users_tasks(
    client: Client, owner: str, other_owner: str
) -> None:
    for _ in range(3):
        await create_task(client, owner)
    theirs = [await create_task(client, other_owner) for _ in range(3)]
    first = (await client.get(tasks_url(other_owner), params={"limit": 2})).json()

    rest = (
        await client.get(
            tasks_url(other_owner), params={"limit": 10, "cursor": first["meta"]["next_cursor"]}
        )
    ).json()

    assert sorted(ids(first["data"]) + ids(rest["data"])) == sorted(ids(theirs))


async def test_stats_count_only_the_users_own_tasks(
    client: Client, owner: str, other_owner: str
) -> None:
    await create_task(client, owner, completed=True)
    await create_task(client, owner, due_at="2000-01-01T00:00:00Z")
    await create_task(client, other_owner)

    mine = (await client.get(f"{tasks_url(owner)}/stats")).json()["data"]
    theirs = (await client.get(f"{tasks_url(other_owner)}/stats")).json()["data"]

    assert mine == {"total": 2, "completed": 1, "pending": 1, "overdue": 1}
    assert theirs == {"total": 1, "completed": 0, "pending": 1, "overdue": 0}


async def test_clearing_completed_tasks_leaves_other_users_alone(
    client: Client, owner: str, other_owner: str
) -> None:
    mine = await create_task(client, owner, completed=True)
    theirs = await create_task(client, other_owner, completed=True)

    response = await client.delete(tasks_url(other_owner), params={"completed": "true"})

    assert response.json()["data"] == {"deleted": 1}
    assert ids(await list_tasks(client, owner)) == [mine["id"]]
    assert_error(await client.get(task_url(other_owner, theirs["id"])), 404, "TASK_NOT_FOUND")


async def test_user_ids_differing_only_in_case_are_different_users(
    client: Client, owner: str
) -> None:
    lower = await create_task(client, owner.lower())

    response = await client.get(task_url(owner.upper(), lower["id"]))

    assert_error(response, 404, "TASK_NOT_FOUND")
    assert await list_tasks(client, owner.upper()) == []
