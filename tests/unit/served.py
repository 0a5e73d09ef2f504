"""An ASGI application served by real uvicorn (``wanotify.common.http.serve``) on a free port."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from litestar import Litestar
from litestar.types import ASGIApp

from wanotify.cli.embedded import free_port
from wanotify.common.http import serve


@contextlib.asynccontextmanager
async def served(app: Litestar | ASGIApp) -> AsyncIterator[tuple[str, int]]:
    port = free_port()
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, "127.0.0.1", port, stop))
    for _ in range(200):
        if task.done():
            await task  # raises why it could not serve
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.02)
            continue
        writer.close()
        await writer.wait_closed()
        break
    try:
        yield "127.0.0.1", port
    finally:
        stop.set()
        await task
