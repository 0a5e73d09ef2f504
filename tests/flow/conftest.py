"""A worker (and scheduler) running in-process on the real stack, for the flow tests."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.processes import eventually
from wanotify.common.config import Settings
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.notification import Notification
from wanotify.scheduler.main import serve_scheduler
from wanotify.worker.main import serve_worker


@pytest.fixture(scope="session")
async def worker(settings: Settings, receiver: str) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(serve_worker(settings, stop))
    yield
    stop.set()
    await task


@pytest.fixture(scope="session")
async def scheduler(settings: Settings) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(serve_scheduler(settings, stop))
    yield
    stop.set()
    await task


@pytest.fixture
def recipient() -> str:
    """A recipient no other test uses, so sandbox faults and logs stay per test."""
    return f"+1555{secrets.randbelow(10**7):07d}"


@pytest.fixture
async def sandbox(sandbox_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sandbox_url) as client:
        yield client


async def wait_status(
    engine: AsyncEngine, notification_id: str, statuses: set[str], timeout: float = 90
) -> Notification:
    async def probe() -> Notification | None:
        async with UnitOfWork(engine) as uow:
            return await uow.notifications.get(notification_id)

    found = await eventually(
        probe,
        lambda n: n is not None and n.status.value in statuses,
        timeout=timeout,
        what=f"{notification_id} to reach {sorted(statuses)}",
    )
    assert found is not None
    return found


async def sandbox_messages(sandbox: httpx.AsyncClient, to: str) -> list[dict[str, Any]]:
    r = await sandbox.get("/_sandbox/messages", params={"to": to})
    r.raise_for_status()
    body = r.json()
    return list(body["messages"] if isinstance(body, dict) else body)
