"""`taskapi tasks add|list|show|done|reopen|rm`: the use cases from the command line."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import pytest

from tests.cli.conftest import FIELDS, Taskapi, one_error_line

MISSING_ID = "01a20411-0000-7000-8000-000000000000"


def add(taskapi: Taskapi, owner: str, title: str, *options: str) -> dict[str, Any]:
    task: dict[str, Any] = taskapi.json("tasks", "add", "--user", owner, title, *options)
    return task


def test_add_then_show_gives_every_field_as_the_api_shows_it(taskapi: Taskapi, owner: str) -> None:
    created = add(
        taskapi,
        owner,
        "  Buy milk 🥛  ",
        "--description",
        "two litres",
        "--due",
        "2026-12-01T17:00:00+01:00",
        "--priority",
        "high",
    )

    shown = taskapi.json("tasks", "show", "--user", owner, created["id"])

    assert shown == created
    assert set(created) == set(FIELDS)
    assert created["user_id"] == owner
    assert created["title"] == "Buy milk 🥛"
    assert created["description"] == "two litres"
    assert created["due_at"] == "2026-12-01T16:00:00.000000Z"
    assert (created["priority"], created["completed"], created["version"]) == ("high", False, 1)
    assert created["completed_at"] is None
    assert created["created_at"] == created["updated_at"]
    assert created["created_at"].endswith("Z")


def test_add_and_show_print_readable_text(taskapi: Taskapi, owner: str) -> None:
    created = taskapi.ok(
        "tasks", "add", "--user", owner, "Water plants", "--due", "2026-12-01T09:30:00Z"
    )

    shown = taskapi.ok("tasks", "show", "--user", owner, created.stdout.split()[1])

    assert shown.stdout == created.stdout
    lines = dict(line.split(None, 1) for line in shown.stdout.splitlines())
    assert lines["title"] == "Water plants"
    assert lines["due_at"] == "2026-12-01T09:30:00.000000Z"
    assert lines["completed"] == "no"
    assert lines["description"] == "-"


def test_list_prints_a_table_of_only_the_users_tasks(taskapi: Taskapi, owner: str) -> None:
    first = add(taskapi, owner, "First")
    second = add(
        taskapi,
        owner,
        "Second",
        *("--priority", "low", "--due", "2026-12-01T10:00:00Z", "--tag", "Work", "--tag", "home"),
    )
    add(taskapi, f"{owner}-other", "Someone else's")

    table = taskapi.ok("tasks", "list", "--user", owner).stdout.splitlines()

    assert table[0].split() == ["ID", "DONE", "PRIORITY", "DUE", "TAGS", "TITLE"]
    assert [row.split()[0] for row in table[1:]] == [second["id"], first["id"]]  # newest first
    assert table[1].split() == [
        *(second["id"], "no", "low", "2026-12-01", "10:00", "UTC", "home,work", "Second")
    ]
    assert table[2].split()[-2:] == ["-", "First"]
    assert taskapi.ok("tasks", "list", "--user", f"{owner}-nobody").stdout == "No tasks.\n"


def test_list_options_filter_sort_and_page(taskapi: Taskapi, owner: str) -> None:
    milk = add(taskapi, owner, "Buy milk", "--priority", "high")
    bread = add(taskapi, owner, "Bake bread", "--description", "with MILK", "--priority", "low")
    call = add(taskapi, owner, "Call mum", "--due", "2026-01-01T00:00:00Z")
    taskapi.ok("tasks", "done", "--user", owner, call["id"])

    def titles(*options: str) -> list[str]:
        listing = taskapi.json("tasks", "list", "--user", owner, *options)
        return [t["title"] for t in listing["tasks"]]

    assert titles("--completed") == ["Call mum"]
    assert titles("--pending", "--sort", "title") == ["Bake bread", "Buy milk"]
    assert titles("--priority", "high") == ["Buy milk"]
    assert titles("--q", "milk", "--sort", "-title") == ["Buy milk", "Bake bread"]
    # No due date: last, in id order (two tasks made in one millisecond have random ids).
    undated = [t["title"] for t in sorted((milk, bread), key=lambda t: UUID(t["id"]))]
    assert titles("--sort", "due_at") == ["Call mum", *undated]
    assert titles("--due-before", "2026-06-01T00:00:00+02:00") == ["Call mum"]
    assert titles("--sort", "priority") == ["Call mum", "Bake bread", "Buy milk"]

    first_page = taskapi.json("tasks", "list", "--user", owner, "--sort", "title", "--limit", "2")
    rest = taskapi.json(
        "tasks", "list", "--user", owner, "--sort", "title", "--cursor", first_page["next_cursor"]
    )
    assert [t["id"] for t in first_page["tasks"]] == [bread["id"], milk["id"]]
    assert [t["id"] for t in rest["tasks"]] == [call["id"]]
    assert rest["next_cursor"] is None


def test_a_list_with_more_pages_says_how_to_get_the_next(taskapi: Taskapi, owner: str) -> None:
    add(taskapi, owner, "one")
    add(taskapi, owner, "two")

    result = taskapi.ok("tasks", "list", "--user", owner, "--limit", "1")

    assert len(result.stdout.splitlines()) == 2
    assert result.stderr.startswith("More tasks: repeat with --cursor ")


def test_done_and_reopen_set_completion_and_repeat_harmlessly(taskapi: Taskapi, owner: str) -> None:
    task = add(taskapi, owner, "Finish report")

    done = taskapi.json("tasks", "done", "--user", owner, task["id"])
    done_again = taskapi.json("tasks", "done", "--user", owner, task["id"])
    reopened = taskapi.json("tasks", "reopen", "--user", owner, task["id"])

    assert (done["completed"], done["version"]) == (True, 2)
    assert done["completed_at"] == done["updated_at"]
    assert done_again == done
    assert (reopened["completed"], reopened["completed_at"], reopened["version"]) == (
        False,
        None,
        3,
    )
    assert taskapi.json("tasks", "show", "--user", owner, task["id"]) == reopened


def test_rm_deletes_the_task_and_a_second_rm_finds_nothing(taskapi: Taskapi, owner: str) -> None:
    task = add(taskapi, owner, "Short-lived")
    kept = add(taskapi, owner, "Kept")

    removed = taskapi.ok("tasks", "rm", "--user", owner, task["id"])
    again = taskapi("tasks", "rm", "--user", owner, task["id"], "--json")

    assert removed.stdout == f"Deleted task {task['id']}.\n"
    assert one_error_line(again) == f"Error: no task {task['id']} for user {owner}"
    listing = taskapi.json("tasks", "list", "--user", owner)
    assert [t["id"] for t in listing["tasks"]] == [kept["id"]]


def test_rm_json_prints_the_deleted_id(taskapi: Taskapi, owner: str) -> None:
    task = add(taskapi, owner, "Gone")

    assert taskapi.json("tasks", "rm", "--user", owner, task["id"]) == {"id": task["id"]}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "--user", "{owner}", MISSING_ID], f"no task {MISSING_ID} for user {{owner}}"),
        (["done", "--user", "{owner}", MISSING_ID], f"no task {MISSING_ID} for user {{owner}}"),
        (["reopen", "--user", "{owner}", MISSING_ID], f"no task {MISSING_ID} for user {{owner}}"),
        (["rm", "--user", "{owner}", MISSING_ID], f"no task {MISSING_ID} for user {{owner}}"),
        (["show", "--user", "{owner}", "not-a-uuid"], "TASK_ID must be a UUID"),
        (["list", "--user", "bad user!"], "user_id must be 1 to 128 characters"),
        (["add", "--user", "x" * 129, "title"], "user_id must be 1 to 128 characters"),
        (["add", "--user", "{owner}", "t", "--due", "2026-12-01T17:00:00"], "--due must have"),
        (["add", "--user", "{owner}", "t", "--due", "tomorrow"], "--due must be an RFC 3339"),
        (["add", "--user", "{owner}", "t", "--due", "2026-02-30T10:00:00Z"], "--due must be"),
        (["add", "--user", "{owner}", "   "], "title must not be empty"),
        (["add", "--user", "{owner}", "t" * 501], "title must be at most 500 characters"),
        (["list", "--user", "{owner}", "--limit", "501"], "limit must be between 1 and 500"),
        (["list", "--user", "{owner}", "--cursor", "forged"], "cursor is not a valid cursor"),
    ],
)
def test_errors_are_one_line_and_a_failure_status(
    taskapi: Taskapi, owner: str, args: list[str], message: str
) -> None:
    result = taskapi("tasks", *(a.replace("{owner}", owner) for a in args))

    assert result.exit_code == 1
    assert message.replace("{owner}", owner) in one_error_line(result)


def test_a_usage_mistake_is_one_line_naming_the_help(taskapi: Taskapi) -> None:
    result = taskapi("tasks", "list", "--priority", "urgent", "--user", "alice")

    assert result.exit_code == 2
    assert one_error_line(result) == (
        "Error: Invalid value for '--priority': 'urgent' is not one of 'none', 'low', 'medium', "
        "'high' (see 'taskapi tasks list --help')."
    )


def test_a_database_that_cannot_be_reached_is_one_line() -> None:
    unreachable = Taskapi(
        "postgres",
        {"TASK_STORE": "postgres", "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nowhere"},
    )

    result = unreachable("tasks", "list", "--user", "alice")

    assert result.exit_code == 1
    assert "cannot reach the database" in one_error_line(result)


def test_the_memory_store_works_within_one_command() -> None:
    in_memory = Taskapi("memory", {"TASK_STORE": "memory", "DATABASE_URL": ""})

    task = in_memory.json("tasks", "add", "--user", "alice", "Only for now")

    assert task["title"] == "Only for now"
    assert in_memory.json("tasks", "list", "--user", "alice") == {"tasks": [], "next_cursor": None}


def _next_token(result: Any) -> str:
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("Continue with --since "), result.stderr
    return str(line.split()[3])


def test_changes_prints_each_write_after_the_token(taskapi: Taskapi, owner: str) -> None:
    start = _next_token(taskapi.ok("tasks", "changes", "--user", owner))
    created = add(taskapi, owner, "Water plants")
    taskapi.ok("tasks", "done", "--user", owner, created["id"])

    listed = taskapi.ok("tasks", "changes", "--user", owner, "--since", start, "--json")
    lines = [json.loads(line) for line in listed.stdout.splitlines()]
    text = taskapi.ok("tasks", "changes", "--user", owner, "--since", start)

    assert [(c["type"], c["version"]) for c in lines] == [("task.created", 1), ("task.updated", 2)]
    assert lines[0]["task"] == created
    assert lines[1]["task"]["completed"] is True
    assert _next_token(listed) == lines[1]["token"]
    assert len(text.stdout.splitlines()) == 2
    assert "Water plants" in text.stdout
    after = taskapi.ok("tasks", "changes", "--user", owner, "--since", lines[0]["token"], "--json")
    assert [json.loads(line)["type"] for line in after.stdout.splitlines()] == ["task.updated"]


def test_changes_refuses_a_token_of_another_user(taskapi: Taskapi, owner: str) -> None:
    token = _next_token(taskapi.ok("tasks", "changes", "--user", owner))

    result = taskapi("tasks", "changes", "--user", f"{owner}-other", "--since", token)

    assert "since" in one_error_line(result)
