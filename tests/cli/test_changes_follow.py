"""`taskapi tasks changes --follow`: a real process following a user's changes live while
another process writes them, on the session's PostgreSQL database."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading

import pytest

from tests.serving import ROOT

pytestmark = pytest.mark.postgres

CLI = [sys.executable, "-m", "entrypoints.cli.main", "tasks"]


def _env(database_url: str) -> dict[str, str]:
    # Both processes sign and check tokens with one key, as instances behind one balancer do.
    return {**os.environ, "DATABASE_URL": database_url, "CURSOR_SECRET": "follow-test"}


def _lines(stream: object, into: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.put(line)


def test_follow_prints_each_change_as_it_commits(database_url: str, owner: str) -> None:
    env = _env(database_url)
    head = subprocess.run(
        [*CLI, "changes", "--user", owner, "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    token = head.stderr.split("--since ", 1)[1].split()[0]
    follower = subprocess.Popen(
        [*CLI, "changes", "--user", owner, "--since", token, "--follow", "--json"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    printed: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_lines, args=(follower.stdout, printed), daemon=True).start()
    try:
        for title in ("first", "second"):
            subprocess.run(
                [*CLI, "add", "--user", owner, title, "--json"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                timeout=60,
                check=True,
            )
        changes = [json.loads(printed.get(timeout=30)) for _ in range(2)]
    finally:
        follower.terminate()
        follower.wait(timeout=30)

    assert [(c["type"], c["task"]["title"]) for c in changes] == [
        ("task.created", "first"),
        ("task.created", "second"),
    ]
    assert changes[0]["token"] != changes[1]["token"]
