"""`taskapi tasks export|import`: every field out and back in; an import is all or nothing."""

from __future__ import annotations

import io
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from entrypoints.cli.runtime import progress
from tests.cli.conftest import Taskapi, one_error_line, read_export, write_csv, write_rows

FORMATS = ("json", "csv")
MANY = 10_000


@pytest.fixture(params=FORMATS)
def file_format(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def count(taskapi: Taskapi, owner: str, tmp_path: Path) -> int:
    exported = tmp_path / f"count-{uuid.uuid4().hex}.json"
    taskapi.ok("tasks", "export", "--user", owner, "--output", str(exported))
    return len(read_export(exported))


def many_rows(n: int) -> list[dict[str, Any]]:
    priorities = ("none", "low", "medium", "high")
    return [
        {
            "title": f"task {i}",
            "description": None if i % 3 else f"about task {i}, with a comma",
            "completed": i % 5 == 0,
            "due_at": None if i % 4 else f"2026-12-{1 + i % 28:02d}T17:00:00+01:00",
            "priority": priorities[i % 4],
        }
        for i in range(n)
    ]


def test_an_import_with_one_bad_row_writes_nothing_and_names_the_row(
    taskapi: Taskapi, owner: str, tmp_path: Path, file_format: str
) -> None:
    rows = many_rows(MANY)
    rows[5000]["title"] = ""
    source = write_rows(tmp_path / f"tasks.{file_format}", rows)

    result = taskapi("tasks", "import", "--user", owner, str(source))

    assert one_error_line(result) == (
        f"Error: nothing was imported: {source} row 5001 (line 5002): title must not be empty"
    )
    assert count(taskapi, owner, tmp_path) == 0


def test_a_valid_import_of_10000_rows_adds_them_all(
    taskapi: Taskapi, owner: str, tmp_path: Path, file_format: str
) -> None:
    source = write_rows(tmp_path / f"tasks.{file_format}", many_rows(MANY))

    result = taskapi.ok("tasks", "import", "--user", owner, str(source))

    assert result.stdout == f"Imported {MANY} tasks for {owner}.\n"
    exported = tmp_path / f"export.{file_format}"
    taskapi.ok("tasks", "export", "--user", owner, "--output", str(exported))
    rows = read_export(exported)
    assert len(rows) == MANY
    assert len({row["id"] for row in rows}) == MANY
    assert {row["title"] for row in rows} == {f"task {i}" for i in range(MANY)}


T_CREATED = "2026-01-01T08:00:00.000001Z"


def varied_rows() -> list[dict[str, Any]]:
    """Rows that exercise every field, text that CSV must quote, and kept server fields."""
    return [
        {"title": "plain"},
        {"title": "  padded  ", "priority": "medium", "due_at": "2026-12-01T17:00:00+01:00"},
        {
            "title": "comma, \"quotes\" and 'apostrophes'",
            "description": "line one\nline two\r\nline three\ttabbed; trailing space ",
            "priority": "high",
        },
        {"title": "emoji 🥛 ünïcødé", "description": "d" * 2000, "completed": True},
        {"title": "t" * 500, "priority": "low", "description": ""},
        {"title": "=1+2 looks like a formula", "due_at": "2025-12-31T23:59:59.999999-05:00"},
        {
            "id": str(uuid.uuid4()),
            "title": "kept server fields",
            "completed": True,
            "completed_at": "2026-03-01T00:00:00.5+02:00",
            "created_at": T_CREATED,
            "updated_at": "2026-03-02T00:00:00Z",
            "version": 7,
            "priority": "high",
        },
        {"id": str(uuid.uuid4()), "title": "kept id, reopened", "created_at": T_CREATED},
    ]


def arrange_varied_tasks(taskapi: Taskapi, owner: str, tmp_path: Path) -> None:
    write_rows(tmp_path / "varied.json", varied_rows())
    taskapi.ok("tasks", "import", "--user", owner, str(tmp_path / "varied.json"))
    made = taskapi.json(
        "tasks",
        "add",
        "--user",
        owner,
        "made here",
        "--due",
        "2027-01-01T00:00:00Z",
    )
    taskapi.ok("tasks", "done", "--user", owner, made["id"])


def test_export_then_import_to_another_user_reproduces_every_field(
    taskapi: Taskapi, owner: str, tmp_path: Path, file_format: str
) -> None:
    arrange_varied_tasks(taskapi, owner, tmp_path)
    first = tmp_path / f"first.{file_format}"
    taskapi.ok("tasks", "export", "--user", owner, "--output", str(first))

    taskapi.ok("tasks", "import", "--user", f"{owner}-copy", str(first))
    second = tmp_path / f"second.{file_format}"
    taskapi.ok("tasks", "export", "--user", f"{owner}-copy", "--output", str(second))

    originals, copies = read_export(first), read_export(second)
    assert len(originals) == len(varied_rows()) + 1
    assert [{**row, "user_id": owner} for row in copies] == originals
    kept = next(row for row in originals if row["title"] == "kept server fields")
    assert (kept["created_at"], kept["completed_at"], str(kept["version"])) == (
        T_CREATED,
        "2026-02-28T22:00:00.500000Z",
        "7",
    )


def test_export_delete_all_then_import_reproduces_every_field(
    taskapi: Taskapi, owner: str, tmp_path: Path, file_format: str
) -> None:
    arrange_varied_tasks(taskapi, owner, tmp_path)
    before = tmp_path / f"before.{file_format}"
    taskapi.ok("tasks", "export", "--user", owner, "--output", str(before))
    for row in read_export(before):
        taskapi.ok("tasks", "rm", "--user", owner, row["id"])
    assert count(taskapi, owner, tmp_path) == 0

    taskapi.ok("tasks", "import", "--user", owner, str(before))
    after = tmp_path / f"after.{file_format}"
    taskapi.ok("tasks", "export", "--user", owner, "--output", str(after))

    assert read_export(after) == read_export(before)
    assert after.read_bytes() == before.read_bytes()


def test_export_to_standard_output_is_json(taskapi: Taskapi, owner: str) -> None:
    task = taskapi.json("tasks", "add", "--user", owner, "to stdout")

    exported = taskapi.ok("tasks", "export", "--user", owner)

    assert exported.stdout == f"[\n{_compact(task)}\n]\n"
    assert exported.stderr == ""


def _compact(task: dict[str, Any]) -> str:
    return json.dumps(task, ensure_ascii=False)


def test_import_reads_standard_input(taskapi: Taskapi, owner: str) -> None:
    result = taskapi.ok(
        "tasks", "import", "--user", owner, "-", "--format", "csv", stdin="title\nfrom stdin\n"
    )

    assert result.stdout == f"Imported 1 task for {owner}.\n"
    listing = taskapi.json("tasks", "list", "--user", owner)
    assert [t["title"] for t in listing["tasks"]] == ["from stdin"]


def test_the_task_limit_counts_the_whole_import(
    taskapi: Taskapi, owner: str, tmp_path: Path
) -> None:
    limited = taskapi.with_limit(5)
    limited.ok("tasks", "add", "--user", owner, "one")
    limited.ok("tasks", "add", "--user", owner, "two")
    four = write_csv(tmp_path / "four.csv", [{"title": f"new {i}"} for i in range(4)])
    three = write_csv(tmp_path / "three.csv", [{"title": f"new {i}"} for i in range(3)])

    refused = limited("tasks", "import", "--user", owner, str(four))
    accepted = limited("tasks", "import", "--user", owner, str(three))

    assert one_error_line(refused) == (
        "Error: nothing was imported: importing 4 tasks would give the user 6 tasks, "
        "over the maximum of 5 (they have 2)"
    )
    assert accepted.exit_code == 0, accepted.output
    assert count(limited, owner, tmp_path) == 5
    assert "maximum of 5" in one_error_line(limited("tasks", "add", "--user", owner, "six"))


GOOD = {"title": "fine"}


@pytest.mark.parametrize(
    ("bad", "complaint"),
    [
        ({"title": None}, "title {absent}"),
        ({"title": "x\x00y"}, "title must not contain the NUL character"),
        ({"title": "x", "description": "d" * 2001}, "description must be at most 2000"),
        ({"title": "x", "priority": "urgent"}, "priority must be one of none, low, medium, high"),
        ({"title": "x", "due_at": "2026-12-01T17:00:00"}, "due_at must have an offset"),
        ({"title": "x", "due_at": "next week"}, "due_at must be an RFC 3339 timestamp"),
        ({"title": "x", "completed": "yes"}, "completed must be true or false"),
        ({"title": "x", "id": "123"}, "id must be a UUID"),
        ({"title": "x", "version": 0}, "version must be an integer of at least 1"),
        ({"title": "x", "version": "two"}, "version must be an integer of at least 1"),
        ({"title": "x", "created_at": "2026-01-01"}, "created_at must be an RFC 3339 timestamp"),
        (
            {
                "title": "x",
                "created_at": "2026-02-01T00:00:00Z",
                "updated_at": "2026-01-01T00:00:00Z",
            },
            "updated_at must not be before created_at",
        ),
        (
            {"title": "x", "completed": False, "completed_at": "2026-01-01T00:00:00Z"},
            "completed_at must be empty when the task is not completed",
        ),
    ],
)
def test_each_rule_is_checked_on_every_row(
    taskapi: Taskapi,
    owner: str,
    tmp_path: Path,
    file_format: str,
    bad: dict[str, Any],
    complaint: str,
) -> None:
    source = write_rows(tmp_path / f"rows.{file_format}", [GOOD, GOOD, bad, GOOD])

    result = taskapi("tasks", "import", "--user", owner, str(source))

    # An empty CSV cell is an empty title; JSON can leave the title out altogether.
    absent = "is required" if file_format == "json" else "must not be empty"
    assert f"row 3 (line 4): {complaint.format(absent=absent)}" in one_error_line(result)


def test_an_id_the_user_already_has_is_refused(
    taskapi: Taskapi, owner: str, tmp_path: Path
) -> None:
    existing = taskapi.json("tasks", "add", "--user", owner, "already here")
    rows = [{"title": "new"}, {"id": existing["id"], "title": "clash"}]
    source = write_rows(tmp_path / "clash.json", rows)

    result = taskapi("tasks", "import", "--user", owner, str(source))

    assert one_error_line(result) == (
        f"Error: nothing was imported: {source} row 2 (line 3): "
        f"id {existing['id']} already exists for this user"
    )
    assert count(taskapi, owner, tmp_path) == 1
    # Another user may hold the same id: ids are unique per owner.
    taskapi.ok("tasks", "import", "--user", f"{owner}-other", str(source))


def test_an_id_twice_in_the_file_is_refused(taskapi: Taskapi, owner: str, tmp_path: Path) -> None:
    same = str(uuid.uuid4())
    source = write_rows(
        tmp_path / "twice.csv", [{"id": same, "title": "a"}, {"id": same, "title": "b"}]
    )

    result = taskapi("tasks", "import", "--user", owner, str(source))

    assert one_error_line(result).endswith(f"row 2 (line 3): id {same} is also on row 1")


@pytest.mark.parametrize(
    ("name", "content", "complaint"),
    [
        (
            "broken.json",
            '[{"title": "a"},\n{"title": }]',
            "line 2: not valid JSON: Expecting value",
        ),
        ("object.json", '{"title": "a"}', "line 1: must hold a JSON array of task objects"),
        ("scalar.json", '[{"title": "a"},\n 3]', "line 2: row 2: must be a JSON object"),
        ("unknown.csv", "title,colour\na,red\n", "line 1: unknown column 'colour'"),
        ("short.csv", "title,priority\na,low\nb\n", "line 3: row 2: has 1 cells, the header has 2"),
        (
            "unknown.json",
            '[{"title": "a", "colour": "red"}]',
            "row 1 (line 1): unknown field 'colour'",
        ),
    ],
)
def test_a_malformed_file_is_one_line_naming_where(
    taskapi: Taskapi, owner: str, tmp_path: Path, name: str, content: str, complaint: str
) -> None:
    source = tmp_path / name
    source.write_text(content, encoding="utf-8")

    result = taskapi("tasks", "import", "--user", owner, str(source))

    assert complaint in one_error_line(result)


def test_the_format_comes_from_the_extension_or_the_option(
    taskapi: Taskapi, owner: str, tmp_path: Path
) -> None:
    source = tmp_path / "tasks.txt"
    source.write_text("title\nfrom a .txt file\n", encoding="utf-8")

    unknown = taskapi("tasks", "import", "--user", owner, str(source))
    given = taskapi("tasks", "import", "--user", owner, str(source), "--format", "csv")

    assert "cannot tell the format" in one_error_line(unknown)
    assert given.exit_code == 0, given.output


def test_a_missing_file_is_one_line(taskapi: Taskapi, owner: str, tmp_path: Path) -> None:
    result = taskapi("tasks", "import", "--user", owner, str(tmp_path / "absent.json"))

    assert "cannot read" in one_error_line(result)
    assert "No such file or directory" in result.stderr


def test_a_progress_bar_is_drawn_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal, pipe = Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        monkeypatch.setattr(sys, "stderr", stream)
        with progress(5000, "Importing") as advance:
            for _ in range(5):
                advance(1000)

    assert "Importing" in terminal.getvalue()
    assert "100%" in terminal.getvalue()
    assert pipe.getvalue() == ""
