"""Applying Meta's status webhooks: monotonic, idempotent, every report kept in the delivery log.

An asynchronous ``failed`` is classified like a synchronous error (reference §3): a retryable
class with attempts left sends the notification back to ``queued`` for a new attempt after the
class's delay (the wamid is cleared so the next send records its own; the scheduler's outbox
relay publishes it); a sender-level error (bad token, locked account) pauses the sender and sends
the notification back to wait for the resume, as a synchronous one does; anything else fails it,
with ``retryable`` as classified.

Items come decoded and checked by :mod:`wanotify.receiver.items`: every value fits where it lands.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from opentelemetry import trace

from wanotify.common.db.delivery_log import Change
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.decision import Decision, Fail, PauseSender, Retry, SendError, decide
from wanotify.common.domain.notification import Notification
from wanotify.common.domain.status import META_STATUSES, Status, meta_status_effect
from wanotify.common.meta.errors import classify, is_retryable
from wanotify.common.meta.webhooks import StatusItem
from wanotify.common.metrics import Metrics
from wanotify.common.telemetry import link_to
from wanotify.receiver.items import unix_time

log = logging.getLogger(__name__)
tracer = trace.get_tracer("wanotify.receiver")


def async_decision(n: Notification, error_code: str | None) -> Decision:
    """What Meta's asynchronous ``failed`` means for ``n``: the same :func:`decide` the worker uses
    for a refused send. Only a notification still ``sent`` can go back; an error without a
    numeric code is final."""
    if error_code is None or not error_code.lstrip("-").isdigit():
        return Fail(retryable=False, exhausted=False)
    code = int(error_code)
    if n.status is not Status.SENT:
        return Fail(retryable=is_retryable(classify(code)), exhausted=False)
    return decide(SendError(classify(code), meta_code=code), n.attempt, n.max_attempts)


class StatusApplier:
    def __init__(self, uow: Callable[[], UnitOfWork], metrics: Metrics) -> None:
        self._uow = uow
        self._metrics = metrics

    async def apply(self, item: StatusItem) -> str:
        """Returns what happened: ``applied``, ``duplicate`` (recorded only), ``unknown`` or ``ignored``."""
        if item.status not in META_STATUSES:
            self._metrics.webhook_events.labels("status", "ignored").inc()
            return "ignored"
        at = unix_time(item.timestamp)
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
                decision: Decision | None = None
                if (
                    target is not None
                    and n.whatsapp_message_id is None
                    and await uow.notifications.wamid_was_retried(n.id, item.id)
                ):
                    target = None  # about a send whose failure already sent the notification back
                if target is Status.FAILED:
                    decision = async_decision(n, error_code)
                report = Change(
                    event="meta_status" if target else "meta_status_ignored",
                    source="meta",
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
                if target is None or isinstance(decision, Retry | PauseSender):
                    # Recorded, not applied: the report itself, then (for a retry) its transition.
                    await uow.notifications.log(n.id, Status(item.status), n.attempt, report)
                if isinstance(decision, Retry | PauseSender):
                    pause_sender = isinstance(decision, PauseSender)
                    wait = decision.recheck if isinstance(decision, PauseSender) else decision.delay
                    await uow.notifications.retry_after_async_failure(
                        n,
                        wamid=item.id,
                        next_attempt_at=datetime.now(UTC) + wait,
                        code=error_code or "",
                        message=error_message or "",
                        waiting=Status.RATE_LIMITED if pause_sender else Status.QUEUED,
                        give_back_attempt=pause_sender,
                    )
                    target = Status.RATE_LIMITED if pause_sender else Status.QUEUED
                    if pause_sender and await uow.senders.pause(
                        n.sender_id,
                        code=error_code or "",
                        reason=f"({error_code}) {error_message or ''}"[:500],
                    ):
                        self._metrics.sender_pauses.labels(error_code or "").inc()
                        log.warning(
                            "sender paused by a sender-level error Meta reported asynchronously",
                            extra={"sender_id": n.sender_id, "error_code": error_code},
                        )
                elif target is not None:
                    await uow.notifications.apply_meta_status(
                        n,
                        target,
                        report,
                        at=at,
                        error_retryable=isinstance(decision, Fail) and decision.retryable,
                        pricing=item.pricing,
                        conversation=item.conversation,
                    )
                await uow.commit()
        result = "applied" if target is not None else "duplicate"
        self._metrics.webhook_events.labels("status", result).inc()
        if target is not None:
            self._metrics.transitions.labels(target.value).inc()
        return result
