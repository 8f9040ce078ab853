"""The change log on PostgreSQL: written by the trigger of migration 0008, read here."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Final

from adapters.postgres.mapping import task_from_json
from adapters.postgres.session import PostgresSession
from adapters.postgres.statements import Statement, rowcount
from adapters.postgres.tables import ARMED_REMINDER_SQL
from domain.changes import Change, ChangeType, ChangeWindow

# Two-argument advisory lock key ("task", "purg"): one purge at a time, across instances.
_PURGE_LOCK: Final = (0x7461736B, 0x70757267)
_TYPES: Final = {t.value: t for t in ChangeType}

# One statement, so one snapshot: the head, the purge mark and the page agree. The counter
# is the user's task_counts row (migration 0008); a user without one has no changes (no row
# comes back).
READ: Final = Statement(
    """
    SELECT cursors.change_seq, cursors.purged_seq,
           page.seq, page.type, page.task_id, page.version, page.at, page.task
    FROM task_counts AS cursors
    LEFT JOIN LATERAL (
        SELECT seq, type, task_id, version, at, task FROM changes
        WHERE changes.user_id = $1 AND changes.seq > $2
        ORDER BY changes.seq LIMIT $3
    ) AS page ON true
    WHERE cursors.user_id = $1
    ORDER BY page.seq
    """,
    ("owner", "after", "limit"),
)
# The trigger sees an UPDATE that only sets reminded_at to remind_at and logs reminder.due
# (no new version, no task.updated). SKIP LOCKED: instances never claim the same task, and
# a task being changed right now is left for the next round, when the WHERE is checked again.
RECORD_DUE_REMINDER: Final = Statement(
    f"""
    WITH due AS (
        SELECT user_id, id FROM tasks
        WHERE remind_at <= $1 AND {ARMED_REMINDER_SQL}
        ORDER BY remind_at
        LIMIT 1
        FOR UPDATE SKIP LOCKED
    )
    UPDATE tasks SET reminded_at = tasks.remind_at
    FROM due WHERE tasks.user_id = due.user_id AND tasks.id = due.id
    """,
    ("now",),
)
PURGE: Final = Statement(
    f"""
    WITH gate AS (SELECT pg_try_advisory_xact_lock({_PURGE_LOCK[0]}, {_PURGE_LOCK[1]}) AS got),
    gone AS (
        DELETE FROM changes
        WHERE (user_id, seq) IN (
            SELECT user_id, seq FROM changes
            WHERE at < $1 AND (SELECT got FROM gate)
            LIMIT $2
        )
        RETURNING user_id, seq
    ),
    marked AS (
        UPDATE task_counts AS cursors SET purged_seq = greatest(cursors.purged_seq, g.seq)
        FROM (SELECT user_id, max(seq) AS seq FROM gone GROUP BY user_id) AS g
        WHERE cursors.user_id = g.user_id
        RETURNING 1
    )
    SELECT (SELECT got FROM gate), (SELECT count(*) FROM gone), (SELECT count(*) FROM marked)
    """,
    ("before", "batch"),
)


class PostgresChangeLog:
    def __init__(self, session: PostgresSession) -> None:
        self._session = session

    async def read(self, owner: str, after: int, limit: int) -> ChangeWindow:
        rows = await self._session.fetch(READ, owner=owner, after=after, limit=limit)
        if not rows:
            return ChangeWindow([], head=0, purged=0)
        changes = [
            Change(
                seq=seq,
                type=_TYPES[kind],
                task_id=task_id,
                version=version,
                at=at,
                task=None if task is None else task_from_json(json.loads(task)),
            )
            for _, _, seq, kind, task_id, version, at, task in rows
            if seq is not None
        ]
        return ChangeWindow(changes, head=rows[0][0], purged=rows[0][1])

    async def record_due_reminder(self, now: datetime) -> bool:
        return rowcount(await self._session.execute_writing(RECORD_DUE_REMINDER, now=now)) == 1

    async def purge(self, before: datetime, batch: int) -> int | None:
        row = await self._session.fetchrow_writing(PURGE, before=before, batch=batch)
        if row is None or not row[0]:
            return None
        return int(row[1])
