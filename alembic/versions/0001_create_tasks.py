"""Create the tasks table and the indexes that serve every sort.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PRIORITY_RANK_SQL = (
    "CASE priority WHEN 'low' THEN 1 WHEN 'medium' THEN 2 WHEN 'high' THEN 3 ELSE 0 END"
)


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.Text(collation="C"), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("completed", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("completed_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("due_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("priority", sa.Text(), nullable=False, server_default="none"),
        sa.Column(
            "priority_rank", sa.SmallInteger(), sa.Computed(PRIORITY_RANK_SQL, persisted=True)
        ),
        sa.Column("created_at", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("updated_at", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.PrimaryKeyConstraint("user_id", "id", name="pk_tasks"),
        sa.CheckConstraint(
            "priority IN ('none', 'low', 'medium', 'high')", name="ck_tasks_priority"
        ),
    )
    op.create_index("ix_tasks_user_created", "tasks", ["user_id", "created_at", "id"])
    op.create_index("ix_tasks_user_updated", "tasks", ["user_id", "updated_at", "id"])
    op.create_index(
        "ix_tasks_user_due_asc",
        "tasks",
        ["user_id", sa.text("coalesce(due_at, 'infinity'::timestamptz)"), "id"],
    )
    op.create_index(
        "ix_tasks_user_due_desc",
        "tasks",
        ["user_id", sa.text("coalesce(due_at, '-infinity'::timestamptz)"), "id"],
    )
    op.create_index("ix_tasks_user_priority", "tasks", ["user_id", "priority_rank", "id"])
    op.create_index("ix_tasks_user_title", "tasks", ["user_id", "title", "id"])


def downgrade() -> None:
    op.drop_table("tasks")
