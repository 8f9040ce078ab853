"""Every representation of a task agrees with the one declaration of its fields.

`TASK_FIELDS` (domain/task.py) names each field once, with its type, whether it may be
null and whether a client writes it. The places that spell the fields out (for typing,
for speed, or because a framework wants a class) are checked against it here, so that a
field added to the declaration fails these tests until every one of them has it.
"""

from __future__ import annotations

import dataclasses
import inspect
import io
import json
import typing
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
import msgspec.inspect as mi
import pytest
import sqlalchemy as sa

from adapters.memory.unit_of_work import InMemoryUnitOfWorkFactory
from adapters.postgres.mapping import (
    BOOKKEEPING_COLUMNS,
    TASK_COLUMNS,
    row_from_task,
    task_from_json,
    task_from_record,
    task_to_json,
)
from adapters.postgres.tables import tasks
from application.commands import CreateTaskCommand, ReplaceTaskCommand, TaskFields, TaskRef
from application.import_export import task_from_row
from application.tasks import CreateTask, ReplaceTask
from domain.task import (
    EDITABLE_FIELDS,
    FIELD_NAMES,
    SHOWN_FIELDS,
    SHOWN_NAMES,
    TASK_FIELDS,
    Priority,
    Task,
    TaskChanges,
    TaskField,
    Wire,
    _Unset,
)
from entrypoints.cli.formats import TaskWriter, read_csv, read_json, task_to_dict
from entrypoints.http.schemas import TaskPatch, TaskRead, TaskWrite
from tests.conftest import FixedClock

EDITABLE_NAMES = tuple(f.name for f in EDITABLE_FIELDS)
CREATED = datetime(2026, 1, 2, 3, 4, 5, 600007, tzinfo=UTC)
# A value for every field, none of them a default, within every rule.
SAMPLE: dict[str, Any] = {
    "id": UUID("019ab4c8-0000-7000-8000-000000000001"),
    "user_id": "alice",
    "title": 'Buy milk, "oat"\nand bread',
    "description": "two litres",
    "completed": True,
    "completed_at": CREATED + timedelta(hours=1),
    "due_at": CREATED + timedelta(days=3),
    "priority": Priority.HIGH,
    "tags": ("home", "work"),
    "recurrence": "FREQ=WEEKLY;BYDAY=MO,WE",
    "time_zone": "Europe/Berlin",
    "remind_at": CREATED + timedelta(days=3, hours=-1),
    "series_id": UUID("019ab4c8-0000-7000-8000-000000000000"),
    "created_at": CREATED,
    "updated_at": CREATED + timedelta(hours=2),
    "version": 7,
    "recurred": True,
}
# What a client sees, exports and imports: the sample without the task's own bookkeeping.
SHOWN_SAMPLE: dict[str, Any] = {name: SAMPLE[name] for name in SHOWN_NAMES}


def sample_task() -> Task:
    return Task(**SAMPLE)


def declared_type(field: TaskField) -> object:
    return field.type | None if field.nullable else field.type


# --- the domain -----------------------------------------------------------------------------


def test_the_sample_has_every_declared_field() -> None:
    assert tuple(SAMPLE) == FIELD_NAMES


def test_task_takes_and_keeps_exactly_the_declared_fields_in_order() -> None:
    parameters = list(inspect.signature(Task.__init__).parameters)[1:]
    hints = typing.get_type_hints(Task.__init__)

    assert tuple(parameters) == FIELD_NAMES
    assert {name: hints[name] for name in FIELD_NAMES} == {
        f.name: declared_type(f) for f in TASK_FIELDS
    }
    assert set(Task.__slots__) == set(FIELD_NAMES)


def test_every_wire_type_is_known() -> None:
    assert {f.name: f.wire for f in TASK_FIELDS}  # raises KeyError on a type without one


def test_create_takes_every_editable_field_with_its_declared_default() -> None:
    parameters = inspect.signature(Task.create).parameters

    for field in EDITABLE_FIELDS:
        default = parameters[field.name].default
        if field.required:
            assert default is inspect.Parameter.empty, field.name
        else:
            assert default == field.default, field.name


def test_task_changes_hold_the_editable_fields() -> None:
    hints = typing.get_type_hints(TaskChanges)

    assert tuple(f.name for f in dataclasses.fields(TaskChanges)) == EDITABLE_NAMES
    for field in EDITABLE_FIELDS:
        assert hints[field.name] == declared_type(field) | _Unset, field.name


# --- the application ------------------------------------------------------------------------


def test_task_fields_hold_the_editable_fields_with_their_defaults() -> None:
    hints = typing.get_type_hints(TaskFields)

    assert tuple(f.name for f in dataclasses.fields(TaskFields)) == EDITABLE_NAMES
    for field, declared in zip(dataclasses.fields(TaskFields), EDITABLE_FIELDS, strict=True):
        assert hints[field.name] == declared_type(declared), field.name
        if declared.required:
            assert field.default is dataclasses.MISSING, field.name
        else:
            assert field.default == declared.default, field.name


async def test_create_and_replace_pass_every_editable_field_on(clock: FixedClock) -> None:
    uow = InMemoryUnitOfWorkFactory()
    given = TaskFields(**{name: SAMPLE[name] for name in EDITABLE_NAMES})

    created = (await CreateTask(uow, clock, 10)(CreateTaskCommand("alice", given))).task
    plain = (await CreateTask(uow, clock, 10)(CreateTaskCommand("alice", TaskFields("t")))).task
    replaced_change = await ReplaceTask(uow, clock, 10_000)(
        ReplaceTaskCommand(TaskRef("alice", plain.id), given)
    )
    replaced = replaced_change.task

    for name in EDITABLE_NAMES:
        assert getattr(created, name) == getattr(replaced, name) == SAMPLE[name], name


# --- HTTP -----------------------------------------------------------------------------------

_MSGSPEC_TYPE = {
    Wire.TAGS: mi.ListType,
    Wire.UUID: mi.UUIDType,
    Wire.TEXT: mi.StrType,
    Wire.BOOLEAN: mi.BoolType,
    Wire.INTEGER: mi.IntType,
    Wire.TIMESTAMP: mi.DateTimeType,
}


def _wire_of(info: mi.Type) -> tuple[mi.Type, bool]:
    """A struct field's type without its metadata, and whether it takes null."""
    while isinstance(info, mi.Metadata):
        info = info.type
    if isinstance(info, mi.UnionType):
        types = [t for t in info.types if not isinstance(t, mi.NoneType)]
        assert len(types) == 1, info
        inner, _ = _wire_of(types[0])
        return inner, len(types) < len(info.types)
    return info, False


def _assert_agrees(struct: type[msgspec.Struct], fields: tuple[TaskField, ...]) -> None:
    info = mi.type_info(struct)
    assert isinstance(info, mi.StructType)
    assert tuple(f.name for f in info.fields) == tuple(f.name for f in fields), struct
    for shown, field in zip(info.fields, fields, strict=True):
        wire, nullable = _wire_of(shown.type)
        assert nullable == field.nullable, (struct, field.name)
        if field.wire is Wire.CHOICE:
            values = wire.values if isinstance(wire, mi.LiteralType) else tuple(wire.cls)
            assert {str(v) for v in values} == {m.value for m in field.type}, field.name
        else:
            assert isinstance(wire, _MSGSPEC_TYPE[field.wire]), (struct, field.name, wire)


def test_task_read_shows_every_shown_field_in_order() -> None:
    _assert_agrees(TaskRead, SHOWN_FIELDS)


def test_task_write_and_task_patch_take_the_editable_fields() -> None:
    _assert_agrees(TaskWrite, EDITABLE_FIELDS)
    _assert_agrees(TaskPatch, EDITABLE_FIELDS)
    assert _required(TaskWrite) == {f.name: f.required for f in EDITABLE_FIELDS}
    assert not any(_required(TaskPatch).values())


def _required(struct: type[msgspec.Struct]) -> dict[str, bool]:
    info = mi.type_info(struct)
    assert isinstance(info, mi.StructType)
    return {f.name: f.required for f in info.fields}


# --- PostgreSQL -----------------------------------------------------------------------------

_COLUMN_TYPE: dict[Wire, type[sa.types.TypeEngine[Any]]] = {
    Wire.TAGS: sa.ARRAY,
    Wire.UUID: sa.Uuid,
    Wire.TEXT: sa.String,  # Text too
    Wire.BOOLEAN: sa.Boolean,
    Wire.INTEGER: sa.Integer,
    Wire.TIMESTAMP: sa.TIMESTAMP,
    Wire.CHOICE: sa.String,
}


def test_the_table_has_a_column_for_every_field() -> None:
    columns = {c.name: c for c in TASK_COLUMNS}

    assert set(columns) == set(FIELD_NAMES)
    kept = [c.name for c in tasks.c if c.computed is None and c.name not in BOOKKEEPING_COLUMNS]
    assert kept == [c.name for c in TASK_COLUMNS]
    for field in TASK_FIELDS:
        column = columns[field.name]
        assert column.nullable == field.nullable, field.name
        assert isinstance(column.type, _COLUMN_TYPE[field.wire]), field.name
        if field.wire is Wire.TIMESTAMP:
            assert column.type.timezone, field.name


def test_a_choice_column_is_checked_for_exactly_its_values() -> None:
    checks = {
        c.name: str(c.sqltext) for c in tasks.constraints if isinstance(c, sa.CheckConstraint)
    }
    for field in TASK_FIELDS:
        if field.wire is Wire.CHOICE:
            check = checks[f"ck_tasks_{field.name}"]
            assert all(f"'{m.value}'" in check for m in field.type), field.name


def test_a_row_carries_every_field_both_ways() -> None:
    task = sample_task()

    row = row_from_task(task)
    record = tuple(row[c.name] for c in TASK_COLUMNS)

    assert set(row) == set(FIELD_NAMES)
    assert type(row["priority"]) is str
    assert task_from_record(record) == task


def test_the_idempotency_snapshot_carries_every_field_both_ways() -> None:
    task = sample_task()

    snapshot = json.loads(json.dumps(task_to_json(task)))

    assert tuple(snapshot) == FIELD_NAMES
    assert task_from_json(snapshot) == task


# --- the CLI, export and import -------------------------------------------------------------


def test_the_cli_shows_every_shown_field_in_order() -> None:
    shown = task_to_dict(sample_task())

    assert tuple(shown) == SHOWN_NAMES
    assert shown["created_at"] == "2026-01-02T03:04:05.600007Z"
    assert shown["priority"] == "high"


@pytest.mark.parametrize("file_format", ["json", "csv"])
def test_an_export_imports_back_to_the_same_task(file_format: str) -> None:
    task = sample_task()
    out = io.StringIO()
    writer = TaskWriter(out, file_format)
    writer.write([task])
    writer.close()

    exported = out.getvalue()
    read = read_json(exported) if file_format == "json" else read_csv(exported)

    if file_format == "csv":
        assert exported.splitlines()[0].split(",") == list(SHOWN_NAMES)
    else:
        assert tuple(json.loads(exported)[0]) == SHOWN_NAMES
    # `recurred` is not in the file: a completed occurrence of a series reads back as recurred.
    assert task_from_row(1, read.rows[0], task.user_id, datetime.now(UTC)) == task


def test_a_snapshot_from_before_version_1_1_reads_with_the_new_defaults() -> None:
    snapshot = json.loads(json.dumps(task_to_json(sample_task())))
    for field in TASK_FIELDS[TASK_FIELDS.index(next(f for f in TASK_FIELDS if f.name == "tags")) :]:
        if field.name not in ("created_at", "updated_at", "version"):
            del snapshot[field.name]

    task = task_from_json(snapshot)

    assert (task.tags, task.recurrence, task.time_zone, task.remind_at) == ((), None, None, None)
    assert (task.series_id, task.recurred) == (None, False)
    assert task.title == SAMPLE["title"]
