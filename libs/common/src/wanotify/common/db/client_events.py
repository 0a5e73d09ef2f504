"""Client events, written in the transaction of the change that causes them.

One statement records the events and fans each out to the tenant's subscribed endpoints as a
``webhook_deliveries`` row (``held`` for a disabled endpoint, so ``recover`` can send it later). A
tenant without endpoints gets no rows. Delivery ids are derived from (event, endpoint): recording
the same event twice is impossible, not merely unlikely.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from wanotify.common.clock import iso, utcnow
from wanotify.common.domain.client_events import notification_payload
from wanotify.common.domain.notification import Notification
from wanotify.common.ids import new_id
from wanotify.common.telemetry import current_traceparent

_RECORD = text(
    """
    WITH input AS (
        SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb))
            AS x(id text, tenant_id text, type text, notification_id text, sequence int, payload jsonb,
                 traceparent text)
    ), recorded AS (
        INSERT INTO webhook_events (id, tenant_id, type, notification_id, sequence, payload, traceparent)
        SELECT i.id, i.tenant_id, i.type, i.notification_id, i.sequence, i.payload, i.traceparent
        FROM input i
        WHERE EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.tenant_id = i.tenant_id)
        RETURNING id, tenant_id, type, notification_id, sequence
    )
    INSERT INTO webhook_deliveries
        (id, event_id, endpoint_id, tenant_id, event_type, notification_id, sequence, status)
    SELECT 'whd_' || md5(r.id || e.id), r.id, e.id, r.tenant_id, r.type, r.notification_id, r.sequence,
           CASE WHEN e.enabled THEN 'pending' ELSE 'held' END
    FROM recorded r
    JOIN webhook_endpoints e
      ON e.tenant_id = r.tenant_id
     AND e.events && ARRAY[r.type, '*', split_part(r.type, '.', 1) || '.*']::varchar[]
    """
)


class ClientEvents:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def notification_changed(self, event_types: Sequence[str], items: Sequence[Notification]) -> None:
        """``event_types`` (in order) for each of ``items``, rows as they are after the change: the
        last event carries the row's ``event_sequence``, the ones before it the numbers below."""
        if not items or not event_types:
            return
        rows = []
        for n in items:
            for k, event_type in enumerate(event_types):
                event_id = new_id("evt")
                sequence = n.event_sequence - (len(event_types) - 1 - k)
                rows.append(
                    {
                        "id": event_id,
                        "tenant_id": n.tenant_id,
                        "type": event_type,
                        "notification_id": n.id,
                        "sequence": sequence,
                        "payload": notification_payload(event_id, event_type, n, n.updated_at, sequence),
                        "traceparent": n.traceparent,  # the delivery's span links to the notification's trace
                    }
                )
        await self._conn.execute(_RECORD, {"rows": msgspec.json.encode(rows).decode()})

    async def tenant_event(self, tenant_id: str, event_type: str, data: dict[str, Any]) -> None:
        """An event about the tenant rather than one notification (a reply, an opt-out, a paused
        sender): no per-notification order applies."""
        event_id = new_id("evt")
        payload = {"id": event_id, "event": event_type, "timestamp": iso(utcnow()), "data": data}
        row = {
            "id": event_id,
            "tenant_id": tenant_id,
            "type": event_type,
            "notification_id": None,
            "sequence": 0,
            "payload": payload,
            "traceparent": current_traceparent(),
        }
        await self._conn.execute(_RECORD, {"rows": msgspec.json.encode([row]).decode()})
