"""MCP over Streamable HTTP at /mcp, in the HTTP app's process: the SDK's session manager,
stateless and answering JSON (each POST is one call, on any worker), behind the REST API's
bearer-token check in AUTH_MODE=jwt and the SDK's Host/Origin check (DNS rebinding), whose
allowed values come from the settings (MCP_ALLOWED_HOSTS, MCP_ALLOWED_ORIGINS)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final

import msgspec
from litestar.handlers import ASGIRouteHandler, asgi
from litestar.types import Receive, Scope, Send
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings

from entrypoints.config import Settings
from entrypoints.container import Container
from entrypoints.http.auth import TokenVerifier, Unauthorized, bearer_token
from entrypoints.http.request_id import request_id_of
from entrypoints.http.schemas import ErrorBody, ErrorEnvelope
from entrypoints.mcp.server import SUBJECT_KEY, ToolCalls, build_server

MCP_PATH: Final = "/mcp"
ANY_HOST: Final = "*"


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """The SDK refuses a Host (421) or an Origin (403) not listed; `*` among the hosts turns
    the check off (behind a proxy that checks Host itself)."""
    if ANY_HOST in settings.mcp_allowed_hosts:
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=list(settings.mcp_allowed_hosts),
        allowed_origins=list(settings.mcp_allowed_origins),
    )


def _authorization(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return value.decode("latin-1")
    return None


async def _unauthorized(scope: Scope, send: Send, refusal: Unauthorized, challenged: bool) -> None:
    """The REST API's 401, envelope and challenge alike."""
    body = ErrorEnvelope(
        error=ErrorBody(code="UNAUTHORIZED", message=str(refusal), request_id=request_id_of(scope))
    )
    challenge = b'Bearer error="invalid_token"' if challenged else b"Bearer"
    start: Any = {
        "type": "http.response.start",
        "status": 401,
        "headers": [
            (b"content-type", b"application/json"),
            (b"www-authenticate", challenge),
        ],
    }
    await send(start)
    await send(
        {"type": "http.response.body", "body": msgspec.json.encode(body), "more_body": False}
    )


class McpEndpoint:
    """/mcp: mounted in the app by `route_handler`, started by `running` in its lifespan."""

    def __init__(
        self,
        container: Container,
        settings: Settings,
        *,
        verifier: TokenVerifier | None,
        max_body_bytes: int,
        version: str = "",
        access_log: Any = None,
    ) -> None:
        self._verifier = verifier
        calls = ToolCalls(
            container, transport="http", tokens=verifier is not None, access_log=access_log
        )
        self.server = build_server(calls, version)
        self._security = transport_security(settings)
        self._max_body_bytes = max_body_bytes
        self.sessions: StreamableHTTPSessionManager | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """A session manager per run of the app's lifespan: the SDK's runs once only, and an
        app may be started again (the tests' ASGI clients start it per request)."""
        self.sessions = StreamableHTTPSessionManager(
            app=self.server,
            json_response=True,
            stateless=True,
            security_settings=self._security,
            max_request_body_size=self._max_body_bytes,
        )
        async with self.sessions.run():
            yield

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._verifier is not None:
            authorization = _authorization(scope)
            try:
                subject = await self._verifier.subject(bearer_token(authorization))
            except Unauthorized as refusal:
                await _unauthorized(scope, send, refusal, authorization is not None)
                return
            scope[SUBJECT_KEY] = subject  # type: ignore[typeddict-unknown-key]
        if self.sessions is None:
            raise RuntimeError("/mcp was called before the app's lifespan started")
        await self.sessions.handle_request(scope, receive, send)  # type: ignore[arg-type]

    def route_handler(self) -> ASGIRouteHandler:
        async def mcp(scope: Scope, receive: Receive, send: Send) -> None:
            await self(scope, receive, send)

        return asgi(MCP_PATH, copy_scope=True, name="mcp")(mcp)
