"""CLI fixtures: `taskapi` run through click's CliRunner, as a user would, on each adapter.

The tests are plain sync functions: every command runs its own event loop (asyncio.run),
which it cannot do inside a running one. On PostgreSQL the command reads DATABASE_URL from
the environment and migrates the session's database when it starts, as the service does.
In memory, nothing outlives one command; the tests hand every command of a test one
container (one store) as click's `obj`, the same seam the CLI uses to find its container.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from adapters.postgres.urls import async_url
from entrypoints.cli.main import cli
from entrypoints.config import Settings
from entrypoints.container import Container
from tests.conftest import _admin

ADAPTERS = ("memory", "postgres")
FIELDS = (
    "id",
    "user_id",
    "title",
    "description",
    "completed",
    "completed_at",
    "due_at",
    "priority",
    "tags",
    "recurrence",
    "time_zone",
    "remind_at",
    "series_id",
    "created_at",
    "updated_at",
    "version",
)


@dataclass
class Taskapi:
    """The `taskapi` command on one storage; call it with the arguments a user would type."""

    adapter: str
    env: dict[str, str | None]
    container: Container | None = None
    runner: CliRunner = field(default_factory=CliRunner)

    def __call__(self, *args: str, stdin: str | None = None) -> Result:
        return self.runner.invoke(
            cli, list(args), env=self.env, obj=self.container, input=stdin, prog_name="taskapi"
        )

    def ok(self, *args: str, stdin: str | None = None) -> Result:
        result = self(*args, stdin=stdin)
        assert result.exit_code == 0, result.output
        assert "Traceback" not in result.output
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json").stdout)

    def with_limit(self, max_tasks: int) -> Taskapi:
        """The same storage, for users who may hold at most `max_tasks` tasks."""
        env = {**self.env, "MAX_TASKS_PER_USER": str(max_tasks)}
        if self.container is None:
            return Taskapi(self.adapter, env)
        settings = Settings(task_store="memory", max_tasks_per_user=max_tasks)
        return Taskapi(self.adapter, env, Container(settings=settings))


@pytest.fixture(params=ADAPTERS)
def adapter(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def taskapi(request: pytest.FixtureRequest, adapter: str) -> Taskapi:
    if adapter == "memory":
        env: dict[str, str | None] = {"TASK_STORE": "memory", "DATABASE_URL": ""}
        return Taskapi(adapter, env, Container(settings=Settings(task_store="memory")))
    # A sync fixture: the async session fixture resolves outside any running loop.
    url = request.getfixturevalue("database_url")
    return Taskapi(adapter, {"TASK_STORE": "postgres", "DATABASE_URL": url})


@pytest.fixture
def fresh_database_url(server_url: str) -> Iterator[str]:
    """A database of its own, empty (no migration applied), dropped afterwards."""
    name = f"taskapi_cli_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    try:
        yield async_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def one_error_line(result: Result) -> str:
    """The error a failed command printed: exactly one line on stderr, nothing on stdout."""
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert result.stdout == ""
    return lines[0]


def write_json(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    """A JSON array with one object a line: row n is on line n + 1."""
    path.write_text(
        "[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n]\n",
        encoding="utf-8",
    )
    return path


def write_csv(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    """A header line and one row a line (cells without line breaks): row n is on line n + 1."""
    columns = [name for name in FIELDS if any(name in row for row in rows)]
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_cell(v) for k, v in row.items()})
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_rows(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    return write_json(path, rows) if path.suffix == ".json" else write_csv(path, rows)


def read_export(path: Path) -> list[dict[str, Any]]:
    """An export's rows, as JSON values whatever the format (CSV's empty cells are null)."""
    if path.suffix == ".json":
        rows: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
        return rows
    with path.open(encoding="utf-8", newline="") as source:
        return [
            {k: None if v == "" else v for k, v in row.items()} for row in csv.DictReader(source)
        ]
