"""The worker loop (after saq/arq): bounded concurrency, per-job hooks, graceful shutdown.

On stop it receives no more, lets in-flight jobs finish within the grace period, and leaves
anything unfinished to the queue's visibility timeout: nothing is acknowledged that is not done.
"""

from __future__ import annotations

import asyncio
import logging
import time

from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind

from wanotify.common.domain.priority import parse_priority
from wanotify.common.lifecycle import sleep_or_stop
from wanotify.common.metrics import Metrics
from wanotify.common.queue.base import MESSAGING_SYSTEMS, Queue, QueueError, ReceivedMessage
from wanotify.common.telemetry import context_from_carrier
from wanotify.worker.dispatcher import Dispatcher, Outcome

log = logging.getLogger(__name__)
tracer = trace.get_tracer("wanotify.worker")


class Worker:
    def __init__(
        self,
        queue: Queue,
        dispatcher: Dispatcher,
        metrics: Metrics,
        *,
        batch_size: int,
        concurrency: int,
        wait_seconds: float,
        shutdown_grace: float,
    ) -> None:
        self._queue = queue
        self._dispatcher = dispatcher
        self._metrics = metrics
        self._batch = batch_size
        self._concurrency = concurrency
        self._wait = wait_seconds
        self._grace = shutdown_grace
        self._tasks: set[asyncio.Task[None]] = set()
        self._to_delete: list[str] = []

    async def run(self, stop: asyncio.Event) -> None:
        log.info("worker started", extra={"queue": self._queue.name, "concurrency": self._concurrency})
        backoff = 0.5
        while not stop.is_set():
            free = self._concurrency - len(self._tasks)
            if free <= 0:
                await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)
                continue
            try:
                messages = await self._queue.receive(min(self._batch, free), self._wait)
                backoff = 0.5
            except QueueError as exc:
                log.warning("queue receive failed", extra={"error": str(exc)[:200]})
                await sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            self._observe_queue_wait(messages)
            for message in messages:
                task = asyncio.create_task(self._handle(message))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            await self._flush_deletes()
        await self._drain()

    def _observe_queue_wait(self, messages: list[ReceivedMessage]) -> None:
        now = time.time()
        for message in messages:
            try:
                due_at = float(message.attributes.get("due_at", ""))
            except ValueError:  # published before the attribute existed
                continue
            priority = parse_priority(message.attributes.get("priority", "")).value
            self._metrics.queue_wait.labels(priority).observe(max(0.0, now - due_at))

    async def _drain(self) -> None:
        if self._tasks:
            log.info("finishing in-flight jobs", extra={"count": len(self._tasks)})
            _, pending = await asyncio.wait(self._tasks, timeout=self._grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._flush_deletes()
        log.info("worker stopped")

    async def _handle(self, message: ReceivedMessage) -> None:
        parent = context_from_carrier(message.attributes)
        producer = trace.get_current_span(parent).get_span_context()
        started = time.perf_counter()
        with tracer.start_as_current_span(
            f"process {self._queue.name}",
            context=parent,
            kind=SpanKind.CONSUMER,
            links=[Link(producer)] if producer.is_valid else [],
            attributes={
                "messaging.system": MESSAGING_SYSTEMS.get(self._queue.backend, self._queue.backend),
                "messaging.destination.name": self._queue.name,
                "messaging.operation.type": "process",
                "messaging.message.id": message.message_id,
            },
        ) as span:
            try:
                outcome = await self._dispatcher.process(message)
            except Exception as exc:  # left for redelivery: the claim lapses with the visibility timeout
                span.record_exception(exc)
                log.exception(
                    "job crashed; the message will be redelivered", extra={"message_id": message.message_id}
                )
                return
            span.set_attribute("wanotify.outcome", outcome.value)
        self._to_delete.append(message.receipt)
        log.debug(
            "job done", extra={"outcome": outcome.value, "seconds": round(time.perf_counter() - started, 3)}
        )
        if outcome is not Outcome.SKIPPED and len(self._to_delete) >= self._batch:
            await self._flush_deletes()

    async def _flush_deletes(self) -> None:
        if not self._to_delete:
            return
        receipts, self._to_delete = self._to_delete, []
        try:
            await self._queue.delete(receipts)
        except QueueError as exc:
            # Redelivered later; the claim makes each redelivery a no-op.
            log.warning("queue delete failed", extra={"count": len(receipts), "error": str(exc)[:200]})
