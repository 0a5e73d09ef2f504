"""The scheduler's jobs. Each is safe to run on several replicas at once: every claim is a
conditional update or ``SKIP LOCKED``, so the Lease only saves duplicate work."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import msgspec

from wanotify.common.db.uow import UnitOfWork, with_outbox
from wanotify.common.domain.notification import Notification
from wanotify.common.metrics import Metrics
from wanotify.common.publisher import Publisher, QueueJob
from wanotify.common.queue.base import MAX_DELAY_SECONDS, Queue, QueueError
from wanotify.common.queue.lanes import LanedQueue

log = logging.getLogger(__name__)


class SchedulerJobs:
    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        publisher: Publisher,
        metrics: Metrics,
        *,
        batch_size: int,
        outbox_grace_seconds: float,
        stale_claim_seconds: float,
        dead_letter_queue: Queue | None = None,
        lanes: LanedQueue | None = None,
        webhook_retention_days: int = 30,
    ) -> None:
        self._uow = with_outbox(uow, publisher)
        self._metrics = metrics
        self._batch = batch_size
        self._grace = outbox_grace_seconds
        self._stale = stale_claim_seconds
        self._dlq = dead_letter_queue
        self._lanes = lanes
        self._retention_days = webhook_retention_days

    async def release_due(self) -> int:
        """Scheduled notifications whose time has come → queued and published."""
        async with self._uow() as uow:
            due = await uow.notifications.release_due_scheduled(self._batch)
            await uow.commit()
        await self._unmark_unpublished(due, uow.published)
        self._metrics.scheduled_released.inc(len(due))
        self._metrics.transitions.labels("queued").inc(len(due))
        return len(due)

    async def relay_outbox(self) -> int:
        """Queued notifications without a queue message: publish failed, or a long retry is now near."""
        async with self._uow() as uow:
            pending = await uow.notifications.claim_unpublished(
                grace_seconds=self._grace, horizon_seconds=MAX_DELAY_SECONDS, limit=self._batch
            )
            uow.stage(pending, use_stored_trace=True)
            await uow.commit()
        published = await self._unmark_unpublished(pending, uow.published)
        self._metrics.outbox_republished.inc(published)
        if pending:
            log.info("outbox relay published", extra={"count": published, "pending": len(pending)})
        return published

    async def recover_stale_claims(self) -> int:
        """`processing` rows whose worker died and whose queue message is gone (e.g. dead-lettered)."""
        async with self._uow() as uow:
            ids = await uow.notifications.requeue_stale_claims(
                older_than_seconds=self._stale, limit=self._batch
            )
            await uow.commit()
        if ids:
            log.warning("requeued notifications with lapsed claims", extra={"count": len(ids)})
        return len(ids)

    async def expire_due(self) -> int:
        """Waiting notifications whose ``expires_at`` passed → ``expired`` (never sent after it)."""
        async with self._uow() as uow:
            ids = await uow.notifications.expire_due(self._batch)
            await uow.commit()
        if ids:
            self._metrics.expired.labels("scheduler").inc(len(ids))
            self._metrics.transitions.labels("expired").inc(len(ids))
            log.info("expired notifications", extra={"count": len(ids)})
        return len(ids)

    async def count_webhook_backlog(self) -> int:
        """``wanotify_webhook_backlog`` (deliveries waiting or in flight), the disabled endpoints and
        the open breakers."""
        async with self._uow() as uow:
            backlog = await uow.webhooks.backlog()
            disabled, breakers = await uow.webhooks.unhealthy_counts()
        self._metrics.webhook_backlog.set(backlog)
        self._metrics.webhook_endpoints_disabled.set(disabled)
        self._metrics.webhook_breakers_open.set(breakers)
        return backlog

    async def purge_webhook_log(self) -> int:
        async with self._uow() as uow:
            purged = await uow.webhooks.purge(older_than_days=self._retention_days, limit=self._batch)
            await uow.commit()
        if purged:
            log.info("purged client events past their retention", extra={"count": purged})
        return purged

    async def count_paused_senders(self) -> int:
        async with self._uow() as uow:
            paused = await uow.senders.count_paused()
        self._metrics.paused_senders.set(paused)
        return paused

    async def record_lane_depths(self) -> dict[str, int]:
        """Visible messages per priority lane → ``wanotify_queue_lane_depth{priority}``."""
        if self._lanes is None:
            return {}
        try:
            depths = {key: d.visible for key, d in (await self._lanes.lane_depths()).items()}
        except QueueError as exc:
            log.warning("lane depth failed", extra={"error": str(exc)[:200]})
            return {}
        for key, visible in depths.items():
            self._metrics.queue_lane_depth.labels(key).set(visible)
        return depths

    async def fold_dead_letter_queue(self) -> int:
        """Messages in SQS's own dead-letter queue (poison messages): the notification becomes
        ``failed`` with ``POISON_MESSAGE`` unless it is already past dispatch, then the message is
        deleted, so nothing stays hidden in a queue nobody reads. Skipped without ``SQS_DLQ_URL``."""
        if self._dlq is None:
            return 0
        folded = 0
        try:
            messages = await self._dlq.receive(10, 0)
        except QueueError as exc:
            log.warning("dead-letter queue receive failed", extra={"error": str(exc)[:200]})
            return 0
        done: list[str] = []
        for message in messages:
            try:
                job = msgspec.json.decode(message.body, type=QueueJob)
            except (msgspec.DecodeError, msgspec.ValidationError):
                log.error(
                    "dead-letter message is not a job; deleted", extra={"message_id": message.message_id}
                )
                done.append(message.receipt)
                continue
            async with self._uow() as uow:
                failed = await uow.notifications.fail_poison(job.notification_id)
                await uow.commit()
            if failed:
                folded += 1
                self._metrics.transitions.labels("failed").inc()
                log.warning(
                    "poison message folded back as a failed notification",
                    extra={"notification_id": job.notification_id},
                )
            done.append(message.receipt)
        if done:
            try:
                await self._dlq.delete(done)
            except QueueError as exc:
                log.warning("dead-letter queue delete failed", extra={"error": str(exc)[:200]})
        self._metrics.dead_letter_folded.inc(folded)
        return folded

    async def _unmark_unpublished(self, items: Sequence[Notification], published_ids: Sequence[str]) -> int:
        """A claimed row whose publish failed goes back to the relay (its claim stamp is cleared)."""
        published = set(published_ids)
        failed = [n.id for n in items if n.id not in published]
        if failed:
            async with self._uow() as uow:
                await uow.notifications.unmark_enqueued(failed)
                await uow.commit()
        return len(published)
