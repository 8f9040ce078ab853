"""docs/mcp.md's snippets are files run here: the stdio config starts `taskapi mcp` (the SDK's
stdio client, on the session's database), the HTTP config and the agent loop reach a real
`taskapi serve`; and every snippet in the guide is in its file, word for word."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client

from tests.mcp.conftest import SECRET, Served
from tests.mcp.helpers import call, fail, token
from tests.serving import ROOT, SERVE, free_port, wait_until_answering

EXAMPLES = ROOT / "examples" / "mcp"
GUIDE = ROOT / "docs" / "mcp.md"
SNIPPET = re.compile(r"<!-- snippet: (?P<path>\S+) -->\n```\w*\n(?P<text>.*?)```", re.DOTALL)


def _config(name: str) -> dict[str, Any]:
    server: dict[str, Any] = json.loads((EXAMPLES / name).read_text())["mcpServers"]["taskapi"]
    return server


def test_every_snippet_of_the_guide_is_in_its_file() -> None:
    snippets = list(SNIPPET.finditer(GUIDE.read_text()))

    assert {match["path"] for match in snippets} == {
        "examples/mcp/stdio.json",
        "examples/mcp/http.json",
        "examples/mcp/agent_loop.py",
    }
    for match in snippets:
        assert match["text"] in (ROOT / match["path"]).read_text(), match["path"]


async def test_the_stdio_config_serves_the_tools(
    database_url: str, served: Served, owner: str, tmp_path: Path
) -> None:
    config = _config("stdio.json")
    command = Path(sys.executable).parent / config["command"]  # the installed `taskapi`
    environment = {**config["env"], "DATABASE_URL": database_url, "LOG_FORMAT": "json"}
    environment["TASKAPI_DATA_DIR"] = str(tmp_path)
    parameters = StdioServerParameters(
        command=str(command), args=config["args"], env=environment, cwd=ROOT
    )
    with (tmp_path / "stderr").open("w") as errors:
        async with (
            stdio_client(parameters, errlog=errors) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            tools = (await session.list_tools()).tools
            task = await call(session, "add_task", user_id=owner, title="from stdio")
            listed = await call(session, "list_tasks", user_id=owner)
            malformed = await fail(session, "get_task", user_id=owner, task_id=str(task["id"])[:8])
            anonymous = await fail(session, "task_stats")

    shown = await served.rest.get(f"/api/{owner}/tasks/{task['id']}")
    assert all("user_id" in tool.input_schema["required"] for tool in tools)
    assert shown.json()["data"] == task
    assert listed["tasks"] == [task]
    assert malformed["details"][0]["field"] == "task_id"
    assert anonymous["details"] == [{"field": "user_id", "message": "is required"}]
    log = (tmp_path / "stderr").read_text()
    assert log.count('"event":"tool_call"') == 4
    assert '"transport":"stdio"' in log


@pytest.fixture(scope="module")
def served_process(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`taskapi serve` in JWT mode on the session's database: its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "AUTH_MODE": "jwt",
        "JWT_SECRET": SECRET,
        "LOG_FORMAT": "json",
        "TASKAPI_DATA_DIR": str(tmp_path_factory.mktemp("served")),
    }
    for unset in ("PROMETHEUS_MULTIPROC_DIR", "CURSOR_SECRET", "JWT_PUBLIC_KEY"):
        env.pop(unset, None)
    server = subprocess.Popen(
        [sys.executable, *SERVE],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_answering(server, f"http://127.0.0.1:{port}/ready")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def test_the_agent_loop_runs_against_the_http_config(served_process: str, owner: str) -> None:
    config = _config("http.json")
    assert config["type"] == "http"
    assert config["headers"]["Authorization"].startswith("Bearer ")
    url = config["url"].replace("http://127.0.0.1:8000", served_process)
    env = {**os.environ, "TASKAPI_MCP_URL": url, "TASKAPI_TOKEN": token(owner)}

    ran = subprocess.run(
        [sys.executable, str(EXAMPLES / "agent_loop.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("Overdue: nothing. Added 'Call mom' due ")
    task_id = re.search(r"\(id ([0-9a-f-]{36})\)", ran.stdout)
    assert task_id is not None
    shown = httpx.get(
        f"{served_process}/api/{owner}/tasks/{task_id[1]}",
        headers={"Authorization": f"Bearer {token(owner)}"},
    )
    assert shown.json()["data"]["priority"] == "high"
