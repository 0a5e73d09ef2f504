"""Which changes a client hears of, and what the event says: pure, no I/O.

A notification's client events follow its status: accepted (or released, or replayed) is
``notification.queued``; each later status Meta or we reach is ``notification.<status>``. Internal
moves (claims, retries, deferrals, a lapsed claim requeued) are not events: the client sees the
notification waiting, then its outcome. Every event carries ``sequence``, the notification's
``event_sequence`` after the change, which rises with every event, so a client can drop a stale one.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from wanotify.common.clock import iso
from wanotify.common.domain.notification import Notification
from wanotify.common.domain.status import Status

_OUTCOMES = {
    Status.SENT: "notification.sent",
    Status.DELIVERED: "notification.delivered",
    Status.READ: "notification.read",
    Status.FAILED: "notification.failed",
    Status.CANCELED: "notification.canceled",
    Status.EXPIRED: "notification.expired",
}
# A move to `queued` from these is the start of a (new) life the client asked for.
_QUEUED_FROM = frozenset({Status.SCHEDULED, Status.FAILED})


def notification_events(sources: Collection[Status] | None, to: Status) -> tuple[str, ...]:
    """The events a move from ``sources`` (None: the row was just inserted) to ``to`` makes, in
    order. A failure is two: ``notification.failed``, then ``notification.dead_lettered`` (a failed
    notification is in the dead-letter set, where ``POST /v1/dead-letters/replay`` finds it)."""
    if to is Status.QUEUED:
        return ("notification.queued",) if sources is None or set(sources) <= _QUEUED_FROM else ()
    if to is Status.FAILED:
        return ("notification.failed", "notification.dead_lettered")
    outcome = _OUTCOMES.get(to)
    return (outcome,) if outcome else ()


def notification_payload(
    event_id: str, event_type: str, n: Notification, at: datetime, sequence: int | None = None
) -> dict[str, Any]:
    """The seed's shape ``{event, timestamp, data: {notification_id, status, recipient, metadata, …}}``
    plus the event id, the wamid, the error on failures, Meta's pricing, and ``sequence``."""
    data: dict[str, Any] = {
        "notification_id": n.id,
        "status": n.status.value,
        "recipient": n.recipient_phone,
        "event_type": n.event_type,
        "metadata": n.metadata,
        "sequence": n.event_sequence if sequence is None else sequence,
        "attempt": n.attempt,
        "whatsapp_message_id": n.whatsapp_message_id,
        "batch_id": n.batch_id,
    }
    if n.status is Status.FAILED:
        data["error"] = {"code": n.error_code, "title": n.error_message, "retryable": bool(n.error_retryable)}
    if n.pricing is not None:
        data["pricing"] = n.pricing
    return {"id": event_id, "event": event_type, "timestamp": iso(at), "data": data}
