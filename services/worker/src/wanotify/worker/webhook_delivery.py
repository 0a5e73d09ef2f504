"""Client webhook delivery: the worker's second loop, apart from sends.

Due deliveries are claimed from PostgreSQL (``webhook_deliveries`` is their queue), signed with
the Standard Webhooks headers and the seed's ``X-Webhook-Signature``, and POSTed to the endpoint's
URL at an address checked at delivery time (the connection goes to that address, so a name cannot
re-resolve elsewhere in between). Each attempt is logged; a failure is retried on the schedule
(``Retry-After`` honoured within it), a 410 Gone disables the endpoint.

Isolation: the loop has its own concurrency, and an endpoint with deliveries in flight is not
claimed again until they finish, so a hanging endpoint holds at most one batch
(``WEBHOOK_ENDPOINT_CONCURRENCY``) of this worker's slots while the others flow.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import httpx
import msgspec
from opentelemetry import trace

from wanotify.common.clock import utcnow
from wanotify.common.config import WebhookSettings
from wanotify.common.crypto import SecretBox
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.webhook import AttemptOutcome, DueDelivery
from wanotify.common.metrics import Metrics
from wanotify.common.webhooks.schedule import next_delay, parse_retry_after
from wanotify.common.webhooks.secrets import secret_context
from wanotify.common.webhooks.signing import SEED_SIGNATURE_HEADER, seed_header, standard_headers
from wanotify.common.webhooks.urls import Resolver, UnsafeDestination, resolve_and_check

log = logging.getLogger(__name__)
tracer = trace.get_tracer("wanotify.worker.webhooks")

RESPONSE_BODY_LIMIT = 1024
USER_AGENT = "wa-notify-webhooks/1"


def pinned_url(url: str, address: str) -> str:
    """``url`` with its host replaced by the checked ``address`` (the Host header and TLS SNI keep
    the name)."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))


def storable(text: str) -> str:
    """An endpoint's answer as PostgreSQL can keep it: no NUL (and no lone surrogate)."""
    return text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


class WebhookDeliverer:
    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        http: httpx.AsyncClient,
        box: SecretBox,
        settings: WebhookSettings,
        metrics: Metrics,
        resolver: Resolver,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._uow = uow
        self._http = http
        self._box = box
        self._settings = settings
        self._metrics = metrics
        self._resolver = resolver
        self._rand = rand
        self._in_flight: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Claim and deliver until ``stop``; then let what is in flight finish (a delivery cut
        short is claimed again once its claim lapses: at least once)."""
        while not stop.is_set():
            claimed = await self._claim()
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

    async def _claim(self) -> list[DueDelivery]:
        free = self._settings.concurrency - len(self._tasks)
        if free <= 0:
            return []
        try:
            async with self._uow() as uow:
                claimed = await uow.webhooks.claim_due(
                    limit=free,
                    per_endpoint=self._settings.endpoint_concurrency,
                    saturated=[e for e, n in self._in_flight.items() if n > 0],
                    claim_seconds=self._settings.timeout_seconds + 30,
                    ordering_wait_seconds=self._settings.ordering_wait_seconds,
                )
                await uow.commit()
        except Exception:
            log.exception("claiming webhook deliveries failed; retrying")
            await asyncio.sleep(self._settings.poll_seconds)
            return []
        return claimed

    def _start(self, d: DueDelivery) -> None:
        self._in_flight[d.endpoint_id] += 1
        task = asyncio.create_task(self.deliver(d))
        self._tasks.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._tasks.discard(t)
            self._in_flight[d.endpoint_id] -= 1
            if self._in_flight[d.endpoint_id] <= 0:
                del self._in_flight[d.endpoint_id]
            self._wake.set()

        task.add_done_callback(done)

    async def deliver(self, d: DueDelivery) -> None:
        """One attempt, recorded; never raises (a failure to record leaves the claim to lapse)."""
        with tracer.start_as_current_span(
            f"webhook {d.event_type}",
            attributes={
                "wanotify.webhook_endpoint_id": d.endpoint_id,
                "wanotify.webhook_event_id": d.event_id,
                "wanotify.attempt": d.attempt,
                **({"wanotify.notification_id": d.notification_id} if d.notification_id else {}),
            },
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

    def _secrets(self, d: DueDelivery) -> list[str]:
        context = secret_context(d.tenant_id)
        secrets = [self._box.decrypt(d.secret_encrypted, context=context)]
        expires = d.previous_secret_expires_at
        if d.previous_secret_encrypted is not None and expires is not None and expires > utcnow():
            secrets.append(self._box.decrypt(d.previous_secret_encrypted, context=context))
        return secrets

    async def _attempt(self, d: DueDelivery) -> AttemptOutcome:
        body = msgspec.json.encode(d.payload)
        timestamp = int(time.time())
        secrets = self._secrets(d)
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            **standard_headers(secrets, d.event_id, timestamp, body),
            SEED_SIGNATURE_HEADER: seed_header(secrets, timestamp, body),
        }
        parts = urlsplit(d.url)
        host = parts.hostname or ""
        started = time.perf_counter()

        def elapsed() -> int:
            return int((time.perf_counter() - started) * 1000)

        try:
            addresses = await resolve_and_check(
                host,
                parts.port or (443 if parts.scheme == "https" else 80),
                allow_private=self._settings.allow_private_networks,
                resolver=self._resolver,
            )
        except UnsafeDestination as e:
            return AttemptOutcome(elapsed(), error=e.message)
        except OSError as e:
            return AttemptOutcome(elapsed(), error=f"the host did not resolve: {e}")
        headers["host"] = parts.netloc.rpartition("@")[2]
        extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
        try:
            async with self._http.stream(
                "POST",
                pinned_url(d.url, addresses[0]),
                content=body,
                headers=headers,
                timeout=self._settings.timeout_seconds,
                extensions=extensions,
            ) as response:
                head = b""
                async for chunk in response.aiter_bytes():
                    head += chunk
                    if len(head) >= RESPONSE_BODY_LIMIT:
                        break
                retry_after = (
                    parse_retry_after(response.headers.get("retry-after"), now=datetime.now(UTC))
                    if response.status_code in (429, 503)
                    else None
                )
                return AttemptOutcome(
                    elapsed(),
                    status_code=response.status_code,
                    response_body=storable(head[:RESPONSE_BODY_LIMIT].decode("utf-8", "replace")),
                    retry_after_seconds=retry_after,
                )
        except httpx.TimeoutException:
            return AttemptOutcome(elapsed(), error=f"timed out after {self._settings.timeout_seconds:g} s")
        except httpx.HTTPError as e:
            return AttemptOutcome(elapsed(), error=storable(f"{type(e).__name__}: {e}"[:500]))

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
                disable_after_seconds=self._settings.disable_after_seconds,
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
