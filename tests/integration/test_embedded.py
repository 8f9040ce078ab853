"""The embedded PostgreSQL: data survives a restart; another major version is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.postgres.database import PostgresStorage
from adapters.postgres.embedded import EmbeddedDatabaseError, EmbeddedPostgres
from application.commands import CreateTaskCommand, TaskFields, TaskRef
from application.tasks import CreateTask, GetTask
from tests.conftest import FixedClock

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
