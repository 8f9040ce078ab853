"""Contract 1.1 over HTTP, on both adapters: tags, the tag filter and list, recurring tasks
(the next occurrence on completion), time zones and remind_at."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.helpers import (
    TASK_LIMIT,
    Client,
    complete_url,
    create_task,
    task_url,
    tasks_url,
)

WEEKLY = {"recurrence": "FREQ=WEEKLY", "due_at": "2030-01-07T09:00:00Z"}


def error_fields(body: dict[str, Any]) -> set[str]:
    assert body["success"] is False, body
    assert body["error"]["code"] == "VALIDATION_ERROR", body
    return {detail["field"] for detail in body["error"]["details"]}


async def listed(client: Client, owner: str, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(tasks_url(owner), params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["data"]
    return items


# --- the fields ------------------------------------------------------------------------------


async def test_a_new_task_has_the_1_1_defaults(client: Client, owner: str) -> None:
    task = await create_task(client, owner)

    assert task["tags"] == []
    assert task["recurrence"] is None
    assert task["time_zone"] is None
    assert task["remind_at"] is None
    assert task["series_id"] is None


async def test_tags_are_trimmed_lowered_deduplicated_and_sorted(client: Client, owner: str) -> None:
    task = await create_task(client, owner, tags=[" Work ", "home", "WORK", "été", "🥛"])

    assert task["tags"] == ["home", "work", "été", "🥛"]


@pytest.mark.parametrize(
    "tags",
    [
        ["a,b"],
        [""],
        ["   "],
        ["x" * 51],
        ["bell\x07"],
        ["new\nline"],
        [f"t{i}" for i in range(21)],
        "work",
        [1],
        None,
    ],
)
async def test_a_broken_tag_list_is_a_422_naming_tags(
    client: Client, owner: str, tags: Any
) -> None:
    response = await client.post(tasks_url(owner), json={"title": "t", "tags": tags})

    assert response.status_code == 422, response.text
    assert error_fields(response.json()) == {"tags"}
    assert await listed(client, owner) == []


async def test_twenty_tags_after_deduplication_are_allowed(client: Client, owner: str) -> None:
    tags = [f"t{i:02}" for i in range(20)] + ["T00", " t01 "]

    task = await create_task(client, owner, tags=tags)

    assert task["tags"] == [f"t{i:02}" for i in range(20)]


async def test_patch_replaces_tags_and_null_is_refused(client: Client, owner: str) -> None:
    task = await create_task(client, owner, tags=["a"])
    url = task_url(owner, task["id"])

    changed = await client.patch(url, json={"tags": ["b", "c"]})
    refused = await client.patch(url, json={"tags": None})
    cleared = await client.patch(url, json={"tags": []})

    assert changed.json()["data"]["tags"] == ["b", "c"]
    assert changed.json()["data"]["version"] == 2
    assert refused.status_code == 422
    assert error_fields(refused.json()) == {"tags"}
    assert cleared.json()["data"]["tags"] == []
    assert cleared.json()["data"]["version"] == 3


async def test_put_resets_the_1_1_fields_left_out(client: Client, owner: str) -> None:
    task = await create_task(
        client,
        owner,
        tags=["a"],
        time_zone="Europe/Berlin",
        remind_at="2030-01-07T08:00:00+01:00",
        **WEEKLY,
    )

    replaced = await client.put(task_url(owner, task["id"]), json={"title": "plain"})

    data = replaced.json()["data"]
    assert (data["tags"], data["recurrence"], data["time_zone"], data["remind_at"]) == (
        [],
        None,
        None,
        None,
    )


async def test_the_rule_is_shown_upper_cased_in_the_order_given(client: Client, owner: str) -> None:
    task = await create_task(
        client, owner, recurrence="freq=weekly;byday=we,mo;interval=2", due_at=WEEKLY["due_at"]
    )

    assert task["recurrence"] == "FREQ=WEEKLY;BYDAY=WE,MO;INTERVAL=2"


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"recurrence": "FREQ=WEEKLY"}, "recurrence"),  # no due_at
        ({"recurrence": "FREQ=HOURLY", "due_at": WEEKLY["due_at"]}, "recurrence"),
        ({"recurrence": "RRULE:FREQ=DAILY", "due_at": WEEKLY["due_at"]}, "recurrence"),
        ({"recurrence": "BYDAY=MO;FREQ=WEEKLY", "due_at": WEEKLY["due_at"]}, "recurrence"),
        (
            {"recurrence": "FREQ=DAILY;COUNT=2;UNTIL=20300101", "due_at": WEEKLY["due_at"]},
            "recurrence",
        ),
        ({"recurrence": "FREQ=DAILY;BYSETPOS=1", "due_at": WEEKLY["due_at"]}, "recurrence"),
        ({"recurrence": "FREQ=DAILY;INTERVAL=0", "due_at": WEEKLY["due_at"]}, "recurrence"),
        ({"recurrence": "", "due_at": WEEKLY["due_at"]}, "recurrence"),
        ({"recurrence": 7, "due_at": WEEKLY["due_at"]}, "recurrence"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"time_zone": "../etc/passwd"}, "time_zone"),
        ({"time_zone": ""}, "time_zone"),
        ({"remind_at": "2030-01-07T08:00:00"}, "remind_at"),
        ({"remind_at": "tomorrow"}, "remind_at"),
        ({"series_id": "0b7e3f5e-5d0a-4a4e-9f1e-3c1d2b8f6a10"}, "series_id"),
    ],
)
async def test_each_broken_1_1_field_is_a_422_naming_it(
    client: Client, owner: str, fields: dict[str, Any], named: str
) -> None:
    response = await client.post(tasks_url(owner), json={"title": "t", **fields})

    assert response.status_code == 422, response.text
    assert error_fields(response.json()) == {named}
    assert await listed(client, owner) == []


async def test_a_recurring_task_cannot_lose_its_due_date(client: Client, owner: str) -> None:
    task = await create_task(client, owner, **WEEKLY)

    response = await client.patch(task_url(owner, task["id"]), json={"due_at": None})

    assert response.status_code == 422
    assert error_fields(response.json()) == {"recurrence"}
    assert (await client.get(task_url(owner, task["id"]))).json()["data"]["version"] == 1


async def test_null_clears_recurrence_zone_and_reminder(client: Client, owner: str) -> None:
    task = await create_task(
        client, owner, time_zone="Europe/Berlin", remind_at="2030-01-07T08:00:00Z", **WEEKLY
    )

    response = await client.patch(
        task_url(owner, task["id"]),
        json={"recurrence": None, "time_zone": None, "remind_at": None},
    )

    data = response.json()["data"]
    assert (data["recurrence"], data["time_zone"], data["remind_at"]) == (None, None, None)
    assert data["version"] == 2


async def test_remind_at_is_shown_in_utc(client: Client, owner: str) -> None:
    task = await create_task(client, owner, remind_at="2030-01-07T08:00:00.5+02:00")

    assert task["remind_at"] == "2030-01-07T06:00:00.500000Z"


# --- completing an occurrence ------------------------------------------------------------------


async def test_completing_an_occurrence_creates_the_next(client: Client, owner: str) -> None:
    task = await create_task(
        client,
        owner,
        title="Water the plants",
        description="the big ones",
        priority="high",
        tags=["home"],
        remind_at="2030-01-07T08:30:00Z",
        **WEEKLY,
    )

    response = await client.patch(complete_url(owner, task["id"]))

    assert response.status_code == 200, response.text
    body = response.json()
    done, following = body["data"], body["meta"]["next_occurrence"]
    assert done["completed"] is True
    assert done["series_id"] == task["id"]
    assert following["id"] not in (task["id"], None)
    assert following["version"] == 1
    assert following["completed"] is False
    assert following["completed_at"] is None
    assert following["due_at"] == "2030-01-14T09:00:00.000000Z"
    assert following["remind_at"] == "2030-01-14T08:30:00.000000Z"  # 30 minutes before, as before
    assert following["series_id"] == task["id"]
    for name in ("title", "description", "priority", "tags", "recurrence", "time_zone"):
        assert following[name] == task[name], name
    stored = await client.get(task_url(owner, following["id"]))
    assert stored.json()["data"] == following


async def test_the_series_keeps_its_id_and_counts_down(client: Client, owner: str) -> None:
    first = await create_task(
        client, owner, recurrence="FREQ=DAILY;COUNT=3", due_at="2030-01-07T09:00:00Z"
    )

    second = (await client.patch(complete_url(owner, first["id"]))).json()["meta"][
        "next_occurrence"
    ]
    third = (await client.patch(complete_url(owner, second["id"]))).json()["meta"][
        "next_occurrence"
    ]
    last = await client.patch(complete_url(owner, third["id"]))

    assert second["recurrence"] == "FREQ=DAILY;COUNT=2"
    assert third["recurrence"] == "FREQ=DAILY;COUNT=1"
    assert {second["series_id"], third["series_id"]} == {first["id"]}
    assert last.json()["meta"]["next_occurrence"] is None  # COUNT=1 ends the series
    assert len(await listed(client, owner)) == 3


async def test_an_occurrence_recurs_once_however_often_it_is_completed(
    client: Client, owner: str
) -> None:
    task = await create_task(client, owner, **WEEKLY)
    url = complete_url(owner, task["id"])

    first = await client.patch(url, json={"completed": True})
    again = await client.patch(url, json={"completed": True})
    reopened = await client.patch(url, json={"completed": False})
    recompleted = await client.patch(url)

    assert first.json()["meta"]["next_occurrence"] is not None
    assert again.json()["meta"]["next_occurrence"] is None
    assert again.json()["data"]["version"] == first.json()["data"]["version"]
    assert reopened.json()["data"]["completed"] is False
    assert recompleted.json()["data"]["completed"] is True
    assert recompleted.json()["meta"]["next_occurrence"] is None
    assert len(await listed(client, owner)) == 2


@pytest.mark.parametrize("method", ["put", "patch"])
async def test_put_and_patch_that_complete_create_the_next_too(
    client: Client, owner: str, method: str
) -> None:
    task = await create_task(client, owner, title="Report", **WEEKLY)
    body = {"title": "Report", "completed": True, **WEEKLY}

    response = await getattr(client, method)(task_url(owner, task["id"]), json=body)

    following = response.json()["meta"]["next_occurrence"]
    assert following["due_at"] == "2030-01-14T09:00:00.000000Z"


async def test_a_plain_change_answers_no_next_occurrence(client: Client, owner: str) -> None:
    task = await create_task(client, owner)

    response = await client.patch(task_url(owner, task["id"]), json={"title": "renamed"})

    assert response.json()["meta"] == {"next_occurrence": None}


async def test_a_recurring_task_created_completed_creates_nothing(
    client: Client, owner: str
) -> None:
    task = await create_task(client, owner, completed=True, **WEEKLY)

    again = await client.patch(complete_url(owner, task["id"]), json={"completed": True})

    assert again.json()["meta"]["next_occurrence"] is None
    assert len(await listed(client, owner)) == 1


async def test_a_daily_task_keeps_its_local_time_across_daylight_saving(
    client: Client, owner: str
) -> None:
    # 09:00 in Berlin on the Saturday before summer time starts (2027-03-28): 08:00Z.
    task = await create_task(
        client,
        owner,
        recurrence="FREQ=DAILY",
        time_zone="Europe/Berlin",
        due_at="2027-03-27T09:00:00+01:00",
    )

    response = await client.patch(complete_url(owner, task["id"]))

    following = response.json()["meta"]["next_occurrence"]
    assert following["due_at"] == "2027-03-28T07:00:00.000000Z"  # 09:00 summer time


async def test_the_next_occurrence_counts_against_the_cap(
    limited_client: Client, owner: str
) -> None:
    task = await create_task(limited_client, owner, **WEEKLY)
    for _ in range(TASK_LIMIT - 1):
        await create_task(limited_client, owner)

    response = await limited_client.patch(complete_url(owner, task["id"]))

    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "TASK_LIMIT_REACHED"
    unchanged = (await limited_client.get(task_url(owner, task["id"]))).json()["data"]
    assert (unchanged["completed"], unchanged["version"], unchanged["series_id"]) == (
        False,
        1,
        None,
    )
    assert len(await listed(limited_client, owner)) == TASK_LIMIT


# --- the tag filter and the tag list ---------------------------------------------------------


async def test_the_tag_filter_keeps_tasks_with_every_tag(client: Client, owner: str) -> None:
    both = await create_task(client, owner, title="both", tags=["work", "urgent"])
    work = await create_task(client, owner, title="work", tags=["work"])
    await create_task(client, owner, title="none")

    assert [t["id"] for t in await listed(client, owner, tags="work")] == [work["id"], both["id"]]
    assert [t["id"] for t in await listed(client, owner, tags=" URGENT ,work")] == [both["id"]]
    assert await listed(client, owner, tags="missing") == []


@pytest.mark.parametrize("tags", ["", "a,b,c,d,e,f", "a,,b", "x" * 51, "a\x01"])
async def test_a_broken_tag_filter_is_a_422_naming_tags(
    client: Client, owner: str, tags: str
) -> None:
    response = await client.get(tasks_url(owner), params={"tags": tags})

    assert response.status_code == 422, response.text
    assert error_fields(response.json()) == {"tags"}


@pytest.mark.parametrize("sort", ["-created_at", "title", "due_at", "-priority"])
async def test_the_tag_filter_pages_with_cursors_and_links(
    client: Client, owner: str, sort: str
) -> None:
    tagged = set()
    for i in range(7):
        tags = ["even"] if i % 2 == 0 else ["odd"]
        task = await create_task(
            client, owner, title=f"t{i}", tags=tags, due_at=f"2030-01-0{i + 1}T00:00:00Z"
        )
        if i % 2 == 0:
            tagged.add(task["id"])

    seen: list[str] = []
    params: dict[str, Any] = {"tags": "even", "sort": sort, "limit": 2}
    while True:
        response = await client.get(tasks_url(owner), params=params)
        seen += [t["id"] for t in response.json()["data"]]
        cursor = response.json()["meta"]["next_cursor"]
        if cursor is None:
            break
        assert "tags=even" in response.headers["link"]
        params["cursor"] = cursor

    assert sorted(seen) == sorted(tagged)
    assert len(seen) == len(tagged)


async def test_a_cursor_of_another_tag_filter_is_refused(client: Client, owner: str) -> None:
    for _ in range(3):
        await create_task(client, owner, tags=["a", "b"])
    first = await client.get(tasks_url(owner), params={"tags": "a", "limit": 1})
    cursor = first.json()["meta"]["next_cursor"]

    response = await client.get(
        tasks_url(owner), params={"tags": "b", "limit": 1, "cursor": cursor}
    )

    assert response.status_code == 422
    assert error_fields(response.json()) == {"cursor"}


async def test_the_tag_list_counts_tasks_and_pending_ones(
    client: Client, owner: str, other_owner: str
) -> None:
    await create_task(client, owner, tags=["work", "b"])
    await create_task(client, owner, tags=["work"], completed=True)
    await create_task(client, owner, tags=["Zebra"])
    await create_task(client, other_owner, tags=["work", "secret"])

    response = await client.get(f"/api/{owner}/tags")

    assert response.status_code == 200, response.text
    assert response.json() == {
        "success": True,
        "data": [
            {"tag": "b", "tasks": 1, "pending": 1},
            {"tag": "work", "tasks": 2, "pending": 1},
            {"tag": "zebra", "tasks": 1, "pending": 1},
        ],
    }


async def test_the_tag_list_of_a_user_without_tags_is_empty(client: Client, owner: str) -> None:
    await create_task(client, owner)

    response = await client.get(f"/api/{owner}/tags")

    assert response.json() == {"success": True, "data": []}


async def test_the_tag_list_checks_its_path_and_query(client: Client) -> None:
    bad_owner = await client.get("/api/bad%20owner/tags")
    unknown = await client.get("/api/alice/tags", params={"limit": "3"})

    assert bad_owner.status_code == 422
    assert error_fields(bad_owner.json()) == {"user_id"}
    assert unknown.status_code == 422
    assert error_fields(unknown.json()) == {"limit"}


async def test_a_cursor_serves_the_same_tags_in_any_spelling(client: Client, owner: str) -> None:
    for _ in range(3):
        await create_task(client, owner, tags=["home", "work"])
    first = await client.get(tasks_url(owner), params={"tags": "Work,home", "limit": 1})

    response = await client.get(
        tasks_url(owner),
        params={"tags": "home, WORK", "limit": 1, "cursor": first.json()["meta"]["next_cursor"]},
    )

    assert response.status_code == 200, response.text
    assert response.json()["data"][0]["id"] != first.json()["data"][0]["id"]


async def test_a_late_completion_of_a_counted_series_counts_one(client: Client, owner: str) -> None:
    task = await create_task(
        client, owner, recurrence="FREQ=DAILY;COUNT=3", due_at="2020-01-01T09:00:00Z"
    )

    following = (await client.patch(complete_url(owner, task["id"]))).json()["meta"][
        "next_occurrence"
    ]

    assert following["recurrence"] == "FREQ=DAILY;COUNT=2"
    assert following["due_at"] > "2026"
