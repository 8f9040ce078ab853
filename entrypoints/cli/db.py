"""`taskapi db ...`: the PostgreSQL schema's migrations (Alembic), on the service's database."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import click

from entrypoints.cli.runtime import OneLineUsageGroup, container_for, run

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from entrypoints.container import Container


def _migrations() -> ModuleType:
    """The PostgreSQL adapter's migration functions, loaded when a command runs (Alembic and
    SQLAlchemy take seconds to import; --help needs neither)."""
    from adapters.postgres import migrations  # noqa: PLC0415

    return migrations


def _postgres(ctx: click.Context) -> Container:
    """The container on the service's PostgreSQL that leaves migrating to these commands."""
    container = container_for(ctx, migrate_on_start=False)
    store = container.settings().task_store
    if store != "postgres":
        raise click.ClickException(
            f"taskapi db manages PostgreSQL, but TASK_STORE is {store}; "
            "unset TASK_STORE or set it to postgres"
        )
    return container


def _engine(container: Container) -> AsyncEngine:
    engine: AsyncEngine = container.storage().engine
    return engine


async def _current(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        revision: str | None = await _migrations().current_revision(connection)
    return revision


def _describe(revision: str | None) -> str:
    if revision is None:
        return "none (an empty schema)"
    return f"{revision} (head)" if revision == _migrations().head_revision() else revision


def _move(ctx: click.Context, direction: str, revision: str, moved: str) -> None:
    """Run the adapter's `migrate` or `downgrade` to REVISION; say where the schema went."""

    async def work(container: Container) -> tuple[str | None, str | None]:
        engine = _engine(container)
        before = await _current(engine)
        await getattr(_migrations(), direction)(engine, revision)
        return before, await _current(engine)

    before, after = run(_postgres(ctx), work)
    if before == after:
        click.echo(f"Already at {_describe(after)}; nothing to do.")
    else:
        click.echo(f"{moved} from {_describe(before)} to {_describe(after)}.")


@click.group(cls=OneLineUsageGroup, short_help="Migrate the PostgreSQL schema (Alembic).")
def db() -> None:
    """Migrate the PostgreSQL schema (Alembic migrations under alembic/versions).

    The database is DATABASE_URL's or, when it is unset, the embedded server under
    TASKAPI_DATA_DIR, as for `taskapi serve`. The service applies pending migrations
    itself when it starts (TASKAPI_MIGRATE_ON_START=true, the default); these commands
    are for deployments that migrate separately, and for writing new migrations.

    \b
    Examples:
      taskapi db current
      taskapi db upgrade
      taskapi db downgrade 0001
      taskapi db revision -m "add tags" --autogenerate
      taskapi db distribute
    """


@db.command(short_help="Apply migrations (up to the newest).")
@click.argument("revision", default="head", metavar="[REVISION]")
@click.pass_context
def upgrade(ctx: click.Context, revision: str) -> None:
    """Apply migrations up to REVISION (default: head, the newest).

    Runs under the same advisory lock as the service's start, so it is safe while
    instances are starting.
    """

    _move(ctx, "migrate", revision, "Upgraded")


@db.command("downgrade", short_help="Revert migrations down to a revision.")
@click.argument("revision", metavar="REVISION")
@click.pass_context
def downgrade_command(ctx: click.Context, revision: str) -> None:
    """Revert migrations down to REVISION; `base` reverts them all (and drops every table).

    A relative step such as -1 goes after `--`: taskapi db downgrade -- -1
    """

    _move(ctx, "downgrade", revision, "Downgraded")


@db.command(short_help="Print the database's revision.")
@click.pass_context
def current(ctx: click.Context) -> None:
    """Print the database's revision; `(head)` when it is the newest."""

    async def work(container: Container) -> str | None:
        return await _current(_engine(container))

    revision = run(_postgres(ctx), work)
    head = _migrations().head_revision()
    if revision is None:
        click.echo("none (no migration applied; run taskapi db upgrade)")
    elif revision == head:
        click.echo(f"{revision} (head)")
    else:
        click.echo(f"{revision} (behind {head}; run taskapi db upgrade)")


@db.command(short_help="Write a new migration file.")
@click.option("--message", "-m", required=True, help="What the migration does, in a few words.")
@click.option(
    "--autogenerate",
    is_flag=True,
    help="Fill it in from the difference between adapters/postgres/tables.py and the "
    "database (which must be at head). Review the result: Alembic misses some changes.",
)
@click.pass_context
def revision(ctx: click.Context, message: str, autogenerate: bool) -> None:
    """Write a new, numbered migration file under alembic/versions.

    Without --autogenerate the file is an empty template and no database is needed.
    """

    async def work(container: Container) -> Path:
        engine = _engine(container) if autogenerate else None
        path: Path = await _migrations().new_revision(message, engine)
        return path

    path = run(_postgres(ctx), work, start_storage=autogenerate)
    try:
        shown = path.relative_to(Path.cwd())
    except ValueError:
        shown = path
    click.echo(f"Wrote {shown}")


@db.command(short_help="Shard the tables by user on Citus (distributed PostgreSQL).")
@click.pass_context
def distribute(ctx: click.Context) -> None:
    """Distribute the tables on a Citus cluster: tasks by user_id, task_counts and
    idempotency_keys colocated with it, rate_limit_entries by its key, alembic_version
    copied to every node.

    Run it on the coordinator's database (DATABASE_URL), where the citus extension is
    installed and the workers are added; after `taskapi db upgrade` or before it (the
    migrations distribute the tables they create). Running it again changes nothing.
    Refused on a plain PostgreSQL. See docs/operations.md, "Scaling out".
    """
    from adapters.postgres import citus  # noqa: PLC0415

    async def work(container: Container) -> citus.Distribution:
        engine = _engine(container)
        try:
            async with engine.connect() as connection:
                done: citus.Distribution = await connection.run_sync(
                    _migrations().under_migration_lock, citus.distribute
                )
        except citus.CitusMissing:
            raise click.ClickException(
                "this database has no citus extension (a plain PostgreSQL): nothing was "
                "distributed. On a Citus coordinator: CREATE EXTENSION citus, add the workers "
                "(citus_add_node), then run this again"
            ) from None
        except citus.NothingToDistribute:
            raise click.ClickException(
                "this database has no tasks table yet: run taskapi db upgrade first"
            ) from None
        return done

    done = run(_postgres(ctx), work)
    for placement in done.distributed:
        click.echo(f"Distributed {placement.describe()}.")
    if done.already:
        names = ", ".join(p.table for p in done.already)
        click.echo(f"Already distributed: {names}.")
    if not done.distributed:
        click.echo(f"Nothing to do (Citus {done.citus_version}).")
