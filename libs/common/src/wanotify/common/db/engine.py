"""Engine construction: one async engine per process, from the settings.

A database error must not carry the values of the statement into a log: SQLAlchemy's
``[parameters: ...]`` is hidden, and so is PostgreSQL's ``DETAIL`` (``Key (id)=(…) already exists``,
``Failing row contains (…)``), which echoes them from the server side.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from wanotify.common.config import ConfigError


def async_url(url: str) -> str:
    """Accept the plain ``postgresql://`` form operators write and use the asyncpg driver."""
    if not url:
        raise ConfigError("DATABASE_URL is required")
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ConfigError("DATABASE_URL must be a PostgreSQL URL")
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def _drop_server_detail(context: ExceptionContext) -> None:
    """asyncpg's error (the cause of SQLAlchemy's) prints its ``detail`` in every traceback."""
    error: BaseException | None = context.original_exception
    while error is not None:
        if getattr(error, "detail", None) and hasattr(error, "sqlstate"):
            failed: Any = error
            failed.detail = None
        error = error.__cause__


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    engine = create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
        hide_parameters=True,
    )
    event.listen(engine.sync_engine, "handle_error", _drop_server_detail)
    return engine
