"""The client-webhook figures of ``make bench``: deliveries per second to a local sink, and the
time from a status change to the sink receiving its event at a steady 100 events/s.

One worker process delivers (its send loop idles: nothing is queued for Meta). Events are made the
way production makes them: a notification row accepted through the repository (one
``notification.queued`` event each, in its transaction). Beside the figures: the ceiling, the same
sink driven directly by one process posting at the same concurrency. Printed, never asserted.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import msgspec
import uvicorn
from litestar import Litestar, Request, post
from litestar.logging.config import LoggingConfig

from bench.dispatch import hello_notification, start_service
from wanotify.cli.embedded import free_port
from wanotify.common.config import load_settings
from wanotify.common.crypto import SecretBox
from wanotify.common.db.engine import create_engine
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.webhooks.secrets import generate_secret, secret_context

BURST = int(os.environ.get("BENCH_WEBHOOK_BURST", "2000"))
STEADY_RATE = 100  # events per second
STEADY_SECONDS = float(os.environ.get("BENCH_WEBHOOK_STEADY_SECONDS", "10"))


class WebhookFigures(msgspec.Struct):
    burst: int
    burst_seconds: float
    ceiling_per_second: float
    steady_events: int
    p50_ms: float
    p95_ms: float

    @property
    def per_second(self) -> float:
        return self.burst / self.burst_seconds if self.burst_seconds else 0.0


class Sink:
    """Counts deliveries and when each event reached it (by event id)."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}

    def app(self) -> Litestar:
        @post("/", status_code=200)
        async def receive(request: Request[Any, Any, Any]) -> dict[str, bool]:
            await request.body()
            self.arrived.setdefault(request.headers.get("webhook-id", ""), time.time())
            return {"ok": True}

        return Litestar(
            [receive], openapi_config=None, logging_config=LoggingConfig(configure_root_logger=False)
        )


def _serve_in_thread(app: Litestar, port: int) -> uvicorn.Server:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    return server


async def _tenant_with_endpoint(env: dict[str, str], url: str) -> tuple[str, str]:
    settings = load_settings(env)
    engine = create_engine(settings.database_url, pool_size=2)
    box = SecretBox(settings.encryption_key)
    try:
        async with UnitOfWork(engine) as uow:
            tenant = await uow.tenants.create("bench-webhooks")
            sender = await uow.senders.add(
                tenant,
                phone_number_id="770000",
                waba_id="waba-hooks",
                display_phone_number="+15550100011",
                access_token_encrypted=box.encrypt("t", context=b"770000"),
            )
            await uow.webhooks.add(
                tenant,
                url=url,
                events=["notification.queued"],
                secret_encrypted=box.encrypt(generate_secret(), context=secret_context(tenant)),
                description="bench",
                metadata={},
            )
            await uow.commit()
    finally:
        await engine.dispose()
    return tenant, sender


async def _accept(
    env: dict[str, str], tenant: str, sender: str, count: int, *, rate: float | None
) -> dict[str, float]:
    """``count`` accepted notifications (scheduled far ahead: the worker sends nothing), each its own
    transaction; returns when each committed, by notification id."""
    engine = create_engine(load_settings(env).database_url, pool_size=2)
    committed: dict[str, float] = {}
    started = time.monotonic()
    try:
        for i in range(count):
            item = msgspec.structs.replace(
                hello_notification(tenant, sender, f"+1650{i:07d}"),
                next_attempt_at=datetime(2100, 1, 1, tzinfo=UTC),
            )
            async with UnitOfWork(engine) as uow:
                await uow.notifications.add_many([item])
                await uow.commit()
            committed[item.id] = time.time()
            if rate:
                await asyncio.sleep(max(0.0, started + (i + 1) / rate - time.monotonic()))
    finally:
        await engine.dispose()
    return committed


async def _accept_at_once(env: dict[str, str], tenant: str, sender: str, count: int) -> None:
    engine = create_engine(load_settings(env).database_url, pool_size=1)
    items = [
        msgspec.structs.replace(
            hello_notification(tenant, sender, f"+1651{i:07d}"),
            next_attempt_at=datetime(2100, 1, 1, tzinfo=UTC),
        )
        for i in range(count)
    ]
    try:
        async with UnitOfWork(engine) as uow:
            await uow.notifications.add_many(items)
            await uow.commit()
    finally:
        await engine.dispose()


async def _event_ids(env: dict[str, str]) -> dict[str, str]:
    """event id → notification id, for every event of the run."""
    import asyncpg

    conn = await asyncpg.connect(load_settings(env).database_url)
    try:
        rows = await conn.fetch("SELECT id, notification_id FROM webhook_events")
    finally:
        await conn.close()
    return {r["id"]: r["notification_id"] for r in rows}


async def _ceiling(url: str, count: int, concurrency: int) -> float:
    """The sink's own capacity: ``count`` POSTs from ``concurrency`` tasks, straight to it."""
    async with httpx.AsyncClient() as http:
        queue = list(range(count))
        started = time.monotonic()

        async def one() -> None:
            while queue:
                queue.pop()
                await http.post(url, content=b"{}", headers={"webhook-id": "ceiling"})

        await asyncio.gather(*(one() for _ in range(concurrency)))
        return count / (time.monotonic() - started)


def _wait(sink: Sink, count: int, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while len(sink.arrived) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return time.monotonic()


def measure_webhooks(env: dict[str, str], root: Path) -> WebhookFigures:
    sink = Sink()
    port = free_port()
    server = _serve_in_thread(sink.app(), port)
    url = f"http://127.0.0.1:{port}/"
    worker_env = {
        **env,
        "WORKER_PORT": "0",
        "WEBHOOK_ALLOW_HTTP": "true",
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
        "WEBHOOK_POLL_SECONDS": "0.05",
    }
    settings = load_settings(worker_env)
    tenant, sender = asyncio.run(_tenant_with_endpoint(env, url))
    worker = start_service(["worker"], worker_env, root / "webhook-worker.log")
    try:
        # Burst: the whole backlog in one transaction, then drained; the clock runs from its commit.
        asyncio.run(_accept_at_once(env, tenant, sender, BURST))
        started = time.monotonic()
        done = _wait(sink, BURST, timeout=300)
        burst_seconds = done - started
        ceiling = asyncio.run(_ceiling(url, BURST, settings.webhooks.endpoint_concurrency))
        # Steady: 100 events a second; latency from each commit to its event at the sink.
        before = set(sink.arrived)
        steady = int(STEADY_RATE * STEADY_SECONDS)
        committed = asyncio.run(_accept(env, tenant, sender, steady, rate=STEADY_RATE))
        _wait(sink, BURST + steady + 1, timeout=120)
        events = asyncio.run(_event_ids(env))
        latencies = sorted(
            (arrived - committed[events[eid]]) * 1000
            for eid, arrived in sink.arrived.items()
            if eid not in before and events.get(eid) in committed
        )
    finally:
        worker.terminate()
        worker.wait(30)
        server.should_exit = True
    q = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [0.0] * 99
    return WebhookFigures(BURST, burst_seconds, ceiling, len(latencies), q[49], q[94])


def describe_webhooks(f: WebhookFigures) -> str:
    share = f.per_second / f.ceiling_per_second if f.ceiling_per_second else 0.0
    cap = load_settings({}).webhooks.endpoint_concurrency
    return "\n".join(
        [
            f"client webhooks: one worker process, one endpoint (a local sink), per-endpoint cap {cap}",
            f"  burst of {f.burst}: {f.per_second:.0f} deliveries/s; ceiling (the sink posted to directly "
            f"at the same concurrency) {f.ceiling_per_second:.0f}/s; ratio {share:.0%}",
            f"  steady {STEADY_RATE} events/s for {STEADY_SECONDS:.0f} s ({f.steady_events} events): "
            f"status change to sink p50 {f.p50_ms:.0f} ms, p95 {f.p95_ms:.0f} ms",
        ]
    )
