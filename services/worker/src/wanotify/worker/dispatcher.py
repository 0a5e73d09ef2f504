"""One notification, one attempt: claim, render, call Meta, record the outcome.

Returns whether the queue message may be deleted. It may only when the outcome is committed
(or there is nothing to do); otherwise the message comes back after its visibility timeout and
the lapsed claim lets the next delivery pick the notification up again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from enum import StrEnum

import msgspec
from opentelemetry import trace

from wanotify.common.clock import utcnow
from wanotify.common.crypto import SecretBox
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.notification import Notification
from wanotify.common.meta.client import MetaClient
from wanotify.common.meta.errors import ErrorClass, MetaApiError, MetaTransportError, is_retryable
from wanotify.common.meta.payloads import build_send_payload
from wanotify.common.metrics import Metrics
from wanotify.common.publisher import Publisher, QueueJob
from wanotify.common.queue.base import MAX_DELAY_SECONDS, ReceivedMessage
from wanotify.common.retry import retry_delay

log = logging.getLogger(__name__)
tracer = trace.get_tracer("wanotify.worker")


class Outcome(StrEnum):
    SENT = "sent"
    FAILED = "failed"
    RETRY = "retry"
    SKIPPED = "skipped"  # nothing to do: already handled, or another worker has it


class Dispatcher:
    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        meta: MetaClient,
        secrets: SecretBox,
        publisher: Publisher,
        metrics: Metrics,
        *,
        claim_seconds: float,
        max_receives: int,
    ) -> None:
        self._uow = uow
        self._meta = meta
        self._secrets = secrets
        self._publisher = publisher
        self._metrics = metrics
        self._claim_seconds = claim_seconds
        self._max_receives = max_receives

    async def process(self, message: ReceivedMessage) -> Outcome:
        try:
            job = msgspec.json.decode(message.body, type=QueueJob)
        except (msgspec.DecodeError, msgspec.ValidationError):
            log.error("dropping a queue message that is not a job", extra={"message_id": message.message_id})
            return Outcome.SKIPPED
        async with self._uow() as uow:
            n = await uow.notifications.claim(job.notification_id, self._claim_seconds)
            await uow.commit()
        if n is None:
            return Outcome.SKIPPED
        self._metrics.transitions.labels("processing").inc()
        span = trace.get_current_span()
        span.set_attribute("wanotify.notification_id", n.id)
        span.set_attribute("wanotify.attempt", n.attempt)
        if message.receive_count > self._max_receives:
            return await self._fail(
                n, "POISON_MESSAGE", "The queue delivered this message too many times", False
            )
        return await self._send(n)

    async def _send(self, n: Notification) -> Outcome:
        async with self._uow() as uow:
            sender = await uow.senders.get(n.sender_id)
        if sender is None:
            return await self._fail(
                n, "SENDER_NOT_FOUND", "The sender of this notification no longer exists", False
            )
        token = self._secrets.decrypt(sender.access_token_encrypted, context=sender.phone_number_id.encode())
        payload = build_send_payload(n.recipient_phone, n.message, callback_data=n.id)
        started = time.perf_counter()
        try:
            with tracer.start_as_current_span("meta.send_message", kind=trace.SpanKind.CLIENT):
                result = await self._meta.send_message(sender.phone_number_id, token, payload)
        except MetaApiError as exc:
            self._metrics.meta_duration.observe(time.perf_counter() - started)
            return await self._on_error(n, str(exc.code), exc.message, exc.error_class, meta_code=exc.code)
        except MetaTransportError as exc:
            self._metrics.meta_duration.observe(time.perf_counter() - started)
            return await self._on_error(n, f"META_{exc.kind.upper()}", str(exc), ErrorClass.SOON)
        self._metrics.meta_duration.observe(time.perf_counter() - started)
        async with self._uow() as uow:
            await uow.notifications.record_sent(
                n, result.wamid, {"message_status": result.message_status} if result.message_status else {}
            )
            await uow.commit()
        self._metrics.sends.labels("sent", "").inc()
        self._metrics.transitions.labels("sent").inc()
        self._metrics.accept_to_sent.observe((utcnow() - n.created_at).total_seconds())
        return Outcome.SENT

    async def _on_error(
        self,
        n: Notification,
        code: str,
        message: str,
        error_class: ErrorClass,
        *,
        meta_code: int | None = None,
    ) -> Outcome:
        retryable = is_retryable(error_class)
        log.warning(
            "send failed",
            extra={
                "notification_id": n.id,
                "error_code": code,
                "error_class": error_class.value,
                "attempt": n.attempt,
            },
        )
        if not retryable or n.attempt >= n.max_attempts:
            self._metrics.sends.labels("failed", error_class.value).inc()
            return await self._fail(n, code, message, retryable)
        delay = retry_delay(error_class, n.attempt, code=meta_code)
        # A retry further out than the queue's maximum delay is left to the scheduler's relay.
        soon = delay.total_seconds() <= MAX_DELAY_SECONDS
        async with self._uow() as uow:
            await uow.notifications.record_retry(
                n, next_attempt_at=utcnow() + delay, code=code, message=message
            )
            refreshed = await uow.notifications.get(n.id)
            due = [refreshed] if refreshed is not None and soon else []
            published = await self._publisher.publish_in(uow.connection, due)
            await uow.commit()
        self._metrics.sends.labels("retry", error_class.value).inc()
        self._metrics.transitions.labels("queued").inc()
        if not published:
            await self._publisher.publish(due)
        return Outcome.RETRY

    async def _fail(self, n: Notification, code: str, message: str, retryable: bool) -> Outcome:
        async with self._uow() as uow:
            await uow.notifications.record_failed(n, code=code, message=message, retryable=retryable)
            await uow.commit()
        self._metrics.transitions.labels("failed").inc()
        return Outcome.FAILED
