"""AUTH_MODE=jwt: a bearer token, verified with PyJWT, whose `sub` must be the path's user_id."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import jwt
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

SYMMETRIC_ALGORITHMS: Final = ("HS256",)
ASYMMETRIC_ALGORITHMS: Final = ("RS256", "ES256")


class Unauthorized(Exception):
    """No token, or one that does not verify (401 with WWW-Authenticate: Bearer)."""


class Forbidden(Exception):
    """A valid token for another user (403)."""


class JwtVerifier:
    """Verifies tokens with exactly one kind of key, so an algorithm cannot be swapped for
    another (an HS256 token signed with the public key is refused when a public key is set)."""

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
        self._key: Any = secret if secret is not None else public_key
        self._algorithms: Sequence[str] = (
            SYMMETRIC_ALGORITHMS if secret is not None else ASYMMETRIC_ALGORITHMS
        )
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway_seconds

    def subject(self, token: str) -> str:
        """The token's `sub`, once signature, expiry, not-before, issuer and audience hold."""
        required = ["exp", "sub"]
        if self._issuer is not None:
            required.append("iss")
        if self._audience is not None:
            required.append("aud")
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=list(self._algorithms),
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway,
                options={"require": required, "verify_aud": self._audience is not None},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise Unauthorized("the token is not valid yet") from None
        except jwt.InvalidTokenError:
            raise Unauthorized("the token is invalid") from None
        subject = claims.get("sub")
        if not isinstance(subject, str):
            raise Unauthorized("the token has no subject")
        return subject


def bearer_token(authorization: str | None) -> str:
    if authorization is None:
        raise Unauthorized("an Authorization: Bearer token is required")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <token>'")
    return token.strip()


def jwt_guard(verifier: JwtVerifier) -> Any:
    """A Litestar guard for the task routes: 401 without a valid token, 403 for another user."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        subject = verifier.subject(bearer_token(connection.headers.get("authorization")))
        if subject != connection.path_params.get("user_id"):
            raise Forbidden("the token's subject is not this user_id")

    return guard
