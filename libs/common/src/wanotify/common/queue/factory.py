"""Pick the queue adapter the settings name: one lane per priority on either backend."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncEngine

from wanotify.common.config import QueueSettings
from wanotify.common.domain.priority import PG_LANE_NAMES, PRIORITY_ORDER, Priority
from wanotify.common.queue.base import Queue
from wanotify.common.queue.lanes import LanedQueue, laned_queue
from wanotify.common.queue.postgres import PostgresQueue
from wanotify.common.queue.sqs import SqsQueue

# The normal lane of the PostgreSQL queue (the single queue's name before lanes existed).
SEND_QUEUE = PG_LANE_NAMES[Priority.NORMAL]


def sqs_lane_urls(settings: QueueSettings) -> dict[Priority, str]:
    """The SQS queue URL per priority; an empty lane URL shares the normal queue (no separate lane)."""
    return {
        Priority.HIGH: settings.sqs_queue_url_high or settings.sqs_queue_url,
        Priority.NORMAL: settings.sqs_queue_url,
        Priority.LOW: settings.sqs_queue_url_low or settings.sqs_queue_url,
    }


def create_queue(
    settings: QueueSettings, engine: AsyncEngine, weights: Mapping[str, int] | None = None
) -> LanedQueue:
    """``weights``: the worker's polling weights (``settings.worker.priority_weights``); publishers
    may leave them out."""
    if settings.backend == "sqs":
        by_url: dict[str, Queue] = {}
        for url in sqs_lane_urls(settings).values():
            if url not in by_url:
                by_url[url] = SqsQueue(
                    url,
                    region=settings.aws_region,
                    endpoint_url=settings.sqs_endpoint_url,
                    visibility_timeout=settings.visibility_timeout_seconds,
                )
        return laned_queue({p: by_url[u] for p, u in sqs_lane_urls(settings).items()}, weights)
    return laned_queue(
        {
            p: PostgresQueue(engine, PG_LANE_NAMES[p], visibility_timeout=settings.visibility_timeout_seconds)
            for p in PRIORITY_ORDER
        },
        weights,
    )
