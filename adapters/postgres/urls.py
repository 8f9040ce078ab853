"""PostgreSQL URLs: whatever spelling the operator gives, one canonical form, two renderings
(a SQLAlchemy URL for the asyncpg dialect, a DSN for asyncpg itself)."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url

# libpq settings neither asyncpg nor its SQLAlchemy dialect takes (Neon's URLs carry it).
_DROPPED = frozenset({"channel_binding"})


def postgres_url(url: str) -> URL:
    """Any PostgreSQL URL (`postgresql://`, `postgres://`, `postgresql+asyncpg://`, Neon's) in
    libpq's spelling: the plain `postgresql` scheme, TLS as `sslmode`."""
    parsed = make_url(url)
    query = {k: v for k, v in parsed.query.items() if k not in _DROPPED}
    ssl = query.pop("ssl", None)  # the asyncpg dialect's spelling, as async_url() writes it
    if ssl is not None:
        query.setdefault("sslmode", ssl)
    return parsed.set(drivername="postgresql", query=query)


def async_url(url: str) -> URL:
    """The URL for SQLAlchemy's asyncpg dialect, which passes query keys to asyncpg.connect()
    as arguments: there TLS is `ssl`, not `sslmode`."""
    canonical = postgres_url(url)
    query = dict(canonical.query)
    sslmode = query.pop("sslmode", None)
    if sslmode is not None:
        query["ssl"] = sslmode
    return canonical.set(drivername="postgresql+asyncpg", query=query)


def asyncpg_dsn(url: str) -> str:
    """The DSN for asyncpg.connect() and create_pool(), which read libpq's `sslmode` (any key
    they do not know would go to the server as a setting)."""
    return postgres_url(url).render_as_string(hide_password=False)
