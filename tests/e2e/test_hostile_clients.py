"""What a stranger can send a deployed taskapi: none of it is a 500, locks a user out, or
comes back (or reaches the log) unbounded. Slow and oversized connections: test_slow_clients."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, redirect_stderr
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from litestar.testing import AsyncTestClient

from entrypoints.config import Settings
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.logs import access_logger
from tests.e2e.helpers import (
    JSON,
    Client,
    assert_error,
    complete_url,
    create_task,
    list_tasks,
    task_url,
    tasks_url,
)

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
ED_KEY = ed25519.Ed25519PrivateKey.generate()
SECRET = "a-test-secret-of-at-least-32-bytes!!"


def public_pem(private_key: Any) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def signed(key: Any, algorithm: str, sub: str = "alice") -> dict[str, str]:
    claims = {"sub": sub, "exp": datetime.now(UTC) + timedelta(minutes=5)}
    return {"Authorization": f"Bearer {jwt.encode(claims, key, algorithm=algorithm)}"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_signed_with(secret: bytes) -> dict[str, str]:
    """HS256 with any bytes as the secret (PyJWT refuses to sign with a PEM key)."""
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"sub": "alice", "exp": int(datetime.now(UTC).timestamp()) + 300}
    payload = b64(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return {"Authorization": f"Bearer {header}.{payload}.{b64(signature)}"}


@asynccontextmanager
async def jwt_client(**settings: Any) -> AsyncIterator[Client]:
    app = create_app(Container(settings=Settings(task_store="memory", auth_mode="jwt", **settings)))
    async with AsyncTestClient(app=app) as client:
        yield client


# 1. A token signed for another kind of key is a 401, never PyJWT's InvalidKeyError.

KEY_MODES = {
    "rsa": (RSA_KEY, "RS256"),
    "ec": (EC_KEY, "ES256"),
    "ed25519": (ED_KEY, "EdDSA"),
}


@pytest.mark.parametrize("mode", KEY_MODES)
@pytest.mark.parametrize("signer", KEY_MODES)
async def test_a_token_of_another_key_type_is_401(mode: str, signer: str) -> None:
    key, algorithm = KEY_MODES[mode]
    other_key, other_algorithm = KEY_MODES[signer]
    async with jwt_client(jwt_public_key=public_pem(key)) as client:
        own = await client.get(tasks_url("alice"), headers=signed(key, algorithm))
        foreign = await client.get(tasks_url("alice"), headers=signed(other_key, other_algorithm))
        hmac_with_the_public_key = await client.get(
            tasks_url("alice"), headers=hs256_signed_with(public_pem(key).encode())
        )

    assert own.status_code == 200
    if signer != mode:
        assert_error(foreign, 401, "UNAUTHORIZED")
    assert_error(hmac_with_the_public_key, 401, "UNAUTHORIZED")


def test_a_public_key_that_cannot_verify_tokens_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="JWT_PUBLIC_KEY"):
        create_app(
            Container(
                settings=Settings(task_store="memory", auth_mode="jwt", jwt_public_key="not a key")
            )
        )


# 2. Only the owner's authenticated requests spend the owner's budget.


async def test_strangers_cannot_spend_the_owners_rate_limit() -> None:
    owner = signed(SECRET, "HS256", sub="victim")
    intruder = signed(SECRET, "HS256", sub="mallory")
    forged = signed("another-secret-of-at-least-32-bytes!", "HS256", sub="victim")
    async with jwt_client(jwt_secret=SECRET, rate_limit=3) as client:
        url = tasks_url("victim")
        refusals = [
            (await client.get(url, headers=headers)).status_code
            for headers in [{}, intruder, forged, {"Authorization": "Bearer x"}] * 20
        ]
        writes = [
            (await client.post(url, json={"title": "x"}, headers=headers)).status_code
            for headers in [{}, intruder, forged] * 5
        ]
        owners = [(await client.get(url, headers=owner)).status_code for _ in range(4)]
        intruder_own = (await client.get(tasks_url("mallory"), headers=intruder)).status_code

    assert set(refusals) == {401, 403}
    assert set(writes) == {401, 403}
    assert owners == [200, 200, 200, 429]  # the owner's own budget, and only theirs
    assert intruder_own == 200  # the 403s did not spend the intruder's budget either


async def test_without_auth_the_path_user_is_who_spends_the_budget() -> None:
    app = create_app(Container(settings=Settings(task_store="memory", rate_limit=2)))
    async with AsyncTestClient(app=app) as client:
        statuses = [(await client.get(tasks_url("carol"))).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


# 3. Any depth of nesting is a 400 or a 422.

DEPTHS = [10, 973, 974, 975, 976, 1_500, 8_000]  # 8,000 dicts deep is 56 KB, under the 64 KiB cap


def nested_bodies(depth: int) -> list[str]:
    return [
        "[" * depth + "]" * depth,
        '{"title": ' + '{"a": ' * depth + "1" + "}" * depth + "}",
        '{"title": "t", "description": ' + "[" * depth + "]" * depth + "}",
        '{"completed": ' + "[" * depth + "]" * depth + "}",
        "[" * depth,  # not JSON at all
    ]


@pytest.mark.parametrize("depth", DEPTHS)
async def test_deeply_nested_bodies_are_refused_on_every_body_route(
    client: Client, owner: str, depth: int
) -> None:
    task = await create_task(client, owner)
    before = await list_tasks(client, owner)
    targets = [
        ("POST", tasks_url(owner)),
        ("PUT", task_url(owner, task["id"])),
        ("PATCH", task_url(owner, task["id"])),
        ("PATCH", complete_url(owner, task["id"])),
    ]
    for method, url in targets:
        for body in nested_bodies(depth):
            response = await client.request(method, url, content=body.encode(), headers=JSON)
            assert response.status_code in (400, 422), (method, url, depth, response.text[:200])
            assert_error(response, response.status_code, response.json()["error"]["code"])

    assert await list_tasks(client, owner) == before


# 5. Smaller holes.


async def test_a_flood_of_unknown_parameters_gets_a_bounded_answer(
    client: Client, owner: str
) -> None:
    query = "&".join(f"p{n}=1" for n in range(5_000))

    response = await client.get(f"{tasks_url(owner)}?{query}")

    error = assert_error(response, 422, "VALIDATION_ERROR", "p0")
    assert len(error["details"]) == 20
    assert "4999 more" in error["message"]
    assert len(response.content) < 4_000


async def test_an_encoded_slash_in_the_user_id_is_a_validation_error(
    client: Client, owner: str
) -> None:
    for url in (f"/api/{owner}%2Fx/tasks", f"/api/{owner}%2fx/tasks/stats"):
        response = await client.get(url)
        assert_error(response, 422, "VALIDATION_ERROR", "user_id")

    task = await create_task(client, owner)
    response = await client.get(f"/api/{owner}/tasks/{task['id']}%2Fx")
    assert_error(response, 422, "VALIDATION_ERROR", "task_id")


async def test_a_body_without_a_content_type_is_read_as_json(client: Client, owner: str) -> None:
    """Decided: only a declared type other than JSON is a 415. A missing one is not a
    cross-site risk (a browser cannot add the bearer token to a request without a preflight)
    and minimal clients omit it. docs/operations.md says so."""
    response = await client.post(tasks_url(owner), content=b'{"title": "untyped"}')

    assert response.status_code == 201, response.text


async def test_every_response_says_nosniff_and_varies_by_origin(client: Client, owner: str) -> None:
    responses = [
        await client.get(tasks_url(owner)),
        await client.get("/health"),
        await client.get("/no/such/route"),
        await client.post(tasks_url(owner), content=b"{", headers=JSON),
        await client.get(tasks_url(owner), headers={"Origin": "http://localhost:3000"}),
        await client.get(tasks_url(owner), headers={"Origin": "https://evil.example"}),
    ]

    for response in responses:
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "origin" in response.headers["vary"].lower()
    assert responses[4].headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "access-control-allow-origin" not in responses[5].headers


async def test_a_users_tasks_are_never_stored_by_a_cache(client: Client, owner: str) -> None:
    task = await create_task(client, owner)
    responses = [
        await client.get(tasks_url(owner)),
        await client.get(task_url(owner, task["id"])),
        await client.get(task_url(owner, task["id"]), headers={"If-None-Match": '"1"'}),
        await client.get(f"{tasks_url(owner)}/stats"),
        await client.get(task_url(owner, "not-a-uuid")),
    ]

    assert responses[2].status_code == 304
    for response in responses:
        assert response.headers["cache-control"] == "no-store"
    assert "cache-control" not in (await client.get("/health")).headers


async def test_metrics_name_their_charset_once(client: Client) -> None:
    content_type = (await client.get("/metrics")).headers["content-type"]

    assert content_type.count("charset") == 1, content_type
    assert content_type.startswith("text/plain")


def test_control_characters_reach_the_console_log_escaped() -> None:
    stderr = io.StringIO()
    with redirect_stderr(stderr):
        log = access_logger("console")
        log.info("request", path="/api/\x1b[2J\x07\x08x/tasks", method="GET")

    line = stderr.getvalue()
    assert not {"\x1b", "\x07", "\x08"} & set(line)
    assert "/api/\\u001b[2J\\u0007\\u0008x/tasks" in line
