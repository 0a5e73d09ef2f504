"""Running the sandbox under uvicorn."""

from __future__ import annotations

import asyncio

import uvicorn

from wanotify.sandbox.app import create_app
from wanotify.sandbox.settings import SandboxSettings


async def serve(settings: SandboxSettings) -> None:
    config = uvicorn.Config(create_app(settings), host=settings.host, port=settings.port, log_level="warning")
    await uvicorn.Server(config).serve()


def run(settings: SandboxSettings) -> None:
    asyncio.run(serve(settings))
