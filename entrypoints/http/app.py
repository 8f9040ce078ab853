"""The Litestar application, built from a container; nothing happens at import."""

from __future__ import annotations

import asyncio
import gc
import importlib.metadata
import logging
import random
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import ResponseHeader
from litestar.di import Provide
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.stores.base import Store

from application.changes import PurgeChanges, RecordDueReminders
from application.storage import Storage
from application.tasks import PurgeIdempotencyKeys
from entrypoints.config import Settings
from entrypoints.container import Container, build_container
from entrypoints.http import metrics
from entrypoints.http.auth import Authenticator
from entrypoints.http.changes import ChangeController
from entrypoints.http.controllers import TagController, TaskController
from entrypoints.http.edge import EdgeMiddleware
from entrypoints.http.errors import EXCEPTION_HANDLERS
from entrypoints.http.openapi import declare_error_headers, docs_asset, openapi_config
from entrypoints.http.operations import health, metrics_endpoint, openapi_json, ready
from entrypoints.logs import access_logger, configure_logging
from entrypoints.mcp.http import McpEndpoint

logger = logging.getLogger("taskapi")

MAX_BODY_BYTES = 64 * 1024
PURGE_INTERVAL_SECONDS = 15 * 60
POOL_WATCH_SECONDS = 5
# Headers that tracing SDKs (OpenTelemetry, Sentry) add to every fetch a browser makes; a
# preflight that asks for one and is refused fails the whole request, so they are allowed too.
TRACING_HEADERS = ("traceparent", "tracestate", "baggage", "sentry-trace")
_USE_CASES = (
    "create_task",
    "get_task",
    "list_tasks",
    "task_statistics",
    "replace_task",
    "patch_task",
    "set_completion",
    "delete_task",
    "clear_completed",
    "list_tags",
    "read_changes",
    "follow_changes",
)


def _provide(factory: Callable[[], Any]) -> Provide:
    """Bridge one container provider into Litestar's dependency injection."""

    def provide() -> Any:
        return factory()

    return Provide(provide, sync_to_thread=False, use_cache=True)


async def _purge_expired_keys(purge: PurgeIdempotencyKeys) -> None:
    """Every worker sweeps now and then; the keys' lifetime is checked on use regardless."""
    while True:
        await asyncio.sleep(PURGE_INTERVAL_SECONDS * random.uniform(0.5, 1.5))
        try:
            purged = await purge()
        except Exception as error:  # a missed sweep is harmless; the next one catches up
            logger.warning("purging expired idempotency keys failed: %r", error)
        else:
            if purged:
                logger.info("purged %d expired idempotency keys", purged)


async def _record_due_reminders(record: RecordDueReminders, interval: float) -> None:
    """Every instance looks every `interval` seconds; SKIP LOCKED keeps them from recording
    a reminder twice. A failed round (the database down) is simply retried."""
    failing = False
    while True:
        try:
            recorded = await record()
        except Exception as error:
            if not failing:
                logger.warning("recording due reminders failed: %r", error)
            failing = True
        else:
            if failing:
                logger.info("recording due reminders again")
            failing = False
            if recorded:
                logger.debug("recorded %d due reminders", recorded)
        await asyncio.sleep(interval)


async def _purge_old_changes(purge: PurgeChanges) -> None:
    """As the idempotency keys: every worker now and then, one at a time (an advisory lock)."""
    while True:
        await asyncio.sleep(PURGE_INTERVAL_SECONDS * random.uniform(0.5, 1.5))
        try:
            purged = await purge()
        except Exception as error:
            logger.warning("purging old changes failed: %r", error)
        else:
            if purged:
                logger.info("purged %d changes past their retention", purged)


async def _watch_pool(storage: Storage[Store]) -> None:
    """Pool gauges, refreshed by every worker (so multi-process figures stay live)."""
    while True:
        metrics.record_pool(storage.pool_stats())
        await asyncio.sleep(POOL_WATCH_SECONDS)


def _rate_limit_identity(request: Request[Any, Any, Any]) -> str:
    """Limits are per user; a request without one (an unknown route) counts for its address."""
    user_id = request.path_params.get("user_id")
    if user_id:
        return f"user:{user_id}"
    return f"address:{request.client.host if request.client else '-'}"


def _allow_by_route(app: Litestar) -> dict[str, bytes]:
    """Every method each route template serves, as an Allow header value."""
    methods: dict[str, set[str]] = {}
    for route in app.routes:
        template = re.sub(r":\w+}", "}", route.path)  # scope["path_template"] has no converters
        methods.setdefault(template, set()).update(getattr(route, "methods", ()))
    return {path: ", ".join(sorted(m)).encode() for path, m in methods.items()}


def _version() -> str:
    try:
        return importlib.metadata.version("taskapi")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout that is not installed
        return "0.0.0"


def _settle_garbage_collector() -> None:
    """For a served process, once started: what exists now lives as long as the process, so
    keep it out of the cyclic collector's scans, and collect young objects less often (a
    page of 100 tasks makes over a thousand of them). Measured: +25-40% list throughput."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def create_served_app() -> Litestar:
    """The app as `taskapi serve` runs it in each worker process."""
    return create_app(settle_garbage_collector=True)


def create_app(
    container: Container | None = None, *, settle_garbage_collector: bool = False
) -> Litestar:
    """`settle_garbage_collector` is for a process that serves only this app: frozen objects
    are never collected, so a process that makes many apps (the tests) must not use it."""
    container = container or build_container()
    settings: Settings = container.settings()
    configure_logging(settings.log_format, settings.log_level)
    access_log = (
        access_logger(settings.log_format, settings.log_level) if settings.access_log else None
    )
    # Built here, not in the lifespan: a key that cannot verify tokens stops the start.
    verifier = container.token_verifier() if settings.auth_mode == "jwt" else None
    # The use cases as MCP tools at /mcp; the same token verifier as the task routes.
    mcp = McpEndpoint(
        container,
        settings,
        verifier=verifier,
        max_body_bytes=MAX_BODY_BYTES,
        version=_version(),
        access_log=access_log,
    )

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        storage: Storage[Store] = container.storage()
        await storage.start()
        if authenticator is None:
            logger.warning(
                "AUTH_MODE=none: any caller may act as any user_id; use AUTH_MODE=jwt in production"
            )
        else:
            await authenticator.verifier.start()
        background = [
            asyncio.create_task(_purge_expired_keys(container.purge_idempotency_keys())),
            asyncio.create_task(_watch_pool(storage)),
            asyncio.create_task(
                _record_due_reminders(
                    container.record_due_reminders(), settings.reminder_interval_seconds
                )
            ),
            asyncio.create_task(_purge_old_changes(container.purge_changes())),
        ]
        if settle_garbage_collector:
            _settle_garbage_collector()
        try:
            async with mcp.running():
                yield
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            if authenticator is not None:
                await authenticator.verifier.stop()
            await storage.stop()

    task_routes: list[Any] = [TaskController, TagController, ChangeController]
    authenticator: Authenticator | None = None
    if verifier is not None:
        authenticator = Authenticator(verifier)
        task_routes = [
            Router(
                path="/",
                route_handlers=task_routes,
                guards=[authenticator.guard],
                security=[{"bearerAuth": []}],  # the document says so only when it is so
            )
        ]

    middleware: list[Any] = []
    stores: dict[str, Any] = {}
    if settings.rate_limit is not None:
        stores["rate_limit"] = container.storage().rate_limit_store()
        middleware.append(
            RateLimitConfig(
                rate_limit=("minute", settings.rate_limit),
                identifier_for_request=_rate_limit_identity,
                # In JWT mode only the owner's own requests spend the owner's budget: a
                # stranger's 401s and 403s cost nothing here (they never reach the database),
                # so nobody can lock a user out. docs/operations.md says why.
                check_throttle_handler=authenticator.is_owner if authenticator else None,
                exclude=[r"^/(health|ready|metrics|docs|openapi\.json)$"],
                store="rate_limit",
            ).middleware
        )

    app = Litestar(
        route_handlers=[
            *task_routes,
            mcp.route_handler(),
            health,
            ready,
            metrics_endpoint,
            openapi_json,
            docs_asset,
        ],
        middleware=middleware,
        stores=stores,
        dependencies={name: _provide(getattr(container, name)) for name in _USE_CASES},
        exception_handlers=dict(EXCEPTION_HANDLERS),
        lifespan=[lifespan],
        on_startup=[declare_error_headers],
        request_max_body_size=MAX_BODY_BYTES,
        cors_config=CORSConfig(
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "If-Match",
                "If-None-Match",
                "Idempotency-Key",
                "X-Request-ID",
                *TRACING_HEADERS,
            ],
            expose_headers=[
                "ETag",
                "Location",
                "Link",
                "X-Request-ID",
                "Idempotent-Replayed",
                "Retry-After",
            ],
        ),
        openapi_config=openapi_config(_version()),
        response_headers=[
            ResponseHeader(
                name="X-Request-ID",
                documentation_only=True,
                required=True,
                description="The client's X-Request-ID when sane, else a generated one",
            )
        ],
        debug=False,
        logging_config=None,  # configure_logging() owns the process's logging
    )
    app.state.container = container
    # Outermost, around Litestar's own exception handling, so that 404s and 405s (raised by
    # the router, before any route middleware) carry the request id too.
    app.asgi_handler = EdgeMiddleware(
        app.asgi_handler,
        access_log=access_log,
        allow_by_route=_allow_by_route(app),
    )
    return app
