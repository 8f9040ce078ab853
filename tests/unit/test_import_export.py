"""ImportTasks and ExportTasks (application/import_export.py) on the in-memory unit of work."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from adapters.memory.unit_of_work import InMemoryUnitOfWorkFactory
from application.cursor import CursorCodec
from application.import_export import (
    ExportTasks,
    ImportExceedsLimit,
    ImportTasks,
    ImportTasksCommand,
    InvalidImportRow,
)
from application.tasks import ListTasks
from domain.errors import InvalidOwner, ValidationFailed
from domain.task import Priority
from entrypoints.timestamps import parse_timestamp
from tests.conftest import FixedClock


def test_parse_timestamp_takes_rfc_3339_with_an_offset_only() -> None:
    assert parse_timestamp("due_at", "2026-12-01t17:00:00.5z") == datetime(
        2026, 12, 1, 17, 0, 0, 500000, tzinfo=UTC
    )
    assert parse_timestamp("due_at", "2026-12-01 17:00:00-05:30").utcoffset() == -timedelta(
        hours=5, minutes=30
    )
    for text in ("2026-12-01T17:00:00", "2026-12-01", "20261201T170000Z", "2026-13-01T00:00:00Z"):
        with pytest.raises(ValidationFailed):
            parse_timestamp("due_at", text)


async def test_import_adds_every_row_in_one_commit_keeping_given_fields(
    clock: FixedClock, owner: str
) -> None:
    uow = InMemoryUnitOfWorkFactory()
    kept_id = uuid.uuid4()
    rows = [
        {"title": " new ", "priority": "high", "completed": True},
        {
            "id": str(kept_id),
            "user_id": "someone-else",
            "title": "kept",
            # Timestamps come parsed (entrypoints/timestamps.py), in any offset.
            "created_at": datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=1))),
            "updated_at": datetime(2026, 1, 2, tzinfo=UTC),
            "version": 4,
        },
    ]
    stored: list[int] = []

    count = await ImportTasks(uow, clock, 10, batch_size=1)(
        ImportTasksCommand(owner, rows), stored.append
    )

    assert (count, stored) == (2, [1, 1])
    tasks = sorted(uow.store.tasks.values(), key=lambda t: t.title)
    kept, new = tasks
    assert {t.user_id for t in tasks} == {owner}
    assert (new.title, new.priority, new.version) == ("new", Priority.HIGH, 1)
    assert new.created_at == new.updated_at == new.completed_at == clock.now()
    assert kept.id == kept_id
    assert kept.created_at == datetime(2025, 12, 31, 23, 0, tzinfo=UTC)
    assert (kept.updated_at, kept.version) == (datetime(2026, 1, 2, tzinfo=UTC), 4)


async def test_a_bad_row_stores_nothing_and_says_which(clock: FixedClock, owner: str) -> None:
    uow = InMemoryUnitOfWorkFactory()
    rows = [{"title": "fine"}, {"title": "fine"}, {"title": "late", "due_at": "soon"}]

    with pytest.raises(InvalidImportRow) as raised:
        await ImportTasks(uow, clock, 10)(ImportTasksCommand(owner, rows))

    assert (raised.value.row, raised.value.field) == (3, "due_at")
    assert str(raised.value).startswith("row 3: due_at must be an RFC 3339 timestamp")
    assert uow.store.tasks == {}


async def test_the_limit_counts_the_whole_import(clock: FixedClock, owner: str) -> None:
    uow = InMemoryUnitOfWorkFactory()
    importing = ImportTasks(uow, clock, 3)
    await importing(ImportTasksCommand(owner, [{"title": "one"}]))

    with pytest.raises(ImportExceedsLimit):
        await importing(ImportTasksCommand(owner, [{"title": "a"}, {"title": "b"}, {"title": "c"}]))

    assert await importing(ImportTasksCommand(owner, [{"title": "a"}, {"title": "b"}])) == 2


async def test_an_import_checks_the_owner(clock: FixedClock) -> None:
    with pytest.raises(InvalidOwner):
        await ImportTasks(InMemoryUnitOfWorkFactory(), clock, 10)(
            ImportTasksCommand("no spaces allowed", [{"title": "x"}])
        )


async def test_export_walks_every_page_oldest_first(clock: FixedClock, owner: str) -> None:
    uow = InMemoryUnitOfWorkFactory()
    rows = [{"title": f"t{i}", "created_at": clock.now() + timedelta(seconds=i)} for i in range(5)]
    await ImportTasks(uow, clock, 10)(ImportTasksCommand(owner, rows))
    export = ExportTasks(ListTasks(uow, CursorCodec(b"secret")), page_size=2)

    pages = [[t.title for t in page] async for page in export(owner)]

    assert pages == [["t0", "t1"], ["t2", "t3"], ["t4"]]
