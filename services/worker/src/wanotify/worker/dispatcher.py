"""One notification, one attempt: claim, render, call Meta, record the outcome.

Before calling Meta: an expired notification becomes ``expired``; a paused sender (a sender-level
error such as 190 or 131031 paused it) or an open circuit breaker defers the notification
(``rate_limited`` with a later ``next_attempt_at``) and gives the attempt back. A sender-level
error pauses the sender and defers the notification the same way.

Returns whether the queue message may be deleted. It may only when the outcome is committed
(or there is nothing to do); otherwise the message comes back after its visibility timeout and
the lapsed claim lets the next delivery pick the notification up again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from enum import StrEnum

import msgspec
from opentelemetry import trace

from wanotify.common.breaker import CircuitBreaker
from wanotify.common.cache import TtlCache
from wanotify.common.clock import utcnow
from wanotify.common.crypto import SecretBox
from wanotify.common.db.failures import FailureRepository
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.notification import Notification, Sender
from wanotify.common.meta.client import MetaClient
from wanotify.common.meta.errors import ErrorClass, MetaApiError, MetaTransportError, is_retryable
from wanotify.common.meta.payloads import build_send_payload
from wanotify.common.metrics import Metrics
from wanotify.common.publisher import Publisher, QueueJob
from wanotify.common.queue.base import MAX_DELAY_SECONDS, ReceivedMessage
from wanotify.common.retry import retry_delay

log = logging.getLogger(__name__)
tracer = trace.get_tracer("wanotify.worker")

# A paused sender's notifications are looked at again this often (resuming wakes them at once).
PAUSE_RECHECK = timedelta(seconds=300)
# Sender rows (pause state) are cached this long per worker process.
SENDER_CACHE_SECONDS = 2.0


class Outcome(StrEnum):
    SENT = "sent"
    FAILED = "failed"
    RETRY = "retry"
    DEFERRED = "deferred"  # back to waiting without burning the attempt (paused sender, open breaker)
    EXPIRED = "expired"
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
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self._uow = uow
        self._meta = meta
        self._secrets = secrets
        self._publisher = publisher
        self._metrics = metrics
        self._claim_seconds = claim_seconds
        self._max_receives = max_receives
        self._breaker = breaker or CircuitBreaker(None, threshold=5, cooldown=30.0)
        self._senders: TtlCache[str, Sender] = TtlCache(SENDER_CACHE_SECONDS)

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
        if n.expires_at is not None and n.expires_at <= utcnow():
            return await self._expire(n)
        return await self._send(n)

    async def _sender(self, sender_id: str, *, fresh: bool = False) -> Sender | None:
        sender = None if fresh else self._senders.get(sender_id)
        if sender is None:
            async with self._uow() as uow:
                sender = await uow.senders.get(sender_id)
            if sender is not None:
                self._senders.put(sender_id, sender)
        return sender

    async def _send(self, n: Notification) -> Outcome:
        sender = await self._sender(n.sender_id)
        if sender is not None and sender.paused_at is not None:
            sender = await self._sender(n.sender_id, fresh=True)  # a resume must not wait for the cache
        if sender is None:
            return await self._fail(
                n, "SENDER_NOT_FOUND", "The sender of this notification no longer exists", False
            )
        if sender.paused_at is not None:
            return await self._defer(
                n, PAUSE_RECHECK, "sender_paused", {"paused_code": sender.paused_code or ""}
            )
        # Consent can be withdrawn between acceptance and sending (a STOP while it waited).
        async with self._uow() as uow:
            opted_out = await uow.opt_outs.get(n.tenant_id, n.recipient_phone)
        if opted_out is not None:
            return await self._fail(
                n, "RECIPIENT_OPTED_OUT", "The recipient opted out before it was sent", False
            )
        wait = await self._breaker.before(sender.id)
        if wait is not None:
            return await self._defer(n, timedelta(seconds=wait), "breaker_open")
        token = self._secrets.decrypt(sender.access_token_encrypted, context=sender.phone_number_id.encode())
        payload = build_send_payload(n.recipient_phone, n.message, callback_data=n.id)
        started = time.perf_counter()
        try:
            with tracer.start_as_current_span("meta.send_message", kind=trace.SpanKind.CLIENT):
                result = await self._meta.send_message(sender.phone_number_id, token, payload)
        except MetaApiError as exc:
            self._metrics.meta_duration.observe(time.perf_counter() - started)
            if exc.error_class is ErrorClass.SOON:
                await self._breaker.failure(sender.id)
            else:
                await self._breaker.success(sender.id)  # Meta answered: it is not down
            if exc.error_class is ErrorClass.SENDER:
                return await self._pause(n, sender, exc)
            return await self._on_error(n, str(exc.code), exc.message, exc.error_class, meta_code=exc.code)
        except MetaTransportError as exc:
            self._metrics.meta_duration.observe(time.perf_counter() - started)
            await self._breaker.failure(sender.id)
            return await self._on_error(n, f"META_{exc.kind.upper()}", str(exc), ErrorClass.SOON)
        self._metrics.meta_duration.observe(time.perf_counter() - started)
        await self._breaker.success(sender.id)
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

    async def _pause(self, n: Notification, sender: Sender, exc: MetaApiError) -> Outcome:
        """A sender-level error: pause the sender (alert) and keep the notification waiting."""
        reason = f"({exc.code}) {exc.message}"[:500]
        async with self._uow() as uow:
            paused = await FailureRepository(uow.connection).pause_sender(
                sender.id, code=str(exc.code), reason=reason
            )
            await uow.commit()
        self._senders.put(sender.id, msgspec.structs.replace(sender, paused_at=utcnow()))
        self._metrics.sends.labels("paused", ErrorClass.SENDER.value).inc()
        if paused:
            self._metrics.sender_pauses.labels(str(exc.code)).inc()
            log.warning(
                "sender paused by a sender-level error; resume it with POST /v1/senders/{id}/resume",
                extra={
                    "sender_id": sender.id,
                    "tenant_id": sender.tenant_id,
                    "error_code": exc.code,
                    "error_message": exc.message[:200],
                    "notification_id": n.id,
                },
            )
        return await self._defer(
            n,
            PAUSE_RECHECK,
            "sender_paused",
            {"paused_code": str(exc.code)},
            error=(str(exc.code), exc.message),
        )

    async def _defer(
        self,
        n: Notification,
        delay: timedelta,
        reason: str,
        detail: dict[str, str] | None = None,
        *,
        error: tuple[str, str] | None = None,
    ) -> Outcome:
        """Back to waiting without burning the attempt (``error``: the code and message that caused it)."""

        async def write(failures: FailureRepository) -> bool:
            return await failures.defer(
                n,
                until=utcnow() + delay,
                reason=reason,
                detail=detail,
                error_code=error[0] if error else None,
                error_message=error[1] if error else None,
            )

        await self._requeue(n, delay, write)
        self._metrics.deferred.labels(reason).inc()
        self._metrics.transitions.labels("rate_limited").inc()
        return Outcome.DEFERRED

    async def _expire(self, n: Notification) -> Outcome:
        async with self._uow() as uow:
            await FailureRepository(uow.connection).expire_claimed(n)
            await uow.commit()
        self._metrics.expired.labels("worker").inc()
        self._metrics.transitions.labels("expired").inc()
        return Outcome.EXPIRED

    async def _requeue(
        self, n: Notification, delay: timedelta, write: Callable[[FailureRepository], Awaitable[bool]]
    ) -> None:
        """Write the transition and publish the row for its new time in the same transaction
        (PostgreSQL queue) or after the commit (SQS); further out than the queue's maximum
        delay, the scheduler's relay publishes it when it comes near."""
        soon = delay.total_seconds() <= MAX_DELAY_SECONDS
        async with self._uow() as uow:
            updated = await write(FailureRepository(uow.connection))
            refreshed = await uow.notifications.get(n.id) if updated and soon else None
            due = [refreshed] if refreshed is not None else []
            published = await self._publisher.publish_in(uow.connection, due)
            await uow.commit()
        if not published:
            await self._publisher.publish(due)

    async def _fail(self, n: Notification, code: str, message: str, retryable: bool) -> Outcome:
        async with self._uow() as uow:
            await uow.notifications.record_failed(n, code=code, message=message, retryable=retryable)
            await uow.commit()
        self._metrics.transitions.labels("failed").inc()
        return Outcome.FAILED
