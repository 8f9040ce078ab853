"""taskapi's tables on a distributed PostgreSQL (Citus): sharded by user, on any entry node.

Every statement of a request names its owner (`user_id = $1`) and every key and index starts
with `user_id`, so `tasks` is distributed by `user_id`, and the tables a request writes
with it are colocated with it (their shard of a user is on the same node as the user's
tasks shard): a request runs on one shard, and the `task_counts` triggers write the
colocated shard locally. `rate_limit_entries` is keyed by the limiter's key (which names the
user): distributed by that key, each read and write is on one shard; only the sweep of
expired entries runs on all of them. `alembic_version` becomes a reference table (a copy on
every node), so an instance that enters by a worker sees the schema's revision (readiness).

Distributing is `distribute()` (the `taskapi db distribute` command), once the citus
extension is in the database on the coordinator and every worker. Migrations keep working
afterwards: on a database with the citus extension they run with
`citus.enable_unsafe_triggers` (transaction-local; Citus refuses triggers on distributed
tables without it: our triggers write only the colocated shard, see migration 0006), and a
table a migration creates after `tasks` was distributed is distributed as the plan says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import sqlalchemy as sa


@dataclass(frozen=True, slots=True)
class Placement:
    table: str
    column: str | None  # None: a reference table
    colocate_with: str = "default"

    def describe(self) -> str:
        if self.column is None:
            return f"{self.table} (a reference table, on every node)"
        if self.colocate_with == "default":
            return f"{self.table} by {self.column}"
        return f"{self.table} by {self.column}, with {self.colocate_with}"


# In order: tasks first (the others are colocated with it).
PLAN: Final = (
    Placement("tasks", "user_id"),
    Placement("task_counts", "user_id", "tasks"),
    Placement("idempotency_keys", "user_id", "tasks"),
    Placement("changes", "user_id", "tasks"),
    Placement("rate_limit_entries", "key"),
    Placement("alembic_version", None),
)


class CitusMissing(RuntimeError):
    """The database has no citus extension: it is a plain PostgreSQL."""


class NothingToDistribute(RuntimeError):
    """The schema has no tasks table yet."""


@dataclass(frozen=True, slots=True)
class Distribution:
    citus_version: str
    distributed: list[Placement] = field(default_factory=list)  # by this call
    already: list[Placement] = field(default_factory=list)


def citus_version(connection: sa.Connection) -> str | None:
    """The citus extension's version in this database, None on a plain PostgreSQL."""
    version = connection.execute(
        sa.text("SELECT extversion FROM pg_extension WHERE extname = 'citus'")
    ).scalar_one_or_none()
    return None if version is None else str(version)


def _tables(connection: sa.Connection) -> set[str]:
    rows = connection.execute(
        sa.text(
            "SELECT relname FROM pg_class "
            "WHERE relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'p')"
        )
    )
    return {str(name) for name in rows.scalars()}


def _citus_tables(connection: sa.Connection) -> set[str]:
    rows = connection.execute(
        sa.text(
            "SELECT c.relname FROM pg_dist_partition p JOIN pg_class c ON c.oid = p.logicalrelid "
            "WHERE c.relnamespace = current_schema()::regnamespace"
        )
    )
    return {str(name) for name in rows.scalars()}


def allow_our_triggers(connection: sa.Connection) -> None:
    """In this transaction, let DDL create (or distribute) the task_counts triggers on a
    distributed `tasks` table; a no-op on a plain PostgreSQL."""
    if citus_version(connection) is not None:
        connection.execute(sa.text("SET LOCAL citus.enable_unsafe_triggers = on"))
        # One connection per node for the whole migration: a function created after DDL on
        # a distributed table (an index, say) is refused after a parallel operation.
        connection.execute(sa.text("SET LOCAL citus.multi_shard_modify_mode = 'sequential'"))


def _place(connection: sa.Connection, placement: Placement) -> None:
    if placement.column is None:
        connection.execute(
            sa.text("SELECT create_reference_table(CAST(:t AS regclass))"), {"t": placement.table}
        )
        return
    if placement.table == "tasks":
        # Citus copies the rows into the shards, where the triggers would count them a second
        # time (task_counts already counts them): they are off for the copy, and the table
        # is locked so that nothing else writes meanwhile. The shards inherit the state.
        connection.execute(sa.text("LOCK TABLE tasks IN EXCLUSIVE MODE"))
        connection.execute(sa.text("ALTER TABLE tasks DISABLE TRIGGER USER"))
    connection.execute(
        sa.text("SELECT create_distributed_table(CAST(:t AS regclass), :c, colocate_with => :w)"),
        {"t": placement.table, "c": placement.column, "w": placement.colocate_with},
    )
    if placement.table == "tasks":
        connection.execute(sa.text("ALTER TABLE tasks ENABLE TRIGGER USER"))


def distribute(connection: sa.Connection) -> Distribution:
    """Distribute (or make reference tables of) every table of the plan that is not yet; in
    the caller's transaction. Idempotent: what is distributed already is left alone."""
    version = citus_version(connection)
    if version is None:
        raise CitusMissing
    existing = _tables(connection)
    if "tasks" not in existing:
        raise NothingToDistribute
    allow_our_triggers(connection)
    done = _citus_tables(connection)
    result = Distribution(version)
    for placement in PLAN:
        if placement.table in done:
            result.already.append(placement)
        elif placement.table in existing:
            _place(connection, placement)
            result.distributed.append(placement)
    return result


def distribute_what_migrations_created(connection: sa.Connection) -> None:
    """After migrations: once `tasks` is distributed, so is every table of the plan that a
    migration created since (distribute at an old revision, then migrate)."""
    if citus_version(connection) is not None and "tasks" in _citus_tables(connection):
        distribute(connection)
