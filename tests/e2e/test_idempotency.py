"""Idempotency-Key on create: a retried POST returns the first response and creates nothing."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from litestar.testing import AsyncTestClient

from entrypoints.config import Settings
from entrypoints.container import Container
from entrypoints.http.app import create_app
from tests.e2e.helpers import (
    Client,
    assert_error,
    create_task,
    ids,
    list_tasks,
    task_url,
    tasks_url,
)


async def test_repeat_with_the_same_key_and_body_replays_the_first_response(
    client: Client, owner: str
) -> None:
    body = {"title": "pay rent", "priority": "high"}
    first = await client.post(tasks_url(owner), json=body, headers={"Idempotency-Key": "k-1"})

    repeat = await client.post(tasks_url(owner), json=body, headers={"Idempotency-Key": "k-1"})

    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    assert repeat.status_code == 201
    assert repeat.json() == first.json()
    assert repeat.headers["location"] == first.headers["location"]
    assert repeat.headers["etag"] == first.headers["etag"]
    assert repeat.headers["idempotent-replayed"] == "true"
    assert ids(await list_tasks(client, owner)) == [first.json()["data"]["id"]]


async def test_replay_returns_the_first_response_even_after_the_task_changed(
    client: Client, owner: str
) -> None:
    body = {"title": "original"}
    first = await client.post(tasks_url(owner), json=body, headers={"Idempotency-Key": "k-2"})
    await client.patch(task_url(owner, first.json()["data"]["id"]), json={"title": "edited"})

    repeat = await client.post(tasks_url(owner), json=body, headers={"Idempotency-Key": "k-2"})

    assert repeat.status_code == 201
    assert repeat.json() == first.json()
    assert len(await list_tasks(client, owner)) == 1


async def test_same_key_with_another_body_is_idempotency_key_reused(
    client: Client, owner: str
) -> None:
    await client.post(tasks_url(owner), json={"title": "one"}, headers={"Idempotency-Key": "k-3"})

    response = await client.post(
        tasks_url(owner), json={"title": "two"}, headers={"Idempotency-Key": "k-3"}
    )

    assert_error(response, 409, "IDEMPOTENCY_KEY_REUSED")
    assert [task["title"] for task in await list_tasks(client, owner)] == ["one"]


async def test_keys_are_scoped_to_the_user(client: Client, owner: str, other_owner: str) -> None:
    body = {"title": "same key, two users"}
    mine = await client.post(tasks_url(owner), json=body, headers={"Idempotency-Key": "shared"})

    theirs = await client.post(
        tasks_url(other_owner), json=body, headers={"Idempotency-Key": "shared"}
    )

    assert theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers
    assert theirs.json()["data"]["id"] != mine.json()["data"]["id"]
    assert theirs.json()["data"]["user_id"] == other_owner


async def test_posts_without_a_key_each_create_a_task(client: Client, owner: str) -> None:
    await create_task(client, owner, title="twice")
    await create_task(client, owner, title="twice")

    assert len(await list_tasks(client, owner)) == 2


async def test_a_failed_create_does_not_use_up_its_key(client: Client, owner: str) -> None:
    rejected = await client.post(
        tasks_url(owner), json={"title": "   "}, headers={"Idempotency-Key": "k-4"}
    )

    accepted = await client.post(
        tasks_url(owner), json={"title": "fixed"}, headers={"Idempotency-Key": "k-4"}
    )

    assert_error(rejected, 422, "VALIDATION_ERROR", "title")
    assert accepted.status_code == 201
    assert "idempotent-replayed" not in accepted.headers


@pytest.mark.parametrize("key", ["", "k" * 256, "tab\there", "bell\x07", "del\x7f"])
async def test_bad_idempotency_key_is_a_validation_error_naming_it(
    client: Client, owner: str, key: str
) -> None:
    response = await client.post(
        tasks_url(owner), json={"title": "x"}, headers={"Idempotency-Key": key}
    )

    assert_error(response, 422, "VALIDATION_ERROR", "Idempotency-Key")
    assert await list_tasks(client, owner) == []


async def test_non_ascii_idempotency_key_is_a_validation_error(client: Client, owner: str) -> None:
    response = await client.post(
        tasks_url(owner),
        json={"title": "x"},
        headers=[(b"Idempotency-Key", "clé".encode())],
    )

    assert_error(response, 422, "VALIDATION_ERROR", "Idempotency-Key")


@pytest.mark.parametrize("key", ["k", "k" * 255, "a key with spaces and ~!@#$%^&*()"])
async def test_idempotency_key_of_printable_ascii_is_accepted(
    client: Client, owner: str, key: str
) -> None:
    response = await client.post(
        tasks_url(owner), json={"title": "x"}, headers={"Idempotency-Key": key}
    )

    assert response.status_code == 201


async def test_concurrent_repeats_create_one_task(client: Client, owner: str) -> None:
    body = {"title": "only once"}

    responses = await asyncio.gather(
        *(
            client.post(tasks_url(owner), json=body, headers={"Idempotency-Key": "race"})
            for _ in range(8)
        )
    )

    created = [r for r in responses if r.status_code == 201]
    assert created
    assert {r.json()["data"]["id"] for r in created} == {created[0].json()["data"]["id"]}
    for response in responses:
        if response.status_code != 201:
            assert_error(response, 409, "IDEMPOTENCY_KEY_IN_USE")
    assert len(await list_tasks(client, owner)) == 1


async def test_a_replay_survives_a_restart_of_the_service(database_url: str) -> None:
    settings = Settings(task_store="postgres", database_url=database_url)
    user = f"restart-{uuid.uuid4().hex[:8]}"
    headers = {"Idempotency-Key": "survives-restarts"}
    body = {"title": "once, even across restarts"}

    async with AsyncTestClient(app=create_app(Container(settings=settings))) as before:
        first = await before.post(f"/api/{user}/tasks", json=body, headers=headers)
    async with AsyncTestClient(app=create_app(Container(settings=settings))) as after:
        again = await after.post(f"/api/{user}/tasks", json=body, headers=headers)
        listed = await after.get(f"/api/{user}/tasks")

    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert len(listed.json()["data"]) == 1
