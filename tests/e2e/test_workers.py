"""`taskapi serve --workers 2`: metrics add up across the worker processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx

from tests.e2e.test_observability import _sample
from tests.serving import ROOT, SERVE, free_port, wait_until_answering


def test_metrics_add_up_across_workers() -> None:
    port = free_port()
    env = {**os.environ, "TASK_STORE": "memory", "PORT": str(port), "ACCESS_LOG": "false"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen(
        [sys.executable, *SERVE, "--workers", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_answering(server, f"{base}/health")
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
