"""The `taskapi` command."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
import tempfile

import click

from entrypoints.cli.db import db
from entrypoints.cli.openapi import openapi
from entrypoints.cli.runtime import OneLineUsageGroup, container_for, load_settings, run
from entrypoints.cli.tasks import tasks

logger = logging.getLogger("taskapi")


@click.group(cls=OneLineUsageGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="taskapi", prog_name="taskapi", message="%(prog)s %(version)s")
def cli() -> None:
    """taskapi: a per-user task management REST API.

    Settings come from the environment or a .env file (see README.md). With no
    DATABASE_URL every command uses an embedded PostgreSQL under TASKAPI_DATA_DIR
    (./.data); TASK_STORE=memory keeps tasks in memory for one command only.

    \b
    Start here:
      taskapi serve                           run the HTTP API
      taskapi tasks add --user alice "Buy milk"
      taskapi tasks list --user alice
      taskapi db current                      the schema's migration revision

    Run any command with --help to see what it does and its options.
    """


@cli.command()
@click.option("--host", default=None, help="Address to listen on [env HOST, default 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [env PORT, default 8000].")
@click.option(
    "--workers", type=int, default=None, help="Worker processes [env WORKERS, default 1]."
)
@click.option("--reload", is_flag=True, help="Restart on code changes (development only).")
def serve(host: str | None, port: int | None, workers: int | None, reload: bool) -> None:
    """Run the HTTP API.

    With no DATABASE_URL (and TASK_STORE=postgres) it starts an embedded PostgreSQL under
    TASKAPI_DATA_DIR first, once, for all workers (or joins the one already running there),
    and on exit stops it unless another taskapi process still uses it.
    """
    import uvicorn  # noqa: PLC0415 (only this command needs the server)

    from adapters.postgres.embedded import EmbeddedDatabaseError, EmbeddedPostgres  # noqa: PLC0415
    from entrypoints.cursor_secret import cursor_secret, cursor_secret_warning  # noqa: PLC0415
    from entrypoints.http.server import BoundedHttpToolsProtocol  # noqa: PLC0415
    from entrypoints.logs import configure_logging, uvicorn_log_config  # noqa: PLC0415

    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level)
    # Resolved once, here, and handed down: every worker then signs cursors alike.
    if (warning := cursor_secret_warning(settings)) is not None:
        logger.warning(warning)
    try:
        os.environ["CURSOR_SECRET"] = cursor_secret(settings)
    except (OSError, RuntimeError) as error:  # the data directory is not writable, say
        raise click.ClickException(f"cannot keep the cursor secret: {error}") from None
    # uvicorn re-raises SIGTERM once it has shut down gracefully; exiting through SystemExit
    # instead of the default handler lets the `finally` below stop the embedded server.
    signal.signal(signal.SIGTERM, _exit_quietly)
    embedded = None
    if settings.task_store == "postgres" and settings.database_url is None:
        embedded = EmbeddedPostgres(settings.data_dir)
        try:
            os.environ["DATABASE_URL"] = embedded.start()
        except EmbeddedDatabaseError as error:
            raise click.ClickException(str(error)) from None
    worker_count = workers or settings.workers
    metrics_dir = None
    if worker_count > 1 and not reload:
        # Each worker writes its metrics here; /metrics in any worker adds them all up.
        metrics_dir = tempfile.mkdtemp(prefix="taskapi-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        uvicorn.run(
            "entrypoints.http.app:create_served_app",
            factory=True,
            host=host or settings.host,
            port=port or settings.port,
            workers=None if reload else worker_count,
            reload=reload,
            loop="uvloop",
            # uvicorn's httptools protocol, with a deadline for reading each request and
            # caps on headers and connections (entrypoints/http/server.py).
            http=BoundedHttpToolsProtocol,
            access_log=False,
            # uvicorn's own lines in the format of every other line (entrypoints/logs.py).
            log_config=uvicorn_log_config(settings.log_format, settings.log_level),
            log_level=settings.log_level.lower(),
            timeout_graceful_shutdown=20,
        )
    finally:
        if embedded is not None:
            embedded.stop()
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


@cli.command()
def mcp() -> None:
    """Serve the task tools to an MCP client over standard input and output.

    For a desktop assistant or an agent on this machine (docs/mcp.md): it starts this
    command and speaks MCP on its pipes. Every tool takes user_id. Logs go to stderr.
    """
    import importlib.metadata  # noqa: PLC0415

    from entrypoints.logs import configure_logging  # noqa: PLC0415
    from entrypoints.mcp.stdio import serve_stdio  # noqa: PLC0415

    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level)
    ctx = click.get_current_context()
    container = container_for(ctx)
    version = importlib.metadata.version("taskapi")
    run(container, lambda c: serve_stdio(c, version), start_storage=False)


cli.add_command(tasks)
cli.add_command(db)
cli.add_command(openapi)


def _exit_quietly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def main() -> None:
    cli(prog_name="taskapi")


if __name__ == "__main__":
    sys.exit(main())
