"""For tests that run `taskapi serve` as a process: a free port, waiting until it answers, and
the two together (`serving`)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def serving(**settings: str) -> Iterator[str]:
    """`taskapi serve` on a free port of 127.0.0.1 with these settings (environment names);
    yields its base URL, and stops it with SIGTERM."""
    port = free_port()
    env = {**os.environ, "PORT": str(port), "ACCESS_LOG": "false", **settings}
    server = subprocess.Popen(
        [sys.executable, *SERVE],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(server, f"{base}/health")
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
