"""One notification, one attempt: claim, render, call Meta, record the outcome.

Before calling Meta: an expired notification becomes ``expired``; a paused sender (a sender-level
error such as 190 or 131031 paused it) or an open circuit breaker defers the notification
(``rate_limited`` with a later ``next_attempt_at``) and gives the attempt back. A sender-level
error pauses the sender and defers the notification the same way.

Then pacing: the shared pacer reserves this notification's slot under every limit at once (the
sender's throughput, the pair rate, the recipient's anti-spam windows, the unique-user tier for a
template outside the service window). A slot within ``PACING_MAX_SLEEP_SECONDS`` is slept here;
a later one makes the notification ``rate_limited`` until exactly that slot, attempt given back.

Returns whether the queue message may be deleted. It may only when the outcome is committed
(or there is nothing to do); otherwise the message comes back after its visibility timeout and
the lapsed claim lets the next delivery pick the notification up again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum

import msgspec
from opentelemetry import trace
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, ProgrammingError

from wanotify.common.breaker import CircuitBreaker
from wanotify.common.cache import TtlCache
from wanotify.common.clock import utcnow
from wanotify.common.config import PacingSettings
from wanotify.common.crypto import SecretBox
from wanotify.common.db.policies import TenantPolicies
from wanotify.common.db.uow import UnitOfWork, with_outbox
from wanotify.common.domain.decision import PAUSE_RECHECK, Fail, PauseSender, SendError, decide
from wanotify.common.domain.message import TemplateContent
from wanotify.common.domain.notification import Notification, Sender
from wanotify.common.meta.client import MetaClient
from wanotify.common.meta.errors import ErrorClass, MetaApiError, MetaTransportError
from wanotify.common.meta.payloads import build_send_payload
from wanotify.common.metrics import Metrics
from wanotify.common.pacing import PaceDecision, Pacer, PaceRequest
from wanotify.common.publisher import Publisher, QueueJob
from wanotify.common.queue.base import MAX_DELAY_SECONDS, ReceivedMessage

log = logging.getLogger(__name__)
tracer = trace.get_tracer("wanotify.worker")

# A paused sender's notifications are looked at again this often (resuming wakes them at once).
# Writing `sent` after Meta accepted: tries, ~9 s in all (the claim lasts longer than that).
RECORD_SENT_ATTEMPTS = 8
# Database errors that retrying cannot fix.
_NOT_TRANSIENT = (IntegrityError, ProgrammingError, DataError)
# Sender rows (pause state, tiers) and tenant policies are cached this long per worker process.
SENDER_CACHE_SECONDS = 2.0
POLICY_CACHE_SECONDS = 10.0


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
        pacer: Pacer,
        pacing: PacingSettings,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self._uow = with_outbox(uow, publisher)
        self._meta = meta
        self._secrets = secrets
        self._metrics = metrics
        self._claim_seconds = claim_seconds
        self._max_receives = max_receives
        self._breaker = breaker or CircuitBreaker(None, threshold=5, cooldown=30.0)
        self._senders: TtlCache[str, Sender] = TtlCache(SENDER_CACHE_SECONDS)
        self._policies = TenantPolicies(uow, POLICY_CACHE_SECONDS)
        self._pacer = pacer
        self._pacing = pacing

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
        counts_unique_user = sender.messaging_limit is not None and isinstance(n.message, TemplateContent)
        async with self._uow() as uow:
            opted_out = await uow.opt_outs.get(n.tenant_id, n.recipient_phone)
            if counts_unique_user and opted_out is None:
                # Only business-initiated messages outside the service window count toward the tier.
                window_open = await uow.windows.open_for(sender.id, [n.recipient_phone], utcnow())
                counts_unique_user = not window_open
        if opted_out is not None:
            return await self._fail(
                n, "RECIPIENT_OPTED_OUT", "The recipient opted out before it was sent", False
            )
        wait = await self._breaker.before(sender.id)
        if wait is not None:
            return await self._defer(n, timedelta(seconds=wait), "breaker_open")
        decision = await self._pacer.acquire(await self._pace_request(n, sender, counts_unique_user))
        if decision.local:
            self._metrics.pacing_fallback.inc()
        if decision.wait > self._pacing.max_sleep_seconds:
            self._metrics.pacing_waits.labels(decision.binding, "deferred").inc()
            return await self._defer(
                n, timedelta(seconds=decision.wait), "paced", {"limit": decision.binding}
            )
        await self._sleep_for_slot(decision)
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
            error = SendError(exc.error_class, meta_code=exc.code)
            return await self._on_error(n, sender, error, str(exc.code), exc.message)
        except MetaTransportError as exc:
            self._metrics.meta_duration.observe(time.perf_counter() - started)
            await self._breaker.failure(sender.id)
            return await self._on_error(
                n, sender, SendError(ErrorClass.SOON), f"META_{exc.kind.upper()}", str(exc)
            )
        self._metrics.meta_duration.observe(time.perf_counter() - started)
        await self._breaker.success(sender.id)
        await self._record_sent(
            n, result.wamid, {"message_status": result.message_status} if result.message_status else {}
        )
        self._metrics.sends.labels("sent", "", n.recipient_country or "").inc()
        self._metrics.transitions.labels("sent").inc()
        self._metrics.accept_to_sent.observe((utcnow() - n.created_at).total_seconds())
        return Outcome.SENT

    async def _record_sent(self, n: Notification, wamid: str, detail: dict[str, str]) -> None:
        """Meta has accepted it: if this write were lost, the redelivery would send it again. So a
        database hiccup (connection refused, too many clients, a failover) is retried for a while,
        well within the claim; a write that still fails leaves the job to redelivery as before."""
        delay = 0.2
        for attempt in range(1, RECORD_SENT_ATTEMPTS + 1):
            try:
                async with self._uow() as uow:
                    await uow.notifications.record_sent(n, wamid, detail)
                    await uow.commit()
                return
            except DBAPIError as exc:
                if isinstance(exc, _NOT_TRANSIENT) or attempt == RECORD_SENT_ATTEMPTS:
                    raise
                log.warning(
                    "recording a sent notification failed; retrying",
                    extra={"notification_id": n.id, "attempt": attempt, "error": str(exc)[:200]},
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def _pace_request(self, n: Notification, sender: Sender, counts_unique_user: bool) -> PaceRequest:
        policy = await self._policies.get(n.tenant_id)
        hour = policy.anti_spam.per_hour
        day = policy.anti_spam.per_day
        return PaceRequest(
            notification_id=n.id,
            tenant_id=n.tenant_id,
            sender_id=sender.id,
            recipient=n.recipient_phone,
            throughput_mps=float(sender.throughput_mps),
            anti_spam_per_hour=self._pacing.anti_spam_per_hour if hour is None else hour,
            anti_spam_per_day=self._pacing.anti_spam_per_day if day is None else day,
            unique_user_limit=sender.messaging_limit if counts_unique_user else None,
        )

    async def _sleep_for_slot(self, decision: PaceDecision) -> None:
        if decision.wait > 0:
            self._metrics.pacing_waits.labels(decision.binding, "slept").inc()
            await asyncio.sleep(decision.wait)

    async def _on_error(
        self, n: Notification, sender: Sender, error: SendError, code: str, message: str
    ) -> Outcome:
        """Carry out the domain's decision on a refused send."""
        error_class = error.error_class
        decision = decide(error, n.attempt, n.max_attempts)
        if isinstance(decision, PauseSender):
            return await self._pause(n, sender, code, message, decision.recheck)
        log.warning(
            "send failed",
            extra={
                "notification_id": n.id,
                "error_code": code,
                "error_class": error_class.value,
                "attempt": n.attempt,
            },
        )
        if isinstance(decision, Fail):
            self._metrics.sends.labels("failed", error_class.value, n.recipient_country or "").inc()
            return await self._fail(n, code, message, decision.retryable)
        delay = decision.delay
        # A retry further out than the queue's maximum delay is left to the scheduler's relay.
        soon = delay.total_seconds() <= MAX_DELAY_SECONDS
        async with self._uow() as uow:
            await uow.notifications.record_retry(
                n, next_attempt_at=utcnow() + delay, code=code, message=message, publish=soon
            )
            await uow.commit()
        self._metrics.sends.labels("retry", error_class.value, n.recipient_country or "").inc()
        self._metrics.transitions.labels("queued").inc()
        return Outcome.RETRY

    async def _pause(
        self, n: Notification, sender: Sender, code: str, message: str, recheck: timedelta
    ) -> Outcome:
        """A sender-level error: pause the sender (alert) and keep the notification waiting."""
        reason = f"({code}) {message}"[:500]
        async with self._uow() as uow:
            paused = await uow.senders.pause(sender.id, code=code, reason=reason)
            await uow.commit()
        self._senders.put(sender.id, msgspec.structs.replace(sender, paused_at=utcnow()))
        self._metrics.sends.labels("paused", ErrorClass.SENDER.value, n.recipient_country or "").inc()
        if paused:
            self._metrics.sender_pauses.labels(code).inc()
            log.warning(
                "sender paused by a sender-level error; resume it with POST /v1/senders/{id}/resume",
                extra={
                    "sender_id": sender.id,
                    "tenant_id": sender.tenant_id,
                    "error_code": code,
                    "error_message": message[:200],
                    "notification_id": n.id,
                },
            )
        return await self._defer(
            n,
            recheck,
            "sender_paused",
            {"paused_code": code},
            error=(code, message),
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
        """Back to waiting without burning the attempt (``error``: the code and message that caused
        it), published for its new time; further out than the queue's maximum delay, the
        scheduler's relay publishes it when it comes near."""
        async with self._uow() as uow:
            await uow.notifications.defer(
                n,
                until=utcnow() + delay,
                reason=reason,
                detail=detail,
                error_code=error[0] if error else None,
                error_message=error[1] if error else None,
                publish=delay.total_seconds() <= MAX_DELAY_SECONDS,
            )
            await uow.commit()
        self._metrics.deferred.labels(reason).inc()
        self._metrics.transitions.labels("rate_limited").inc()
        return Outcome.DEFERRED

    async def _expire(self, n: Notification) -> Outcome:
        async with self._uow() as uow:
            await uow.notifications.expire_claimed(n)
            await uow.commit()
        self._metrics.expired.labels("worker").inc()
        self._metrics.transitions.labels("expired").inc()
        return Outcome.EXPIRED

    async def _fail(self, n: Notification, code: str, message: str, retryable: bool) -> Outcome:
        async with self._uow() as uow:
            await uow.notifications.record_failed(n, code=code, message=message, retryable=retryable)
            await uow.commit()
        self._metrics.transitions.labels("failed").inc()
        return Outcome.FAILED
