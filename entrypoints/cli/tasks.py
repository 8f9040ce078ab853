"""`taskapi tasks ...`: the task use cases from the command line, on the service's storage."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final, TextIO
from uuid import UUID

import click

from application.changes import DEFAULT_CHANGES_PAGE, ChangePage, ChangesQuery, TokenedChange
from application.commands import (
    ChangedTask,
    CreateTaskCommand,
    ListTasksQuery,
    SetCompletionCommand,
    TaskFields,
    TaskPage,
    TaskRef,
)
from application.import_export import ImportExceedsLimit, ImportTasksCommand, InvalidImportRow
from domain.errors import TaskNotFound, ValidationFailed
from domain.ids import UUID_RULE, is_task_id
from domain.listing import SortField, TaskFilter, TaskOrder
from domain.task import OWNER_RULE, Priority, Task
from entrypoints.cli.formats import (
    FORMATS,
    FileError,
    TaskFile,
    TaskWriter,
    format_timestamp,
    read_csv,
    read_json,
    render_table,
    render_task,
    task_to_dict,
    to_json,
)
from entrypoints.cli.runtime import OneLineUsageGroup, container_for, progress, run
from entrypoints.timestamps import parse_timestamp

if TYPE_CHECKING:
    from entrypoints.container import Container

PRIORITIES: Final = [p.value for p in Priority]
SORTS: Final = [f"{sign}{f.value}" for f in SortField for sign in ("", "-")]

user_option = click.option(
    "--user",
    "-u",
    required=True,
    metavar="USER_ID",
    help=f"Whose tasks: {OWNER_RULE.removeprefix('must be ')}",
)
json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print JSON (the API's task fields) instead of text."
)
task_id_argument = click.argument("task_id", metavar="TASK_ID")


def _task_id(text: str) -> UUID:
    if not is_task_id(text):
        raise click.ClickException(f"TASK_ID {UUID_RULE}, not {text!r}")
    return UUID(text)


def _timestamp(option: str, text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_timestamp(option, text)
    except ValidationFailed as error:
        raise click.ClickException(f"{option} {error.reason}") from None


def _show(task: Task, as_json: bool) -> None:
    click.echo(to_json(task_to_dict(task)) if as_json else render_task(task))


@click.group(cls=OneLineUsageGroup, short_help="Manage a user's tasks; import and export them.")
def tasks() -> None:
    """Create, list, change and delete a user's tasks; import and export them.

    Every command works on one user's tasks (--user) and goes through the same use
    cases and storage as the HTTP API, with the same rules. Task ids are UUIDs, as
    `tasks list` shows them. Add --json for output a program can read.

    \b
    Examples:
      taskapi tasks add --user alice "Buy milk" --due 2026-12-01T17:00:00+01:00
      taskapi tasks list --user alice --pending --sort due_at
      taskapi tasks done --user alice 019ab4c8-0000-7000-8000-000000000000
      taskapi tasks export --user alice --output alice.csv
      taskapi tasks import --user bob alice.csv
    """


@tasks.command("list", short_help="List a user's tasks, a page at a time.")
@user_option
@click.option(
    "--completed/--pending",
    default=None,
    help="Only completed tasks, or only pending ones [default: both].",
)
@click.option("--priority", type=click.Choice(PRIORITIES), help="Only tasks of this priority.")
@click.option(
    "--q",
    "search",
    metavar="TEXT",
    help="Only tasks whose title or description holds TEXT (any case; 1 to 200 characters).",
)
@click.option("--due-before", metavar="TIMESTAMP", help="Only tasks due before (RFC 3339).")
@click.option("--due-after", metavar="TIMESTAMP", help="Only tasks due after (RFC 3339).")
@click.option(
    "--tag",
    "tags",
    multiple=True,
    metavar="TAG",
    help="Only tasks that carry TAG; repeat for tasks that carry every one (up to 5).",
)
@click.option(
    "--sort",
    type=click.Choice(SORTS),
    default="-created_at",
    show_default=True,
    help="Sort key; a leading '-' sorts descending. Tasks without a due date come last.",
)
@click.option("--limit", type=int, default=100, show_default=True, help="Tasks per page, 1 to 500.")
@click.option("--cursor", help="Continue after the previous page (the cursor it printed).")
@json_option
@click.pass_context
def list_tasks(
    ctx: click.Context,
    user: str,
    completed: bool | None,
    priority: str | None,
    search: str | None,
    due_before: str | None,
    due_after: str | None,
    tags: tuple[str, ...],
    sort: str,
    limit: int,
    cursor: str | None,
    as_json: bool,
) -> None:
    """List a user's tasks, a page at a time (newest first unless --sort says otherwise).

    With --json it prints {"tasks": [...], "next_cursor": ...}; next_cursor is null on
    the last page.
    """
    query = ListTasksQuery(
        owner=user,
        filter=TaskFilter(
            completed=completed,
            priority=None if priority is None else Priority(priority),
            search=search,
            due_before=_timestamp("--due-before", due_before),
            due_after=_timestamp("--due-after", due_after),
            tags=tags or None,
        ),
        order=TaskOrder.parse(sort),
        limit=limit,
        cursor=cursor,
    )

    async def work(container: Container) -> TaskPage:
        page: TaskPage = await container.list_tasks()(query)
        return page

    page = run(container_for(ctx), work)
    if as_json:
        items = [task_to_dict(t) for t in page.items]
        click.echo(to_json({"tasks": items, "next_cursor": page.next_cursor}))
        return
    click.echo(render_table(page.items) if page.items else "No tasks.")
    if page.next_cursor is not None:
        click.echo(f"More tasks: repeat with --cursor {page.next_cursor}", err=True)


@tasks.command(short_help="Create a task.")
@user_option
@click.argument("title")
@click.option("--description", "-d", help="Free text, up to 2000 characters.")
@click.option(
    "--due",
    metavar="TIMESTAMP",
    help="When it is due: RFC 3339 with an offset, like 2026-12-01T17:00:00+01:00 or ...Z.",
)
@click.option(
    "--priority", type=click.Choice(PRIORITIES), default="none", show_default=True, help="Priority."
)
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="A tag; repeat for more.")
@click.option(
    "--every",
    metavar="RULE",
    help="Recur by an RFC 5545 rule, like 'FREQ=WEEKLY;BYDAY=MO' (needs --due): completing "
    "the task creates the next one.",
)
@click.option(
    "--tz", metavar="ZONE", help="IANA time zone the rule keeps wall-clock time in [UTC]."
)
@click.option("--remind", metavar="TIMESTAMP", help="When to remind: RFC 3339 with an offset.")
@json_option
@click.pass_context
def add(
    ctx: click.Context,
    user: str,
    title: str,
    description: str | None,
    due: str | None,
    priority: str,
    tags: tuple[str, ...],
    every: str | None,
    tz: str | None,
    remind: str | None,
    as_json: bool,
) -> None:
    """Create a task titled TITLE and print it (with its id).

    The title is trimmed and must keep 1 to 500 characters.
    """
    command = CreateTaskCommand(
        owner=user,
        fields=TaskFields(
            title=title,
            description=description,
            due_at=_timestamp("--due", due),
            priority=Priority(priority),
            tags=tags,
            recurrence=every,
            time_zone=tz,
            remind_at=_timestamp("--remind", remind),
        ),
    )

    async def work(container: Container) -> Task:
        return (await container.create_task()(command)).task

    _show(run(container_for(ctx), work), as_json)


def _not_found(ref: TaskRef) -> click.ClickException:
    return click.ClickException(f"no task {ref.task_id} for user {ref.owner}")


@tasks.command(short_help="Print one task.")
@user_option
@task_id_argument
@json_option
@click.pass_context
def show(ctx: click.Context, user: str, task_id: str, as_json: bool) -> None:
    """Print one task, every field."""
    ref = TaskRef(user, _task_id(task_id))

    async def work(container: Container) -> Task:
        try:
            task: Task = await container.get_task()(ref)
        except TaskNotFound:
            raise _not_found(ref) from None
        return task

    _show(run(container_for(ctx), work), as_json)


def _set_completion(
    ctx: click.Context, user: str, task_id: str, completed: bool, as_json: bool
) -> None:
    command = SetCompletionCommand(TaskRef(user, _task_id(task_id)), completed=completed)

    async def work(container: Container) -> ChangedTask:
        try:
            changed: ChangedTask = await container.set_completion()(command)
        except TaskNotFound:
            raise _not_found(command.ref) from None
        return changed

    changed = run(container_for(ctx), work)
    _show(changed.task, as_json)
    following = changed.next_occurrence
    if following is not None and not as_json:
        due = "-" if following.due_at is None else format_timestamp(following.due_at)
        click.echo(f"Next occurrence: {following.id}, due {due}", err=True)


@tasks.command(short_help="Mark a task completed.")
@user_option
@task_id_argument
@json_option
@click.pass_context
def done(ctx: click.Context, user: str, task_id: str, as_json: bool) -> None:
    """Mark a task completed (already completed: nothing changes) and print it.

    A recurring task's next occurrence is created then, and its id printed.
    """
    _set_completion(ctx, user, task_id, True, as_json)


@tasks.command(short_help="Mark a task not completed.")
@user_option
@task_id_argument
@json_option
@click.pass_context
def reopen(ctx: click.Context, user: str, task_id: str, as_json: bool) -> None:
    """Mark a task not completed (already open: nothing changes) and print it."""
    _set_completion(ctx, user, task_id, False, as_json)


@tasks.command(short_help="Delete a task.")
@user_option
@task_id_argument
@json_option
@click.pass_context
def rm(ctx: click.Context, user: str, task_id: str, as_json: bool) -> None:
    """Delete a task for good."""
    ref = TaskRef(user, _task_id(task_id))

    async def work(container: Container) -> None:
        try:
            await container.delete_task()(ref)
        except TaskNotFound:
            raise _not_found(ref) from None

    run(container_for(ctx), work)
    click.echo(to_json({"id": str(ref.task_id)}) if as_json else f"Deleted task {ref.task_id}.")


def _tasks(count: int) -> str:
    return "1 task" if count == 1 else f"{count} tasks"


def _format_of(path: str, given: str | None) -> str:
    if given is not None:
        return given
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    if path == "-":
        return "json"
    raise click.ClickException(
        f"cannot tell the format of {path}: name it .json or .csv, or give --format"
    )


def _cannot_write(path: str, error: OSError) -> click.ClickException:
    return click.ClickException(f"cannot write {path}: {error.strerror or error}")


@contextlib.contextmanager
def _write_errors(path: str) -> Iterator[None]:
    """A failed write (disk full, closed pipe) said as such; only around writes, since the
    database's connection errors are OSErrors too."""
    try:
        yield
    except OSError as error:
        raise _cannot_write(path, error) from None


@contextlib.contextmanager
def _output(path: str) -> Iterator[TextIO]:
    """Standard output for '-'; else a file that appears whole, and only if all went well
    (a device or a pipe, such as /dev/stdout, is written to directly)."""
    if path == "-":
        yield sys.stdout
        return
    target = Path(path)
    if target.exists() and not target.is_file():
        with _write_errors(path):
            out = target.open("w", encoding="utf-8", newline="")
        try:
            yield out
        finally:
            with _write_errors(path):
                out.close()
        return
    partial = target.with_name(f".{target.name}.partial")
    with _write_errors(path):
        out = partial.open("w", encoding="utf-8", newline="")
    try:
        yield out
    except BaseException:
        with contextlib.suppress(OSError):
            out.close()
        partial.unlink(missing_ok=True)
        raise
    try:
        with _write_errors(path):
            out.close()  # the last flush: a full disk may show only here
            os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


format_option = click.option(
    "--format",
    "file_format",
    type=click.Choice(FORMATS),
    help="File format [default: from the file name's extension].",
)


@tasks.command(short_help="Write all of a user's tasks to a JSON or CSV file.")
@user_option
@format_option
@click.option(
    "--output",
    "-o",
    default="-",
    metavar="FILE",
    help="Where to write [default: standard output, as JSON].",
)
@click.pass_context
def export(ctx: click.Context, user: str, file_format: str | None, output: str) -> None:
    """Write all of a user's tasks, every field, oldest first, to a JSON or CSV file.

    JSON: an array of task objects, as the API shows tasks. CSV: a header line, then
    one task a line; an empty cell is null. `taskapi tasks import` reads either back,
    every field intact.
    """
    chosen = _format_of(output, file_format)

    async def work(container: Container) -> int:
        total = (await container.task_statistics()(user)).total
        written = 0
        with _output(output) as out, progress(total, "Exporting") as advance:
            with _write_errors(output):
                writer = TaskWriter(out, chosen)
            async for page in container.export_tasks()(user):
                with _write_errors(output):
                    writer.write(page)
                written += len(page)
                advance(len(page))
            with _write_errors(output):
                writer.close()
        return written

    written = run(container_for(ctx), work)
    if output != "-":
        click.echo(f"Exported {_tasks(written)} of {user} to {output}.", err=True)


def _read_task_file(path: str, file_format: str) -> TaskFile:
    try:
        if path == "-":
            text = sys.stdin.buffer.read().decode("utf-8-sig")
        else:
            with open(path, encoding="utf-8-sig", newline="") as source:
                text = source.read()
    except OSError as error:
        raise click.ClickException(f"cannot read {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise click.ClickException(f"cannot read {path}: it is not UTF-8 text") from None
    try:
        return read_json(text) if file_format == "json" else read_csv(text)
    except FileError as error:
        raise click.ClickException(f"nothing was imported: {path} {error}") from None


@tasks.command("import", short_help="Add tasks from a JSON or CSV file: all, or none.")
@user_option
@click.argument("file", metavar="FILE")
@format_option
@click.option("--json", "as_json", is_flag=True, help='Print {"imported": N} instead of text.')
@click.pass_context
def import_tasks(
    ctx: click.Context, user: str, file: str, file_format: str | None, as_json: bool
) -> None:
    """Add the tasks of a JSON or CSV FILE, as `export` writes them.

    FILE '-' reads standard input (JSON, unless --format says csv).

    Every row is checked with the API's rules first; one bad row and nothing at all
    is imported (the error names its row and line). Only title is required. id,
    created_at, updated_at, completed_at and version are kept when given, so an
    export imports back unchanged; an id the user already has is an error. A user_id
    column is ignored: every task goes to --user. The user's task limit
    (MAX_TASKS_PER_USER) counts the whole file.
    """
    chosen = _format_of(file, file_format)
    task_file = _read_task_file(file, chosen)
    command = ImportTasksCommand(owner=user, rows=task_file.rows)

    async def work(container: Container) -> int:
        try:
            with progress(len(command.rows), "Importing") as advance:
                count: int = await container.import_tasks()(command, advance)
        except InvalidImportRow as error:
            line = task_file.lines[error.row - 1]
            raise click.ClickException(
                f"nothing was imported: {file} row {error.row} (line {line}): {error.detail}"
            ) from None
        except ImportExceedsLimit as error:
            raise click.ClickException(f"nothing was imported: {error.message}") from None
        return count

    imported = run(container_for(ctx), work)
    if as_json:
        click.echo(to_json({"imported": imported}))
    else:
        click.echo(f"Imported {_tasks(imported)} for {user}.")


__all__ = ["tasks"]


def _change_line(tokened: TokenedChange, as_json: bool) -> str:
    change = tokened.change
    if as_json:
        task = None if change.task is None else task_to_dict(change.task)
        return json.dumps(
            {
                "token": tokened.token,
                "type": change.type.value,
                "task_id": str(change.task_id),
                "version": change.version,
                "at": format_timestamp(change.at),
                "task": task,
            },
            ensure_ascii=False,
        )
    title = "" if change.task is None else change.task.title
    return (
        f"{format_timestamp(change.at)}  {change.type.value:<13}  {change.task_id}  "
        f"v{change.version:<4} {title}"
    )


@tasks.command(short_help="Print a user's changes after a token; --follow streams them.")
@user_option
@click.option("--since", metavar="TOKEN", help="Start after this token [default: from now].")
@click.option(
    "--limit", type=int, default=DEFAULT_CHANGES_PAGE, show_default=True, help="At most, 1 to 1000."
)
@click.option("--follow", "-f", is_flag=True, help="Keep printing changes as they commit.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line, with its token.")
@click.pass_context
def changes(
    ctx: click.Context, user: str, since: str | None, limit: int, follow: bool, as_json: bool
) -> None:
    """Print the changes to a user's tasks after --since (oldest first), then the token to
    continue from (on stderr). With --follow, print them live until interrupted; each JSON
    line's token resumes after it."""

    async def once(container: Container) -> ChangePage:
        page: ChangePage = await container.read_changes()(ChangesQuery(user, since, limit))
        return page

    async def live(container: Container) -> None:
        pages = await container.follow_changes()(user, since)
        async for page in pages:
            for tokened in page.changes if page is not None else ():
                click.echo(_change_line(tokened, as_json))
            sys.stdout.flush()

    if follow:
        with contextlib.suppress(KeyboardInterrupt):
            run(container_for(ctx), live)
        return
    page = run(container_for(ctx), once)
    for tokened in page.changes:
        click.echo(_change_line(tokened, as_json))
    if not page.changes and not as_json:
        click.echo("No changes.")
    more = " (more follow)" if page.has_more else ""
    click.echo(f"Continue with --since {page.next_token}{more}", err=True)
