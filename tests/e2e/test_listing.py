"""Listing: filters, every sort with its tie-breaks, keyset paging and its cursors."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.helpers import (
    Client,
    assert_error,
    create_task,
    expected_order,
    ids,
    list_tasks,
    task_url,
    tasks_url,
)

SORTS = [
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
PRIORITIES = ["none", "low", "medium", "high"]
LINK_NEXT = re.compile(r'^<(?P<url>[^>]+)>;\s*rel="next"$')


async def _varied_tasks(client: Client, owner: str) -> list[dict[str, Any]]:
    """Nine tasks with ties on every sort key, some without a due date, some updated later."""
    specs: list[dict[str, Any]] = [
        {"title": "b", "priority": "high", "due_at": "2026-12-01T17:00:00Z"},
        {"title": "a", "priority": "none", "due_at": "2026-12-01T17:00:00Z"},
        {"title": "b", "priority": "low"},
        {"title": "C", "priority": "medium", "due_at": "2026-11-30T08:00:00+01:00"},
        {"title": "a", "priority": "high", "due_at": "2027-01-01T00:00:00Z"},
        {"title": "é", "priority": "low"},
        {"title": "b", "priority": "medium", "due_at": "2026-12-01T17:00:00Z"},
        {"title": "Z", "priority": "none"},
        {"title": "10", "priority": "low", "due_at": "2026-12-01T18:00:00+01:00"},
    ]
    created = [await create_task(client, owner, **spec) for spec in specs]
    for task in created[::3]:
        await client.patch(task_url(owner, task["id"]), json={"description": "touched"})
    return await list_tasks(client, owner)


async def test_default_listing_is_newest_first_with_meta(client: Client, owner: str) -> None:
    first = await create_task(client, owner, title="first")
    second = await create_task(client, owner, title="second")

    response = await client.get(tasks_url(owner))

    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert ids(body["data"]) == expected_order([first, second], "-created_at")
    assert body["meta"] == {"count": 2, "limit": 100, "next_cursor": None}
    assert "link" not in response.headers


async def test_listing_of_a_user_without_tasks_is_empty(client: Client, owner: str) -> None:
    response = await client.get(tasks_url(owner))

    assert response.json() == {
        "success": True,
        "data": [],
        "meta": {"count": 0, "limit": 100, "next_cursor": None},
    }


@pytest.mark.parametrize("sort", SORTS)
async def test_every_sort_orders_by_its_key_then_id(client: Client, owner: str, sort: str) -> None:
    tasks = await _varied_tasks(client, owner)

    listed = await list_tasks(client, owner, sort=sort)

    assert ids(listed) == expected_order(tasks, sort)


@pytest.mark.parametrize("sort", ["due_at", "-due_at"])
async def test_tasks_without_due_date_come_last_in_both_directions(
    client: Client, owner: str, sort: str
) -> None:
    undated = await create_task(client, owner, title="undated")
    early = await create_task(client, owner, title="early", due_at="2026-01-01T00:00:00Z")
    late = await create_task(client, owner, title="late", due_at="2027-01-01T00:00:00Z")

    listed = ids(await list_tasks(client, owner, sort=sort))

    dated = [early["id"], late["id"]] if sort == "due_at" else [late["id"], early["id"]]
    assert listed == [*dated, undated["id"]]


async def test_priority_sorts_by_rank_not_by_name(client: Client, owner: str) -> None:
    for priority in ["medium", "none", "high", "low"]:
        await create_task(client, owner, title=priority, priority=priority)

    listed = await list_tasks(client, owner, sort="priority")

    assert [task["priority"] for task in listed] == ["none", "low", "medium", "high"]


@pytest.mark.parametrize("sort", SORTS)
async def test_walking_pages_of_two_returns_every_task_once_in_order(
    client: Client, owner: str, sort: str
) -> None:
    tasks = await _varied_tasks(client, owner)
    seen: list[str] = []
    cursor: str | None = None

    while True:
        params: dict[str, Any] = {"sort": sort, "limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        response = await client.get(tasks_url(owner), params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        seen += ids(body["data"])
        cursor = body["meta"]["next_cursor"]
        assert body["meta"]["count"] == len(body["data"])
        assert body["meta"]["limit"] == 2
        if cursor is None:
            break
        assert len(body["data"]) == 2

    assert seen == expected_order(tasks, sort)


async def test_link_header_leads_to_the_next_page(client: Client, owner: str) -> None:
    tasks = [await create_task(client, owner, title=f"task {n}") for n in range(5)]
    pages: list[list[str]] = []
    url: str | None = tasks_url(owner) + "?limit=2&sort=title&q=task"

    while url is not None:
        response = await client.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(ids(body["data"]))
        link = response.headers.get("link")
        if body["meta"]["next_cursor"] is None:
            assert link is None
            url = None
        else:
            match = LINK_NEXT.match(link or "")
            assert match, link
            url = match["url"]
            assert url.startswith(tasks_url(owner) + "?")
            assert body["meta"]["next_cursor"] in url.replace("%3D", "=")

    assert [len(page) for page in pages] == [2, 2, 1]
    assert [task_id for page in pages for task_id in page] == expected_order(tasks, "title")


async def test_link_header_keeps_every_filter(client: Client, owner: str) -> None:
    params = {
        "q": "a b&c+d é",
        "completed": "false",
        "priority": "high",
        "due_before": "2030-01-01T00:00:00+01:00",
        "due_after": "2000-01-01T00:00:00Z",
        "sort": "-due_at",
        "limit": "1",
    }
    matching = [
        await create_task(
            client,
            owner,
            title=f"{n}: A B&C+D É",
            priority="high",
            due_at=f"2026-0{n + 1}-01T00:00:00Z",
        )
        for n in range(3)
    ]
    await create_task(
        client, owner, title="a b&c+d é", priority="low", due_at="2026-01-01T00:00:00Z"
    )
    seen: list[str] = []
    response = await client.get(tasks_url(owner), params=params)

    while True:
        assert response.status_code == 200, response.text
        seen += ids(response.json()["data"])
        match = LINK_NEXT.match(response.headers.get("link", ""))
        if match is None:
            break
        response = await client.get(match["url"])

    assert seen == expected_order(matching, "-due_at")


@pytest.mark.parametrize("sort", ["-created_at", "title", "due_at", "-priority"])
async def test_paging_while_tasks_come_and_go_never_repeats_or_skips_a_survivor(
    client: Client, owner: str, sort: str
) -> None:
    specs = [
        {"title": f"t{n % 4}", "priority": ["none", "low", "high"][n % 3]}
        | ({"due_at": f"2026-12-0{1 + n % 3}T00:00:00Z"} if n % 2 else {})
        for n in range(12)
    ]
    tasks = [await create_task(client, owner, **spec) for spec in specs]
    doomed = {task["id"] for task in tasks[1::4]}
    survivors = {task["id"] for task in tasks} - doomed
    seen: list[str] = []
    cursor: str | None = None

    for page in range(100):
        params: dict[str, Any] = {"sort": sort, "limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        body = (await client.get(tasks_url(owner), params=params)).json()
        seen += ids(body["data"])
        cursor = body["meta"]["next_cursor"]
        if cursor is None:
            break
        # Between pages: a newcomer arrives and one of the doomed tasks goes.
        await create_task(client, owner, title=f"t{page % 4}", priority="low")
        if doomed:
            await client.delete(task_url(owner, doomed.pop()))

    assert len(seen) == len(set(seen))
    assert survivors <= set(seen)


async def test_filter_by_completed(client: Client, owner: str) -> None:
    done = await create_task(client, owner, completed=True)
    pending = await create_task(client, owner)

    assert ids(await list_tasks(client, owner, completed="true")) == [done["id"]]
    assert ids(await list_tasks(client, owner, completed="false")) == [pending["id"]]


@pytest.mark.parametrize("priority", PRIORITIES)
async def test_filter_by_priority(client: Client, owner: str, priority: str) -> None:
    created = {p: await create_task(client, owner, priority=p) for p in PRIORITIES}

    listed = await list_tasks(client, owner, priority=priority)

    assert ids(listed) == [created[priority]["id"]]


async def test_search_is_a_case_insensitive_substring_of_title_or_description(
    client: Client, owner: str
) -> None:
    in_title = await create_task(client, owner, title="Buy MILK today")
    in_description = await create_task(client, owner, title="Groceries", description="oat Milk")
    await create_task(client, owner, title="Bread", description="whole grain")

    listed = await list_tasks(client, owner, q="mIlK", sort="title")

    assert ids(listed) == expected_order([in_title, in_description], "title")


@pytest.mark.parametrize("needle", ["%", "_", "\\", "100%", "a_b"])
async def test_search_treats_wildcard_characters_literally(
    client: Client, owner: str, needle: str
) -> None:
    match = await create_task(client, owner, title=f"x {needle} y")
    await create_task(client, owner, title="plain title without them")
    await create_task(client, owner, title="a-b 100 percent")

    assert ids(await list_tasks(client, owner, q=needle)) == [match["id"]]


async def test_search_of_unicode_is_case_insensitive(client: Client, owner: str) -> None:
    match = await create_task(client, owner, title="Café CRÈME")

    assert ids(await list_tasks(client, owner, q="crème")) == [match["id"]]


async def test_filter_by_due_range(client: Client, owner: str) -> None:
    await create_task(client, owner, title="undated")
    early = await create_task(client, owner, title="early", due_at="2026-01-01T00:00:00Z")
    middle = await create_task(client, owner, title="middle", due_at="2026-06-01T00:00:00Z")
    late = await create_task(client, owner, title="late", due_at="2027-01-01T00:00:00Z")

    before = await list_tasks(client, owner, due_before="2026-03-01T00:00:00Z", sort="due_at")
    after = await list_tasks(client, owner, due_after="2026-03-01T01:00:00+01:00", sort="due_at")
    between = await list_tasks(
        client,
        owner,
        due_after="2026-03-01T00:00:00Z",
        due_before="2026-12-01T00:00:00-05:00",
        sort="due_at",
    )

    assert ids(before) == [early["id"]]
    assert ids(after) == [middle["id"], late["id"]]
    assert ids(between) == [middle["id"]]


async def test_filters_combine(client: Client, owner: str) -> None:
    match = await create_task(client, owner, title="report", priority="high", completed=True)
    await create_task(client, owner, title="report", priority="high")
    await create_task(client, owner, title="report", priority="low", completed=True)
    await create_task(client, owner, title="other", priority="high", completed=True)

    listed = await list_tasks(client, owner, completed="true", priority="high", q="REP")

    assert ids(listed) == [match["id"]]


async def test_filtered_pages_walk_the_filtered_set(client: Client, owner: str) -> None:
    matching = [await create_task(client, owner, priority="high") for _ in range(5)]
    for _ in range(3):
        await create_task(client, owner, priority="low")
    first = (await client.get(tasks_url(owner), params={"priority": "high", "limit": 3})).json()

    second = (
        await client.get(
            tasks_url(owner),
            params={"priority": "high", "limit": 3, "cursor": first["meta"]["next_cursor"]},
        )
    ).json()

    assert ids(first["data"]) + ids(second["data"]) == expected_order(matching, "-created_at")
    assert second["meta"] == {"count": 2, "limit": 3, "next_cursor": None}


async def _first_cursor(client: Client, owner: str, **params: Any) -> str:
    for number in range(3):
        await create_task(client, owner, title=f"task {number}", priority="high")
    response = await client.get(tasks_url(owner), params={"limit": 1, **params})
    cursor: str = response.json()["meta"]["next_cursor"]
    assert cursor
    return cursor


def _flip(text: str, index: int) -> str:
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1 :]


def _tampered(cursor: str) -> list[str]:
    """Altered copies: a character of the payload or of the signature changed, bits added,
    bits dropped, the parts glued together, and plain garbage."""
    signature_start = cursor.index(".") + 1
    return [
        _flip(cursor, 0),
        _flip(cursor, 5),
        _flip(cursor, signature_start + 3),
        cursor + "x",
        cursor[:-2],
        cursor.replace(".", ""),
        "x" + cursor,
        cursor[: signature_start - 1],
        "garbage",
    ]


async def test_tampered_cursor_is_a_validation_error_naming_cursor(
    client: Client, owner: str
) -> None:
    cursor = await _first_cursor(client, owner)

    for tampered in _tampered(cursor):
        response = await client.get(tasks_url(owner), params={"limit": 1, "cursor": tampered})

        assert_error(response, 422, "VALIDATION_ERROR", "cursor")


@pytest.mark.parametrize(
    "other",
    [
        {"sort": "title"},
        {"sort": "-due_at"},
        {"sort": "created_at"},
        {"completed": "false"},
        {"priority": "high"},
        {"q": "task"},
        {"due_before": "2030-01-01T00:00:00Z"},
        {"due_after": "2000-01-01T00:00:00Z"},
    ],
)
async def test_cursor_used_with_another_sort_or_filter_is_a_validation_error(
    client: Client, owner: str, other: dict[str, str]
) -> None:
    cursor = await _first_cursor(client, owner)

    response = await client.get(tasks_url(owner), params={"limit": 1, "cursor": cursor, **other})

    assert_error(response, 422, "VALIDATION_ERROR", "cursor")


async def test_cursor_of_a_filtered_listing_is_refused_without_its_filter(
    client: Client, owner: str
) -> None:
    cursor = await _first_cursor(client, owner, priority="high", sort="title")

    response = await client.get(tasks_url(owner), params={"limit": 1, "cursor": cursor})

    assert_error(response, 422, "VALIDATION_ERROR", "cursor")


async def test_cursor_still_works_with_another_page_size(client: Client, owner: str) -> None:
    cursor = await _first_cursor(client, owner)

    response = await client.get(tasks_url(owner), params={"limit": 5, "cursor": cursor})

    assert response.status_code == 200
    assert response.json()["meta"]["count"] == 2
