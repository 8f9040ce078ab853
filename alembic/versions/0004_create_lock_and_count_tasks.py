"""Create taskapi_lock_and_count_tasks(): lets a create check the cap in one statement.

A statement's snapshot is taken when it starts, so a count in the INSERT itself could miss
a task that a parallel create committed while this one waited for the owner's lock. A
VOLATILE function takes a fresh snapshot for each query it runs: counting inside it, after
the lock, sees every earlier create of the owner, and the lock is held until the INSERT
commits. Check, lock and insert are then one statement, with no BEGIN or COMMIT around it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The table is named with its schema, so the function works whatever the search_path.
    schema = op.get_bind().execute(sa.text("SELECT quote_ident(current_schema())")).scalar_one()
    # The lock key is the one the repository's lock_owner() takes (one-argument key space).
    op.execute(
        f"""
        CREATE FUNCTION taskapi_lock_and_count_tasks(owner varchar) RETURNS bigint
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


def downgrade() -> None:
    op.execute("DROP FUNCTION taskapi_lock_and_count_tasks(varchar)")
