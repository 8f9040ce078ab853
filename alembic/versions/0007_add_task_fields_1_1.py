"""Add the version 1.1 task fields: tags, recurrence, time_zone, remind_at, series_id, and
`recurred`, the occurrence's own note that it has created its next one.

Made for a large live table: every column is nullable or has a constant default, which
PostgreSQL 11 and later add to the catalog only (no table rewrite, no scan), so the
ACCESS EXCLUSIVE lock each ALTER takes is held for milliseconds. No index is added: the tag
filter is checked on the owner's rows as the sort index walks them (docs/performance.md),
and no check constraint is added, since validating one would scan the whole table; the
domain keeps the rules.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ("tags", "text[] NOT NULL DEFAULT '{}'"),
    ("recurrence", "text"),
    ("time_zone", "text"),
    ("remind_at", "timestamptz"),
    ("series_id", "uuid"),
    ("recurred", "boolean NOT NULL DEFAULT false"),
)


def upgrade() -> None:
    # Wait at most 5 s for the table lock rather than queue every request behind a long
    # transaction; a timeout fails the migration, which can simply be run again.
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE tasks "
        + ", ".join(f"ADD COLUMN IF NOT EXISTS {name} {kind}" for name, kind in _COLUMNS)
    )


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE tasks " + ", ".join(f"DROP COLUMN IF EXISTS {n}" for n, _ in _COLUMNS))
