"""AUTH_MODE=jwt with JWT_JWKS_URL, against a real key server on 127.0.0.1.

The HTTP tests run the whole app (its lifespan starts the verifier); the refresh rules are
also checked on the verifier itself, where concurrent callers really share one loop. Time
for the 10-second refresh window comes from a fake clock, never from the wall.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
import uvicorn
from dependency_injector import providers
from litestar.testing import AsyncTestClient

from entrypoints.config import ConfigError, Settings
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.http.auth import KeySetUnavailable, Unauthorized
from entrypoints.http.jwks import JwksVerifier
from tests.jwks_server import JwksServer, ed25519_key, p256_key, rsa_key
from tests.serving import free_port

BASE_URL = "http://localhost:3000"  # Better Auth's issuer and audience: the app's base URL


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def claims(sub: str = "alice", **extra: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    base = {
        "sub": sub,
        "iss": BASE_URL,
        "aud": BASE_URL,
        "iat": now,
        "exp": now + timedelta(minutes=15),
    }
    return {k: v for k, v in {**base, **extra}.items() if v is not None}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def server() -> Iterator[JwksServer]:
    jwks = JwksServer().start()
    yield jwks
    jwks.close()


@dataclass
class Harness:
    client: AsyncTestClient[Any]
    verifier: JwksVerifier
    clock: FakeClock

    async def get(self, token: str, user: str = "alice") -> Any:
        return await self.client.get(f"/api/{user}/tasks", headers=bearer(token))


@asynccontextmanager
async def served(url: str, **verifier_options: Any) -> AsyncIterator[Harness]:
    """The app in JWKS mode, its verifier on a fake clock."""
    settings = Settings(
        task_store="memory",
        auth_mode="jwt",
        jwt_jwks_url=url,
        jwt_issuer=BASE_URL,
        jwt_audience=BASE_URL,
        log_format="json",
    )
    container = Container(settings=settings)
    clock = FakeClock()
    verifier = JwksVerifier(
        url, issuer=BASE_URL, audience=BASE_URL, clock=clock, **verifier_options
    )
    container.token_verifier.override(providers.Object(verifier))
    async with AsyncTestClient(app=create_app(container)) as client:
        yield Harness(client, verifier, clock)


def assert_refused(response: Any, status: int = 401) -> None:
    assert response.status_code == status, response.text
    code = {401: "UNAUTHORIZED", 403: "FORBIDDEN", 503: "SERVICE_UNAVAILABLE"}[status]
    assert response.json()["error"]["code"] == code
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    if status == 503:
        assert int(response.headers["retry-after"]) >= 1


# Algorithms and key selection.

SIGNERS = {
    "EdDSA": lambda: ed25519_key("ed"),
    "ES256": lambda: p256_key("ec"),
    "RS256": lambda: rsa_key("rsa"),  # an RSA key without alg signs RS256 and PS256
    "PS256": lambda: rsa_key("rsa"),
}


@pytest.mark.parametrize("algorithm", SIGNERS)
async def test_each_algorithm_of_the_key_set_is_accepted(
    server: JwksServer, algorithm: str
) -> None:
    key = SIGNERS[algorithm]()
    server.publish(ed25519_key("other-ed"), p256_key("other-ec"), key)

    async with served(server.url) as app:
        own = await app.get(key.sign(claims(), algorithm))
        created = await app.client.post(
            "/api/alice/tasks", json={"title": "x"}, headers=bearer(key.sign(claims(), algorithm))
        )
        other_user = await app.get(key.sign(claims(sub="mallory"), algorithm))

    assert own.status_code == 200
    assert created.status_code == 201
    assert_refused(other_user, 403)


async def test_a_keys_alg_restricts_it_to_that_algorithm(server: JwksServer) -> None:
    key = rsa_key("rsa", alg="RS256")
    server.publish(key)

    async with served(server.url) as app:
        rs256 = await app.get(key.sign(claims(), "RS256"))
        ps256 = await app.get(key.sign(claims(), "PS256"))

    assert rs256.status_code == 200
    assert_refused(ps256)


async def test_a_key_whose_alg_contradicts_its_type_is_ignored(
    server: JwksServer, caplog: pytest.LogCaptureFixture
) -> None:
    lying = p256_key("ec", alg="EdDSA")
    server.publish(lying, ed25519_key("ed"))
    verifier = JwksVerifier(server.url, clock=FakeClock())

    with caplog.at_level(logging.WARNING, logger="taskapi.jwks"):
        await verifier.refresh()
    await verifier.stop()

    assert [key.kid for key in verifier.keys.keys] == ["ed"]
    assert "does not fit a EC key" in caplog.text


async def test_a_token_without_kid_uses_the_only_key_of_its_algorithm(server: JwksServer) -> None:
    ed, ec_one, ec_two = ed25519_key("ed"), p256_key("ec-1"), p256_key("ec-2")
    server.publish(ed, ec_one, ec_two)

    async with served(server.url) as app:
        the_only_eddsa_key = await app.get(ed.sign(claims(), "EdDSA", kid=None))
        two_es256_keys = await app.get(ec_one.sign(claims(), "ES256", kid=None))

    assert the_only_eddsa_key.status_code == 200
    assert_refused(two_es256_keys)


async def test_a_key_of_another_type_under_the_tokens_kid_is_refused(server: JwksServer) -> None:
    ed = ed25519_key("shared-kid")
    impostor = p256_key("shared-kid")
    server.publish(ed)

    async with served(server.url) as app:
        response = await app.get(impostor.sign(claims(), "ES256"))
        fetches = server.fetches

    assert_refused(response)
    assert fetches == 1  # the kid is known: no refresh for it


# Rotation and refresh.


async def test_a_new_kid_is_accepted_after_one_refresh(server: JwksServer) -> None:
    old, new = ed25519_key("2026-01"), ed25519_key("2026-02")
    server.publish(old)

    async with served(server.url) as app:
        assert (await app.get(old.sign(claims(), "EdDSA"))).status_code == 200
        before = server.fetches
        server.publish(old, new)
        app.clock.advance(10)
        rotated = await app.get(new.sign(claims(), "EdDSA"))
        still_old = await app.get(old.sign(claims(), "EdDSA"))
        after = server.fetches

    assert rotated.status_code == 200
    assert still_old.status_code == 200
    assert after - before == 1


async def test_a_removed_key_is_refused_after_a_refresh(server: JwksServer) -> None:
    old, new = ed25519_key("old"), ed25519_key("new")
    server.publish(old)

    async with served(server.url) as app:
        assert (await app.get(old.sign(claims(), "EdDSA"))).status_code == 200
        server.publish(new)  # the provider rotated the old key out
        app.clock.advance(10)
        assert (await app.get(new.sign(claims(), "EdDSA"))).status_code == 200  # the refresh
        removed = await app.get(old.sign(claims(), "EdDSA"))

    assert_refused(removed)


async def test_a_burst_of_unknown_kids_fetches_at_most_once_per_ten_seconds(
    server: JwksServer,
) -> None:
    known, rotated = ed25519_key("known"), ed25519_key("rotated")
    server.publish(known)
    clock = FakeClock()
    verifier = JwksVerifier(server.url, clock=clock)
    await verifier.refresh()
    strangers = [ed25519_key(f"unknown-{i}").sign(claims(), "EdDSA") for i in range(40)]
    newcomers = [rotated.sign(claims(sub=f"user-{i}"), "EdDSA") for i in range(20)]

    async def burst(tokens: list[str]) -> list[BaseException | str]:
        return await asyncio.gather(
            *(verifier.subject(token) for token in tokens), return_exceptions=True
        )

    try:
        # The fetch at start is not one an unknown kid asked for: the first burst asks once.
        first = await burst(strangers)
        fetches_first = server.fetches
        within_window = await burst(strangers)  # 0 s after the burst's fetch
        fetches_within = server.fetches
        server.publish(known, rotated)
        clock.advance(10)
        # 60 concurrent callers: the first starts a fetch, all of them wait on that one.
        after_window = await burst(strangers[:20] + newcomers + strangers[20:])
        fetches_after = server.fetches
        clock.advance(9.9)
        again_within = await burst(strangers)
        fetches_again = server.fetches
        still_known = await verifier.subject(known.sign(claims(), "EdDSA"))
    finally:
        await verifier.stop()

    assert (fetches_first, fetches_within) == (2, 2)
    assert fetches_after == 3
    assert fetches_again == 3
    assert after_window[20:40] == [f"user-{i}" for i in range(20)]
    for outcome in first + within_window + after_window[:20] + after_window[40:] + again_within:
        assert isinstance(outcome, Unauthorized)
    assert still_known == "alice"


async def test_the_background_refresh_picks_up_a_new_key_unasked(server: JwksServer) -> None:
    later = ed25519_key("later")
    server.publish(ed25519_key("first"))
    verifier = JwksVerifier(server.url, cache_seconds=0.05, clock=FakeClock())
    await verifier.start()
    await verifier.refresh()  # the first fetch, under way since start
    first = [k.kid for k in verifier.keys.keys]
    server.publish(later)
    try:
        for _ in range(400):  # polled, not timed: fails only if no refresh ever comes
            if [k.kid for k in verifier.keys.keys] == ["later"]:
                break
            await asyncio.sleep(0.05)
        fetches = server.fetches
    finally:
        await verifier.stop()

    assert first == ["first"]
    assert [k.kid for k in verifier.keys.keys] == ["later"]
    assert fetches >= 2


# The key server down.


async def test_key_server_down_and_no_cached_key_is_503_with_retry_after() -> None:
    closed = JwksServer().start()
    url = closed.url
    closed.close()

    async with served(url) as app:
        response = await app.get(ed25519_key("k").sign(claims(), "EdDSA"))

    assert_refused(response, 503)


async def test_key_server_down_with_cached_keys_keeps_accepting_them(server: JwksServer) -> None:
    known = ed25519_key("known")
    server.publish(known)

    async with served(server.url) as app:
        assert (await app.get(known.sign(claims(), "EdDSA"))).status_code == 200
        server.close()
        app.clock.advance(10)
        unknown = await app.get(ed25519_key("new").sign(claims(), "EdDSA"))  # refresh fails
        cached = await app.get(known.sign(claims(), "EdDSA"))
        forged = await app.get(known.sign(claims(), "EdDSA")[:-4] + "AAAA")

    assert_refused(unknown, 503)
    assert cached.status_code == 200
    assert_refused(forged)  # a known key decides at once, reachable set or not


async def test_the_key_server_coming_back_ends_the_503s(server: JwksServer) -> None:
    key = ed25519_key("k")
    server.publish(key)
    server.mode, server.status = "status", 502

    async with served(server.url) as app:
        down = await app.get(key.sign(claims(), "EdDSA"))
        server.mode = "ok"
        app.clock.advance(10)
        back = await app.get(key.sign(claims(), "EdDSA"))

    assert_refused(down, 503)
    assert back.status_code == 200


# Claims and forged tokens.


@pytest.mark.parametrize(
    ("change", "case"),
    [
        ({"iss": "https://evil.example"}, "wrong issuer"),
        ({"iss": None}, "no issuer"),
        ({"aud": "https://other.example"}, "wrong audience"),
        ({"aud": None}, "no audience"),
        ({"exp": datetime.now(UTC) - timedelta(seconds=5)}, "expired"),
        ({"sub": None}, "no subject"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
async def test_issuer_audience_and_expiry_are_checked(
    server: JwksServer, change: dict[str, Any], case: str
) -> None:
    key = ed25519_key("k")
    server.publish(key)

    async with served(server.url) as app:
        response = await app.get(key.sign(claims(**change), "EdDSA"))

    assert_refused(response)


def _unsigned(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    def encoded(value: dict[str, Any]) -> str:
        return b64(json.dumps(value, default=lambda d: int(d.timestamp())).encode())

    return f"{encoded(header)}.{encoded(payload)}.{b64(signature)}"


def _hs256(header: dict[str, Any], secret: bytes) -> str:
    body = _unsigned(header, claims()).rsplit(".", 1)[0]
    signature = hmac.new(secret, body.encode(), hashlib.sha256).digest()
    return f"{body}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


async def test_alg_none_and_hmac_with_the_public_key_are_refused_without_a_fetch(
    server: JwksServer,
) -> None:
    key = ed25519_key("k")
    server.publish(key)
    public_x = base64.urlsafe_b64decode(key.jwk["x"] + "==")
    forgeries = {
        "none": _unsigned({"alg": "none", "kid": "k"}, claims()),
        "None": _unsigned({"alg": "None"}, claims()),
        "HS256 with the JWK": _hs256({"alg": "HS256", "kid": "k"}, json.dumps(key.jwk).encode()),
        "HS256 with x": _hs256({"alg": "HS256", "kid": "k"}, public_x),
        "HS256 with x, no kid": _hs256({"alg": "HS256"}, public_x),
        "HS512": _hs256({"alg": "HS512", "kid": "k"}, public_x),
    }

    async with served(server.url) as app:
        assert (await app.get(key.sign(claims(), "EdDSA"))).status_code == 200
        app.clock.advance(60)
        responses = {case: await app.get(token) for case, token in forgeries.items()}
        fetches = server.fetches

    for case, response in responses.items():
        assert response.status_code == 401, case
    assert fetches == 1


@pytest.mark.parametrize(
    "kid",
    ["x" * 5000, "kid\x00with\nnul", "ключ", 12345, {"nested": "object"}, ["a"], "", True],
    ids=["long", "control", "non-ascii", "number", "object", "list", "empty", "bool"],
)
async def test_a_kid_full_of_junk_is_401(server: JwksServer, kid: Any) -> None:
    key = ed25519_key("k")
    server.publish(key)

    async with served(server.url) as app:
        assert (await app.get(key.sign(claims(), "EdDSA"))).status_code == 200
        app.clock.advance(60)
        response = await app.get(_unsigned({"alg": "EdDSA", "kid": kid}, claims(), b"x" * 64))
        fetches = server.fetches

    assert_refused(response)
    assert fetches == 1  # junk never reaches the key server


async def test_an_unknown_but_plausible_kid_is_401_once_the_set_is_fresh(
    server: JwksServer,
) -> None:
    server.publish(ed25519_key("k"))

    async with served(server.url) as app:
        app.clock.advance(10)
        response = await app.get(ed25519_key("../../etc/passwd").sign(claims(), "EdDSA"))

    assert_refused(response)


# Malformed key sets: logged, old keys kept, 503 for what only a fresh set could decide.

MALFORMED = {
    "not json": ("ok", b"<html>Bad gateway</html>", "not JSON"),
    "no keys": ("ok", b'{"issuer": "x"}', 'no "keys" list'),
    "keys not a list": ("ok", b'{"keys": {"kty": "OKP"}}', 'no "keys" list'),
    "empty keys": ("ok", b'{"keys": []}', "no usable key"),
    "unknown key type": ("ok", b'{"keys": [{"kty": "XYZ", "kid": "k"}]}', "no usable key"),
    "hmac key": ("ok", b'{"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "k"}]}', "no usable"),
    "bad key numbers": ("ok", b'{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": 7}]}', "no usable"),
    "huge": ("unbounded", b'{"keys": [' + b" " * (2 * 1024 * 1024) + b"]}", "over 1048576 bytes"),
    "huge, declared": ("ok", b'{"keys": [' + b" " * (2 * 1024 * 1024) + b"]}", "over 1048576"),
    "redirect loop": ("redirect_loop", b"", "more than 3 redirects"),
    "error status": ("status", b"", "HTTP 500"),
}


@pytest.mark.parametrize("kind", MALFORMED)
async def test_a_malformed_key_set_is_logged_and_the_old_keys_kept(
    server: JwksServer, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    key = ed25519_key("k")
    server.publish(key)
    clock = FakeClock()
    verifier = JwksVerifier(server.url, clock=clock)
    await verifier.refresh()
    server.mode, server.document, reason = MALFORMED[kind]
    clock.advance(10)

    with caplog.at_level(logging.WARNING, logger="taskapi.jwks"):
        try:
            cached = await verifier.subject(key.sign(claims(), "EdDSA"))
            with pytest.raises(KeySetUnavailable) as unavailable:
                await verifier.subject(ed25519_key("new").sign(claims(), "EdDSA"))
        finally:
            await verifier.stop()

    assert cached == "alice"
    assert unavailable.value.retry_after_seconds >= 1
    assert [k.kid for k in verifier.keys.keys] == ["k"]
    assert f"fetch failed ({reason}" in caplog.text or reason in caplog.text
    assert "keeping the 1 cached keys" in caplog.text


@pytest.mark.parametrize("kind", ["not json", "unknown key type", "huge", "redirect loop"])
async def test_a_malformed_key_set_never_makes_a_500(server: JwksServer, kind: str) -> None:
    key = ed25519_key("k")
    server.publish(key)

    async with served(server.url) as app:
        assert (await app.get(key.sign(claims(), "EdDSA"))).status_code == 200
        server.mode, server.document, _ = MALFORMED[kind]
        app.clock.advance(10)
        unknown = await app.get(ed25519_key("new").sign(claims(), "EdDSA"))
        cached = await app.get(key.sign(claims(), "EdDSA"))

    assert_refused(unknown, 503)
    assert cached.status_code == 200


async def test_a_bad_key_beside_good_ones_is_logged_and_skipped(
    server: JwksServer, caplog: pytest.LogCaptureFixture
) -> None:
    good = ed25519_key("good")
    server.publish(
        {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
        {"kty": "XYZ", "kid": "strange"},
        {"kty": "EC", "crv": "P-384", "kid": "p384", "x": "AA", "y": "AA"},
        {**ed25519_key("enc").jwk, "use": "enc"},
        {**p256_key("leaked").jwk, "d": "AAAA"},
        rsa_key("weak").jwk | {"n": base64.urlsafe_b64encode(b"\xff" * 64).decode()},
        good,
    )
    verifier = JwksVerifier(server.url, clock=FakeClock())

    with caplog.at_level(logging.WARNING, logger="taskapi.jwks"):
        await verifier.refresh()
    await verifier.stop()

    assert [k.kid for k in verifier.keys.keys] == ["good"]
    for reason in ("HMAC", "'XYZ'", "'P-384'", "use is 'enc'", "private key", "512 bits"):
        assert reason in caplog.text


async def test_a_slow_key_server_times_out_and_keeps_the_old_keys(
    server: JwksServer, caplog: pytest.LogCaptureFixture
) -> None:
    key = ed25519_key("k")
    server.publish(key)
    clock = FakeClock()
    verifier = JwksVerifier(server.url, clock=clock, fetch_timeout=0.5)
    await verifier.refresh()
    server.mode = "hold"
    clock.advance(10)

    with caplog.at_level(logging.WARNING, logger="taskapi.jwks"):
        try:
            with pytest.raises(KeySetUnavailable):
                await verifier.subject(ed25519_key("new").sign(claims(), "EdDSA"))
            cached = await verifier.subject(key.sign(claims(), "EdDSA"))
        finally:
            server.release.set()
            await verifier.stop()

    assert cached == "alice"
    assert "no complete answer in time" in caplog.text


async def test_a_slow_key_server_never_holds_up_other_requests(server: JwksServer) -> None:
    """Served by uvicorn on this test's loop: if fetching blocked the loop, /health could not
    answer before the key server is released, which happens only after /health answered."""
    key = ed25519_key("k")
    server.publish(key)
    server.mode = "hold"
    settings = Settings(
        task_store="memory", auth_mode="jwt", jwt_jwks_url=server.url, log_format="json"
    )
    container = Container(settings=settings)
    verifier = JwksVerifier(server.url, issuer=BASE_URL, audience=BASE_URL, fetch_timeout=60)
    container.token_verifier.override(providers.Object(verifier))
    port = free_port()
    uvicorn_server = uvicorn.Server(
        uvicorn.Config(create_app(container), port=port, log_config=None, access_log=False)
    )
    serving = asyncio.create_task(uvicorn_server.serve())
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=20) as client:
            while not uvicorn_server.started:  # uvicorn has no event for it
                assert not serving.done(), "uvicorn did not start"
                await asyncio.sleep(0.02)
            pending = asyncio.create_task(
                client.get("/api/alice/tasks", headers=bearer(key.sign(claims(), "EdDSA")))
            )
            assert await asyncio.to_thread(server.holding.wait, 20)
            health = await client.get("/health")
            waiting = not pending.done()
            server.release.set()
            answer = await pending
    finally:
        server.release.set()
        uvicorn_server.should_exit = True
        await serving

    assert health.status_code == 200
    assert waiting
    assert answer.status_code == 200


# Better Auth's own token shape (measured with better-auth 1.7.25).


async def test_a_better_auth_shaped_token_is_accepted(server: JwksServer) -> None:
    key = ed25519_key("H2vq1YHnTmaW4yNcX9m1K3Lb0PZ7JxQe")
    # Better Auth's JWK: kty, crv, x, alg, kid; no use.
    server.publish({k: key.jwk[k] for k in ("kty", "crv", "x")} | {"alg": "EdDSA", "kid": key.kid})
    user_id = "0bqFkyQ9RkHgXbXN8ZC4HSLyQZ5VGdMc"
    iat = int(datetime.now(UTC).timestamp())
    payload = {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "emailVerified": False,
        "image": None,
        "createdAt": "2026-11-30T09:12:44.512Z",
        "updatedAt": "2026-11-30T09:12:44.512Z",
        "id": user_id,
        "iat": iat,
        "iss": BASE_URL,
        "aud": BASE_URL,
        "exp": iat + 900,
        "sub": user_id,
    }
    token = jwt.encode(
        payload, key.private, algorithm="EdDSA", headers={"kid": key.kid, "typ": None}
    )
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "kid": key.kid}

    async with served(server.url) as app:
        created = await app.client.post(
            f"/api/{user_id}/tasks", json={"title": "from Next.js"}, headers=bearer(token)
        )
        listed = await app.get(token, user=user_id)
        foreign = await app.get(token, user="someone-else")

    assert created.status_code == 201
    assert [t["title"] for t in listed.json()["data"]] == ["from Next.js"]
    assert_refused(foreign, 403)


# Settings.


@pytest.mark.parametrize(
    "keys",
    [
        {},
        {"JWT_SECRET": "s" * 32, "JWT_JWKS_URL": "http://localhost:3000/api/auth/jwks"},
        {"JWT_PUBLIC_KEY": "pem", "JWT_JWKS_URL": "http://localhost:3000/api/auth/jwks"},
    ],
    ids=["none", "secret and jwks", "public key and jwks"],
)
def test_jwt_mode_needs_exactly_one_key_source(keys: dict[str, str]) -> None:
    with pytest.raises(
        ConfigError, match="exactly one of JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_URL"
    ):
        Settings.from_env({"AUTH_MODE": "jwt", **keys}, env_file=None)


@pytest.mark.parametrize("url", ["ftp://idp/jwks", "localhost:3000/jwks", "http://"])
def test_the_jwks_url_must_be_http(url: str) -> None:
    with pytest.raises(ConfigError, match="JWT_JWKS_URL"):
        Settings.from_env({"AUTH_MODE": "jwt", "JWT_JWKS_URL": url}, env_file=None)


def test_the_jwks_settings_are_read() -> None:
    settings = Settings.from_env(
        {
            "AUTH_MODE": "jwt",
            "JWT_JWKS_URL": "https://app.example/api/auth/jwks",
            "JWT_JWKS_CACHE_SECONDS": "60",
        },
        env_file=None,
    )

    assert settings.jwt_jwks_url == "https://app.example/api/auth/jwks"
    assert settings.jwt_jwks_cache_seconds == 60
    assert Settings.from_env({}, env_file=None).jwt_jwks_cache_seconds == 300


async def test_a_key_rotated_just_after_a_background_refresh_is_fetched(
    server: JwksServer,
) -> None:
    old, new = ed25519_key("old"), ed25519_key("new")
    server.publish(old)
    verifier = JwksVerifier(server.url, clock=FakeClock())
    try:
        await verifier.refresh()  # as the background refresh does
        server.publish(old, new)

        subject = await verifier.subject(new.sign(claims(), "EdDSA"))
    finally:
        await verifier.stop()

    assert subject == "alice"
    assert server.fetches == 2


async def test_the_verifier_runs_again_after_a_stop(server: JwksServer) -> None:
    verifier = JwksVerifier(server.url, clock=FakeClock())

    for run in range(2):  # an app whose lifespan runs twice; each run's key is new
        key = ed25519_key(f"run-{run}")
        server.publish(key)
        await verifier.start()
        try:
            await verifier.refresh()
            assert await verifier.subject(key.sign(claims(), "EdDSA")) == "alice"
        finally:
            await verifier.stop()
