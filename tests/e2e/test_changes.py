"""Incremental sync over HTTP, on both adapters: GET /changes, its tokens and errors, and
reminders recorded on the feed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.e2e.helpers import (
    TASK_FIELDS,
    TIMESTAMP,
    Client,
    complete_url,
    create_task,
    task_url,
    tasks_url,
)


def changes_url(owner: str) -> str:
    return f"/api/{owner}/changes"


async def head_token(client: Client, owner: str) -> str:
    response = await client.get(changes_url(owner))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] == []
    assert body["meta"]["has_more"] is False
    token: str = body["meta"]["next_token"]
    return token


async def changes_after(
    client: Client, owner: str, token: str, **params: Any
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    response = await client.get(changes_url(owner), params={"since": token, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    return body["data"], body["meta"]


async def test_every_kind_of_write_is_one_change_in_order(client: Client, owner: str) -> None:
    token = await head_token(client, owner)
    task = await create_task(client, owner, title="one")
    await client.patch(task_url(owner, task["id"]), json={"title": "two"})
    await client.patch(task_url(owner, task["id"]), json={})  # changes nothing
    await client.patch(complete_url(owner, task["id"]), json={"completed": True})
    await client.patch(complete_url(owner, task["id"]), json={"completed": True})  # no change
    await client.delete(task_url(owner, task["id"]))

    changes, meta = await changes_after(client, owner, token)

    assert [(c["type"], c["version"]) for c in changes] == [
        ("task.created", 1),
        ("task.updated", 2),
        ("task.updated", 3),
        ("task.deleted", 3),
    ]
    assert {c["task_id"] for c in changes} == {task["id"]}
    assert changes[0]["task"] == task
    assert changes[1]["task"]["title"] == "two"
    assert changes[2]["task"]["completed"] is True
    assert changes[3]["task"] is None
    assert all(TIMESTAMP.fullmatch(c["at"]) for c in changes)
    assert set(changes[1]["task"]) == TASK_FIELDS
    assert meta["has_more"] is False
    again, _ = await changes_after(client, owner, meta["next_token"])
    assert again == []


async def test_a_recurring_completion_logs_the_next_occurrence(client: Client, owner: str) -> None:
    task = await create_task(client, owner, recurrence="FREQ=DAILY", due_at="2030-01-07T09:00:00Z")
    token = await head_token(client, owner)

    response = await client.patch(complete_url(owner, task["id"]))
    following = response.json()["meta"]["next_occurrence"]
    changes, _ = await changes_after(client, owner, token)

    assert [(c["type"], c["task_id"]) for c in changes] == [
        ("task.updated", task["id"]),
        ("task.created", following["id"]),
    ]
    assert changes[1]["task"] == following


async def test_a_bulk_delete_is_one_change_per_task(client: Client, owner: str) -> None:
    done = [await create_task(client, owner, completed=True) for _ in range(3)]
    await create_task(client, owner)
    token = await head_token(client, owner)

    await client.delete(tasks_url(owner), params={"completed": "true"})
    changes, _ = await changes_after(client, owner, token)

    assert sorted(c["task_id"] for c in changes) == sorted(t["id"] for t in done)
    assert {c["type"] for c in changes} == {"task.deleted"}


async def test_pages_follow_the_limit_and_has_more(client: Client, owner: str) -> None:
    token = await head_token(client, owner)
    created = [await create_task(client, owner, title=f"t{i}") for i in range(5)]

    seen: list[str] = []
    pages = 0
    while True:
        changes, meta = await changes_after(client, owner, token, limit=2)
        pages += 1
        seen += [c["task_id"] for c in changes]
        token = meta["next_token"]
        if not meta["has_more"]:
            break

    assert seen == [t["id"] for t in created]
    assert pages == 3


async def test_a_token_is_bound_to_its_user(client: Client, owner: str, other_owner: str) -> None:
    token = await head_token(client, owner)

    response = await client.get(changes_url(other_owner), params={"since": token})

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "since"


async def test_a_tampered_token_is_a_422_naming_since(client: Client, owner: str) -> None:
    token = await head_token(client, owner)
    payload, signature = token.split(".")
    forged = ("B" if payload[0] == "A" else "A") + payload[1:] + "." + signature

    for bad in (forged, "garbage", "", token + "x", "a.b.c"):
        response = await client.get(changes_url(owner), params={"since": bad})
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["error"]["details"][0]["field"] == "since"


async def test_limit_out_of_range_is_a_422(client: Client, owner: str) -> None:
    for limit in ("0", "1001", "x"):
        response = await client.get(changes_url(owner), params={"limit": limit})
        assert response.status_code == 422, response.text
        assert response.json()["error"]["details"][0]["field"] == "limit"


async def test_changes_of_other_users_never_show(
    client: Client, owner: str, other_owner: str
) -> None:
    token = await head_token(client, owner)
    await create_task(client, other_owner)

    changes, _ = await changes_after(client, owner, token)

    assert changes == []


async def test_a_due_reminder_is_recorded_once_and_rearmed_by_a_new_time(
    client: Client, owner: str
) -> None:
    soon = datetime.now(UTC) + timedelta(milliseconds=300)
    task = await create_task(client, owner, remind_at=soon.isoformat())
    untouched = await create_task(
        client, owner, remind_at=(datetime.now(UTC) + timedelta(days=1)).isoformat()
    )
    token = await head_token(client, owner)

    reminders = await _wait_for_reminders(client, owner, token, 1)
    assert reminders[0]["task_id"] == task["id"]
    assert reminders[0]["version"] == task["version"]
    assert reminders[0]["task"]["remind_at"] == task["remind_at"]
    # Recording it changed nothing a client sees: same version, no task.updated.
    assert (await client.get(task_url(owner, task["id"]))).json()["data"] == task

    again = datetime.now(UTC) + timedelta(milliseconds=300)
    await client.patch(task_url(owner, task["id"]), json={"remind_at": again.isoformat()})
    reminders = await _wait_for_reminders(client, owner, token, 2)
    assert [r["task_id"] for r in reminders] == [task["id"], task["id"]]
    assert untouched["id"] not in {r["task_id"] for r in reminders}


async def test_completing_or_deleting_first_cancels_the_reminder(
    client: Client, owner: str
) -> None:
    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    completed = await create_task(client, owner, remind_at=soon)
    deleted = await create_task(client, owner, remind_at=soon)
    kept = await create_task(client, owner, remind_at=soon)
    token = await head_token(client, owner)
    await client.patch(complete_url(owner, completed["id"]))
    await client.delete(task_url(owner, deleted["id"]))

    reminders = await _wait_for_reminders(client, owner, token, 1)
    await asyncio.sleep(1.5)  # a few more rounds of the scheduler
    changes, _ = await changes_after(client, owner, token)

    assert [r["task_id"] for r in reminders] == [kept["id"]]
    assert [c["task_id"] for c in changes if c["type"] == "reminder.due"] == [kept["id"]]


async def _wait_for_reminders(
    client: Client, owner: str, token: str, count: int
) -> list[dict[str, Any]]:
    """The reminder.due changes after `token` once there are `count` (the contract allows
    5 seconds; this waits up to 10 on a loaded machine)."""
    for _ in range(100):
        changes, _ = await changes_after(client, owner, token)
        reminders = [c for c in changes if c["type"] == "reminder.due"]
        if len(reminders) >= count:
            return reminders
        await asyncio.sleep(0.1)
    raise AssertionError(f"fewer than {count} reminders recorded: {changes}")
