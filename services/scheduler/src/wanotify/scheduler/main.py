"""``wa-notify scheduler``: a table of periodic jobs, the writing ones behind a Lease, plus health/metrics."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from wanotify.common.config import SchedulerSettings, Settings
from wanotify.common.db.engine import create_engine
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.health import database_check, queue_check, run_checks
from wanotify.common.http import run_until_signalled, run_with_ops
from wanotify.common.metrics import Metrics
from wanotify.common.publisher import Publisher
from wanotify.common.queue.factory import create_queue
from wanotify.common.queue.sqs import SqsQueue
from wanotify.scheduler.job_table import Job, run_jobs
from wanotify.scheduler.jobs import SchedulerJobs
from wanotify.scheduler.leader import Leadership, run_as_leader
from wanotify.scheduler.template_sync import template_sync_job

log = logging.getLogger(__name__)

SLOW_EVERY = 30
"""The slow jobs (stale claims, paused senders, lane depths) run every ``SLOW_EVERY × interval``."""


def scheduler_job_table(settings: SchedulerSettings, jobs: SchedulerJobs, *extra: Job | None) -> list[Job]:
    """The scheduler's jobs (plus ``extra``, e.g. the template sync; ``None`` is left out).

    Jobs that write need the lease. The two gauges are read-only and run on every replica, so each
    one exports a fresh value (and a replica that lost the lease no stale one).
    """
    every = settings.interval_seconds
    slow = every * SLOW_EVERY
    table = [
        Job("release_due", every, needs_leader=True, run=jobs.release_due),
        Job("relay_outbox", every, needs_leader=True, run=jobs.relay_outbox),
        Job("expire_due", every, needs_leader=True, run=jobs.expire_due),
        Job("fold_dead_letter_queue", every, needs_leader=True, run=jobs.fold_dead_letter_queue),
        Job("recover_stale_claims", slow, needs_leader=True, run=jobs.recover_stale_claims),
        Job("purge_webhook_log", slow, needs_leader=True, run=jobs.purge_webhook_log),
        Job("count_paused_senders", slow, needs_leader=False, run=jobs.count_paused_senders),
        Job("count_webhook_backlog", every, needs_leader=False, run=jobs.count_webhook_backlog),
        Job("record_lane_depths", slow, needs_leader=False, run=jobs.record_lane_depths),
    ]
    return table + [job for job in extra if job is not None]


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
        webhook_retention_days=settings.webhooks.log_retention_days,
    )

    async def health() -> tuple[int, dict[str, Any]]:
        return await run_checks(
            settings.version,
            {"database": database_check(engine), "queue": queue_check(queue, metrics.queue_depth.set)},
        )

    async def work() -> None:
        async with template_sync_job(settings, engine) as template_sync:
            table = scheduler_job_table(settings.scheduler, jobs, template_sync)
            if not settings.scheduler.leader_election:
                await run_jobs(table, stop, metrics)
                return
            leadership = Leadership()
            await asyncio.gather(
                run_jobs(table, stop, metrics, leading=leadership.is_leading),
                run_as_leader(settings.scheduler, lambda: leadership.hold(stop), stop),
            )

    main = work()
    try:
        await run_with_ops(main, settings.scheduler.http, metrics, health, stop)
    finally:
        await queue.close()
        if dlq is not None:
            await dlq.close()
        await engine.dispose()


def run(settings: Settings) -> None:
    run_until_signalled(lambda stop: serve_scheduler(settings, stop))
