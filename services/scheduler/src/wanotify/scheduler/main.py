"""``wa-notify scheduler``: periodic jobs, optionally behind a Lease, plus health/metrics."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from wanotify.common.config import Settings
from wanotify.common.db.engine import create_engine
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.health import database_check, queue_check, run_checks
from wanotify.common.http import run_until_signalled, run_with_ops
from wanotify.common.lifecycle import sleep_or_stop
from wanotify.common.metrics import Metrics
from wanotify.common.publisher import Publisher
from wanotify.common.queue.factory import create_queue
from wanotify.common.queue.sqs import SqsQueue
from wanotify.scheduler.jobs import SchedulerJobs
from wanotify.scheduler.leader import run_as_leader
from wanotify.scheduler.template_sync import run_template_sync

log = logging.getLogger(__name__)

STALE_CLAIM_EVERY = 30  # passes


async def run_passes(jobs: SchedulerJobs, interval: float, stop: asyncio.Event) -> None:
    passes = 0
    while not stop.is_set():
        try:
            await jobs.release_due()
            await jobs.relay_outbox()
            await jobs.expire_due()
            await jobs.fold_dead_letter_queue()
            if passes % STALE_CLAIM_EVERY == 0:
                await jobs.recover_stale_claims()
                await jobs.count_paused_senders()
                await jobs.record_lane_depths()
        except Exception:
            log.exception("scheduler pass failed; retrying next pass")
        passes += 1
        await sleep_or_stop(stop, interval)


async def serve_scheduler(settings: Settings, stop: asyncio.Event) -> None:
    metrics = Metrics("scheduler")
    engine = create_engine(settings.database_url, pool_size=min(settings.database_pool_size, 4))
    queue = create_queue(settings.queue, engine)
    dlq = (
        SqsQueue(
            settings.queue.sqs_dlq_url,
            region=settings.queue.aws_region,
            endpoint_url=settings.queue.sqs_endpoint_url,
            visibility_timeout=settings.queue.visibility_timeout_seconds,
            threads=2,
        )
        if settings.queue.sqs_dlq_url
        else None
    )
    jobs = SchedulerJobs(
        lambda: UnitOfWork(engine),
        Publisher(queue, engine),
        metrics,
        batch_size=settings.scheduler.batch_size,
        outbox_grace_seconds=settings.scheduler.outbox_grace_seconds,
        stale_claim_seconds=float(
            settings.queue.visibility_timeout_seconds * max(settings.queue.max_receives, 1)
        ),
        dead_letter_queue=dlq,
        lanes=queue,
    )

    async def health() -> tuple[int, dict[str, Any]]:
        return await run_checks(
            settings.version,
            {"database": database_check(engine), "queue": queue_check(queue, metrics.queue_depth.set)},
        )

    async def work() -> None:
        await asyncio.gather(
            run_passes(jobs, settings.scheduler.interval_seconds, stop),
            run_template_sync(settings, engine, stop),
        )

    main = run_as_leader(settings.scheduler, work, stop) if settings.scheduler.leader_election else work()
    try:
        await run_with_ops(main, settings.scheduler.http, metrics, health, stop)
    finally:
        await queue.close()
        if dlq is not None:
            await dlq.close()
        await engine.dispose()


def run(settings: Settings) -> None:
    run_until_signalled(lambda stop: serve_scheduler(settings, stop))
