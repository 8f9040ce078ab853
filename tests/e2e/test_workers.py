"""`taskapi serve --workers 2`: metrics add up across the worker processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.e2e.test_observability import _sample

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_metrics_add_up_across_workers() -> None:
    port = _free_port()
    env = {**os.environ, "TASK_STORE": "memory", "PORT": str(port), "ACCESS_LOG": "false"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "entrypoints.cli.main", "serve", "--workers", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        # New connections each time, so the kernel spreads them over both workers.
        for _ in range(40):
            httpx.get(f"{base}/api/worker-test/tasks/stats", timeout=5)
        labels = {"route": "/api/{user_id}/tasks/stats", "method": "GET", "status": "200"}
        totals = {
            _sample(
                httpx.get(f"{base}/metrics", timeout=5).text,
                "taskapi_http_requests_total",
                **labels,
            )
            for _ in range(6)
        }
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    assert totals == {40.0}, totals
