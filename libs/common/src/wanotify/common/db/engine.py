"""Engine construction: one async engine per process, from the settings."""

from __future__ import annotations

from sqlalchemy.engine import make_url
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


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
    )
