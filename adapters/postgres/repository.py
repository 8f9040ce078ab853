"""The task collection on PostgreSQL, in SQLAlchemy Core: one statement per call."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres.mapping import TASK_COLUMNS, row_from_task, task_from_row
from adapters.postgres.tables import DUE_AT_ASC_SQL, DUE_AT_DESC_SQL, tasks
from domain.listing import Position, SortField, TaskFilter, TaskOrder, TaskQuery
from domain.task import Task, TaskStats

_SELECT_TASK = sa.select(*TASK_COLUMNS)
_TIMESTAMP = sa.TIMESTAMP(timezone=True)
_DUE_AT_ASC = sa.literal_column(DUE_AT_ASC_SQL, _TIMESTAMP)
_DUE_AT_DESC = sa.literal_column(DUE_AT_DESC_SQL, _TIMESTAMP)
_INFINITY = sa.literal_column("'infinity'::timestamptz", _TIMESTAMP)
_MINUS_INFINITY = sa.literal_column("'-infinity'::timestamptz", _TIMESTAMP)


def _sort_expression(order: TaskOrder) -> sa.ColumnElement[Any]:
    """The expression an index of `tables.py` is built on, for this order."""
    match order.field:
        case SortField.DUE_AT:
            return _DUE_AT_DESC if order.descending else _DUE_AT_ASC
        case SortField.PRIORITY:
            return tasks.c.priority_rank
        case field:
            return tasks.c[field.value]


def _position_value(order: TaskOrder, position: Position) -> sa.ColumnElement[Any]:
    if order.field is SortField.DUE_AT and position.value is None:
        return _MINUS_INFINITY if order.descending else _INFINITY
    return sa.bindparam(None, position.value, type_=_sort_expression(order).type)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filter_conditions(task_filter: TaskFilter) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if task_filter.completed is not None:
        conditions.append(tasks.c.completed.is_(task_filter.completed))
    if task_filter.priority is not None:
        conditions.append(tasks.c.priority == task_filter.priority.value)
    if task_filter.search is not None:
        pattern = f"%{_escape_like(task_filter.search)}%"
        conditions.append(
            sa.or_(
                # The column's "C" collation folds ASCII only; the database's default folds é/É.
                sa.collate(tasks.c.title, "default").ilike(pattern, escape="\\"),
                tasks.c.description.ilike(pattern, escape="\\"),
            )
        )
    if task_filter.due_before is not None:
        conditions.append(tasks.c.due_at < task_filter.due_before)
    if task_filter.due_after is not None:
        conditions.append(tasks.c.due_at > task_filter.due_after)
    return conditions


class SqlAlchemyTaskRepository:
    """Reads and writes inside the unit of work's transaction; never commits."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    def _mine(self, owner: str, task_id: UUID) -> sa.ColumnElement[bool]:
        return sa.and_(tasks.c.user_id == owner, tasks.c.id == task_id)

    async def add(self, task: Task) -> None:
        await self._connection.execute(sa.insert(tasks).values(row_from_task(task)))

    async def add_many(self, tasks_to_add: Sequence[Task]) -> None:
        if not tasks_to_add:
            return  # an empty parameter list would insert one row of defaults
        # A list of parameter sets is one executemany: asyncpg sends every row in one pipeline.
        await self._connection.execute(sa.insert(tasks), [row_from_task(t) for t in tasks_to_add])

    async def get(self, owner: str, task_id: UUID, *, for_update: bool = False) -> Task | None:
        statement = _SELECT_TASK.where(self._mine(owner, task_id))
        if for_update:
            statement = statement.with_for_update()
        row = (await self._connection.execute(statement)).first()
        return None if row is None else task_from_row(row)

    async def update(self, task: Task, expected_version: int) -> bool:
        values = row_from_task(task)
        del values["user_id"], values["id"], values["created_at"]
        result = await self._connection.execute(
            sa.update(tasks)
            .where(self._mine(task.user_id, task.id), tasks.c.version == expected_version)
            .values(values)
        )
        return result.rowcount == 1

    async def remove(self, owner: str, task_id: UUID) -> bool:
        result = await self._connection.execute(sa.delete(tasks).where(self._mine(owner, task_id)))
        return result.rowcount == 1

    async def remove_completed(self, owner: str) -> int:
        result = await self._connection.execute(
            sa.delete(tasks).where(tasks.c.user_id == owner, tasks.c.completed.is_(True))
        )
        return result.rowcount

    async def list(self, owner: str, query: TaskQuery) -> list[Task]:
        order = query.order
        key = _sort_expression(order)
        conditions = [tasks.c.user_id == owner, *_filter_conditions(query.filter)]
        if query.after is not None:
            after = sa.tuple_(
                _position_value(order, query.after), sa.bindparam(None, query.after.id)
            )
            current = sa.tuple_(key, tasks.c.id)
            conditions.append(current < after if order.descending else current > after)
        ordering = (key.desc(), tasks.c.id.desc()) if order.descending else (key, tasks.c.id)
        statement = _SELECT_TASK.where(*conditions).order_by(*ordering).limit(query.limit)
        rows = await self._connection.execute(statement)
        return [task_from_row(row) for row in rows]

    async def count(self, owner: str) -> int:
        statement = sa.select(sa.func.count()).select_from(tasks).where(tasks.c.user_id == owner)
        return int((await self._connection.execute(statement)).scalar_one())

    async def lock_owner(self, owner: str) -> None:
        # The one-argument (bigint) key space; migrations lock in the two-argument space.
        await self._connection.execute(
            sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(owner)))
        )

    async def stats(self, owner: str, now: datetime) -> TaskStats:
        total = sa.func.count()
        completed = sa.func.count().filter(tasks.c.completed.is_(True))
        overdue = sa.func.count().filter(tasks.c.completed.is_(False), tasks.c.due_at < now)
        row = (
            await self._connection.execute(
                sa.select(total, completed, overdue).where(tasks.c.user_id == owner)
            )
        ).one()
        return TaskStats(total=row[0], completed=row[1], pending=row[0] - row[1], overdue=row[2])
