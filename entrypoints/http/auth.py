"""AUTH_MODE=jwt: a bearer token, verified with PyJWT, whose `sub` must be the path's user_id."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final, Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

SYMMETRIC_ALGORITHMS: Final = ("HS256",)
# The one algorithm each kind of public key signs with: a token that names another one is
# refused before PyJWT tries to use the key with it.
_EC_ALGORITHMS: Final = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
_SCOPE_KEY: Final = "taskapi.auth"


class Unauthorized(Exception):
    """No token, or one that does not verify (401 with WWW-Authenticate: Bearer)."""


class Forbidden(Exception):
    """A valid token for another user (403)."""


def _public_key_and_algorithm(pem: str) -> tuple[Any, str]:
    """The key loaded once (PyJWT would parse the PEM again on every request) and its
    algorithm; a key that cannot verify tokens is a configuration error, found at start."""
    try:
        key = load_pem_public_key(pem.encode())
    except (ValueError, TypeError) as error:
        raise ValueError(f"JWT_PUBLIC_KEY is not a PEM public key: {error}") from None
    if isinstance(key, rsa.RSAPublicKey):
        return key, "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in _EC_ALGORITHMS:
        return key, _EC_ALGORITHMS[key.curve.name]
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key, "EdDSA"
    raise ValueError("JWT_PUBLIC_KEY must be an RSA, EC (P-256, P-384, P-521) or Ed25519 key")


class KeySetUnavailable(Exception):
    """The identity provider's key set cannot be fetched and no cached key fits the token
    (503 with Retry-After: the token may be fine, the service cannot tell yet)."""

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class TokenVerifier(Protocol):
    """Turns a bearer token into its verified subject, or refuses it."""

    async def subject(self, token: str) -> str:
        """The token's `sub`; Unauthorized, or KeySetUnavailable when the keys are out of
        reach."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class ClaimRules:
    """What every token must hold once its signature is checked, whoever holds the key:
    expiry, not-before, the configured issuer and audience, a string subject."""

    def __init__(
        self, *, issuer: str | None, audience: str | None, leeway_seconds: int = 0
    ) -> None:
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway_seconds
        self._required = ["exp", "sub"]
        if issuer is not None:
            self._required.append("iss")
        if audience is not None:
            self._required.append("aud")

    def subject(self, token: str, key: Any, algorithms: list[str]) -> str:
        """The token's `sub`, once signature, expiry, not-before, issuer and audience hold."""
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway,
                options={"require": self._required, "verify_aud": self._audience is not None},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise Unauthorized("the token is not valid yet") from None
        except jwt.PyJWTError:  # every other refusal, InvalidKeyError included
            raise Unauthorized("the token is invalid") from None
        subject = claims.get("sub")
        if not isinstance(subject, str):
            raise Unauthorized("the token has no subject")
        return subject


class JwtVerifier:
    """Verifies tokens with exactly one key and the one algorithm that key signs with, so an
    algorithm cannot be swapped for another (an HS256 token "signed" with the public key, or
    an ES256 token against an RSA key, is a 401 like any other bad token)."""

    def __init__(
        self,
        *,
        secret: str | None = None,
        public_key: str | None = None,
        issuer: str | None = None,
        audience: str | None = None,
        leeway_seconds: int = 0,
    ) -> None:
        if (secret is None) == (public_key is None):
            raise ValueError("AUTH_MODE=jwt needs exactly one of JWT_SECRET or JWT_PUBLIC_KEY")
        if public_key is not None:
            self._key, algorithm = _public_key_and_algorithm(public_key)
            self._algorithms = [algorithm]
        else:
            self._key, self._algorithms = secret, list(SYMMETRIC_ALGORITHMS)
        self._rules = ClaimRules(issuer=issuer, audience=audience, leeway_seconds=leeway_seconds)

    async def subject(self, token: str) -> str:
        """Nothing to wait for: the key is in memory."""
        return self._rules.subject(token, self._key, self._algorithms)

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass


def bearer_token(authorization: str | None) -> str:
    if authorization is None:
        raise Unauthorized("an Authorization: Bearer token is required")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <token>'")
    return token.strip()


def verified_token_expiry(connection: ASGIConnection[Any, Any, Any, Any]) -> datetime | None:
    """The `exp` of the bearer token the guard has verified on this request (None when no
    token was verified: AUTH_MODE=none). Read without checking the signature again: the
    guard has, and the claims cannot have changed since."""
    if not isinstance(connection.scope.get(_SCOPE_KEY), str):  # type: ignore[misc]
        return None
    token = bearer_token(connection.headers.get("authorization"))
    claims = jwt.decode(token, options={"verify_signature": False})
    return datetime.fromtimestamp(claims["exp"], UTC)


class Authenticator:
    """Who a request is, decided once per request: the rate limiter asks first (only the
    path's owner may spend the owner's budget), the guard asks again and gets the same answer
    without verifying the token twice. Both are coroutines, so a verifier may wait for its
    key set without holding up other requests (and a sync guard would cost a thread hop)."""

    def __init__(self, verifier: TokenVerifier) -> None:
        self.verifier = verifier

    def __deepcopy__(self, memo: dict[int, Any]) -> Authenticator:
        # Litestar deep-copies route handlers, bound-method guards with them: one
        # authenticator per app, or each route would keep its own key cache.
        return self

    async def _outcome(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str | Exception:
        scope: Any = connection.scope
        outcome: str | Exception | None = scope.get(_SCOPE_KEY)
        if outcome is None:
            try:
                token = bearer_token(connection.headers.get("authorization"))
                outcome = await self.verifier.subject(token)
            except (Unauthorized, KeySetUnavailable) as refusal:
                outcome = refusal
            scope[_SCOPE_KEY] = outcome
        return outcome

    async def is_owner(self, connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
        """True when the request carries a valid token for the path's user_id."""
        outcome = await self._outcome(connection)
        return isinstance(outcome, str) and outcome == connection.path_params.get("user_id")

    async def guard(
        self, connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
    ) -> None:
        """A Litestar guard for the task routes: 401 without a valid token, 403 for another
        user, 503 when the key set that would decide is out of reach."""
        outcome = await self._outcome(connection)
        if isinstance(outcome, Exception):
            raise outcome
        if outcome != connection.path_params.get("user_id"):
            raise Forbidden("the token's subject is not this user_id")
