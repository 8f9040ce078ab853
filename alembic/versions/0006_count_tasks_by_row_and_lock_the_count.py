"""Keep task_counts row by row, and lock a user's creates on their task_counts row.

Two changes, for a database that is one PostgreSQL or many (Citus, `taskapi db distribute`):

- The owner's lock is now their task_counts row, taken by an upsert that returns the count:
  `pg_advisory_xact_lock` locks only the node it runs on, so creates that reached a Citus
  cluster through two nodes overshot the cap. The row lives on one shard, whichever node
  the statement entered by, and the upsert waits for any transaction holding it, then
  returns the count it committed (ON CONFLICT DO UPDATE reads the newest row version, not
  the statement's snapshot). Creates and imports both take it (the repository's
  lock_owner() calls the same function).
- The triggers no longer read their transition tables in an `INSERT ... SELECT` (Citus
  plans that as a distributed query, where the transition table does not exist): they
  read it in a plain query and write each owner's row with a single-row statement, which
  on Citus lands on the shard colocated with the tasks shard the trigger fires on. The
  TRUNCATE trigger clears task_counts only when it fires on the `tasks` table itself, not
  on a shard of it (Citus fires it on the distributed table too, and a shard may not run a
  query on every shard).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _schema() -> str:
    """The schema the migration runs in, quoted: the functions name their tables with it."""
    return str(op.get_bind().execute(sa.text("SELECT quote_ident(current_schema())")).scalar_one())


def upgrade() -> None:
    schema = _schema()
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION taskapi_lock_and_count_tasks(owner varchar) RETURNS bigint
        LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
            owned bigint;
        BEGIN
            INSERT INTO {schema}.task_counts AS counts (user_id, tasks) VALUES (owner, 0)
            ON CONFLICT (user_id) DO UPDATE SET tasks = counts.tasks
            RETURNING counts.tasks INTO owned;
            RETURN owned;
        END
        $$
        """
    )
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION taskapi_count_inserted_tasks() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
            added record;
        BEGIN
            FOR added IN SELECT user_id, count(*) AS tasks FROM inserted GROUP BY user_id LOOP
                INSERT INTO {schema}.task_counts AS counts (user_id, tasks)
                VALUES (added.user_id, added.tasks)
                ON CONFLICT (user_id) DO UPDATE SET tasks = counts.tasks + excluded.tasks;
            END LOOP;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION taskapi_count_deleted_tasks() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
            gone record;
        BEGIN
            FOR gone IN SELECT user_id, count(*) AS tasks FROM deleted GROUP BY user_id LOOP
                UPDATE {schema}.task_counts AS counts SET tasks = counts.tasks - gone.tasks
                WHERE counts.user_id = gone.user_id;
            END LOOP;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION taskapi_forget_task_counts() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            -- On Citus this fires on the distributed table and on each of its shards
            -- (tasks_102008, ...): the distributed table's firing clears every count.
            IF TG_TABLE_NAME = 'tasks' THEN
                DELETE FROM {schema}.task_counts;
            END IF;
            RETURN NULL;
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
            SELECT tasks INTO owned FROM {schema}.task_counts WHERE user_id = owner;
            RETURN coalesce(owned, 0);
        END
        $$
        """
    )
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION taskapi_count_inserted_tasks() RETURNS trigger
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
        CREATE OR REPLACE FUNCTION taskapi_count_deleted_tasks() RETURNS trigger
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
        CREATE OR REPLACE FUNCTION taskapi_forget_task_counts() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM {schema}.task_counts;
            RETURN NULL;
        END
        $$
        """
    )
