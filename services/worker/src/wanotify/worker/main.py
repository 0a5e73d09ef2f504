"""``wa-notify worker``: the queue consumer plus a small health/metrics server."""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis

from wanotify.common.breaker import CircuitBreaker
from wanotify.common.config import Settings, require
from wanotify.common.crypto import SecretBox
from wanotify.common.db.engine import create_engine
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.health import database_check, queue_check, redis_check, run_checks
from wanotify.common.http import run_until_signalled, run_with_ops
from wanotify.common.meta.client import MetaClient, create_http_client
from wanotify.common.metrics import Metrics
from wanotify.common.pacing import Pacer
from wanotify.common.publisher import Publisher
from wanotify.common.queue.factory import create_queue
from wanotify.common.webhooks.transport import WebhookTransport, create_webhook_client
from wanotify.common.webhooks.urls import system_resolver
from wanotify.worker.dispatcher import Dispatcher
from wanotify.worker.loop import Worker
from wanotify.worker.webhook_delivery import WebhookDeliverer


def claim_seconds(settings: Settings) -> float:
    """How long a claim holds: at least the visibility timeout, and never shorter than one job can
    take (a pacing sleep plus a Meta call that runs to its timeout). A claim that lapsed while its
    Meta call was still in flight would let a redelivery send the notification a second time."""
    longest_job = settings.pacing.max_sleep_seconds + settings.meta.timeout_seconds + 5.0
    return max(float(settings.queue.visibility_timeout_seconds), longest_job)


async def serve_worker(settings: Settings, stop: asyncio.Event) -> None:
    metrics = Metrics("worker")
    engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
    queue = create_queue(settings.queue, engine, settings.worker.priority_weights)
    redis = Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
    http = create_http_client(settings.meta, max_connections=settings.worker.concurrency)
    box = SecretBox(require(settings.encryption_key, "WA_ENCRYPTION_KEY"))
    dispatcher = Dispatcher(
        lambda: UnitOfWork(engine),
        MetaClient(settings.meta, http),
        box,
        Publisher(queue, engine),
        metrics,
        claim_seconds=claim_seconds(settings),
        max_receives=settings.queue.max_receives,
        pacer=Pacer(redis, settings.pacing),
        pacing=settings.pacing,
        breaker=CircuitBreaker(
            redis,
            threshold=settings.worker.breaker_failure_threshold,
            cooldown=settings.worker.breaker_cooldown_seconds,
            on_change=lambda state: metrics.breaker_transitions.labels(state).inc(),
        ),
    )
    worker = Worker(
        queue,
        dispatcher,
        metrics,
        batch_size=settings.worker.batch_size,
        concurrency=settings.worker.concurrency,
        wait_seconds=settings.queue.wait_seconds,
        shutdown_grace=settings.worker.shutdown_grace_seconds,
    )

    async def health() -> tuple[int, dict[str, Any]]:
        return await run_checks(
            settings.version,
            {"database": database_check(engine), "queue": queue_check(queue, metrics.queue_depth.set)},
            {"redis": redis_check(redis)},
        )

    # Client webhooks: their own client (no redirects, no proxy from the environment) and loop.
    hooks_http = create_webhook_client(settings.webhooks)
    deliverer = WebhookDeliverer(
        lambda: UnitOfWork(engine),
        WebhookTransport(hooks_http, settings.webhooks, system_resolver),
        box,
        settings.webhooks,
        metrics,
    )

    async def both() -> None:
        await asyncio.gather(worker.run(stop), deliverer.run(stop))

    try:
        await run_with_ops(both(), settings.worker.http, metrics, health, stop)
    finally:
        await queue.close()
        await hooks_http.aclose()
        await http.aclose()
        await redis.aclose()
        await engine.dispose()


def run(settings: Settings) -> None:
    run_until_signalled(lambda stop: serve_worker(settings, stop))
