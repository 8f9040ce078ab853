"""Create the change log (incremental sync, the live feed) and arm reminders (contract 1.1).

- `task_counts.change_seq`: the number of the user's newest change, and `purged_seq` the
  newest one the retention purge removed. A change takes its number with an upsert of the
  user's `task_counts` row, whose lock is then held until commit: a user's changes are
  numbered in the order they commit, so a reader that has seen number N has seen every change
  below N (docs/architecture.md, "Incremental sync"). The same upsert keeps the user's count
  of tasks, which 0005's statement triggers kept until now: one write a change instead of two
  (creates at 16 clients: 1.13x, bench/creates.py).
- `changes`: the log, keyed by (user_id, seq); a page is a range scan of that key. `task` is
  the task as the change left it (null for a delete). A BRIN index on `at` serves the purge.
- `taskapi_log_task_change()`: a row trigger on tasks, so every write (the service, an
  import's COPY, a script) logs its change in its own transaction. No NOTIFY: PostgreSQL
  serializes the commits of notifying transactions, which halved concurrent creates; each
  process polls the counters of the users it streams to (adapters/postgres/listener.py).
  An UPDATE that changes nothing visible logs nothing; one that only sets `reminded_at` to
  `remind_at` is the reminder scheduler's mark and logs `reminder.due`.
- `tasks.reminded_at`: the `remind_at` value whose reminder was recorded (hidden from the
  API, not a change of the task, no new version). A partial index holds only the armed
  reminders, so the scheduler's scan is cheap however many tasks there are; it cannot lead
  with user_id (the scan is across users).

TRUNCATE zeroes the counts and keeps the change counters, so no number is taken twice.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _schema() -> str:
    """The schema, quoted, so the trigger finds its tables whatever the search_path."""
    return str(op.get_bind().execute(sa.text("SELECT quote_ident(current_schema())")).scalar_one())


def upgrade() -> None:
    schema = _schema()
    op.execute("SET LOCAL lock_timeout = '5s'")
    # The user's change counter lives in the row the cap already locks: one upsert a write
    # keeps both the count and the number (constant defaults: catalog changes only).
    op.execute(
        "ALTER TABLE task_counts ADD COLUMN change_seq bigint NOT NULL DEFAULT 0, "
        "ADD COLUMN purged_seq bigint NOT NULL DEFAULT 0"
    )
    op.create_table(
        "changes",
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("task", sa.dialects.postgresql.JSONB(), nullable=True),
        sa.PrimaryKeyConstraint("user_id", "seq", name="pk_changes"),
    )
    op.execute("CREATE INDEX ix_changes_at ON changes USING brin (at)")
    op.execute("ALTER TABLE tasks ADD COLUMN IF NOT EXISTS reminded_at timestamptz")
    op.execute(
        "CREATE INDEX ix_tasks_armed_reminders ON tasks (remind_at) "
        "WHERE remind_at IS NOT NULL AND NOT completed AND reminded_at IS DISTINCT FROM remind_at"
    )
    op.execute(
        f"""
        CREATE FUNCTION taskapi_log_task_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
            kind text;
            owner varchar;
            doc jsonb;
            number bigint;
            added int := 0;  -- to the user's count of tasks
        BEGIN
            IF TG_OP = 'DELETE' THEN
                kind := 'task.deleted';
                owner := OLD.user_id;
                added := -1;
            ELSE
                owner := NEW.user_id;
                doc := to_jsonb(NEW) - 'priority_rank' - 'reminded_at';
                IF TG_OP = 'INSERT' THEN
                    kind := 'task.created';
                    added := 1;
                ELSIF doc <> to_jsonb(OLD) - 'priority_rank' - 'reminded_at' THEN
                    kind := 'task.updated';
                ELSIF NEW.reminded_at IS DISTINCT FROM OLD.reminded_at
                      AND NEW.reminded_at = NEW.remind_at THEN
                    kind := 'reminder.due';
                ELSE
                    RETURN NULL;  -- nothing a client can see has changed
                END IF;
            END IF;
            INSERT INTO {schema}.task_counts AS counts (user_id, tasks, change_seq)
            VALUES (owner, added, 1)
            ON CONFLICT (user_id) DO UPDATE
            SET tasks = counts.tasks + added, change_seq = counts.change_seq + 1
            RETURNING counts.change_seq INTO number;
            IF TG_OP = 'DELETE' THEN
                INSERT INTO {schema}.changes (user_id, seq, type, task_id, version, at, task)
                VALUES (owner, number, kind, OLD.id, OLD.version, now(), NULL);
            ELSE
                INSERT INTO {schema}.changes (user_id, seq, type, task_id, version, at, task)
                VALUES (owner, number, kind, NEW.id, NEW.version, now(), doc);
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER log_task_change AFTER INSERT OR UPDATE OR DELETE ON tasks "
        "FOR EACH ROW EXECUTE FUNCTION taskapi_log_task_change()"
    )
    # The row trigger counts now: the statement triggers of 0005 would count twice.
    op.execute("DROP TRIGGER count_inserted_tasks ON tasks")
    op.execute("DROP TRIGGER count_deleted_tasks ON tasks")
    # TRUNCATE zeroes the counts but keeps the change counters: a number is never taken twice
    # (the log keeps its rows; a truncate is not a change clients are told of).
    _forget_task_counts(schema, "UPDATE {schema}.task_counts SET tasks = 0 WHERE tasks <> 0")


def _forget_task_counts(schema: str, statement: str) -> None:
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION taskapi_forget_task_counts() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            -- On Citus this fires on the distributed table and on each of its shards
            -- (tasks_102008, ...): the distributed table's firing clears every count.
            IF TG_TABLE_NAME = 'tasks' THEN
                {statement.format(schema=schema)};
            END IF;
            RETURN NULL;
        END
        $$
        """
    )


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("LOCK TABLE tasks IN SHARE ROW EXCLUSIVE MODE")  # no write between the two
    _forget_task_counts(_schema(), "DELETE FROM {schema}.task_counts")
    op.execute("DROP TRIGGER log_task_change ON tasks")
    op.execute("DROP FUNCTION taskapi_log_task_change()")
    op.execute(
        "CREATE TRIGGER count_inserted_tasks AFTER INSERT ON tasks "
        "REFERENCING NEW TABLE AS inserted "
        "FOR EACH STATEMENT EXECUTE FUNCTION taskapi_count_inserted_tasks()"
    )
    op.execute(
        "CREATE TRIGGER count_deleted_tasks AFTER DELETE ON tasks "
        "REFERENCING OLD TABLE AS deleted "
        "FOR EACH STATEMENT EXECUTE FUNCTION taskapi_count_deleted_tasks()"
    )
    op.execute("DROP INDEX ix_tasks_armed_reminders")
    op.execute("ALTER TABLE tasks DROP COLUMN IF EXISTS reminded_at")
    op.drop_table("changes")
    op.execute("ALTER TABLE task_counts DROP COLUMN change_seq, DROP COLUMN purged_seq")
