"""Publishing notifications to the send queue after their row is committed (the outbox pattern).

The row is the truth: a publish that fails leaves ``enqueued_at`` empty and the scheduler's relay
publishes it again later. Duplicates in the queue are harmless because the worker's claim is a
conditional update.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from wanotify.common.clock import utcnow
from wanotify.common.db.notifications import NotificationRepository
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.notification import Notification
from wanotify.common.queue.base import OutgoingMessage, Queue, QueueError, clamp_delay
from wanotify.common.queue.lanes import TransactionalQueue
from wanotify.common.telemetry import carrier_from_current

log = logging.getLogger(__name__)


EARLY_ARRIVAL_SECONDS = 1.0


class QueueJob(msgspec.Struct, frozen=True):
    """The queue message body: a pointer to the row, never the content."""

    notification_id: str
    tenant_id: str


def _message(n: Notification, *, use_stored_trace: bool) -> OutgoingMessage:
    carrier = carrier_from_current()
    if use_stored_trace and n.traceparent:
        carrier = {"traceparent": n.traceparent}
    delay = 0
    if n.next_attempt_at is not None:
        # Whole seconds (SQS), rounded so the message arrives up to a second *before* its time: the
        # claim accepts that, and a paced notification sleeps the rest to hit its slot exactly.
        delay = clamp_delay((n.next_attempt_at - utcnow()).total_seconds() - EARLY_ARRIVAL_SECONDS)
    # When the message becomes visible (epoch seconds): the worker measures queue time from it.
    due_at = f"{utcnow().timestamp() + delay:.3f}"
    return OutgoingMessage(
        body=msgspec.json.encode(QueueJob(n.id, n.tenant_id)).decode(),
        attributes={**carrier, "priority": n.priority, "due_at": due_at},
        delay_seconds=delay,
    )


class Publisher:
    def __init__(self, queue: Queue, engine: AsyncEngine) -> None:
        self._queue = queue
        self._engine = engine

    async def publish_in(
        self, conn: AsyncConnection, items: Sequence[Notification], *, use_stored_trace: bool = False
    ) -> bool:
        """With the PostgreSQL queue, enqueue in the caller's transaction (a true transactional outbox)
        and return True; with SQS return False: the caller publishes after its commit. Callers use
        :meth:`UnitOfWork.stage`, which does both."""
        if not isinstance(self._queue, TransactionalQueue):
            return False
        if items:
            messages = [_message(n, use_stored_trace=use_stored_trace) for n in items]
            await self._queue.send_batch_in(conn, messages)
            await NotificationRepository(conn).mark_enqueued([n.id for n in items])
        return True

    async def publish(self, items: Sequence[Notification], *, use_stored_trace: bool = False) -> list[str]:
        """Send one message per notification and stamp ``enqueued_at``; returns the ids published."""
        if not items:
            return []
        messages = [_message(n, use_stored_trace=use_stored_trace) for n in items]
        try:
            failed = set(await self._queue.send_batch(messages))
        except QueueError as exc:
            log.warning(
                "publish failed, the outbox relay will retry", extra={"count": len(items), "error": str(exc)}
            )
            return []
        published = [n.id for i, n in enumerate(items) if i not in failed]
        if failed:
            log.warning("some messages were not published", extra={"failed": len(failed)})
        try:
            async with UnitOfWork(self._engine) as uow:
                await uow.notifications.mark_enqueued(published)
                await uow.commit()
        except Exception:
            # The messages are out; without the stamp the relay sends them again: a harmless duplicate.
            log.warning("could not stamp enqueued_at", exc_info=True)
        return published
