"""Helpers for the MCP tests: calling a tool and reading its result."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from mcp_types import CallToolResult

from tests.mcp.conftest import SECRET, Session


async def call(session: Session, tool: str, **arguments: Any) -> dict[str, Any]:
    """A successful call's structured content (the test fails on a tool error)."""
    result = await session.call_tool(tool, arguments)
    assert isinstance(result, CallToolResult)
    assert not result.is_error, result.structured_content
    return checked(result)


async def fail(session: Session, tool: str, **arguments: Any) -> dict[str, Any]:
    """A failed call's error object (the test fails on a success)."""
    result = await session.call_tool(tool, arguments)
    assert isinstance(result, CallToolResult)
    assert result.is_error, result.structured_content
    return checked(result)


def checked(result: CallToolResult) -> dict[str, Any]:
    """Every result: a one-line summary, then the structured content as JSON text."""
    assert result.structured_content is not None
    summary, as_json = (block.text for block in result.content)  # type: ignore[union-attr]
    assert summary.strip()
    assert "\n" not in summary
    assert json.loads(as_json) == result.structured_content
    return result.structured_content


def token(sub: str, key: str = SECRET) -> str:
    claims = {"sub": sub, "exp": datetime.now(UTC) + timedelta(minutes=5)}
    return jwt.encode(claims, key, algorithm="HS256")
