"""Client webhook delivery: the worker's second loop, apart from sends.

Due deliveries are claimed from PostgreSQL (``webhook_deliveries`` is their queue), signed with
the Standard Webhooks headers and the seed's ``X-Webhook-Signature``, and POSTed to the endpoint's
URL at an address checked at delivery time (:mod:`wanotify.common.webhooks.transport`). Each
attempt is logged; a failure is retried on the schedule (``Retry-After`` honoured within it), a
410 Gone disables the endpoint.

Isolation: the loop has its own concurrency; an endpoint has at most
``WEBHOOK_ENDPOINT_CONCURRENCY`` deliveries in flight across workers (claims at the same instant
may each fill it once), and each endpoint's due
deliveries are claimed apart from the others', so a hanging endpoint holds that many slots and a
backlog at one endpoint hides nobody else's. After ``WEBHOOK_BREAKER_FAILURES`` failures in a row an
endpoint's breaker opens: nothing goes to it for ``WEBHOOK_BREAKER_COOLDOWN_SECONDS``, then one
probe, whose success closes it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import timedelta

from opentelemetry import trace

from wanotify.common.clock import utcnow
from wanotify.common.config import WebhookSettings
from wanotify.common.crypto import SecretBox
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.webhook import AttemptOutcome, DueDelivery
from wanotify.common.metrics import Metrics
from wanotify.common.telemetry import link_to
from wanotify.common.webhooks.schedule import next_delay
from wanotify.common.webhooks.transport import WebhookTransport, endpoint_secrets

log = logging.getLogger(__name__)


class WebhookDeliverer:
    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        transport: WebhookTransport,
        box: SecretBox,
        settings: WebhookSettings,
        metrics: Metrics,
        rand: Callable[[], float] = random.random,
        tracer: trace.Tracer | None = None,
    ) -> None:
        self._uow = uow
        self._transport = transport
        self._box = box
        self._settings = settings
        self._metrics = metrics
        self._rand = rand
        self._tracer = tracer or trace.get_tracer("wanotify.worker.webhooks")
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Claim and deliver until ``stop``; then let what is in flight finish (a delivery cut
        short is claimed again once its claim lapses: at least once)."""
        while not stop.is_set():
            claimed = await self.claim()
            for d in claimed:
                self._start(d)
            if not claimed:
                self._wake.clear()
                waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
                await asyncio.wait(
                    waits, timeout=self._settings.poll_seconds, return_when=asyncio.FIRST_COMPLETED
                )
                for w in waits:
                    w.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=self._settings.timeout_seconds + 1)

    async def claim(self) -> list[DueDelivery]:
        """Due deliveries, up to the free slots; none on a database error (logged, retried)."""
        free = self._settings.concurrency - len(self._tasks)
        if free <= 0:
            return []
        try:
            async with self._uow() as uow:
                claimed = await uow.webhooks.claim_due(
                    limit=free,
                    per_endpoint=self._settings.endpoint_concurrency,
                    claim_seconds=self._settings.timeout_seconds + 5,  # outlasts one attempt
                    ordering_wait_seconds=self._settings.ordering_wait_seconds,
                )
                await uow.commit()
        except Exception:
            log.exception("claiming webhook deliveries failed; retrying")
            await asyncio.sleep(self._settings.poll_seconds)
            return []
        return claimed

    def _start(self, d: DueDelivery) -> None:
        task = asyncio.create_task(self.deliver(d))
        self._tasks.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._tasks.discard(t)
            self._wake.set()

        task.add_done_callback(done)

    async def deliver(self, d: DueDelivery) -> None:
        """One attempt, recorded; never raises (a failure to record leaves the claim to lapse)."""
        with self._tracer.start_as_current_span(
            f"webhook {d.event_type}",
            attributes={
                "wanotify.webhook_endpoint_id": d.endpoint_id,
                "wanotify.webhook_event_id": d.event_id,
                "wanotify.attempt": d.attempt,
                **({"wanotify.notification_id": d.notification_id} if d.notification_id else {}),
            },
            links=link_to(d.traceparent),
        ):
            try:
                outcome = await self._attempt(d)
            except Exception as e:  # a secret that no longer decrypts, say: logged, retried
                log.exception(
                    "a webhook delivery attempt failed before its request", extra={"delivery_id": d.id}
                )
                outcome = AttemptOutcome(0, error=f"{type(e).__name__}: could not make the request")
            try:
                await self._record(d, outcome)
            except Exception:
                log.exception("recording a webhook delivery failed", extra={"delivery_id": d.id})

    async def _attempt(self, d: DueDelivery) -> AttemptOutcome:
        secrets = endpoint_secrets(
            self._box,
            d.tenant_id,
            d.secret_encrypted,
            d.previous_secret_encrypted,
            d.previous_secret_expires_at,
        )
        return await self._transport.post(d.url, d.event_id, d.payload, secrets)

    async def _record(self, d: DueDelivery, outcome: AttemptOutcome) -> None:
        gone = outcome.status_code == 410
        next_at = None
        if not outcome.succeeded and not gone:
            delay = next_delay(
                self._settings.retry_schedule_seconds,
                d.attempt,
                rand=self._rand(),
                retry_after=outcome.retry_after_seconds,
            )
            next_at = utcnow() + timedelta(seconds=delay) if delay is not None else None
        async with self._uow() as uow:
            status = await uow.webhooks.record_attempt(
                d,
                outcome,
                next_attempt_at=next_at,
                health=self._settings,
                disable_reason="the endpoint answered 410 Gone" if gone else None,
            )
            await uow.commit()
        result = {"succeeded": "succeeded", "pending": "retry"}.get(status, "failed")
        self._metrics.webhook_deliveries.labels(d.event_type, result).inc()
        self._metrics.webhook_delivery_duration.observe(outcome.duration_ms / 1000)
        if result == "failed":
            log.warning(
                "webhook delivery failed for good",
                extra={"delivery_id": d.id, "endpoint_id": d.endpoint_id, "status_code": outcome.status_code},
            )
