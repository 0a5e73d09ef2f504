"""Applying Meta's status webhooks: monotonic, idempotent, every report kept in the delivery log."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from opentelemetry import trace

from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.status import META_STATUSES, Status, meta_status_effect
from wanotify.common.meta.webhooks import StatusItem
from wanotify.common.metrics import Metrics
from wanotify.common.telemetry import link_to

log = logging.getLogger(__name__)
tracer = trace.get_tracer("wanotify.receiver")


def meta_time(timestamp: str) -> datetime:
    try:
        return datetime.fromtimestamp(int(timestamp), UTC)
    except (ValueError, OverflowError):
        return datetime.now(UTC)


class StatusApplier:
    def __init__(self, uow: Callable[[], UnitOfWork], metrics: Metrics) -> None:
        self._uow = uow
        self._metrics = metrics

    async def apply(self, item: StatusItem) -> str:
        """Returns what happened: ``applied``, ``duplicate`` (recorded only), ``unknown`` or ``ignored``."""
        if item.status not in META_STATUSES:
            self._metrics.webhook_events.labels("status", "ignored").inc()
            return "ignored"
        at = meta_time(item.timestamp)
        async with self._uow() as uow:
            n = await uow.notifications.lock_for_status(item.id, item.biz_opaque_callback_data)
            if n is None:
                await uow.rollback()
                log.info("status for an unknown message", extra={"wamid": item.id, "status": item.status})
                self._metrics.webhook_events.labels("status", "unknown").inc()
                return "unknown"
            with tracer.start_as_current_span(
                f"meta status {item.status}",
                links=link_to(n.traceparent),
                attributes={"wanotify.notification_id": n.id, "wanotify.meta_status": item.status},
            ):
                target = meta_status_effect(n.status, item.status)
                error = item.errors[0] if item.errors else None
                error_code = str(error.code) if error else None
                error_message = (error.message or error.title) if error else None
                await uow.notifications.log(
                    n.id,
                    "meta_status" if target else "meta_status_ignored",
                    Status(item.status) if item.status != "failed" else Status.FAILED,
                    source="meta",
                    attempt=n.attempt,
                    wamid=item.id,
                    error_code=error_code,
                    error_message=error_message,
                    detail={
                        "current": n.status.value,
                        "pricing": item.pricing,
                        "conversation": item.conversation,
                    },
                    occurred_at=at,
                )
                if target is not None:
                    await uow.notifications.apply_meta_status(
                        n,
                        target,
                        wamid=item.id,
                        at=at,
                        error_code=error_code,
                        error_message=error_message,
                        pricing=item.pricing,
                    )
                await uow.commit()
        result = "applied" if target is not None else "duplicate"
        self._metrics.webhook_events.labels("status", result).inc()
        if target is not None:
            self._metrics.transitions.labels(target.value).inc()
        return result
