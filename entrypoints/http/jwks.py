"""AUTH_MODE=jwt with JWT_JWKS_URL: tokens verified with an identity provider's key set.

The set is fetched with an async HTTP client (never blocking the event loop), cached, and
refreshed in the background every JWT_JWKS_CACHE_SECONDS. A token whose key is not cached
triggers one refresh, at most one every MIN_REFRESH_INTERVAL seconds whatever the traffic:
concurrent requests wait on the same fetch. A fetch that fails, for any reason (down, slow,
a redirect loop, a document that is not a key set), is logged and keeps the keys already
cached; a token that only a fresh set could decide is then a 503, not a 401.

Each worker process keeps its own cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from entrypoints.http.auth import ClaimRules, KeySetUnavailable, Unauthorized

logger = logging.getLogger("taskapi.jwks")

# The algorithms a key set may name, and the ones each kind of key signs with when the key
# does not say. Never `none`, never HMAC: a key set is public, so an HMAC key in it would let
# anyone sign.
ACCEPTED_ALGORITHMS: Final = frozenset({"EdDSA", "ES256", "RS256", "PS256"})
_ALGORITHMS_BY_KIND: Final[Mapping[tuple[str, str | None], frozenset[str]]] = {
    ("OKP", "Ed25519"): frozenset({"EdDSA"}),
    ("EC", "P-256"): frozenset({"ES256"}),
    ("RSA", None): frozenset({"RS256", "PS256"}),
}
_LOADERS: Final[Mapping[str, Callable[[dict[str, Any]], Any]]] = {
    "OKP": OKPAlgorithm.from_jwk,
    "EC": ECAlgorithm.from_jwk,
    "RSA": RSAAlgorithm.from_jwk,
}
MIN_RSA_BITS: Final = 2048

MIN_REFRESH_INTERVAL: Final = 10.0  # seconds between refreshes asked for by unknown keys
FETCH_TIMEOUT: Final = 5.0  # the whole fetch, connect to last byte
MAX_DOCUMENT_BYTES: Final = 1024 * 1024
MAX_REDIRECTS: Final = 3
RETRY_FAILED_FETCH_SECONDS: Final = 30.0  # the background retry after a failed fetch
# A kid longer than this, or with characters outside printable ASCII, names no key anyone
# publishes: refused without a fetch.
MAX_KID_LENGTH: Final = 256


class KeySetError(Exception):
    """The fetched document cannot be used; the message says why, for the log."""


@dataclass(frozen=True, slots=True)
class VerificationKey:
    kid: str | None
    algorithms: frozenset[str]
    key: Any  # a cryptography public key


@dataclass(frozen=True, slots=True)
class KeySet:
    keys: tuple[VerificationKey, ...] = ()

    def by_kid(self, kid: str) -> list[VerificationKey]:
        return [key for key in self.keys if key.kid == kid]

    def by_algorithm(self, algorithm: str) -> list[VerificationKey]:
        return [key for key in self.keys if algorithm in key.algorithms]


def _verification_key(jwk: Any) -> VerificationKey | str:
    """The key, or why it is ignored."""
    if not isinstance(jwk, dict):
        return "it is not a JSON object"
    kty = jwk.get("kty")
    kid = jwk.get("kid")
    if kid is not None and not isinstance(kid, str):
        return "its kid is not a string"
    if kty == "oct":
        return "it is a symmetric (HMAC) key, which a public key set must not hold"
    if kty not in _LOADERS:
        return f"its key type {kty!r} is not one of OKP, EC, RSA"
    if jwk.get("use") not in (None, "sig"):
        return f"its use is {jwk.get('use')!r}, not sig"
    if "d" in jwk:
        return "it is a private key (rotate it: it has been published)"
    kind = (kty, None if kty == "RSA" else jwk.get("crv"))
    allowed = _ALGORITHMS_BY_KIND.get(kind)
    if allowed is None:
        return f"its curve {jwk.get('crv')!r} is not Ed25519 (OKP) or P-256 (EC)"
    algorithm = jwk.get("alg")
    if algorithm is not None:
        if algorithm not in allowed:
            return f"its alg {algorithm!r} does not fit a {kty} key (expected {sorted(allowed)})"
        allowed = frozenset({algorithm})
    try:
        key = _LOADERS[kty](jwk)
    except Exception as error:  # PyJWT raises several kinds on bad base64 and numbers
        return f"it does not load ({error.__class__.__name__}: {error})"
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        return f"it is an RSA key of {key.key_size} bits (at least {MIN_RSA_BITS} are needed)"
    return VerificationKey(kid=kid, algorithms=allowed, key=key)


def parse_key_set(document: bytes, source: str) -> KeySet:
    """The usable keys of a JWKS document; KeySetError when it has none. Each key left out
    is logged with the reason."""
    try:
        parsed = json.loads(document)
    except (ValueError, UnicodeDecodeError):
        raise KeySetError("the document is not JSON") from None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("keys"), list):
        raise KeySetError('the document is not a key set (no "keys" list)')
    keys: list[VerificationKey] = []
    for index, jwk in enumerate(parsed["keys"]):
        outcome = _verification_key(jwk)
        if isinstance(outcome, str):
            kid = jwk.get("kid") if isinstance(jwk, dict) else None
            logger.warning(
                "JWKS %s: key %d (kid %r) ignored: %s", source, index, str(kid)[:80], outcome
            )
        else:
            keys.append(outcome)
    if not keys:
        raise KeySetError("the key set holds no usable key")
    return KeySet(tuple(keys))


def _token_header(token: str) -> tuple[str, str | None]:
    """The token's algorithm and kid, before anything is verified; 401 for anything odd."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Unauthorized("the token is invalid") from None
    algorithm = header.get("alg")
    if not isinstance(algorithm, str) or algorithm not in ACCEPTED_ALGORITHMS:
        raise Unauthorized("the token's algorithm is not accepted")
    kid = header.get("kid")
    if kid is not None and not (
        isinstance(kid, str)
        and 0 < len(kid) <= MAX_KID_LENGTH
        and kid.isascii()
        and kid.isprintable()
    ):
        raise Unauthorized("the token's kid names no key")
    return algorithm, kid


class JwksVerifier:
    """Verifies tokens with the key their header names, from a key set fetched over HTTP."""

    def __init__(
        self,
        url: str,
        *,
        issuer: str | None = None,
        audience: str | None = None,
        leeway_seconds: int = 0,
        cache_seconds: float = 300,
        fetch_timeout: float = FETCH_TIMEOUT,
        min_refresh_interval: float = MIN_REFRESH_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._rules = ClaimRules(issuer=issuer, audience=audience, leeway_seconds=leeway_seconds)
        self._cache_seconds = cache_seconds
        self._fetch_timeout = fetch_timeout
        self._min_refresh_interval = min_refresh_interval
        self._clock = clock
        # Made once a run, not a fetch: a client loads its TLS trust store, too slow to repeat
        # on the loop.
        self._client: httpx.AsyncClient | None = None
        self._keys = KeySet()
        self._last_document: bytes | None = None
        self._reachable = False  # the last fetch's outcome
        self._last_attempt: float | None = None  # any fetch: the background's too
        self._last_triggered: float | None = None  # a fetch an unknown kid asked for
        self._inflight: asyncio.Task[None] | None = None
        self._background: asyncio.Task[None] | None = None
        self.fetches = 0  # attempts, for logs and tests

    @property
    def keys(self) -> KeySet:
        return self._keys

    async def start(self) -> None:
        """Begin the first fetch (not awaited: a failure is logged, not fatal, and early
        requests wait on it) and the background refresh."""
        self.refresh()
        self._background = asyncio.create_task(self._refresh_periodically())

    async def stop(self) -> None:
        for task in (self._background, self._inflight):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def subject(self, token: str) -> str:
        algorithm, kid = _token_header(token)
        key = self._key_for(algorithm, kid)
        if key is None:
            await self._refresh_for_unknown_key()
            key = self._key_for(algorithm, kid)
        if key is None:
            if not self._reachable:
                raise KeySetUnavailable(
                    "the identity provider's key set cannot be fetched; retry shortly",
                    self._retry_after(),
                )
            raise Unauthorized("no key in the identity provider's key set fits the token")
        return self._rules.subject(token, key.key, [algorithm])

    def _key_for(self, algorithm: str, kid: str | None) -> VerificationKey | None:
        """The one key for the token; None when the cached set has none (a refresh may
        help); Unauthorized when the set can never verify it."""
        if kid is not None:
            named = self._keys.by_kid(kid)
            if not named:
                return None
            fitting = [key for key in named if algorithm in key.algorithms]
            if not fitting:
                raise Unauthorized("the token's algorithm does not fit its key")
            return fitting[0]
        candidates = self._keys.by_algorithm(algorithm)
        if len(candidates) > 1:
            raise Unauthorized("the token has no kid and several keys fit its algorithm")
        return candidates[0] if candidates else None

    async def _refresh_for_unknown_key(self) -> None:
        """Join the fetch under way, or start one unless an unknown kid started one less
        than min_refresh_interval ago (a background refresh does not count: a key rotated
        just after it is still fetched when its first token comes)."""
        if self._inflight is None:
            now = self._clock()
            if (
                self._last_triggered is not None
                and now - self._last_triggered < self._min_refresh_interval
            ):
                return
            self._last_triggered = now
            self.refresh()
        assert self._inflight is not None
        # Shielded: a client that hangs up must not cancel the fetch the others wait on.
        await asyncio.shield(self._inflight)

    def _retry_after(self) -> int:
        if self._last_attempt is None:
            return 1
        waited = self._clock() - self._last_attempt
        return max(1, math.ceil(self._min_refresh_interval - waited))

    def refresh(self) -> asyncio.Task[None]:
        """The fetch under way, or a new one."""
        if self._inflight is None:
            self._last_attempt = self._clock()
            self._inflight = asyncio.create_task(self._fetch_and_install())
        return self._inflight

    async def _fetch_and_install(self) -> None:
        self.fetches += 1
        try:
            document = await self._download()
            if document != self._last_document:
                # In a thread: parsing a large set (RSA keys above all) is CPU work.
                keys = await asyncio.to_thread(parse_key_set, document, self._url)
                kids = sorted(str(key.kid) for key in keys.keys)
                logger.info("JWKS %s: %d keys (kids %s)", self._url, len(keys.keys), kids)
                self._keys, self._last_document = keys, document
            self._reachable = True
        except Exception as error:  # every failure is the same to a caller: keep the old keys
            self._reachable = False
            logger.warning(
                "JWKS %s: fetch failed (%s); keeping the %d cached keys",
                self._url,
                _describe(error),
                len(self._keys.keys),
            )
        finally:
            self._inflight = None

    async def _download(self) -> bytes:
        if self._client is None:  # made on the first fetch of a run; stop() closes it
            self._client = httpx.AsyncClient(
                timeout=self._fetch_timeout,
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                headers={"Accept": "application/jwk-set+json, application/json"},
            )
        async with asyncio.timeout(self._fetch_timeout):
            async with self._client.stream("GET", self._url) as response:
                if response.status_code != 200:
                    raise KeySetError(f"HTTP {response.status_code}")
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > MAX_DOCUMENT_BYTES:
                    raise KeySetError(f"the document is over {MAX_DOCUMENT_BYTES} bytes")
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_DOCUMENT_BYTES:
                        raise KeySetError(f"the document is over {MAX_DOCUMENT_BYTES} bytes")
                return bytes(body)

    async def _refresh_periodically(self) -> None:
        while True:
            delay = self._cache_seconds
            if not self._reachable:
                delay = min(delay, RETRY_FAILED_FETCH_SECONDS)
            await asyncio.sleep(delay)
            await asyncio.shield(self.refresh())


def _describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "no complete answer in time"
    if isinstance(error, httpx.TooManyRedirects):
        return f"more than {MAX_REDIRECTS} redirects"
    if isinstance(error, KeySetError):
        return str(error)
    return f"{error.__class__.__name__}: {error}"
