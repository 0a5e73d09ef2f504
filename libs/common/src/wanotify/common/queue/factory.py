"""Pick the queue adapter the settings name."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from wanotify.common.config import QueueSettings
from wanotify.common.queue.base import Queue
from wanotify.common.queue.postgres import PostgresQueue
from wanotify.common.queue.sqs import SqsQueue

SEND_QUEUE = "wa-notify-send"


def create_queue(settings: QueueSettings, engine: AsyncEngine) -> Queue:
    if settings.backend == "sqs":
        return SqsQueue(
            settings.sqs_queue_url,
            region=settings.aws_region,
            endpoint_url=settings.sqs_endpoint_url,
            visibility_timeout=settings.visibility_timeout_seconds,
        )
    return PostgresQueue(engine, SEND_QUEUE, visibility_timeout=settings.visibility_timeout_seconds)
