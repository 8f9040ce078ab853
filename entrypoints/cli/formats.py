"""How the CLI shows tasks (tables, JSON) and reads and writes task files (JSON, CSV)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, TextIO

from domain.task import SHOWN_FIELDS, SHOWN_NAMES, Task, TaskField, Wire
from entrypoints.timestamps import read_timestamp

FORMATS: Final = ("json", "csv")
TITLE_WIDTH: Final = 60
TAGS_WIDTH: Final = 30
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]+")
_DIGITS: Final = re.compile(r"[0-9]+")


class FileError(Exception):
    """A task file that cannot be read; `line` is where, when known."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason if line is None else f"line {line}: {reason}")
        self.reason = reason
        self.line = line


def format_timestamp(value: datetime) -> str:
    """As the API shows timestamps: UTC, `Z`, six fraction digits."""
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


# How each wire type is shown; a StrEnum's str() is its value. The others are JSON already.
_SHOWN: Final[dict[Wire, Callable[[Any], object]]] = {
    Wire.UUID: str,
    Wire.TIMESTAMP: format_timestamp,
    Wire.CHOICE: str,
    Wire.TAGS: list,
}
_SHOW: Final = tuple((f.name, _SHOWN.get(f.wire)) for f in SHOWN_FIELDS)


def task_to_dict(task: Task) -> dict[str, Any]:
    """A task as the API shows it, every field, in the API's order."""
    values: dict[str, Any] = {}
    for name, show in _SHOW:
        value = getattr(task, name)
        values[name] = value if show is None or value is None else show(value)
    return values


def to_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


# --- on the terminal ---------------------------------------------------------------------


def _short_time(value: datetime | None) -> str:
    return "-" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _one_line(text: str, width: int) -> str:
    text = _CONTROL.sub(" ", text)
    return text if len(text) <= width else text[: width - 1] + "…"


def render_table(tasks: Iterable[Task]) -> str:
    """One task a line: id, done, priority, due date, tags, title (shortened)."""
    header = ("ID", "DONE", "PRIORITY", "DUE", "TAGS", "TITLE")
    rows = [
        (
            str(t.id),
            "yes" if t.completed else "no",
            t.priority.value,
            _short_time(t.due_at),
            _one_line(",".join(t.tags), TAGS_WIDTH) or "-",
            _one_line(t.title, TITLE_WIDTH),
        )
        for t in tasks
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]])
        for row in [header, *rows]
    )


def render_task(task: Task) -> str:
    """Every field, one a line."""
    values = task_to_dict(task)
    values["completed"] = "yes" if task.completed else "no"
    width = max(len(name) for name in values)
    lines = []
    for name, value in values.items():
        shown = "-" if value is None else str(value)
        # A multi-line description stays readable: its lines are indented under the value.
        shown = shown.replace("\n", "\n" + " " * (width + 2))
        lines.append(f"{name.ljust(width)}  {shown}")
    return "\n".join(lines)


# --- task files ---------------------------------------------------------------------------


@dataclass
class TaskFile:
    """The rows of a task file, as JSON values, and the line each row starts on."""

    rows: list[dict[str, object]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index


def read_json(text: str) -> TaskFile:
    """A JSON array of task objects; each object's line is kept for error messages."""
    decoder = json.JSONDecoder()
    found = TaskFile()
    index = _skip_space(text, 0)
    if text[index : index + 1] != "[":
        raise FileError('must hold a JSON array of task objects, like [{"title": "..."}]', 1)
    index = _skip_space(text, index + 1)
    line, counted = 1, 0
    if text[index : index + 1] == "]":
        index += 1
    else:
        while True:
            line += text.count("\n", counted, index)
            counted = index
            try:
                value, index = decoder.raw_decode(text, index)
            except json.JSONDecodeError as error:
                raise FileError(f"not valid JSON: {error.msg}", error.lineno) from None
            if not isinstance(value, dict):
                raise FileError(f"row {len(found.rows) + 1}: must be a JSON object", line)
            found.rows.append({name: _json_value(name, v) for name, v in value.items()})
            found.lines.append(line)
            index = _skip_space(text, index)
            separator = text[index : index + 1]
            index = _skip_space(text, index + 1)
            if separator == "]":
                break
            if separator != ",":
                at = line + text.count("\n", counted, index)
                raise FileError("not valid JSON: expected ',' or ']' after an object", at)
    if _skip_space(text, index) != len(text):
        raise FileError("not valid JSON: extra data after the array")
    return found


_FIELDS: Final = {f.name: f for f in SHOWN_FIELDS}


def _json_value(name: str, value: object) -> object:
    """A JSON value as the import takes it: timestamps read by the API's parser."""
    field = _FIELDS.get(name)
    if field is not None and field.wire is Wire.TIMESTAMP and isinstance(value, str):
        return read_timestamp(value)
    return value


def _csv_cell(field: TaskField, cell: str) -> object:
    """A CSV cell as the value it stands for; anything unexpected is left as text, so the
    import's checks name it."""
    if cell == "":
        # A required text's empty cell is an empty text, which its own rule refuses.
        return "" if field.required and field.wire is Wire.TEXT else None
    match field.wire:
        case Wire.BOOLEAN if cell.strip().lower() in {"true", "false"}:
            return cell.strip().lower() == "true"
        case Wire.INTEGER if _DIGITS.fullmatch(cell.strip()):
            return int(cell)
        case Wire.TIMESTAMP:
            return read_timestamp(cell)
        case Wire.TAGS:  # no tag holds a comma
            return cell.split(",")
    return cell


def read_csv(text: str) -> TaskFile:
    """A header line naming the columns (any of the export's), then one task a line."""
    reader = csv.reader(io.StringIO(text, newline=""))
    found = TaskFile()
    try:
        header = next(reader, None)
        if header is None:
            return found
        names = [name.strip() for name in header]
        for name in names:
            if name not in SHOWN_NAMES:
                raise FileError(
                    f"unknown column {name!r} (known: {', '.join(SHOWN_NAMES)})", reader.line_num
                )
            if names.count(name) > 1:
                raise FileError(f"column {name!r} appears twice", reader.line_num)
        fields = [_FIELDS[name] for name in names]
        start = reader.line_num + 1
        for cells in reader:
            if cells:  # blank lines hold no task
                if len(cells) != len(names):
                    raise FileError(
                        f"row {len(found.rows) + 1}: has {len(cells)} cells, "
                        f"the header has {len(names)}",
                        start,
                    )
                found.rows.append(
                    {f.name: _csv_cell(f, cell) for f, cell in zip(fields, cells, strict=True)}
                )
                found.lines.append(start)
            start = reader.line_num + 1
    except csv.Error as error:
        raise FileError(f"not valid CSV: {error}", reader.line_num) from None
    return found


def _csv_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(value)
    return str(value)


class TaskWriter:
    """Writes tasks to a JSON array or a CSV file as they come, a page at a time."""

    def __init__(self, out: TextIO, file_format: str) -> None:
        self._out = out
        self._format = file_format
        self._first = True
        if file_format == "csv":
            self._csv = csv.writer(out, lineterminator="\n")
            self._csv.writerow(SHOWN_NAMES)
        else:
            out.write("[")

    def write(self, tasks: Iterable[Task]) -> None:
        for task in tasks:
            values = task_to_dict(task)
            if self._format == "csv":
                self._csv.writerow([_csv_value(values[name]) for name in SHOWN_NAMES])
            else:
                self._out.write("\n" if self._first else ",\n")
                self._out.write(json.dumps(values, ensure_ascii=False))
            self._first = False

    def close(self) -> None:
        if self._format == "json":
            self._out.write("]\n" if self._first else "\n]\n")
