"""A real JWKS server on 127.0.0.1 for the tests, with keys made by `cryptography`, and the
ways a key server misbehaves: slow, a redirect loop, an error status, a huge document."""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

HOLD_AT_MOST_SECONDS = 30


@dataclass
class SigningKey:
    """A private key, its kid, and the JWK the server publishes for it."""

    kid: str
    private: Any
    jwk: dict[str, Any]

    def sign(self, claims: dict[str, Any], algorithm: str, **header: Any) -> str:
        headers = {k: v for k, v in {"kid": self.kid, **header}.items() if v is not None}
        headers["typ"] = None  # as Better Auth: no typ
        return jwt.encode(claims, self.private, algorithm=algorithm, headers=headers)


def ed25519_key(kid: str, *, alg: str | None = "EdDSA") -> SigningKey:
    private = ed25519.Ed25519PrivateKey.generate()
    jwk = OKPAlgorithm.to_jwk(private.public_key(), as_dict=True)
    return SigningKey(kid, private, _named(jwk, kid, alg))


def p256_key(kid: str, *, alg: str | None = "ES256") -> SigningKey:
    private = ec.generate_private_key(ec.SECP256R1())
    jwk = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    return SigningKey(kid, private, _named(jwk, kid, alg))


_RSA_PRIVATE = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def rsa_key(kid: str, *, alg: str | None = None, fresh: bool = False) -> SigningKey:
    """One RSA key for the module unless `fresh` (generating one takes a while)."""
    private = rsa.generate_private_key(65537, 2048) if fresh else _RSA_PRIVATE
    jwk = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    return SigningKey(kid, private, _named(jwk, kid, alg))


def _named(jwk: dict[str, Any], kid: str, alg: str | None) -> dict[str, Any]:
    jwk = {**jwk, "kid": kid}
    jwk.pop("key_ops", None)
    if alg is not None:
        jwk["alg"] = alg
    return jwk


@dataclass
class JwksServer:
    """Serves `document` at /jwks; `mode` says how: ok, hold (until `release` is set),
    redirect_loop, status (answers `status`), unbounded (no Content-Length)."""

    document: bytes = b'{"keys": []}'
    mode: str = "ok"
    status: int = 500
    fetches: int = 0
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None

    def publish(self, *keys: SigningKey | dict[str, Any]) -> None:
        jwks = [key.jwk if isinstance(key, SigningKey) else key for key in keys]
        self.document = json.dumps({"keys": jwks}).encode()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/jwks"

    def start(self) -> JwksServer:
        jwks = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                jwks.fetches += 1
                if jwks.mode == "redirect_loop":
                    self.send_response(302)
                    self.send_header("Location", self.path)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if jwks.mode == "status":
                    self.send_response(jwks.status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if jwks.mode == "hold":
                    jwks.holding.set()
                    jwks.release.wait(HOLD_AT_MOST_SECONDS)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                if jwks.mode != "unbounded":
                    self.send_header("Content-Length", str(len(jwks.document)))
                self.end_headers()
                # The client may give up (a timeout, a size cap): that is the point.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(jwks.document)

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def close(self) -> None:
        """The key server goes away: its port refuses connections."""
        self.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
