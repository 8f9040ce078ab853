# syntax=docker/dockerfile:1
# Multi-stage: uv resolves the locked dependencies in a builder; the runtime image holds
# the virtualenv and the code, and runs as an unprivileged user.

FROM python:3.11-slim AS builder
COPY --from=ghcr.io/astral-sh/uv:0.13 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
WORKDIR /app
# Dependencies first, so code changes do not re-install them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY domain ./domain
COPY application ./application
COPY adapters ./adapters
COPY entrypoints ./entrypoints
COPY alembic ./alembic
COPY alembic.ini ./
RUN uv sync --frozen --no-dev --no-editable

FROM python:3.11-slim AS runtime
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin taskapi
WORKDIR /app
COPY --from=builder --chown=taskapi:taskapi /app /app
# The embedded PostgreSQL's files and the generated cursor secret (with no DATABASE_URL):
# a volume, so they outlive the container. Made here first, so that a new named volume
# starts out owned by the unprivileged user.
RUN install -d -o taskapi -g taskapi -m 0700 /app/.data
VOLUME ["/app/.data"]
ENV PATH="/app/.venv/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    LOG_FORMAT=json \
    TASKAPI_DATA_DIR=/app/.data
USER taskapi
EXPOSE 8000
# On the port the service listens on: the shell expands PORT when the check runs.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
  CMD python -c "import sys,urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:${PORT:-8000}/health', timeout=2).status != 200)"
# SIGTERM lets in-flight requests finish, then closes the pool.
STOPSIGNAL SIGTERM
CMD ["taskapi", "serve"]
