"""HTTP plumbing shared by the four services: uvicorn serving, request metrics, ops endpoints."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any

import uvicorn
from litestar import Litestar, Response, get
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from wanotify.common.config import HttpSettings
from wanotify.common.lifecycle import stop_on_signals
from wanotify.common.metrics import Metrics


def metrics_middleware(metrics: Metrics) -> Callable[[ASGIApp], ASGIApp]:
    """Count and time requests by route template (bounded labels), never by raw path."""

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            started = time.perf_counter()
            status = 500

            async def capture(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            try:
                await app(scope, receive, capture)
            finally:
                route = str(scope.get("path_template") or "unmatched")
                metrics.http_requests.labels(
                    metrics.service, route, scope.get("method", "GET"), str(status)
                ).inc()
                metrics.http_duration.labels(metrics.service, route).observe(time.perf_counter() - started)

        return middleware

    return factory


def ops_handlers(metrics: Metrics, health: Callable[[], Awaitable[tuple[int, dict[str, Any]]]]) -> list[Any]:
    """``/livez`` (process only), ``/health`` (dependencies) and ``/metrics``."""

    @get("/livez", sync_to_thread=False, include_in_schema=False)
    def livez() -> dict[str, str]:
        return {"status": "alive"}

    @get("/health")
    async def health_handler() -> Response[dict[str, Any]]:
        code, body = await health()
        return Response(body, status_code=code)

    @get("/metrics", sync_to_thread=False, include_in_schema=False)
    def metrics_handler() -> Response[bytes]:
        payload, content_type = metrics.exposition()
        return Response(payload, media_type=content_type)

    return [livez, health_handler, metrics_handler]


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the process's stop event decides when to exit."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


async def serve(app: Litestar | ASGIApp, host: str, port: int, stop: asyncio.Event) -> None:
    """Run uvicorn inside the current loop until ``stop`` is set, then shut down gracefully."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve())
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stopper.cancel()
    await task
    if not server.started:
        raise RuntimeError(f"could not serve on {host}:{port}")


async def run_with_ops(
    main: Coroutine[Any, Any, None],
    http: HttpSettings,
    metrics: Metrics,
    health: Callable[[], Awaitable[tuple[int, dict[str, Any]]]],
    stop: asyncio.Event,
) -> None:
    """A background service (worker, scheduler) next to its small ``/livez``, ``/health``, ``/metrics``
    server; port 0 runs without it."""
    tasks = [asyncio.create_task(main)]
    if http.port:
        ops = Litestar(route_handlers=ops_handlers(metrics, health), logging_config=None)
        tasks.append(asyncio.create_task(serve(ops, http.host, http.port, stop)))
    await asyncio.gather(*tasks)


def run_until_signalled(service: Callable[[asyncio.Event], Coroutine[Any, Any, None]]) -> None:
    """Run ``service(stop)`` where SIGTERM or SIGINT sets ``stop``."""

    async def main() -> None:
        stop = asyncio.Event()
        stop_on_signals(stop)
        await service(stop)

    asyncio.run(main())


def serve_until_signalled(app: Litestar | ASGIApp, host: str, port: int) -> None:
    """``wa-notify api|receiver``: serve until SIGTERM or SIGINT, exit 0 after a graceful shutdown."""
    run_until_signalled(lambda stop: serve(app, host, port, stop))
