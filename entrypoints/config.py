"""Settings from the environment and an optional `.env` file; the environment wins."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from dotenv import dotenv_values


class ConfigError(ValueError):
    """A setting has a value the service cannot use; the message names it."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None
    if not value >= minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {raw!r}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    if raw.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.strip().lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = (env.get(name) or default).strip().lower()
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _pem(value: str | None) -> str | None:
    """A PEM key, given inline (with literal \\n allowed, for one-line env files) or as a path."""
    if not value:
        return None
    if "-----BEGIN" not in value and Path(value).is_file():
        return Path(value).read_text()
    return value.replace("\\n", "\n")


def _jwks_url(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    url = value.strip()
    parsed = urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(f"JWT_JWKS_URL must be an http:// or https:// URL, not {url!r}")
    return url


_KEY_SOURCES = ("JWT_SECRET", "JWT_PUBLIC_KEY", "JWT_JWKS_URL")


# The SDK's own defaults for a server on this machine: Host and Origin headers of localhost.
DEFAULT_MCP_HOSTS: tuple[str, ...] = (
    "127.0.0.1",
    "127.0.0.1:*",
    "localhost",
    "localhost:*",
    "[::1]:*",
)
DEFAULT_MCP_ORIGINS: tuple[str, ...] = (
    "http://127.0.0.1:*",
    "http://localhost:*",
    "http://[::1]:*",
)


def _list(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    return tuple(item.strip() for item in raw.split(",") if item.strip())


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str | None = None
    data_dir: Path = Path(".data")
    task_store: Literal["postgres", "memory"] = "postgres"
    max_tasks_per_user: int = 10_000
    migrate_on_start: bool = True
    auth_mode: Literal["none", "jwt"] = "none"
    jwt_secret: str | None = field(default=None, repr=False)
    jwt_public_key: str | None = None
    # A key set (JWKS) from an identity provider, Better Auth's /api/auth/jwks for one.
    jwt_jwks_url: str | None = None
    jwt_jwks_cache_seconds: int = 300
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_leeway_seconds: int = 0
    cors_origins: tuple[str, ...] = ("http://localhost:3000",)
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    log_format: Literal["console", "json"] = "console"
    log_level: str = "INFO"
    access_log: bool = True
    # Seconds a client has to send a whole request (headers and body); open connections a
    # worker keeps before it answers new ones with 503.
    http_read_timeout: float = 10.0
    http_max_connections: int = 1000
    # Requests per user per minute; None: no limit.
    rate_limit: int | None = None
    db_pool_size: int = 10
    db_max_overflow: int = 10
    db_connect_timeout: float = 5.0
    db_statement_timeout: float = 5.0
    db_transaction_pooler: str = "auto"
    # Signs list cursors; instances behind one load balancer must share it. None: generated
    # (entrypoints/cursor_secret.py says where it is kept).
    cursor_secret: str | None = field(default=None, repr=False)
    # /mcp answers only requests whose Host (and Origin, when sent) is listed: DNS rebinding
    # protection. `host:*` allows any port; "*" among the hosts turns the check off.
    mcp_allowed_hosts: tuple[str, ...] = DEFAULT_MCP_HOSTS
    mcp_allowed_origins: tuple[str, ...] = DEFAULT_MCP_ORIGINS
    # Incremental sync (contract 1.1): how long changes are kept; the live stream's comment
    # interval; how often each instance looks for due reminders.
    changes_retention_days: int = 30
    events_keepalive_seconds: float = 15.0
    reminder_interval_seconds: float = 1.0

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env"
    ) -> Settings:
        env: dict[str, str] = {}
        if env_file is not None and Path(env_file).is_file():
            env.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        env.update(os.environ if environ is None else environ)
        origins = env.get("CORS_ORIGINS", "http://localhost:3000")
        key_sources = [n for n in _KEY_SOURCES if env.get(n)]
        if (env.get("AUTH_MODE") or "").strip().lower() == "jwt" and len(key_sources) != 1:
            raise ConfigError(
                f"AUTH_MODE=jwt needs exactly one of {', '.join(_KEY_SOURCES)}"
                + (f", not {' and '.join(key_sources)}" if key_sources else "")
            )
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            data_dir=Path(env.get("TASKAPI_DATA_DIR") or ".data"),
            task_store=_choice(env, "TASK_STORE", "postgres", ("postgres", "memory")),  # type: ignore[arg-type]
            max_tasks_per_user=_int(env, "MAX_TASKS_PER_USER", 10_000),
            migrate_on_start=_bool(env, "TASKAPI_MIGRATE_ON_START", True),
            auth_mode=_choice(env, "AUTH_MODE", "none", ("none", "jwt")),  # type: ignore[arg-type]
            jwt_secret=env.get("JWT_SECRET") or None,
            jwt_public_key=_pem(env.get("JWT_PUBLIC_KEY")),
            jwt_jwks_url=_jwks_url(env.get("JWT_JWKS_URL")),
            jwt_jwks_cache_seconds=_int(env, "JWT_JWKS_CACHE_SECONDS", 300),
            jwt_issuer=env.get("JWT_ISSUER") or None,
            jwt_audience=env.get("JWT_AUDIENCE") or None,
            jwt_leeway_seconds=_int(env, "JWT_LEEWAY_SECONDS", 0, minimum=0),
            cors_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
            host=env.get("HOST") or "127.0.0.1",
            port=_int(env, "PORT", 8000),
            workers=_int(env, "WORKERS", 1),
            log_format=_choice(env, "LOG_FORMAT", "console", ("console", "json")),  # type: ignore[arg-type]
            access_log=_bool(env, "ACCESS_LOG", True),
            http_read_timeout=float(_int(env, "HTTP_READ_TIMEOUT", 10)),
            http_max_connections=_int(env, "HTTP_MAX_CONNECTIONS", 1000),
            rate_limit=_int(env, "RATE_LIMIT", 0, minimum=0) or None,
            log_level=_choice(
                env, "LOG_LEVEL", "info", ("debug", "info", "warning", "error")
            ).upper(),
            db_pool_size=_int(env, "DB_POOL_SIZE", 10),
            db_max_overflow=_int(env, "DB_MAX_OVERFLOW", 10, minimum=0),
            db_connect_timeout=float(_int(env, "DB_CONNECT_TIMEOUT", 5)),
            db_statement_timeout=float(_int(env, "DB_STATEMENT_TIMEOUT", 5)),
            db_transaction_pooler=_choice(
                env, "DB_TRANSACTION_POOLER", "auto", ("auto", "true", "false")
            ),
            cursor_secret=env.get("CURSOR_SECRET") or None,
            mcp_allowed_hosts=_list(env, "MCP_ALLOWED_HOSTS", DEFAULT_MCP_HOSTS),
            mcp_allowed_origins=_list(env, "MCP_ALLOWED_ORIGINS", DEFAULT_MCP_ORIGINS),
            changes_retention_days=_int(env, "CHANGES_RETENTION_DAYS", 30),
            events_keepalive_seconds=_float(env, "EVENTS_KEEPALIVE_SECONDS", 15.0, 0.05),
            reminder_interval_seconds=_float(env, "REMINDER_INTERVAL_SECONDS", 1.0, 0.05),
        )
