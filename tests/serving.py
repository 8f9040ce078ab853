"""For tests that run `taskapi serve` as a process: a free port, and waiting until it answers."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SERVE = ["-m", "entrypoints.cli.main", "serve"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_answering(
    server: subprocess.Popen[str] | subprocess.Popen[bytes],
    url: str,
    *,
    status: int | None = 200,
    timeout: float = 60,
) -> httpx.Response:
    """The first answer from `url` (with `status`, unless None), polled while the server
    runs; fails if it exits or does not answer in time."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            answer = httpx.get(url, timeout=1)
            if status is None or answer.status_code == status:
                return answer
        except httpx.TransportError:
            pass
        assert server.poll() is None, "the server exited"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.1)
