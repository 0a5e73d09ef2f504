"""Client webhook endpoints for tests: a real HTTP server that records every request it gets.

Each path is its own endpoint. ``answers`` gives a path the statuses (and headers) it answers in
turn before it answers 200; ``delay`` makes it slow; ``most_in_flight`` is the most requests it
held at once.
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx
import msgspec
from litestar import Litestar, Request, Response, post
from litestar.logging.config import LoggingConfig
from litestar.params import PathParameter

from wanotify.cli.embedded import free_port
from wanotify.common.http import serve


class Received(msgspec.Struct, frozen=True):
    path: str
    body: bytes
    headers: dict[str, str]
    answered: int

    def json(self) -> Any:
        return msgspec.json.decode(self.body)


class Sink:
    def __init__(self) -> None:
        self.url = ""
        self.received: dict[str, list[Received]] = defaultdict(list)
        self.answers: dict[str, list[tuple[int, dict[str, str]]]] = defaultdict(list)
        self.delay: dict[str, float] = {}
        self.bodies: dict[str, bytes] = {}
        self.in_flight: dict[str, int] = defaultdict(int)
        self.most_in_flight: dict[str, int] = defaultdict(int)

    def at(self, path: str) -> str:
        return f"{self.url}/{path}"

    def delivered(self, path: str) -> list[Received]:
        return [r for r in self.received[path] if 200 <= r.answered < 300]

    def app(self) -> Litestar:
        @post("/{path:str}", status_code=200)
        async def hook(
            request: Request[Any, Any, Any], path: Annotated[str, PathParameter()]
        ) -> Response[bytes]:
            body = await request.body()
            self.in_flight[path] += 1
            self.most_in_flight[path] = max(self.most_in_flight[path], self.in_flight[path])
            try:
                if path in self.delay:
                    await asyncio.sleep(self.delay[path])
            finally:
                self.in_flight[path] -= 1
            status, headers = self.answers[path].pop(0) if self.answers[path] else (200, {})
            self.received[path].append(
                Received(path, body, {k.lower(): v for k, v in request.headers.items()}, status)
            )
            return Response(
                content=self.bodies.get(path, b'{"ok": true}'),
                status_code=status,
                headers=headers,
                media_type="application/json",
            )

        return Litestar(
            [hook], openapi_config=None, logging_config=LoggingConfig(configure_root_logger=False)
        )


@asynccontextmanager
async def running_sink() -> AsyncIterator[Sink]:
    """The sink on its own thread and event loop: it answers even while the test's loop is blocked
    (the in-process API client runs the app synchronously through a portal)."""
    sink = Sink()
    port = free_port()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(serve(sink.app(), "127.0.0.1", port, stop))

    thread = threading.Thread(target=run, name=f"sink-{port}", daemon=True)
    thread.start()
    sink.url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as http:
        for _ in range(200):
            try:
                await http.post(f"{sink.url}/_ready")
                break
            except httpx.HTTPError:
                await asyncio.sleep(0.05)
    sink.received.pop("_ready", None)
    try:
        yield sink
    finally:
        loop.call_soon_threadsafe(stop.set)
        await asyncio.to_thread(thread.join, 15)
        loop.close()
