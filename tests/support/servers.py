"""PostgreSQL, Redis and SQS for the tests: the servers at 127.0.0.1 when they answer, otherwise the
embedded ones from the wheels (set WANOTIFY_TEST_EMBEDDED=1 to force that path)."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import redis

from wanotify.cli.embedded import EmbeddedPostgres, EmbeddedRedis, port_open

FORCE_EMBEDDED = os.environ.get("WANOTIFY_TEST_EMBEDDED") == "1"
LOCAL_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS = "redis://127.0.0.1:6379/0"


def _local_pg_usable() -> bool:
    if FORCE_EMBEDDED or not port_open("127.0.0.1", 5432):
        return False

    async def probe() -> bool:
        try:
            conn = await asyncpg.connect(LOCAL_PG, timeout=3)
        except Exception:
            return False
        await conn.close()
        return True

    return asyncio.run(probe())


def _local_redis_usable() -> bool:
    if FORCE_EMBEDDED or not port_open("127.0.0.1", 6379):
        return False
    try:
        return bool(redis.Redis.from_url(LOCAL_REDIS, socket_timeout=2).ping())
    except redis.RedisError:
        return False


@contextmanager
def server_dir(prefix: str) -> Iterator[Path]:
    """A data folder for an embedded server, outside pytest's tmp tree.

    As root, PostgreSQL runs as a system user that must traverse every parent folder; pytest
    restricts ``/tmp/pytest-of-<user>`` to 0700 whenever a session (or an xdist worker) starts.
    """
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def postgres_admin_url(tmp: Path) -> Iterator[str]:
    """A URL to a server where the tests may create databases."""
    if _local_pg_usable():
        yield LOCAL_PG
        return
    with server_dir("wanotify-test-pg-") as data:
        server = EmbeddedPostgres(data / "postgres", durable=False)
        server.start()
        try:
            yield f"postgresql://postgres@127.0.0.1:{server.port}/postgres"
        finally:
            server.stop()


@contextmanager
def redis_url(tmp: Path) -> Iterator[str]:
    if _local_redis_usable():
        yield LOCAL_REDIS
        return
    server = EmbeddedRedis(tmp / "redis", durable=False)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


async def create_database(admin_url: str, prefix: str = "wanotify_test") -> str:
    name = f"{prefix}_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


async def drop_database(admin_url: str, url: str) -> None:
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
