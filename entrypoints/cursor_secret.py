"""The key that signs list cursors: CURSOR_SECRET, else one generated and kept with the data.

Not in the core: where a secret comes from (the environment, a file beside the embedded
database) is the deployment's business; `application.cursor.CursorCodec` only takes the key.
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
from pathlib import Path
from typing import Final

from entrypoints.config import Settings

# Under TASKAPI_DATA_DIR, beside the embedded server's `postgres/` directory.
SECRET_FILE: Final = "cursor-secret"


def cursor_secret(settings: Settings) -> str:
    """CURSOR_SECRET when set. Else, on the embedded database, a secret generated once and
    kept in a file under the data directory (readable by its owner only), so that cursors
    outlive a restart as the tasks do; on any other store a random one for this process
    (see `cursor_secret_warning`)."""
    if settings.cursor_secret:
        return settings.cursor_secret
    if _embedded(settings):
        return _kept_secret(Path(settings.data_dir) / SECRET_FILE)
    return _process_secret()


def cursor_secret_warning(settings: Settings) -> str | None:
    """What to say at start when the cursors' key dies with the process; None when it does not."""
    if settings.cursor_secret or _embedded(settings):
        return None
    return (
        "CURSOR_SECRET is not set: list cursors are signed with a random key made for this "
        "process, so they stop working when it restarts, and another instance rejects them; "
        "set CURSOR_SECRET (the same value on every instance)"
    )


def _embedded(settings: Settings) -> bool:
    return settings.task_store == "postgres" and settings.database_url is None


@functools.cache
def _process_secret() -> str:
    """One per process, so every container a process builds signs alike."""
    return secrets.token_urlsafe(32)


def _kept_secret(path: Path) -> str:
    """The secret in `path`, made there first if missing. Processes starting together agree:
    each writes a candidate to a file of its own, and only one can link it into place."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        candidate = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as out:
                out.write(secrets.token_urlsafe(32) + "\n")
            with contextlib.suppress(FileExistsError):  # another process was first
                os.link(candidate, path)
        finally:
            candidate.unlink(missing_ok=True)
    secret = path.read_text().strip()
    if not secret:
        raise RuntimeError(f"{path} is empty; delete it to have a new cursor secret made")
    return secret
