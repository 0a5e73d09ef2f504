"""The periodic template sync: every tenant's WABAs, every ``TEMPLATE_SYNC_INTERVAL_SECONDS``.

A job of the scheduler's table (`template_sync_job`), on its own cadence so a slow Graph API never
delays due work; the first sync runs at start-up (or when this replica gains the lease). A WABA
whose listing fails keeps its registry as it was.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine

from wanotify.common.config import Settings
from wanotify.common.crypto import SecretBox
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.meta.client import MetaClient, create_http_client
from wanotify.common.metrics import Metrics
from wanotify.common.template_sync import TemplateSyncer
from wanotify.scheduler.job_table import Job, run_jobs

log = logging.getLogger(__name__)

JOB_NAME = "template_sync"


@asynccontextmanager
async def template_sync_job(settings: Settings, engine: AsyncEngine) -> AsyncIterator[Job | None]:
    """The sync as a leader-only job (its Graph API client open while the context is), or ``None``
    when it is disabled: an interval of 0 or no encryption key."""
    interval = settings.scheduler.template_sync_interval_seconds
    if interval <= 0 or not settings.encryption_key:
        log.info("periodic template sync disabled")
        yield None
        return
    http = create_http_client(settings.meta, max_connections=4)
    syncer = TemplateSyncer(
        lambda: UnitOfWork(engine), MetaClient(settings.meta, http), SecretBox(settings.encryption_key)
    )

    async def sync() -> int:
        results = await syncer.sync_all()
        failed = [r.waba_id for r in results if r.error]
        templates = sum(r.templates for r in results)
        log.info(
            "template sync pass",
            extra={"wabas": len(results), "failed": len(failed), "templates": templates},
        )
        return templates

    try:
        yield Job(JOB_NAME, interval, needs_leader=True, run=sync)
    finally:
        await http.aclose()


async def run_template_sync(
    settings: Settings, engine: AsyncEngine, stop: asyncio.Event, metrics: Metrics | None = None
) -> None:
    """The sync alone, run as the scheduler runs it, until ``stop``; returns at once when disabled."""
    async with template_sync_job(settings, engine) as job:
        if job is not None:
            await run_jobs([job], stop, metrics or Metrics("scheduler"))
