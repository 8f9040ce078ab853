"""`taskapi db ...`: Alembic migrations on the service's PostgreSQL, each test on a database
of its own (a downgrade must not pull the schema from under the other tests)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import adapters.postgres.migrations
from adapters.postgres.migrations import head_revision
from tests.cli.conftest import Taskapi, one_error_line

pytestmark = pytest.mark.postgres


@pytest.fixture
def taskapi_db(fresh_database_url: str) -> Taskapi:
    return Taskapi("postgres", {"TASK_STORE": "postgres", "DATABASE_URL": fresh_database_url})


def test_db_current_prints_the_head_revision_after_upgrade(taskapi_db: Taskapi) -> None:
    head = head_revision()

    before = taskapi_db.ok("db", "current")
    upgraded = taskapi_db.ok("db", "upgrade")
    after = taskapi_db.ok("db", "current")
    again = taskapi_db.ok("db", "upgrade")

    assert before.stdout == "none (no migration applied; run taskapi db upgrade)\n"
    assert upgraded.stdout == f"Upgraded from none (an empty schema) to {head} (head).\n"
    assert after.stdout == f"{head} (head)\n"
    assert again.stdout == f"Already at {head} (head); nothing to do.\n"


def test_db_moves_to_a_named_revision_both_ways(taskapi_db: Taskapi) -> None:
    head = head_revision()
    taskapi_db.ok("db", "upgrade", "0001")
    assert taskapi_db.ok("db", "current").stdout == (
        f"0001 (behind {head}; run taskapi db upgrade)\n"
    )

    taskapi_db.ok("db", "upgrade")
    down = taskapi_db.ok("db", "downgrade", "0001")
    assert down.stdout == f"Downgraded from {head} (head) to 0001.\n"

    taskapi_db.ok("db", "downgrade", "base")
    assert taskapi_db.ok("db", "current").stdout.startswith("none")


def test_the_service_path_works_on_a_database_the_cli_migrated(taskapi_db: Taskapi) -> None:
    taskapi_db.ok("db", "upgrade")

    task = taskapi_db.json("tasks", "add", "--user", "alice", "after db upgrade")

    assert task["version"] == 1


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["upgrade", "nosuch"], "revision identified by 'nosuch'"),
        (["downgrade", "0002"], "is not a valid downgrade target"),
    ],
)
def test_a_bad_revision_is_one_line(taskapi_db: Taskapi, args: list[str], complaint: str) -> None:
    taskapi_db.ok("db", "upgrade", "0001")

    assert complaint in one_error_line(taskapi_db("db", *args))


def test_db_refuses_the_memory_store() -> None:
    in_memory = Taskapi("memory", {"TASK_STORE": "memory", "DATABASE_URL": ""})

    result = in_memory("db", "current")

    assert "TASK_STORE is memory" in one_error_line(result)


def test_db_on_an_unreachable_server_is_one_line() -> None:
    nowhere = Taskapi(
        "postgres",
        {"TASK_STORE": "postgres", "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nowhere"},
    )

    assert "cannot reach the database" in one_error_line(nowhere("db", "upgrade"))


@pytest.fixture
def scripts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of alembic/, so writing a revision leaves the project's migrations alone."""
    copy = tmp_path / "alembic"
    shutil.copytree(
        adapters.postgres.migrations.ALEMBIC_DIR, copy, ignore=shutil.ignore_patterns("__pycache__")
    )
    monkeypatch.setattr(adapters.postgres.migrations, "ALEMBIC_DIR", copy)
    return copy


def test_db_revision_writes_the_next_numbered_migration(taskapi_db: Taskapi, scripts: Path) -> None:
    head = head_revision()
    assert head is not None
    expected = f"{int(head) + 1:04d}"

    result = taskapi_db.ok("db", "revision", "-m", "add tags")

    written = scripts / "versions" / f"{expected}_add_tags.py"
    assert result.stdout.strip() == f"Wrote {written}"
    text = written.read_text()
    assert f"revision: str = '{expected}'" in text or f'revision: str = "{expected}"' in text
    assert f"'{head}'" in text or f'"{head}"' in text


def test_db_revision_autogenerate_finds_the_tables_match_the_migrations(
    taskapi_db: Taskapi, scripts: Path
) -> None:
    taskapi_db.ok("db", "upgrade")
    head = head_revision()
    assert head is not None

    taskapi_db.ok("db", "revision", "-m", "no change", "--autogenerate")

    written = scripts / "versions" / f"{int(head) + 1:04d}_no_change.py"
    upgrade = written.read_text().split("def upgrade")[1]
    assert "op." not in upgrade, upgrade


def test_db_revision_autogenerate_needs_an_up_to_date_database(
    taskapi_db: Taskapi, scripts: Path
) -> None:
    result = taskapi_db("db", "revision", "-m", "too early", "--autogenerate")

    assert "Target database is not up to date" in one_error_line(result)


def test_without_database_url_the_cli_runs_its_own_embedded_server(tmp_path: Path) -> None:
    embedded = Taskapi(
        "postgres",
        {"TASK_STORE": "postgres", "DATABASE_URL": "", "TASKAPI_DATA_DIR": str(tmp_path)},
    )

    task = embedded.json("tasks", "add", "--user", "alice", "kept on disk")
    current = embedded.ok("db", "current")
    shown = embedded.json("tasks", "show", "--user", "alice", task["id"])

    assert current.stdout == f"{head_revision()} (head)\n"
    assert shown == task
    assert (tmp_path / "postgres" / "PG_VERSION").exists()


def test_a_failing_migration_reports_its_own_error(taskapi_db: Taskapi, scripts: Path) -> None:
    head = head_revision()
    assert head is not None
    failing = f"{int(head) + 1:04d}"
    (scripts / "versions" / f"{failing}_fails.py").write_text(
        f'revision = "{failing}"\n'
        f'down_revision = "{head}"\n'
        "from alembic import op\n\n\n"
        "def upgrade() -> None:\n"
        '    op.execute("SELECT 1 / 0")\n'
    )

    failed = taskapi_db("db", "upgrade")
    retried = taskapi_db("db", "upgrade", head)  # the migration lock was released

    # Not "current transaction is aborted" from unlocking in the failed transaction.
    assert "division by zero" in one_error_line(failed)
    assert retried.exit_code == 0, retried.output
    current = taskapi_db.ok("db", "current").stdout
    assert current == f"{head} (behind {failing}; run taskapi db upgrade)\n"


def test_distribute_refuses_a_plain_postgresql(taskapi_db: Taskapi) -> None:
    taskapi_db.ok("db", "upgrade")
    task = taskapi_db.json("tasks", "add", "--user", "alice", "stays where it is")

    refused = taskapi_db("db", "distribute")

    assert "has no citus extension (a plain PostgreSQL): nothing was distributed" in (
        one_error_line(refused)
    )
    assert taskapi_db.json("tasks", "show", "--user", "alice", task["id"]) == task
    assert taskapi_db.ok("db", "current").stdout == f"{head_revision()} (head)\n"
