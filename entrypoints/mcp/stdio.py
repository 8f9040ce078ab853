"""MCP over standard input and output (`taskapi mcp`): a local process for one client, with
no token, so every tool takes `user_id` as a required argument."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcp.server.stdio import stdio_server

from entrypoints.logs import access_logger
from entrypoints.mcp.server import ToolCalls, build_server

if TYPE_CHECKING:
    from entrypoints.container import Container


async def serve_stdio(container: Container, version: str = "") -> None:
    """Serve until the client closes standard input. While serving, the SDK points file
    descriptor 1 at standard error, so nothing but the protocol reaches standard output;
    logs and the access log go to standard error."""
    settings = container.settings()
    access_log = (
        access_logger(settings.log_format, settings.log_level) if settings.access_log else None
    )
    calls = ToolCalls(container, transport="stdio", tokens=False, access_log=access_log)
    server = build_server(calls, version)
    storage = container.storage()
    async with stdio_server() as (read_stream, write_stream):
        # Started inside, so that whatever the start prints (the embedded server) misses the
        # wire; the client's first request waits in the pipe meanwhile.
        await storage.start()
        try:
            await server.run(read_stream, write_stream, server.create_initialization_options())
        finally:
            await storage.stop()
