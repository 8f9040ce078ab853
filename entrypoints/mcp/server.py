"""The MCP server (the SDK's low-level `Server`): the tool list, and one way to call a tool
whatever the transport. A call never raises: every failure is a tool error carrying the REST
error object; each call is counted in /metrics and written as one access-log line."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Final

import msgspec
from mcp.server import Server
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    CallToolRequestParams,
    CallToolResult,
    ListToolsResult,
    PaginatedRequestParams,
    TextContent,
    Tool,
)
from msgspec import UNSET

from entrypoints.http import metrics
from entrypoints.http.auth import Forbidden
from entrypoints.http.decoding import RequestInvalid
from entrypoints.http.request_id import current_request_id, new_request_id, request_id_of
from entrypoints.mcp.arguments import decode_arguments, input_schema
from entrypoints.mcp.errors import error_body
from entrypoints.mcp.tools import TOOLS, TOOLS_BY_NAME, ToolSpec

if TYPE_CHECKING:
    from mcp.server import ServerRequestContext

    from entrypoints.container import Container

# Where the HTTP endpoint (http.py) leaves the verified token's subject in the request's scope.
SUBJECT_KEY: Final = "taskapi.mcp.subject"
SERVER_NAME: Final = "taskapi"
INSTRUCTIONS: Final = (
    "Tools for one user's task list: add, list, read, change, complete and delete tasks, and "
    "count them. Task ids come from earlier results. Timestamps are RFC 3339 with an offset "
    "(2026-12-01T17:00:00Z). A failed call returns a tool error whose structured content is "
    '{"code", "message", "details"?}: VALIDATION_ERROR names the argument in details, '
    "TASK_NOT_FOUND means the user has no such task."
)


def tool_list(*, user_id_required: bool) -> list[Tool]:
    return [
        Tool(
            name=spec.name,
            title=spec.title,
            description=spec.description,
            input_schema=input_schema(spec.arguments, user_id_required=user_id_required),
            output_schema=spec.output_schema,
            annotations=spec.annotations,
        )
        for spec in TOOLS
    ]


def _owner(user_id: Any, subject: str | None) -> str:
    """The user a call acts for: its `user_id` argument, or with a token the token's subject
    (a `user_id` argument must then be that subject)."""
    if subject is None:
        if user_id is UNSET:
            raise RequestInvalid.of("user_id", "is required")
        return str(user_id)
    if user_id is not UNSET and user_id != subject:
        raise Forbidden("the token's subject is not this user_id")
    return subject


def _result(content: dict[str, Any], summary: str, *, is_error: bool) -> CallToolResult:
    # The summary for a reader, then the same JSON as the structured content, for clients
    # that show a model only text (the MCP specification asks for it).
    return CallToolResult(
        content=[
            TextContent(type="text", text=summary),
            TextContent(type="text", text=msgspec.json.encode(content).decode()),
        ],
        structured_content=content,
        is_error=is_error,
    )


class ToolCalls:
    """Calls a tool for a transport. `tokens`: the HTTP endpoint verifies a bearer token and
    leaves its subject in the scope (AUTH_MODE=jwt); without, user_id is a required argument."""

    def __init__(
        self, container: Container, *, transport: str, tokens: bool, access_log: Any = None
    ) -> None:
        self._container = container
        self._transport = transport
        self._tokens = tokens
        self._access_log = access_log
        self._tools = ListToolsResult(tools=tool_list(user_id_required=not tokens))

    async def list_tools(
        self, ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None
    ) -> ListToolsResult:
        return self._tools

    async def call_tool(
        self, ctx: ServerRequestContext[Any], params: CallToolRequestParams
    ) -> CallToolResult:
        scope = getattr(ctx.request, "scope", None)
        request_id = new_request_id() if scope is None else request_id_of(scope)
        subject = None if scope is None else scope.get(SUBJECT_KEY)
        # The tool runs in the SDK's task, outside the HTTP request's context: log lines of
        # this call carry its request id all the same.
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        spec = TOOLS_BY_NAME.get(params.name)
        outcome = "CANCELLED"  # unless the call gets as far as an outcome
        try:
            if spec is None:
                outcome = "UNKNOWN_TOOL"
                raise MCPError(INVALID_PARAMS, f"unknown tool: {params.name}")
            result, outcome = await self._call(spec, params.arguments, subject, request_id)
            return result
        finally:
            seconds = time.perf_counter() - started
            tool = spec.name if spec is not None else "unknown"
            metrics.observe_tool_call(tool, outcome, seconds)
            if self._access_log is not None:
                self._access_log.info(
                    "tool_call",
                    transport=self._transport,
                    tool=tool,
                    outcome=outcome,
                    duration_ms=round(seconds * 1000, 3),
                )
            current_request_id.reset(token)

    async def _call(
        self,
        spec: ToolSpec,
        arguments: dict[str, Any] | None,
        subject: str | None,
        request_id: str,
    ) -> tuple[CallToolResult, str]:
        """The result and its outcome: "ok", or the error's code."""
        try:
            if self._tokens and subject is None:
                raise RuntimeError("the MCP endpoint passed no verified subject")
            args = decode_arguments(arguments, spec.arguments)
            owner = _owner(args.user_id, subject)  # type: ignore[attr-defined]
            result = await spec.run(self._container, owner, args)
        except Exception as error:
            body = error_body(error, request_id, spec.name)
            content = msgspec.to_builtins(body)
            return _result(content, f"{body.code}: {body.message}", is_error=True), body.code
        return _result(result.content, result.summary, is_error=False), "ok"


def build_server(calls: ToolCalls, version: str = "") -> Server[Any]:
    server: Server[Any] = Server(
        SERVER_NAME,
        version=version,
        title="taskapi",
        instructions=INSTRUCTIONS,
        on_list_tools=calls.list_tools,
        on_call_tool=calls.call_tool,
    )
    # No OpenTelemetry here: /metrics and the access log say what a call did, and the span
    # middleware costs every call.
    server.middleware.clear()
    return server
