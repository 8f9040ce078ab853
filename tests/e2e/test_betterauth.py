"""The real thing: a Better Auth server (Node, tests/betterauth/) issues the tokens, and
`taskapi serve` in JWT mode verifies them through Better Auth's own JWKS, key rotation
included. Skipped where Node or tests/betterauth/node_modules is missing (`.ci/run` runs
`npm ci` there)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.serving import ROOT, SERVE, free_port, wait_until_answering

BETTER_AUTH = ROOT / "tests" / "betterauth"
PASSWORD = "correct horse battery staple"

pytestmark = [
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
    pytest.mark.skipif(
        not (BETTER_AUTH / "node_modules" / "better-auth").is_dir(),
        reason="better-auth is not installed: run `npm ci` in tests/betterauth",
    ),
]


@dataclass
class Servers:
    better_auth: str  # its base URL: the tokens' issuer and audience
    taskapi: str


@contextmanager
def _process(command: list[str], cwd: Path, env: dict[str, str], log: Path) -> Iterator[Any]:
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=output, stderr=output)
        try:
            yield process
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def better_auth_and_taskapi(logs: Path, rotation_seconds: int = 0) -> Iterator[Servers]:
    """Better Auth on one port, taskapi on another, configured as docs/nextjs.md says:
    JWT_JWKS_URL its /api/auth/jwks, JWT_ISSUER and JWT_AUDIENCE its base URL."""
    auth_port, api_port = free_port(), free_port()
    auth_url = f"http://127.0.0.1:{auth_port}"
    auth_env = {**os.environ, "PORT": str(auth_port), "ROTATION_SECONDS": str(rotation_seconds)}
    api_env = {k: v for k, v in os.environ.items() if k not in ("JWT_SECRET", "JWT_PUBLIC_KEY")} | {
        "TASK_STORE": "memory",
        "PORT": str(api_port),
        "ACCESS_LOG": "false",
        "AUTH_MODE": "jwt",
        "JWT_JWKS_URL": f"{auth_url}/api/auth/jwks",
        "JWT_ISSUER": auth_url,
        "JWT_AUDIENCE": auth_url,
    }
    with _process(["node", "server.mjs"], BETTER_AUTH, auth_env, logs / "better-auth.log") as auth:
        wait_until_answering(auth, f"{auth_url}/api/auth/ok")
        with _process([sys.executable, *SERVE], ROOT, api_env, logs / "taskapi.log") as api:
            wait_until_answering(api, f"http://127.0.0.1:{api_port}/health")
            yield Servers(auth_url, f"http://127.0.0.1:{api_port}")


def sign_up(servers: Servers, name: str) -> httpx.Client:
    """A browser-like session for a new user: Better Auth's session cookie set."""
    session = httpx.Client(base_url=servers.better_auth, timeout=10)
    response = session.post(
        "/api/auth/sign-up/email",
        json={"email": f"{name.lower()}@example.com", "password": PASSWORD, "name": name},
    )
    assert response.status_code == 200, response.text
    return session


def jwt_of(session: httpx.Client) -> str:
    """What `authClient.token()` returns in the browser."""
    response = session.get("/api/auth/token")
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def decoded(token: str, part: int) -> dict[str, Any]:
    segment = token.split(".")[part]
    return dict(json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    with better_auth_and_taskapi(tmp_path_factory.mktemp("better-auth")) as running:
        yield running


def test_better_auth_tokens_have_the_shape_taskapi_expects(servers: Servers) -> None:
    session = sign_up(servers, "Ada")
    user = session.get("/api/auth/get-session").json()["user"]
    token = jwt_of(session)
    header, claims = decoded(token, 0), decoded(token, 1)
    keys = httpx.get(f"{servers.better_auth}/api/auth/jwks").json()["keys"]

    assert header == {"alg": "EdDSA", "kid": header["kid"]}
    assert {k["kid"]: k for k in keys}[header["kid"]] == {
        "kty": "OKP",
        "crv": "Ed25519",
        "alg": "EdDSA",
        "kid": header["kid"],
        "x": {k["kid"]: k for k in keys}[header["kid"]]["x"],
    }
    assert claims["sub"] == user["id"]
    assert claims["iss"] == claims["aud"] == servers.better_auth
    assert claims["exp"] - claims["iat"] == 900
    assert {claims["name"], claims["email"]} == {"Ada", "ada@example.com"}


def test_a_better_auth_user_creates_and_reads_their_tasks(servers: Servers) -> None:
    session = sign_up(servers, "Grace")
    user_id = session.get("/api/auth/get-session").json()["user"]["id"]
    token = jwt_of(session)

    with httpx.Client(base_url=servers.taskapi, timeout=10, headers=bearer(token)) as api:
        created = api.post(f"/api/{user_id}/tasks", json={"title": "Ship the Next.js app"})
        fetched = api.get(created.headers["location"])
        listed = api.get(f"/api/{user_id}/tasks")

    assert created.status_code == 201, created.text
    assert fetched.status_code == 200
    assert fetched.json()["data"]["title"] == "Ship the Next.js app"
    assert [t["title"] for t in listed.json()["data"]] == ["Ship the Next.js app"]


def test_a_better_auth_token_is_forbidden_on_another_users_path(servers: Servers) -> None:
    alice, mallory = sign_up(servers, "Alice"), sign_up(servers, "Mallory")
    alice_id = alice.get("/api/auth/get-session").json()["user"]["id"]
    with httpx.Client(base_url=servers.taskapi, timeout=10) as api:
        api.post(f"/api/{alice_id}/tasks", json={"title": "private"}, headers=bearer(jwt_of(alice)))
        foreign_read = api.get(f"/api/{alice_id}/tasks", headers=bearer(jwt_of(mallory)))
        foreign_write = api.post(
            f"/api/{alice_id}/tasks", json={"title": "x"}, headers=bearer(jwt_of(mallory))
        )
        anonymous = api.get(f"/api/{alice_id}/tasks")
        # Better Auth's session token is not a JWT: refused, not mistaken for one.
        session_token = alice.cookies.get("better-auth.session_token", "").split(".")[0]
        not_a_jwt = api.get(f"/api/{alice_id}/tasks", headers=bearer(session_token or "x"))

    assert foreign_read.status_code == 403
    assert foreign_read.json()["error"]["code"] == "FORBIDDEN"
    assert foreign_write.status_code == 403
    assert anonymous.status_code == 401
    assert not_a_jwt.status_code == 401


def _poll(attempt: Any, done: Any, what: str, seconds: float = 60) -> Any:
    """Repeat `attempt` until `done(result)`; fails after `seconds` (a bound, not a speed)."""
    deadline = time.monotonic() + seconds
    while True:
        result = attempt()
        if done(result):
            return result
        assert time.monotonic() < deadline, f"{what} did not happen"
        time.sleep(0.25)


def test_a_rotated_better_auth_key_is_accepted(tmp_path: Path) -> None:
    """Better Auth rotates lazily: the first token asked for after rotationInterval is
    signed with a new key. taskapi fetches the set again for the unknown kid (at most once
    every 10 s, so a token may be refused with a 401 until then; never a 5xx)."""
    with better_auth_and_taskapi(tmp_path, rotation_seconds=2) as servers:
        session = sign_up(servers, "Rotating")
        user_id = session.get("/api/auth/get-session").json()["user"]["id"]
        url = f"{servers.taskapi}/api/{user_id}/tasks"
        statuses: list[int] = []

        def call(token: str) -> int:
            status = httpx.get(url, headers=bearer(token), timeout=10).status_code
            statuses.append(status)
            return status

        first = jwt_of(session)
        _poll(lambda: call(first), lambda status: status == 200, "the first token accepted")
        rotated = _poll(
            lambda: jwt_of(session),
            lambda token: decoded(token, 0)["kid"] != decoded(first, 0)["kid"],
            "a rotation",
        )
        _poll(lambda: call(rotated), lambda status: status == 200, "the rotated key accepted")
        old_still = call(first)  # Better Auth keeps a rotated key in its set for a grace period
        kids = {k["kid"] for k in httpx.get(f"{servers.better_auth}/api/auth/jwks").json()["keys"]}

    assert old_still == 200
    assert {decoded(first, 0)["kid"], decoded(rotated, 0)["kid"]} <= kids
    assert set(statuses) <= {200, 401}
