"""What every `taskapi` command shares: settings, the container, the storage's life, and
turning any failure into one line on stderr and a non-zero exit status.

The container, SQLAlchemy and Alembic take seconds to import, so they are imported when a
command runs, never for `--help` or a usage error.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

import click
from click.exceptions import NoArgsIsHelpError

from adapters.postgres.embedded import EmbeddedDatabaseError
from application.unit_of_work import StorageUnavailable
from domain.errors import DomainError
from entrypoints.config import ConfigError, Settings

if TYPE_CHECKING:
    from entrypoints.container import Container

T = TypeVar("T")

# Smaller imports and exports finish before a bar would be worth drawing.
PROGRESS_THRESHOLD: Final = 1000


def load_settings() -> Settings:
    """The settings of every command (environment, then .env); a bad one is a one-line error."""
    try:
        return Settings.from_env()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


def container_for(ctx: click.Context, **changes: Any) -> Container:
    """The container handed to the root command as `obj` (tests share one that way), else
    one built from the environment, as the HTTP service builds its own. `changes` are
    settings to override; they make a new container on those settings."""
    given = cast("Container | None", ctx.find_root().obj)
    if given is not None and not changes:
        return given
    settings: Settings = given.settings() if given is not None else load_settings()
    from entrypoints.container import build_container  # noqa: PLC0415 (slow; see above)

    return build_container(replace(settings, **changes))


class UsageLine(click.ClickException):
    """A mistake in how a command was called, said in one line, with where to read more."""

    exit_code = 2


def _usage_line(error: click.UsageError) -> click.ClickException:
    if isinstance(error, NoArgsIsHelpError):
        return error  # a group called alone prints its help, as click does
    message = error.format_message().strip().rstrip(".")
    hint = "" if error.ctx is None else f" (see '{error.ctx.command_path} --help')"
    return UsageLine(f"{message}{hint}.")


class OneLineUsageCommand(click.Command):
    """Click prints usage errors over four lines; this command keeps them to one."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as error:
            raise _usage_line(error) from None


class OneLineUsageGroup(OneLineUsageCommand, click.Group):
    """A group whose own usage errors, and its commands', are one line each."""

    command_class = OneLineUsageCommand
    group_class = type  # subgroups are of this class too

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as error:
            raise _usage_line(error) from None


class _StorageStartFailed(Exception):
    """The storage could not start; the cause says why."""


def _reason(error: BaseException) -> str:
    """The innermost cause's first line: the driver's words, not SQLAlchemy's wrapping."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    for link in reversed(chain):
        text = str(link).strip()
        if text:
            return text.splitlines()[0]
    return type(chain[-1]).__name__


def _unreachable(error: BaseException) -> click.ClickException:
    return click.ClickException(
        f"cannot reach the database ({_reason(error)}); "
        "check DATABASE_URL and that the server is running"
    )


def _one_line(error: BaseException) -> click.ClickException:
    """The message to show for a failure of a command's run."""
    # Imported only on failure, after the container has loaded SQLAlchemy and Alembic anyway.
    from alembic.util import CommandError  # noqa: PLC0415

    from adapters.postgres.outages import is_outage  # noqa: PLC0415

    if isinstance(error, _StorageStartFailed) and error.__cause__ is not None:
        cause = error.__cause__
        if isinstance(cause, EmbeddedDatabaseError):
            return click.ClickException(str(cause))
        if is_outage(cause):
            return _unreachable(cause)
        return click.ClickException(f"cannot open the database: {_reason(cause)}")
    if isinstance(error, DomainError):
        return click.ClickException(error.message)
    if isinstance(error, StorageUnavailable) or is_outage(error):
        return _unreachable(error)
    if isinstance(error, CommandError):  # Alembic's own words name the revision
        return click.ClickException(str(error).strip().splitlines()[0])
    return click.ClickException(f"unexpected error ({type(error).__name__}): {_reason(error)}")


def run(
    container: Container,
    work: Callable[[Container], Awaitable[T]],
    *,
    start_storage: bool = True,
) -> T:
    """Start the storage, run `work` (which calls use cases), stop the storage: one event loop."""

    async def lifecycle() -> T:
        if not start_storage:
            return await work(container)
        storage = container.storage()
        try:
            await storage.start()
        except Exception as error:
            with contextlib.suppress(Exception):
                await storage.stop()  # whatever did start (the embedded server) stops again
            raise _StorageStartFailed from error
        try:
            return await work(container)
        finally:
            await storage.stop()

    try:
        return asyncio.run(lifecycle())
    except click.ClickException:
        raise
    except Exception as error:
        raise _one_line(error) from None


@contextlib.contextmanager
def progress(length: int, label: str) -> Iterator[Callable[[int], None]]:
    """A bar on stderr for long runs when stderr is a terminal; otherwise nothing is drawn."""
    if length < PROGRESS_THRESHOLD or not sys.stderr.isatty():
        yield lambda advanced: None
        return
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
        yield bar.update
