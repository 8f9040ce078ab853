"""AUTH_MODE=jwt: every refusal the contract names, and the happy path, with tokens minted here."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from litestar.testing import AsyncTestClient

from entrypoints.config import Settings
from entrypoints.container import Container
from entrypoints.http.app import create_app

SECRET = "a-test-secret-of-at-least-32-bytes!!"
NOW = datetime.now(UTC)


def token(key: Any = SECRET, algorithm: str = "HS256", **claims: Any) -> str:
    payload = {"sub": "alice", "exp": NOW + timedelta(minutes=5), **claims}
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, key, algorithm=algorithm)


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


async def _client(**settings: Any) -> AsyncIterator[AsyncTestClient[Any]]:
    app = create_app(Container(settings=Settings(task_store="memory", auth_mode="jwt", **settings)))
    async with AsyncTestClient(app=app) as client:
        yield client


@pytest.fixture
async def hs256() -> AsyncIterator[AsyncTestClient[Any]]:
    async for client in _client(jwt_secret=SECRET, jwt_issuer="taskapi-tests", jwt_audience="web"):
        yield client


def good(**claims: Any) -> str:
    return token(**{"iss": "taskapi-tests", "aud": "web", **claims})


async def test_a_valid_token_for_the_path_user_is_let_in(hs256: AsyncTestClient[Any]) -> None:
    created = await hs256.post("/api/alice/tasks", json={"title": "mine"}, headers=bearer(good()))
    listed = await hs256.get("/api/alice/tasks", headers=bearer(good()))

    assert created.status_code == 201
    assert [t["title"] for t in listed.json()["data"]] == ["mine"]


@pytest.mark.parametrize(
    ("headers", "case"),
    [
        ({}, "missing"),
        ({"Authorization": "Basic YWxpY2U6cHc="}, "not bearer"),
        ({"Authorization": "Bearer "}, "empty"),
        (bearer("not.a.jwt"), "garbage"),
        (bearer(good(exp=NOW - timedelta(seconds=5))), "expired"),
        (bearer(good(nbf=NOW + timedelta(minutes=5))), "not yet valid"),
        (bearer(good(iss="someone-else")), "wrong issuer"),
        (bearer(token(aud="web")), "no issuer"),
        (bearer(good(aud="mobile")), "wrong audience"),
        (bearer(good(sub=None)), "no subject"),
        (bearer(good(exp=None)), "no expiry"),
        (
            bearer(
                token(key="another-secret-of-at-least-32-bytes", iss="taskapi-tests", aud="web")
            ),
            "bad signature",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
async def test_refused_tokens_are_401_with_a_bearer_challenge(
    hs256: AsyncTestClient[Any], headers: dict[str, str], case: str
) -> None:
    response = await hs256.get("/api/alice/tasks", headers=headers)

    assert response.status_code == 401, case
    assert response.json()["error"]["code"] == "UNAUTHORIZED"
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_alg_none_is_refused(hs256: AsyncTestClient[Any]) -> None:
    unsigned = jwt.encode(
        {"sub": "alice", "exp": NOW + timedelta(minutes=5), "iss": "taskapi-tests", "aud": "web"},
        None,
        algorithm="none",
    )

    response = await hs256.get("/api/alice/tasks", headers=bearer(unsigned))

    assert response.status_code == 401


async def test_another_users_token_is_403_and_changes_nothing(hs256: AsyncTestClient[Any]) -> None:
    await hs256.post("/api/alice/tasks", json={"title": "alice's"}, headers=bearer(good()))

    response = await hs256.post(
        "/api/alice/tasks", json={"title": "mallory's"}, headers=bearer(good(sub="mallory"))
    )
    listed = await hs256.get("/api/alice/tasks", headers=bearer(good()))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"
    assert [t["title"] for t in listed.json()["data"]] == ["alice's"]


async def test_operations_routes_and_preflight_need_no_token(hs256: AsyncTestClient[Any]) -> None:
    preflight = await hs256.options(
        "/api/alice/tasks",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )

    for path in ("/health", "/ready", "/openapi.json", "/docs"):
        assert (await hs256.get(path)).status_code == 200, path
    assert preflight.status_code in (200, 204)
    assert preflight.headers["access-control-allow-origin"] == "http://localhost:3000"


async def test_a_preflight_for_tracing_headers_is_allowed(hs256: AsyncTestClient[Any]) -> None:
    """OpenTelemetry and Sentry add these to every fetch; a refused preflight fails it."""
    asked = "authorization,traceparent,tracestate,baggage,sentry-trace"

    preflight = await hs256.options(
        "/api/alice/tasks",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": asked,
        },
    )

    assert preflight.status_code in (200, 204), preflight.text
    allowed = {
        h.strip().lower() for h in preflight.headers["access-control-allow-headers"].split(",")
    }
    assert set(asked.split(",")) <= allowed


async def test_a_preflight_for_an_unknown_header_is_refused(hs256: AsyncTestClient[Any]) -> None:
    preflight = await hs256.options(
        "/api/alice/tasks",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-something-else",
        },
    )

    assert preflight.status_code == 400


@pytest.fixture(params=["RS256", "ES256"])
def key_pair(request: pytest.FixtureRequest) -> tuple[str, Any, str]:
    private: Any = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if request.param == "RS256"
        else ec.generate_private_key(ec.SECP256R1())
    )
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return request.param, private, public_pem


async def test_public_key_mode_takes_its_algorithm_and_refuses_hs256_confusion(
    key_pair: tuple[str, Any, str],
) -> None:
    algorithm, private, public_pem = key_pair
    signed = token(private, algorithm)
    # The classic confusion attack: an HS256 token whose HMAC key is the public key's text.
    confused = _hs256_with_raw_key(public_pem.encode())

    async for client in _client(jwt_public_key=public_pem):
        accepted = await client.get("/api/alice/tasks", headers=bearer(signed))
        refused = await client.get("/api/alice/tasks", headers=bearer(confused))

    assert accepted.status_code == 200
    assert refused.status_code == 401


def _hs256_with_raw_key(key: bytes) -> str:
    """PyJWT will not sign HS256 with a PEM key, so build the token by hand."""

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"sub": "alice", "exp": int((NOW + timedelta(minutes=5)).timestamp())}
    body = b64(json.dumps(claims).encode())
    signature = hmac.new(key, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{b64(signature)}"


@pytest.mark.parametrize("route", ["tags", "changes", "events", "tasks/stats"])
async def test_every_users_route_needs_that_users_token(
    hs256: AsyncTestClient[Any], route: str
) -> None:
    missing = await hs256.get(f"/api/alice/{route}")
    stranger = await hs256.get(f"/api/alice/{route}", headers=bearer(good(sub="bob")))

    assert missing.status_code == 401, missing.text
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert missing.json()["error"]["code"] == "UNAUTHORIZED"
    assert stranger.status_code == 403, stranger.text
    assert stranger.json()["error"]["code"] == "FORBIDDEN"
