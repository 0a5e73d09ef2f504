"""The periodic template sync: every tenant's WABAs, every ``TEMPLATE_SYNC_INTERVAL_SECONDS``.

Runs beside the scheduler's passes (its own task, so a slow Graph API never delays due work); the
first sync runs at start-up. A WABA whose listing fails keeps its registry as it was.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncEngine

from wanotify.common.config import Settings
from wanotify.common.crypto import SecretBox
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.lifecycle import sleep_or_stop
from wanotify.common.meta.client import MetaClient, create_http_client
from wanotify.common.template_sync import TemplateSyncer

log = logging.getLogger(__name__)


async def run_template_sync(settings: Settings, engine: AsyncEngine, stop: asyncio.Event) -> None:
    interval = settings.scheduler.template_sync_interval_seconds
    if interval <= 0 or not settings.encryption_key:
        log.info("periodic template sync disabled")
        return
    http = create_http_client(settings.meta, max_connections=4)
    syncer = TemplateSyncer(
        lambda: UnitOfWork(engine), MetaClient(settings.meta, http), SecretBox(settings.encryption_key)
    )
    try:
        while not stop.is_set():
            try:
                results = await syncer.sync_all()
                failed = [r.waba_id for r in results if r.error]
                log.info(
                    "template sync pass",
                    extra={
                        "wabas": len(results),
                        "failed": len(failed),
                        "templates": sum(r.templates for r in results),
                    },
                )
            except Exception:
                log.exception("template sync pass failed; retrying next interval")
            await sleep_or_stop(stop, interval)
    finally:
        await http.aclose()
