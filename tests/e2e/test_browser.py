"""A real browser on another origin: headless Chromium runs a page from http://localhost:3000
whose script calls `taskapi serve` (JWT mode, on 127.0.0.1) with fetch, so CORS is decided by
the browser itself, preflights and header exposure included. A page on an origin that
CORS_ORIGINS does not name is blocked."""

from __future__ import annotations

import http.server
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from tests import webdriver
from tests.serving import serving

pytestmark = pytest.mark.skipif(webdriver.missing() is not None, reason=str(webdriver.missing()))

SECRET = "a-browser-test-secret-of-32-bytes!!"
FRONTEND = "http://localhost:3000"
PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>taskapi from another origin</title>
<script src="/page.js"></script></head>
<body><pre id="results"></pre></body></html>
"""
SCRIPT = (Path(__file__).parent / "browser_page.js").read_bytes()


def _token(user: str) -> str:
    return jwt.encode(
        {"sub": user, "exp": datetime.now(UTC) + timedelta(minutes=15)}, SECRET, algorithm="HS256"
    )


class _Frontend(http.server.BaseHTTPRequestHandler):
    """The frontend's static files: the page and its script, and nothing else."""

    def do_GET(self) -> None:
        files = {"/": (PAGE, "text/html"), "/page.js": (SCRIPT, "text/javascript")}
        body, content_type = files.get(self.path, (b"", ""))
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", content_type or "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def frontend_port() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Frontend)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def api() -> Iterator[str]:
    with serving(
        AUTH_MODE="jwt", JWT_SECRET=SECRET, CORS_ORIGINS=FRONTEND, TASK_STORE="memory"
    ) as base:
        yield base


@pytest.fixture(scope="module")
def browser(frontend_port: int) -> Iterator[webdriver.Browser]:
    # http://localhost:3000 is the frontend's origin whatever listens on port 3000 here.
    with webdriver.chromium(host_rules=f"MAP localhost:3000 127.0.0.1:{frontend_port}") as browser:
        yield browser


@pytest.fixture
def user() -> str:
    return f"browser-{uuid.uuid4().hex[:8]}"


def test_a_page_on_an_allowed_origin_reads_every_header_it_needs(
    browser: webdriver.Browser, api: str, user: str
) -> None:
    browser.open(f"{FRONTEND}/")
    read = browser.run("scenario", api, _token(user), user)

    assert "thrown" not in read, read["thrown"]
    created = read["create"]
    location = f"/api/{user}/tasks/{created['id']}"
    assert created == {
        "status": 201,
        "id": created["id"],
        "ETag": '"1"',
        "Location": location,
        "X-Request-ID": "browser-1",
        "Idempotent-Replayed": None,
    }
    assert read["replay"] == {**created, "Idempotent-Replayed": "true"}
    stale = read["stalePatch"]
    assert stale["status"] == 412
    assert stale["code"] == "PRECONDITION_FAILED"
    assert stale["ETag"] == '"1"'  # the current one, to reload and retry with
    assert stale["X-Request-ID"]
    assert stale["X-Request-ID"] == stale["requestId"]
    assert read["freshPatch"] == {"status": 200, "title": "A fresh edit", "ETag": '"2"'}
    first, second = read["firstPage"], read["secondPage"]
    assert first["status"] == 200
    assert first["titles"] == ["Second"]
    assert first["nextCursor"]
    assert first["Link"] is not None
    assert first["Link"].endswith('; rel="next"')
    assert f"cursor={first['nextCursor']}" in first["Link"]
    assert second == {
        "status": 200,
        "titles": ["A fresh edit"],
        "nextCursor": None,
        "Link": None,
    }
    assert read["delete"] == {"status": 200, "id": created["id"]}
    traced = read["traced"]
    assert traced["status"] == 200
    assert traced["count"] == 1
    assert traced["X-Request-ID"]
    unauthorized = read["unauthorized"]
    assert unauthorized["status"] == 401
    assert unauthorized["code"] == "UNAUTHORIZED"
    assert unauthorized["X-Request-ID"]
    # Not in the contract's exposed list: the browser hides it from the page.
    assert unauthorized["WWW-Authenticate"] is None


def test_a_page_on_another_origin_is_blocked_by_the_browser(
    browser: webdriver.Browser, api: str, user: str, frontend_port: int
) -> None:
    browser.open(f"http://127.0.0.1:{frontend_port}/")  # the same page, an origin not allowed
    read = browser.run("blocked", api, _token(user), user)

    assert read == {
        "simple": {"rejected": "TypeError"},
        "preflighted": {"rejected": "TypeError"},
        "create": {"rejected": "TypeError"},
    }
    listed = httpx.get(
        f"{api}/api/{user}/tasks", headers={"Authorization": f"Bearer {_token(user)}"}
    )
    assert listed.json()["data"] == []  # the refused preflight kept the POST from being sent
