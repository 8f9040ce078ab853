"""`taskapi serve` as a process: its log lines, and `taskapi --version`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import httpx
from click.testing import CliRunner

from entrypoints.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_version_prints_the_package_version() -> None:
    result = CliRunner().invoke(cli, ["--version"], prog_name="taskapi")

    assert result.exit_code == 0, result.output
    assert result.stdout == f"taskapi {version('taskapi')}\n"


def test_every_line_the_service_logs_is_json_with_json_logs() -> None:
    port = _free_port()
    env = {
        **os.environ,
        "TASK_STORE": "memory",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "info",
        "PORT": str(port),
        "ACCESS_LOG": "true",
    }
    for unset in ("PROMETHEUS_MULTIPROC_DIR", "CURSOR_SECRET"):
        env.pop(unset, None)
    # Two workers: uvicorn's parent process and its spawned workers each log.
    server = subprocess.Popen(
        [sys.executable, "-m", "entrypoints.cli.main", "serve", "--workers", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                pass
            assert server.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)

    lines = [line for line in stderr.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # fails on any line that is not JSON
    assert answer.status_code == 200
    assert all({"event", "level", "timestamp", "logger"} <= record.keys() for record in records)
    events = [(record["logger"], record["event"]) for record in records]
    assert any(e.startswith("Uvicorn running on") for _, e in events), events
    assert sum(e.startswith("Started server process") for _, e in events) == 2, events
    assert ("taskapi.access", "request") in events, events
    assert any(e.startswith("CURSOR_SECRET is not set") for _, e in events), events
