"""Create rate_limit_entries: the rate limiter's store, shared by every worker and instance.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_entries",
        # The limiter's key names the user ("...::user:<user_id>"): sharded by it, like tasks.
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_rate_limit_entries"),
    )


def downgrade() -> None:
    op.drop_table("rate_limit_entries")
