"""Random JWT headers and claims against each kind of key: a 401 or a 403 (or a 200 for a
token that happens to be valid), in the contract's envelope, and never a 5xx."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwt.algorithms import OKPAlgorithm
from litestar.testing import TestClient

from entrypoints.config import Settings
from entrypoints.container import Container
from entrypoints.http.app import create_app
from tests.e2e.test_hostile_clients import EC_KEY, ED_KEY, RSA_KEY, SECRET, public_pem
from tests.jwks_server import JwksServer, rsa_key

# Mode: (settings, the key that signs valid tokens, its algorithm).
MODES: dict[str, tuple[dict[str, str], Any, str]] = {
    "hs256": ({"jwt_secret": SECRET}, SECRET.encode(), "HS256"),
    "rs256": ({"jwt_public_key": public_pem(RSA_KEY)}, RSA_KEY, "RS256"),
    "es256": ({"jwt_public_key": public_pem(EC_KEY)}, EC_KEY, "ES256"),
    "eddsa": ({"jwt_public_key": public_pem(ED_KEY)}, ED_KEY, "EdDSA"),
    # JWT_JWKS_URL: a key server on 127.0.0.1 publishing ED_KEY as kid "fuzz" and an RSA key.
    "jwks": ({}, ED_KEY, "EdDSA"),
}
NOW = int(datetime.now(UTC).timestamp())

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.lists(st.text(max_size=10), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
real_algorithms = st.sampled_from(["HS256", "RS256", "PS256", "ES256", "ES384", "EdDSA", "none"])
odd_algorithms = st.sampled_from(["HS512", "RS512", "ES512", "None", "", "hs256", "RSA-OAEP"])
times = st.one_of(
    st.integers(min_value=NOW - 10**6, max_value=NOW + 10**6), st.just(NOW + 300), junk
)


def maybe(strategy: st.SearchStrategy[Any], absent: int = 1) -> st.SearchStrategy[Any]:
    """A value, or (`absent` times as likely) the key left out (`...`)."""
    return st.one_of(*[st.just(...)] * absent, strategy)


headers = st.fixed_dictionaries(
    {
        # Real algorithms most of the time: each is a different path through PyJWT.
        "alg": st.one_of(real_algorithms, real_algorithms, real_algorithms, odd_algorithms, junk),
        "typ": maybe(st.one_of(st.sampled_from(["JWT", "at+jwt", "JWS"]), junk)),
        "kid": maybe(st.one_of(st.just("fuzz"), st.text(max_size=200), junk)),
        "crit": maybe(st.one_of(st.lists(st.sampled_from(["b64", "exp", "kid"])), junk), 3),
        "b64": maybe(st.booleans(), 3),
        "jku": maybe(st.just("http://127.0.0.1:9/keys"), 3),
    }
)
claims = st.fixed_dictionaries(
    {
        "sub": maybe(st.one_of(st.sampled_from(["alice", "bob", ""]), junk), 0),
        "exp": maybe(times),
        "nbf": maybe(times),
        "iat": maybe(times),
        "iss": maybe(st.one_of(st.just("issuer"), junk)),
        "aud": maybe(st.one_of(st.just("web"), st.lists(st.just("web")), junk)),
    }
)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not ...}


@st.composite
def tokens(draw: st.DrawFn, mode: str) -> str:
    """Mostly well-formed tokens signed with the mode's own key (so that the claims are what
    decides), some with a wrong or no signature, some not JWTs at all."""
    _, key, algorithm = MODES[mode]
    shape = draw(st.sampled_from(["signed", "signed", "signed", "unsigned", "random", "text"]))
    if shape == "text":
        return draw(st.text(alphabet=st.characters(codec="ascii"), max_size=300))
    header = b64(json.dumps(_present(draw(headers))).encode())
    payload = b64(json.dumps(_present(draw(claims))).encode())
    signing_input = f"{header}.{payload}".encode()
    if shape == "signed":
        signature = jwt.get_algorithm_by_name(algorithm).sign(signing_input, key)
    elif shape == "random":
        signature = draw(st.binary(max_size=300))
    else:
        signature = b""
    return f"{header}.{payload}.{b64(signature)}"


@pytest.fixture(scope="module", params=list(MODES))
def mode_client(request: pytest.FixtureRequest) -> Iterator[tuple[str, TestClient[Any]]]:
    mode = request.param
    extra = dict(MODES[mode][0])
    key_server = None
    if mode == "jwks":
        key_server = JwksServer().start()
        ed = OKPAlgorithm.to_jwk(ED_KEY.public_key(), as_dict=True)
        key_server.publish({**ed, "kid": "fuzz"}, rsa_key("rsa").jwk)
        extra["jwt_jwks_url"] = key_server.url
    app = create_app(
        Container(
            settings=Settings(
                task_store="memory",
                auth_mode="jwt",
                jwt_issuer="issuer" if mode == "rs256" else None,
                jwt_audience="web" if mode == "es256" else None,
                log_format="json",
                access_log=False,
                **extra,  # type: ignore[arg-type]
            )
        )
    )
    with TestClient(app=app) as client:
        yield mode, client
    if key_server is not None:
        key_server.close()


@given(data=st.data())
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_token_is_a_server_error(
    mode_client: tuple[str, TestClient[Any]], data: st.DataObject
) -> None:
    mode, client = mode_client
    token = data.draw(tokens(mode))
    scheme = data.draw(st.sampled_from(["Bearer", "bearer", "Bearer ", "Basic", ""]))

    response = client.get("/api/alice/tasks", headers={"Authorization": f"{scheme} {token}"})

    assert response.status_code in (200, 401, 403), response.text
    if response.status_code != 200:
        error = response.json()["error"]
        assert error["code"] in ("UNAUTHORIZED", "FORBIDDEN")
        assert error["request_id"] == response.headers["x-request-id"]
