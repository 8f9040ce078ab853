"""The schema as SQLAlchemy metadata. Alembic migrations create it; this mirrors them."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData()

PRIORITY_RANK_SQL = (
    "CASE priority WHEN 'low' THEN 1 WHEN 'medium' THEN 2 WHEN 'high' THEN 3 ELSE 0 END"
)
# Tasks without a due date sort last in both directions: as +infinity ascending,
# as -infinity descending. Each direction has its own index on its own expression.
DUE_AT_ASC_SQL = "coalesce(due_at, 'infinity'::timestamptz)"
DUE_AT_DESC_SQL = "coalesce(due_at, '-infinity'::timestamptz)"
# A reminder waiting to be recorded: the partial index's predicate and the scheduler's filter.
ARMED_REMINDER_SQL = (
    "remind_at IS NOT NULL AND NOT completed AND reminded_at IS DISTINCT FROM remind_at"
)

tasks = sa.Table(
    "tasks",
    metadata,
    # user_id leads the primary key and every index, so the table can be distributed by user.
    sa.Column("user_id", sa.String(128), nullable=False),
    sa.Column("id", sa.Uuid(), nullable=False),
    # "C" collation: title order is code point order, the same in every database and in memory.
    sa.Column("title", sa.Text(collation="C"), nullable=False),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("completed", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("completed_at", sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column("due_at", sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column("priority", sa.Text(), nullable=False, server_default="none"),
    sa.Column("priority_rank", sa.SmallInteger(), sa.Computed(PRIORITY_RANK_SQL, persisted=True)),
    sa.Column("created_at", sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column("updated_at", sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
    # Version 1.1 (migration 0007): added at the end, as ALTER TABLE adds them.
    sa.Column("tags", postgresql.ARRAY(sa.Text()), nullable=False, server_default="{}"),
    sa.Column("recurrence", sa.Text(), nullable=True),
    sa.Column("time_zone", sa.Text(), nullable=True),
    sa.Column("remind_at", sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column("series_id", sa.Uuid(), nullable=True),
    sa.Column("recurred", sa.Boolean(), nullable=False, server_default=sa.false()),
    # Migration 0008: the remind_at value whose reminder was recorded (hidden from the API).
    sa.Column("reminded_at", sa.TIMESTAMP(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint("user_id", "id", name="pk_tasks"),
    sa.CheckConstraint("priority IN ('none', 'low', 'medium', 'high')", name="ck_tasks_priority"),
    sa.Index("ix_tasks_user_created", "user_id", "created_at", "id"),
    sa.Index("ix_tasks_user_updated", "user_id", "updated_at", "id"),
    sa.Index("ix_tasks_user_due_asc", "user_id", sa.text(DUE_AT_ASC_SQL), "id"),
    sa.Index("ix_tasks_user_due_desc", "user_id", sa.text(DUE_AT_DESC_SQL), "id"),
    sa.Index("ix_tasks_user_priority", "user_id", "priority_rank", "id"),
    sa.Index("ix_tasks_user_title", "user_id", "title", "id"),
    # Only the armed reminders, across users, for the scheduler (migration 0008).
    sa.Index(
        "ix_tasks_armed_reminders",
        "remind_at",
        postgresql_where=sa.text(ARMED_REMINDER_SQL),
    ),
)

# A create's idempotency key, scoped by owner; the task snapshot is the first response's data.
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("user_id", sa.String(128), nullable=False),
    sa.Column("key", sa.String(255), nullable=False),
    sa.Column("fingerprint", sa.Text(), nullable=False),
    sa.Column("created_at", sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column("task", postgresql.JSONB(), nullable=True),
    sa.PrimaryKeyConstraint("user_id", "key", name="pk_idempotency_keys"),
)

# Litestar's rate limiter keeps each user's recent request times here (see ratelimit_store.py).
rate_limit_entries = sa.Table(
    "rate_limit_entries",
    metadata,
    sa.Column("key", sa.Text(), nullable=False),
    sa.Column("value", sa.LargeBinary(), nullable=False),
    sa.Column("expires_at", sa.TIMESTAMP(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint("key", name="pk_rate_limit_entries"),
)

# How many tasks each user has, kept by triggers on tasks (migrations 0005, 0008) whatever writes
# them, so a create checks the cap by reading one row instead of counting the user's tasks.
task_counts = sa.Table(
    "task_counts",
    metadata,
    sa.Column("user_id", sa.String(128), nullable=False),
    sa.Column("tasks", sa.BigInteger(), nullable=False),
    # Migration 0008: the number of the user's newest change, taken under this row's lock so
    # that numbers follow commit order; the newest number the retention purge removed.
    sa.Column("change_seq", sa.BigInteger(), nullable=False, server_default="0"),
    sa.Column("purged_seq", sa.BigInteger(), nullable=False, server_default="0"),
    sa.PrimaryKeyConstraint("user_id", name="pk_task_counts"),
)

# The change log, written by the trigger on tasks (migration 0008).
changes = sa.Table(
    "changes",
    metadata,
    sa.Column("user_id", sa.String(128), nullable=False),
    sa.Column("seq", sa.BigInteger(), nullable=False),
    sa.Column("type", sa.Text(), nullable=False),
    sa.Column("task_id", sa.Uuid(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("at", sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column("task", postgresql.JSONB(), nullable=True),
    sa.PrimaryKeyConstraint("user_id", "seq", name="pk_changes"),
    sa.Index("ix_changes_at", "at", postgresql_using="brin"),
)
