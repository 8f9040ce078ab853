"""The embedded PostgreSQL: data survives a restart; another major version is refused."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from adapters.postgres.embedded import EmbeddedDatabaseError, EmbeddedPostgres
from adapters.postgres.storage import PostgresStorage
from application.commands import CreateTaskCommand, TaskFields, TaskRef
from application.tasks import CreateTask, GetTask
from tests.conftest import FixedClock
from tests.serving import ROOT, SERVE, free_port, wait_until_answering

pytestmark = pytest.mark.postgres


async def test_tasks_survive_a_restart_of_the_embedded_server(tmp_path: Path, owner: str) -> None:
    first = PostgresStorage(url=None, data_dir=tmp_path)
    await first.start()
    try:
        create = CreateTask(first.unit_of_work_factory(), FixedClock(), 10)
        task = (await create(CreateTaskCommand(owner, TaskFields(title="kept")))).task
    finally:
        await first.stop()

    second = PostgresStorage(url=None, data_dir=tmp_path)
    await second.start()
    try:
        loaded = await GetTask(second.unit_of_work_factory())(TaskRef(owner, task.id))
        assert await second.ready()
    finally:
        await second.stop()

    assert loaded == task
    assert (tmp_path / "postgres" / "PG_VERSION").read_text().strip() == "18"


def test_a_cluster_of_another_major_version_is_refused_with_advice(tmp_path: Path) -> None:
    pgdata = tmp_path / "postgres"
    pgdata.mkdir()
    (pgdata / "PG_VERSION").write_text("16\n")

    with pytest.raises(EmbeddedDatabaseError, match=r"PostgreSQL 16 cluster.*pg_dump"):
        EmbeddedPostgres(tmp_path).start()

    assert sorted(p.name for p in pgdata.iterdir()) == ["PG_VERSION"]  # nothing created beside it


# The server's lifecycle across processes: whoever starts or adopts it stops it, unless
# another process still uses it.


def _postmaster(data_dir: Path) -> int | None:
    """The embedded server's pid while it runs, else None."""
    try:
        pid = int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
        os.kill(pid, 0)
    except (FileNotFoundError, IndexError, ValueError, ProcessLookupError):
        return None
    return pid


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """A data directory whose server, if a failed test leaves one running, is stopped."""
    yield tmp_path
    pid = _postmaster(tmp_path)
    if pid is not None:
        os.kill(pid, signal.SIGINT)  # PostgreSQL's fast shutdown


def _environment(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "TASK_STORE": "postgres", "TASKAPI_DATA_DIR": str(data_dir), **extra}
    env.pop("DATABASE_URL", None)
    return env


def _taskapi(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli.main", *args],
        cwd=ROOT,
        env=_environment(data_dir),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done


@contextlib.contextmanager
def _serving(data_dir: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, *SERVE],
        cwd=ROOT,
        env=_environment(data_dir, PORT=str(port), ACCESS_LOG="false"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_answering(server, f"{base}/ready")
        yield server, base
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def test_the_server_stops_when_its_last_user_in_a_process_lets_go(data_dir: Path) -> None:
    first, second = EmbeddedPostgres(data_dir), EmbeddedPostgres(data_dir)
    assert first.start() == second.start()

    first.stop()
    still_up = _postmaster(data_dir)
    second.stop()

    assert still_up is not None
    assert _postmaster(data_dir) is None


def test_a_cli_command_on_the_embedded_database_leaves_no_server_running(
    data_dir: Path,
) -> None:
    _taskapi(data_dir, "tasks", "import", "--user", "alice", "-", stdin='[{"title": "kept"}]')
    after_import = _postmaster(data_dir)
    listed = _taskapi(data_dir, "tasks", "list", "--user", "alice")

    assert after_import is None
    assert _postmaster(data_dir) is None
    assert "kept" in listed.stdout


def test_a_server_left_by_a_killed_service_is_stopped_by_the_next_one(data_dir: Path) -> None:
    with _serving(data_dir) as (killed, _):
        killed.kill()
        killed.wait(timeout=10)
    orphan = _postmaster(data_dir)

    with _serving(data_dir) as (_, base):
        adopted = _postmaster(data_dir)
        # A command run beside the service leaves the service's database running.
        _taskapi(data_dir, "tasks", "add", "--user", "alice", "from the CLI")
        beside = _postmaster(data_dir)
        # The database still answers the service, its schema current.
        ready = httpx.get(f"{base}/ready", timeout=10)

    assert orphan is not None
    assert adopted == orphan
    assert beside == orphan
    assert ready.status_code == 200, ready.text
    assert _postmaster(data_dir) is None
