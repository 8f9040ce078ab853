"""Prometheus metrics: requests by route template, method and status; latency; the pool.

With several worker processes `taskapi serve` sets PROMETHEUS_MULTIPROC_DIR before the
workers start, so every worker writes its figures there and /metrics adds them up.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

_METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS: Final = Counter(
    "taskapi_http_requests_total",
    "HTTP requests by route template, method and status",
    ["route", "method", "status"],
)
LATENCY: Final = Histogram(
    "taskapi_http_request_duration_seconds",
    "HTTP request duration by route template and method",
    ["route", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
TOOL_CALLS: Final = Counter(
    "taskapi_mcp_tool_calls_total",
    "MCP tool calls by tool and outcome (ok, or the error code of a tool error)",
    ["tool", "outcome"],
)
TOOL_LATENCY: Final = Histogram(
    "taskapi_mcp_tool_call_duration_seconds",
    "MCP tool call duration by tool, from decoding its arguments to its result",
    ["tool"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
POOL: Final = Gauge(
    "taskapi_db_pool_connections",
    "Database pool connections by state (summed over live worker processes)",
    ["state"],
    multiprocess_mode="livesum",
)


def route_label(path_template: str | None) -> str:
    """`/api/{user_id:str}/tasks` -> `/api/{user_id}/tasks`; no route matched -> `unmatched`."""
    if not path_template:
        return "unmatched"
    return path_template.replace(":str", "")


# The bound children per (route, method, status): labels() is costly to call per request.
# Routes are templates and methods a fixed set, so this stays as small as the label space.
_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def observe(route: str, method: str, status: int, seconds: float) -> None:
    children = _children.get((route, method, status))
    if children is None:
        known = method if method in _METHODS else "OTHER"  # unknown methods must not grow labels
        children = (REQUESTS.labels(route, known, str(status)), LATENCY.labels(route, known))
        if known == method:  # cache only what can repeat: the key must not grow with junk
            _children[route, method, status] = children
    count, latency = children
    count.inc()
    latency.observe(seconds)


def observe_tool_call(tool: str, outcome: str, seconds: float) -> None:
    """`tool` and `outcome` come from fixed sets (the tools, the error codes): bounded labels."""
    TOOL_CALLS.labels(tool, outcome).inc()
    TOOL_LATENCY.labels(tool).observe(seconds)


def record_pool(stats: Mapping[str, int]) -> None:
    for state, value in stats.items():
        POOL.labels(state).set(value)


def render() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
