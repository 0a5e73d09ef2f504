# syntax=docker/dockerfile:1
# wa-notify: one image for every component. The entrypoint is the `wa-notify` console script; the
# command picks the component: api (default), worker, receiver, scheduler, migrate.
ARG PYTHON_IMAGE=python:3.11-slim

# ---- builder: resolve the locked dependencies into /app/.venv --------------------------------------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
RUN pip install uv==0.13.8
WORKDIR /src

# Third-party dependencies first: this layer is rebuilt only when the lock or a manifest changes.
COPY pyproject.toml uv.lock ./
COPY libs/common/pyproject.toml libs/common/
COPY services/api/pyproject.toml services/api/
COPY services/worker/pyproject.toml services/worker/
COPY services/webhook-receiver/pyproject.toml services/webhook-receiver/
COPY services/scheduler/pyproject.toml services/scheduler/
COPY sandbox/pyproject.toml sandbox/
RUN uv sync --frozen --no-dev --no-editable --no-install-workspace

# Then the workspace itself, installed as regular (non-editable) wheels.
COPY libs/ libs/
COPY services/ services/
COPY sandbox/ sandbox/
COPY src/ src/
RUN uv sync --frozen --no-dev --no-editable \
    && /app/.venv/bin/python -c "import wanotify.cli.main"

# ---- runtime -----------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 wanotify \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin wanotify
COPY --from=builder /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
WORKDIR /app
USER 10001:10001
# api, receiver, worker (health/metrics), scheduler (health/metrics)
EXPOSE 8080 8081 9101 9102
ENTRYPOINT ["wa-notify"]
CMD ["api"]
