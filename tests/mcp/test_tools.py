"""The tools over Streamable HTTP (AUTH_MODE=none), with the SDK's own client, on PostgreSQL:
their schemas, every happy path, every error code, and results equal to the REST API's."""

from __future__ import annotations

from typing import Any

from application.tasks import MAX_PAGE_SIZE
from domain.ids import UUID_PATTERN
from domain.task import (
    DESCRIPTION_MAX_LENGTH,
    EDITABLE_FIELDS,
    OWNER_PATTERN,
    SHOWN_NAMES,
    TITLE_PATTERN,
    Priority,
)
from tests.mcp.conftest import TASK_LIMIT, Served, Session
from tests.mcp.helpers import call, fail

TOOLS = {
    "add_task",
    "list_tasks",
    "get_task",
    "update_task",
    "complete_task",
    "delete_task",
    "clear_completed",
    "task_stats",
}
MISSING_TASK_ID = "0b7e3f5e-5d0a-4a4e-9f1e-3c1d2b8f6a10"


async def _schemas(session: Session) -> dict[str, Any]:
    listed = await session.list_tools()
    return {tool.name: tool for tool in listed.tools}


async def test_the_tools_are_the_contracts_table(session: Session) -> None:
    tools = await _schemas(session)

    assert set(tools) == TOOLS
    assert all(tool.description and len(tool.description) > 40 for tool in tools.values())


async def test_every_tool_requires_user_id_without_tokens(session: Session) -> None:
    tools = await _schemas(session)

    for tool in tools.values():
        user_id = tool.input_schema["properties"]["user_id"]
        assert "user_id" in tool.input_schema["required"], tool.name
        assert user_id["pattern"] == OWNER_PATTERN
        assert (user_id["minLength"], user_id["maxLength"]) == (1, 128)
        assert tool.input_schema["additionalProperties"] is False


async def test_add_and_update_take_the_editable_fields_with_the_rest_rules(
    session: Session, served: Served
) -> None:
    tools = await _schemas(session)
    add = tools["add_task"].input_schema
    update = tools["update_task"].input_schema
    document = (await served.rest.get("/openapi.json")).json()["components"]["schemas"]

    editable = {field.name for field in EDITABLE_FIELDS}
    assert set(add["properties"]) == editable | {"user_id"}
    assert set(update["properties"]) == editable | {"user_id", "task_id"}
    assert set(document["TaskWrite"]["properties"]) == editable
    assert add["required"] == ["user_id", "title"]
    assert update["required"] == ["user_id", "task_id"]
    properties = add["properties"]
    assert properties["title"]["pattern"] == TITLE_PATTERN
    description = properties["description"]["anyOf"][0]
    assert description["maxLength"] == DESCRIPTION_MAX_LENGTH
    assert properties["due_at"]["anyOf"][0]["format"] == "date-time"
    assert properties["priority"]["enum"] == [p.value for p in Priority]
    task_id = update["properties"]["task_id"]
    assert (task_id["format"], task_id["pattern"]) == ("uuid", UUID_PATTERN)


async def test_list_tasks_takes_the_listing_arguments(session: Session) -> None:
    schema = (await _schemas(session))["list_tasks"].input_schema
    properties = schema["properties"]

    assert set(properties) >= {
        "user_id",
        "status",
        "q",
        "tags",
        "priority",
        "due_before",
        "due_after",
        "sort",
        "limit",
        "cursor",
    }
    assert properties["status"]["enum"] == ["all", "pending", "completed"]
    assert properties["status"]["default"] == "all"
    limit = properties["limit"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, MAX_PAGE_SIZE, 50)
    assert "-due_at" in properties["sort"]["enum"]


async def test_a_task_result_has_the_rest_tasks_fields(session: Session) -> None:
    schema = (await _schemas(session))["get_task"].output_schema

    assert schema is not None
    assert list(schema["properties"]) == list(SHOWN_NAMES)
    assert set(schema["required"]) == set(SHOWN_NAMES)


async def test_add_task_returns_the_task_as_rest_get_shows_it(
    session: Session, served: Served, owner: str
) -> None:
    task = await call(
        session,
        "add_task",
        user_id=owner,
        title="  Call mom  ",
        description="every Sunday",
        due_at="2026-12-06T18:00:00+01:00",
        priority="high",
    )

    shown = await served.rest.get(f"/api/{owner}/tasks/{task['id']}")
    assert shown.status_code == 200
    assert shown.json()["data"] == task
    assert task["title"] == "Call mom"
    assert task["due_at"] == "2026-12-06T17:00:00.000000Z"
    assert task["version"] == 1


async def test_list_tasks_filters_sorts_and_pages(session: Session, owner: str) -> None:
    for title, priority in (("low one", "low"), ("high one", "high"), ("medium one", "medium")):
        await call(session, "add_task", user_id=owner, title=title, priority=priority)
    done = await call(session, "add_task", user_id=owner, title="done one")
    await call(session, "complete_task", user_id=owner, task_id=done["id"])

    first = await call(
        session, "list_tasks", user_id=owner, status="pending", sort="-priority", limit=2
    )
    second = await call(
        session,
        "list_tasks",
        user_id=owner,
        status="pending",
        sort="-priority",
        limit=2,
        cursor=first["next_cursor"],
    )
    completed = await call(session, "list_tasks", user_id=owner, status="completed")
    found = await call(session, "list_tasks", user_id=owner, q="MEDIUM")

    assert [t["title"] for t in first["tasks"]] == ["high one", "medium one"]
    assert [t["title"] for t in second["tasks"]] == ["low one"]
    assert second["next_cursor"] is None
    assert [t["title"] for t in completed["tasks"]] == ["done one"]
    assert [t["title"] for t in found["tasks"]] == ["medium one"]


async def test_list_tasks_defaults_to_50(session: Session, served: Served, owner: str) -> None:
    for n in range(51):
        await served.rest.post(f"/api/{owner}/tasks", json={"title": f"task {n}"})

    page = await call(session, "list_tasks", user_id=owner)

    assert len(page["tasks"]) == 50
    assert page["next_cursor"] is not None
    assert page["tasks"][0]["title"] == "task 50"  # newest first


async def test_list_tasks_filters_by_tags(session: Session, owner: str) -> None:
    await call(session, "add_task", user_id=owner, title="untagged")
    home = await call(session, "add_task", user_id=owner, title="home", tags=["Home"])
    both = await call(session, "add_task", user_id=owner, title="both", tags=["home", "work"])

    one = await call(session, "list_tasks", user_id=owner, tags="home")
    two = await call(session, "list_tasks", user_id=owner, tags="work,HOME")

    assert [t["id"] for t in one["tasks"]] == [both["id"], home["id"]]
    assert [t["id"] for t in two["tasks"]] == [both["id"]]


async def test_completing_a_recurring_task_returns_its_next_occurrence(
    session: Session, served: Served, owner: str
) -> None:
    task = await call(
        session,
        "add_task",
        user_id=owner,
        title="Call mom",
        recurrence="FREQ=WEEKLY;BYDAY=SU",
        time_zone="Europe/Berlin",
        due_at="2030-01-06T18:00:00+01:00",
        tags=["family"],
    )

    completed = await call(session, "complete_task", user_id=owner, task_id=task["id"])

    following = completed["next_occurrence"]
    assert following["due_at"] == "2030-01-13T17:00:00.000000Z"
    assert following["series_id"] == task["id"]
    assert (following["recurrence"], following["tags"]) == ("FREQ=WEEKLY;BYDAY=SU", ["family"])
    shown = await served.rest.get(f"/api/{owner}/tasks/{following['id']}")
    assert shown.json()["data"] == following


async def test_get_update_complete_and_delete(session: Session, served: Served, owner: str) -> None:
    created = await call(session, "add_task", user_id=owner, title="draft", description="x")

    fetched = await call(session, "get_task", user_id=owner, task_id=created["id"])
    updated = await call(
        session,
        "update_task",
        user_id=owner,
        task_id=created["id"],
        title="final",
        description=None,
    )
    unchanged = await call(session, "update_task", user_id=owner, task_id=created["id"])
    completed = await call(session, "complete_task", user_id=owner, task_id=created["id"])
    again = await call(session, "complete_task", user_id=owner, task_id=created["id"])
    reopened = await call(
        session, "complete_task", user_id=owner, task_id=created["id"], completed=False
    )
    shown = (await served.rest.get(f"/api/{owner}/tasks/{created['id']}")).json()["data"]
    deleted = await call(session, "delete_task", user_id=owner, task_id=created["id"])

    assert fetched == created
    assert (updated["title"], updated["description"], updated["version"]) == ("final", None, 2)
    assert unchanged == updated
    assert completed["task"]["completed"] is True
    assert completed["task"]["completed_at"] is not None
    assert completed["next_occurrence"] is None
    assert again["task"] == completed["task"]
    assert reopened["task"]["completed"] is False
    assert reopened["task"] == shown
    assert deleted == {"id": created["id"]}
    assert (await served.rest.get(f"/api/{owner}/tasks/{created['id']}")).status_code == 404


async def test_clear_completed_and_task_stats(session: Session, owner: str) -> None:
    for title in ("a", "b", "c"):
        await call(session, "add_task", user_id=owner, title=title)
    await call(session, "add_task", user_id=owner, title="late", due_at="2001-01-01T00:00:00Z")
    done = await call(session, "add_task", user_id=owner, title="done", completed=True)

    stats = await call(session, "task_stats", user_id=owner)
    cleared = await call(session, "clear_completed", user_id=owner)
    after = await call(session, "task_stats", user_id=owner)

    assert done["completed"] is True
    assert stats == {"total": 5, "completed": 1, "pending": 4, "overdue": 1}
    assert cleared == {"deleted": 1}
    assert after == {"total": 4, "completed": 0, "pending": 4, "overdue": 1}


async def test_a_title_too_long_is_the_rest_validation_error(
    session: Session, served: Served, owner: str
) -> None:
    error = await fail(session, "add_task", user_id=owner, title="x" * 501)
    rest = await served.rest.post(f"/api/{owner}/tasks", json={"title": "x" * 501})

    rest_error = rest.json()["error"]
    assert error["code"] == rest_error["code"] == "VALIDATION_ERROR"
    assert error["message"] == rest_error["message"]
    assert (
        error["details"]
        == rest_error["details"]
        == [{"field": "title", "message": "must be at most 500 characters"}]
    )
    assert error["request_id"]


async def test_bad_arguments_name_their_field(session: Session, owner: str) -> None:
    task = await call(session, "add_task", user_id=owner, title="t")
    cases: list[tuple[str, dict[str, Any], str, str]] = [
        ("add_task", {"title": "t", "completed": "true"}, "completed", "must be a boolean"),
        ("add_task", {"title": "t", "priority": "urgent"}, "priority", "must be one of"),
        ("add_task", {"title": "t", "due_at": "2026-12-01T17:00:00"}, "due_at", "offset"),
        ("add_task", {"title": "t", "id": task["id"]}, "id", "is read-only"),
        ("add_task", {"title": "t", "colour": "red"}, "colour", "is not a known field"),
        ("add_task", {}, "title", "is required"),
        ("update_task", {"task_id": task["id"], "title": None}, "title", "must be a string"),
        ("get_task", {"task_id": "not-a-uuid"}, "task_id", "must be a UUID"),
        ("list_tasks", {"limit": 0}, "limit", ">= 1"),
        ("list_tasks", {"limit": 501}, "limit", "<= 500"),
        ("list_tasks", {"status": "done"}, "status", "must be one of all, pending, completed"),
        ("list_tasks", {"sort": "size"}, "sort", "must be one of"),
        ("list_tasks", {"q": ""}, "q", "1 to 200"),
        ("list_tasks", {"cursor": "forged"}, "cursor", ""),
    ]
    for tool, arguments, field, words in cases:
        error = await fail(session, tool, user_id=owner, **arguments)

        assert error["code"] == "VALIDATION_ERROR", (tool, arguments)
        assert error["details"][0]["field"] == field, (tool, arguments, error)
        assert words in error["details"][0]["message"], (tool, arguments, error)


async def test_user_id_is_required_and_checked(session: Session) -> None:
    missing = await fail(session, "task_stats")
    malformed = await fail(session, "task_stats", user_id="a/b")

    assert missing["details"] == [{"field": "user_id", "message": "is required"}]
    assert malformed["details"][0]["field"] == "user_id"


async def test_a_missing_task_is_task_not_found(session: Session, owner: str) -> None:
    for tool in ("get_task", "update_task", "complete_task", "delete_task"):
        error = await fail(session, tool, user_id=owner, task_id=MISSING_TASK_ID)

        assert error["code"] == "TASK_NOT_FOUND", tool
        assert error["message"] == "task not found"
        assert "details" not in error


async def test_another_users_task_is_not_found(session: Session, owner: str) -> None:
    task = await call(session, "add_task", user_id=owner, title="mine")

    error = await fail(session, "get_task", user_id=f"{owner}-other", task_id=task["id"])

    assert error["code"] == "TASK_NOT_FOUND"


async def test_the_cap_is_task_limit_reached(limited: Served, owner: str) -> None:
    async with limited.mcp() as session:
        for n in range(TASK_LIMIT):
            await call(session, "add_task", user_id=owner, title=f"task {n}")

        error = await fail(session, "add_task", user_id=owner, title="one too many")

    assert error["code"] == "TASK_LIMIT_REACHED"
    assert str(TASK_LIMIT) in error["message"]
