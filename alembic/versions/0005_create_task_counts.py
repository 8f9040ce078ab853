"""Create task_counts: each user's number of tasks, kept by triggers on tasks.

Counting a user's tasks on every create cost PostgreSQL time that grew with the user's
tasks (about 0.1 ms at 300 tasks, 0.5 ms at 9,000). Statement-level triggers now keep one
row per user up to date on every INSERT, DELETE and TRUNCATE of tasks, whoever runs them
(the service, an import, a script, a restore), and taskapi_lock_and_count_tasks() reads
that row: the cap check costs the same for every user.

The triggers read the statement's transition tables, so a bulk insert or delete is one
update per user, not one per row. user_id never changes on an UPDATE, so there is no
UPDATE trigger.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op


def _schema() -> str:
    """The schema the migration runs in, quoted: the functions name their tables with it, so
    they work whatever a session's search_path (pg_dump's output sets an empty one)."""
    return str(op.get_bind().execute(sa.text("SELECT quote_ident(current_schema())")).scalar_one())


revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    schema = _schema()
    op.create_table(
        "task_counts",
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("tasks", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_task_counts"),
    )
    op.execute(
        f"""
        CREATE FUNCTION taskapi_count_inserted_tasks() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO {schema}.task_counts AS counts (user_id, tasks)
            SELECT user_id, count(*) FROM inserted GROUP BY user_id
            ON CONFLICT (user_id) DO UPDATE SET tasks = counts.tasks + excluded.tasks;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION taskapi_count_deleted_tasks() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE {schema}.task_counts AS counts SET tasks = counts.tasks - gone.tasks
            FROM (SELECT user_id, count(*) AS tasks FROM deleted GROUP BY user_id) AS gone
            WHERE counts.user_id = gone.user_id;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION taskapi_forget_task_counts() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM {schema}.task_counts;
            RETURN NULL;
        END
        $$
        """
    )
    # No write to tasks may slip in between the triggers' creation and the first count (the
    # mode CREATE TRIGGER takes anyway, so the lock is not upgraded halfway).
    op.execute("LOCK TABLE tasks IN SHARE ROW EXCLUSIVE MODE")
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
    op.execute(
        "CREATE TRIGGER forget_task_counts AFTER TRUNCATE ON tasks "
        "FOR EACH STATEMENT EXECUTE FUNCTION taskapi_forget_task_counts()"
    )
    op.execute(
        "INSERT INTO task_counts (user_id, tasks) "
        "SELECT user_id, count(*) FROM tasks GROUP BY user_id"
    )
    # Same lock as before (creates of one user still take turns), then one row read with a
    # snapshot taken after it: the count every earlier create of the user left behind.
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION taskapi_lock_and_count_tasks(owner varchar) RETURNS bigint
        LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
            owned bigint;
        BEGIN
            PERFORM pg_advisory_xact_lock(hashtext(owner));
            SELECT tasks INTO owned FROM {schema}.task_counts WHERE user_id = owner;
            RETURN coalesce(owned, 0);
        END
        $$
        """
    )


def downgrade() -> None:
    schema = _schema()
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION taskapi_lock_and_count_tasks(owner varchar) RETURNS bigint
        LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
            owned bigint;
        BEGIN
            PERFORM pg_advisory_xact_lock(hashtext(owner));
            SELECT count(*) INTO owned FROM {schema}.tasks WHERE user_id = owner;
            RETURN owned;
        END
        $$
        """
    )
    op.execute("DROP TRIGGER forget_task_counts ON tasks")
    op.execute("DROP TRIGGER count_deleted_tasks ON tasks")
    op.execute("DROP TRIGGER count_inserted_tasks ON tasks")
    op.execute("DROP FUNCTION taskapi_forget_task_counts()")
    op.execute("DROP FUNCTION taskapi_count_deleted_tasks()")
    op.execute("DROP FUNCTION taskapi_count_inserted_tasks()")
    op.drop_table("task_counts")
