"""Dependency checks behind every ``/health``: the seed's document, with real probes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from wanotify.common.clock import iso, utcnow
from wanotify.common.queue.base import Queue

Check = Callable[[], Awaitable[dict[str, Any]]]


async def _timed(probe: Callable[[], Awaitable[Any]], limit: float = 2.0) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(probe(), limit)
    except Exception as exc:
        return {"status": "unhealthy", "error": type(exc).__name__}
    return {"status": "healthy", "latency_ms": round((time.perf_counter() - started) * 1000, 1)}


def database_check(engine: AsyncEngine) -> Check:
    async def probe() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    return lambda: _timed(probe)


def redis_check(redis: Redis) -> Check:
    async def probe() -> None:
        await redis.ping()

    return lambda: _timed(probe)


def queue_check(queue: Queue, on_depth: Callable[[int], None] | None = None) -> Check:
    async def check() -> dict[str, Any]:
        try:
            depth = await asyncio.wait_for(queue.depth(), 3.0)
        except Exception as exc:
            return {"status": "unhealthy", "error": type(exc).__name__}
        if on_depth is not None:
            on_depth(depth.total)
        return {
            "status": "healthy",
            "backend": queue.backend,
            "queue_depth": depth.visible,
            "in_flight": depth.in_flight,
            "delayed": depth.delayed,
        }

    return check


def meta_check(http: httpx.AsyncClient, base_url: str) -> Check:
    """Reachability of the Graph API host: any HTTP answer counts; the result is cached for 10 s."""
    last: dict[str, Any] = {}

    async def check() -> dict[str, Any]:
        now = time.monotonic()
        if last and now - last["_at"] < 10:
            return {k: v for k, v in last.items() if k != "_at"}
        try:
            await http.get(base_url, timeout=2.0)
            result: dict[str, Any] = {"status": "healthy"}
        except httpx.HTTPError as exc:
            result = {"status": "unhealthy", "error": type(exc).__name__}
        result["last_check"] = iso(utcnow())
        last.clear()
        last.update(result, _at=now)
        return result

    return check


async def run_checks(
    version: str, required: dict[str, Check], optional: dict[str, Check] | None = None
) -> tuple[int, dict[str, Any]]:
    """200 when every required dependency is healthy (``degraded`` if an optional one is not), else 503."""
    names = [*required, *(optional or {})]
    checks = [*required.values(), *(optional or {}).values()]
    results = dict(zip(names, await asyncio.gather(*(c() for c in checks)), strict=True))
    required_ok = all(results[n]["status"] == "healthy" for n in required)
    all_ok = all(r["status"] == "healthy" for r in results.values())
    status = "healthy" if all_ok else ("degraded" if required_ok else "unhealthy")
    body = {"status": status, "timestamp": iso(utcnow()), "version": version, "checks": results}
    return (200 if required_ok else 503), body
