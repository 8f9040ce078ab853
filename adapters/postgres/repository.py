"""The task collection on PostgreSQL: SQLAlchemy Core statements, executed on asyncpg."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final
from uuid import UUID

import sqlalchemy as sa

from adapters.postgres.mapping import TASK_COLUMNS, row_from_task, task_from_record
from adapters.postgres.session import PostgresSession
from adapters.postgres.statements import Statement, rowcount
from adapters.postgres.tables import DUE_AT_ASC_SQL, DUE_AT_DESC_SQL, tasks
from domain.listing import SortField, TagCount, TaskOrder, TaskQuery
from domain.task import Task, TaskStats

_TIMESTAMP = sa.TIMESTAMP(timezone=True)
_DUE_AT_ASC = sa.literal_column(DUE_AT_ASC_SQL, _TIMESTAMP)
_DUE_AT_DESC = sa.literal_column(DUE_AT_DESC_SQL, _TIMESTAMP)
_INFINITY = sa.literal_column("'infinity'::timestamptz", _TIMESTAMP)
_MINUS_INFINITY = sa.literal_column("'-infinity'::timestamptz", _TIMESTAMP)


def _param(name: str, column: sa.ColumnElement[Any] | None = None) -> sa.BindParameter[Any]:
    return sa.bindparam(name, type_=None if column is None else column.type)


_MINE = sa.and_(tasks.c.user_id == _param("owner"), tasks.c.id == _param("task_id"))
_OWNED = tasks.c.user_id == _param("owner")
_CHANGEABLE = [c for c in TASK_COLUMNS if c.name not in ("user_id", "id", "created_at")]
_COPIED = [c.name for c in TASK_COLUMNS]

GET: Final = Statement.of(sa.select(*TASK_COLUMNS).where(_MINE))
GET_FOR_UPDATE: Final = Statement.of(sa.select(*TASK_COLUMNS).where(_MINE).with_for_update())
UPDATE: Final = Statement.of(
    sa.update(tasks)
    .where(_MINE, tasks.c.version == _param("expected_version"))
    .values({c.name: _param(c.name, c) for c in _CHANGEABLE})
)
# One statement, so it commits by itself: the function (migration 0006) locks the owner's
# task_counts row and returns the count the last create committed, so parallel creates never
# overshoot, whichever node of a distributed database (Citus) each one entered by.
INSERT_IF_FEWER: Final = Statement.of(
    sa.insert(tasks).from_select(
        [c.name for c in TASK_COLUMNS],
        sa.select(*(_param(c.name, c) for c in TASK_COLUMNS)).where(
            sa.func.taskapi_lock_and_count_tasks(_param("owner", tasks.c.user_id)) < _param("limit")
        ),
    )
)
DELETE: Final = Statement.of(sa.delete(tasks).where(_MINE))
DELETE_COMPLETED: Final = Statement.of(sa.delete(tasks).where(_OWNED, tasks.c.completed.is_(True)))
COUNT: Final = Statement.of(sa.select(sa.func.count()).select_from(tasks).where(_OWNED))
# The create's lock, held to the end of the transaction: the owner's task_counts row (a row
# lock holds on every node of a distributed database, where an advisory lock holds on one).
LOCK_OWNER: Final = Statement.of(
    sa.select(sa.func.taskapi_lock_and_count_tasks(_param("owner", tasks.c.user_id)))
)
STATS: Final = Statement.of(
    sa.select(
        sa.func.count(),
        sa.func.count().filter(tasks.c.completed.is_(True)),
        sa.func.count().filter(
            tasks.c.completed.is_(False), tasks.c.due_at < _param("now", tasks.c.due_at)
        ),
    ).where(_OWNED)
)


# Every tag of the owner's tasks with its counts, in code point order ("C").
_TAG = sa.func.unnest(tasks.c.tags).table_valued("tag").render_derived(name="t")
TAG_COUNTS: Final = Statement.of(
    sa.select(
        _TAG.c.tag,
        sa.func.count(),
        sa.func.count().filter(tasks.c.completed.is_(False)),
    )
    .select_from(tasks)
    .join(_TAG, sa.true())
    .where(_OWNED)
    .group_by(_TAG.c.tag)
    .order_by(sa.collate(_TAG.c.tag, "C"))
)


def _sort_expression(order: TaskOrder) -> sa.ColumnElement[Any]:
    """The expression an index of `tables.py` is built on, for this order."""
    match order.field:
        case SortField.DUE_AT:
            return _DUE_AT_DESC if order.descending else _DUE_AT_ASC
        case SortField.PRIORITY:
            return tasks.c.priority_rank
        case field:
            return tasks.c[field.value]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_list_statements: dict[tuple[Any, ...], Statement] = {}


def _list_statement(query: TaskQuery) -> Statement:
    """One compiled statement per shape of listing (sort, which filters, cursor or not)."""
    f, after, order = query.filter, query.after, query.order
    infinite_after = after is not None and after.value is None and order.field is SortField.DUE_AT
    shape = (
        order,
        f.completed is not None,
        f.priority is not None,
        f.search is not None,
        f.due_before is not None,
        f.due_after is not None,
        f.tags is not None,
        after is not None,
        infinite_after,
    )
    statement = _list_statements.get(shape)
    if statement is not None:
        return statement
    key = _sort_expression(order)
    conditions: list[sa.ColumnElement[bool]] = [_OWNED]
    if f.completed is not None:
        conditions.append(tasks.c.completed == _param("completed", tasks.c.completed))
    if f.priority is not None:
        conditions.append(tasks.c.priority == _param("priority", tasks.c.priority))
    if f.search is not None:
        pattern = _param("pattern", tasks.c.description)
        conditions.append(
            sa.or_(
                # The column's "C" collation folds ASCII only; the database's default folds é/É.
                sa.collate(tasks.c.title, "default").ilike(pattern, escape="\\"),
                tasks.c.description.ilike(pattern, escape="\\"),
            )
        )
    if f.due_before is not None:
        conditions.append(tasks.c.due_at < _param("due_before", tasks.c.due_at))
    if f.due_after is not None:
        conditions.append(tasks.c.due_at > _param("due_after", tasks.c.due_at))
    if f.tags is not None:
        # Containment, checked on each of the owner's rows as the sort index walks them (as a
        # `q` search is): a page is found after a few hundred rows at most unless the tags are
        # rare, and the owner's rows are at most the cap. docs/performance.md has the plans.
        conditions.append(tasks.c.tags.contains(_param("tags", tasks.c.tags)))
    if after is not None:
        if infinite_after:
            value: sa.ColumnElement[Any] = _MINUS_INFINITY if order.descending else _INFINITY
        else:
            value = sa.bindparam("after_value", type_=key.type)
        position = sa.tuple_(value, _param("after_id", tasks.c.id))
        current = sa.tuple_(key, tasks.c.id)
        conditions.append(current < position if order.descending else current > position)
    ordering = (key.desc(), tasks.c.id.desc()) if order.descending else (key, tasks.c.id)
    statement = Statement.of(
        sa.select(*TASK_COLUMNS).where(*conditions).order_by(*ordering).limit(_param("limit"))
    )
    _list_statements[shape] = statement
    return statement


class PostgresTaskRepository:
    """Reads and writes inside the unit of work's session; never commits."""

    def __init__(self, session: PostgresSession) -> None:
        self._session = session

    async def add_if_fewer_than(self, task: Task, limit: int) -> bool:
        status = await self._session.execute_writing(
            INSERT_IF_FEWER, owner=task.user_id, limit=limit, **row_from_task(task)
        )
        return rowcount(status) == 1

    async def add_many(self, tasks_: Sequence[Task]) -> None:
        if tasks_:
            # COPY, not one INSERT a row: task_counts' trigger then updates each owner's row
            # once, where a row at a time made 10,000 versions of it (quadratic).
            rows = [row_from_task(t) for t in tasks_]
            await self._session.copy_writing(
                tasks.name, _COPIED, [tuple(row[c] for c in _COPIED) for row in rows]
            )

    async def get(self, owner: str, task_id: UUID, *, for_update: bool = False) -> Task | None:
        if for_update:
            row = await self._session.fetchrow_writing(GET_FOR_UPDATE, owner=owner, task_id=task_id)
        else:
            row = await self._session.fetchrow(GET, owner=owner, task_id=task_id)
        return None if row is None else task_from_record(row)

    async def update(self, task: Task, expected_version: int) -> bool:
        values = row_from_task(task)
        status = await self._session.execute_writing(
            UPDATE,
            owner=task.user_id,
            task_id=task.id,
            expected_version=expected_version,
            **{k: v for k, v in values.items() if k not in ("user_id", "id", "created_at")},
        )
        return rowcount(status) == 1

    async def remove(self, owner: str, task_id: UUID) -> bool:
        status = await self._session.execute_writing(DELETE, owner=owner, task_id=task_id)
        return rowcount(status) == 1

    async def remove_completed(self, owner: str) -> int:
        return rowcount(await self._session.execute_writing(DELETE_COMPLETED, owner=owner))

    async def list(self, owner: str, query: TaskQuery) -> list[Task]:
        f, after = query.filter, query.after
        values: dict[str, Any] = {"owner": owner, "limit": query.limit}
        if f.completed is not None:
            values["completed"] = f.completed
        if f.priority is not None:
            values["priority"] = f.priority.value
        if f.search is not None:
            values["pattern"] = f"%{_escape_like(f.search)}%"
        if f.due_before is not None:
            values["due_before"] = f.due_before
        if f.due_after is not None:
            values["due_after"] = f.due_after
        if f.tags is not None:
            values["tags"] = list(f.tags)
        if after is not None:
            values["after_id"] = after.id
            values["after_value"] = after.value
        rows = await self._session.fetch(_list_statement(query), **values)
        return [task_from_record(row) for row in rows]

    async def count(self, owner: str) -> int:
        row = await self._session.fetchrow(COUNT, owner=owner)
        return 0 if row is None else int(row[0])

    async def lock_owner(self, owner: str) -> None:
        await self._session.execute_writing(LOCK_OWNER, owner=owner)

    async def tag_counts(self, owner: str) -> tuple[TagCount, ...]:
        rows = await self._session.fetch(TAG_COUNTS, owner=owner)
        return tuple(TagCount(tag, tasks_, pending) for tag, tasks_, pending in rows)

    async def stats(self, owner: str, now: datetime) -> TaskStats:
        row = await self._session.fetchrow(STATS, owner=owner, now=now)
        total, completed, overdue = (0, 0, 0) if row is None else (row[0], row[1], row[2])
        return TaskStats(
            total=total, completed=completed, pending=total - completed, overdue=overdue
        )
