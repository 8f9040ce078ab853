"""The TypeScript client (clients/typescript) against live services: its Node test run with the
services' URLs in the environment."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from tests.serving import ROOT, serving

CLIENT = ROOT / "clients" / "typescript"
SECRET = "a-typescript-test-secret-of-32-bytes"


def _missing() -> str | None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node and npm are not installed (the TypeScript client's test needs them)"
    if not (CLIENT / "node_modules").is_dir():
        return "clients/typescript has no node_modules: run `npm ci` there (.ci/run does)"
    return None


@pytest.mark.skipif(_missing() is not None, reason=str(_missing()))
def test_the_typescript_client_against_a_live_service() -> None:
    jwt = {"AUTH_MODE": "jwt", "JWT_SECRET": SECRET, "TASK_STORE": "memory"}
    with serving(**jwt) as base, serving(**jwt, RATE_LIMIT="2") as limited:
        run = subprocess.run(
            ["npm", "test", "--silent"],
            cwd=CLIENT,
            env={
                **os.environ,
                "TASKAPI_URL": base,
                "TASKAPI_LIMITED_URL": limited,
                "TASKAPI_JWT_SECRET": SECRET,
            },
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    assert run.returncode == 0, run.stdout + run.stderr
    # Every test ran: none skipped for want of a URL (a skipped suite says "# SKIP").
    assert "# SKIP" not in run.stdout, run.stdout
    passed = re.search(r"^# pass (\d+)$", run.stdout, re.MULTILINE)
    assert passed, run.stdout
    assert int(passed[1]) >= 8, run.stdout
    assert "# fail 0" in run.stdout, run.stdout
