"""Fixtures: a capture server for webhooks and sandboxes on free ports, over real HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from tests.sandbox.harness import (
    APP_SECRET,
    SEED,
    CaptureServer,
    RunningServer,
    SandboxClient,
    start_server,
)
from wanotify.sandbox.app import create_app
from wanotify.sandbox.settings import SandboxSettings

StartSandbox = Callable[..., Awaitable[RunningServer]]


@pytest.fixture(scope="session")
def seed_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sandbox") / "seed.json"
    path.write_text(json.dumps(SEED), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
async def capture() -> AsyncIterator[tuple[CaptureServer, RunningServer]]:
    target = CaptureServer()
    server = await start_server(target.app())
    yield target, server
    await server.stop()


@pytest.fixture(scope="session")
async def start_sandbox(
    seed_file: Path, capture: tuple[CaptureServer, RunningServer]
) -> AsyncIterator[StartSandbox]:
    """Start a sandbox with test-friendly defaults; keyword arguments override settings."""
    running: list[RunningServer] = []
    _, capture_server = capture

    async def start(**overrides: Any) -> RunningServer:
        defaults: dict[str, Any] = {
            "app_secret": APP_SECRET,
            "port": 0,
            "webhook_url": f"{capture_server.url}/hook",
            "sent_delay_seconds": 0.02,
            "delivered_delay_seconds": 0.04,
            "read_delay_seconds": 0.06,
            "webhook_max_attempts": 4,
            "webhook_retry_base_seconds": 0.02,
            "seed_file": str(seed_file),
        }
        settings = msgspec.convert(
            {**defaults, **overrides}, SandboxSettings, dec_hook=lambda kind, value: kind(value)
        )
        server = await start_server(create_app(settings))
        running.append(server)
        return server

    yield start
    for server in running:
        await server.stop()


@pytest.fixture(scope="session")
async def async_sandbox(start_sandbox: StartSandbox) -> AsyncIterator[httpx.AsyncClient]:
    server = await start_sandbox()
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        yield http


@pytest.fixture(scope="session")
async def sync_sandbox(start_sandbox: StartSandbox) -> AsyncIterator[httpx.AsyncClient]:
    server = await start_sandbox(window_error_mode="sync")
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        yield http


async def _fresh(http: httpx.AsyncClient, capture: CaptureServer) -> SandboxClient:
    response = await http.post("/_sandbox/reset")
    assert response.status_code == 200
    capture.clear()
    return SandboxClient(http, capture)


@pytest.fixture
async def sb(async_sandbox: httpx.AsyncClient, capture: tuple[CaptureServer, RunningServer]) -> SandboxClient:
    """The default sandbox (window errors reported asynchronously), reset, with an empty capture."""
    return await _fresh(async_sandbox, capture[0])


@pytest.fixture
async def sb_sync(
    sync_sandbox: httpx.AsyncClient, capture: tuple[CaptureServer, RunningServer]
) -> SandboxClient:
    """A sandbox that reports window errors synchronously."""
    return await _fresh(sync_sandbox, capture[0])
