"""`taskapi serve` as a process: its log lines, and `taskapi --version`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from importlib.metadata import version

from click.testing import CliRunner

from entrypoints.cli.main import cli
from tests.serving import ROOT, SERVE, free_port, wait_until_answering


def test_version_prints_the_package_version() -> None:
    result = CliRunner().invoke(cli, ["--version"], prog_name="taskapi")

    assert result.exit_code == 0, result.output
    assert result.stdout == f"taskapi {version('taskapi')}\n"


def test_every_line_the_service_logs_is_json_with_json_logs() -> None:
    port = free_port()
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
        [sys.executable, *SERVE, "--workers", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        answer = wait_until_answering(server, f"http://127.0.0.1:{port}/health", status=None)
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
