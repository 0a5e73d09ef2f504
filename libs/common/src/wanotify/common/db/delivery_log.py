"""A notification's delivery log: one row per thing that happened to it, in order.

Part of the notification aggregate: only :class:`~wanotify.common.db.notifications.NotificationRepository`
writes it, one row with every transition (and one per Meta report, applied or not).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from wanotify.common.db.rows import row_dict
from wanotify.common.db.schema import delivery_log
from wanotify.common.domain.status import Status


class Change(msgspec.Struct, frozen=True, kw_only=True):
    """What the log says about one change: the event, who made it, and what came with it."""

    event: str
    source: str
    wamid: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    detail: dict[str, Any] | None = None
    occurred_at: datetime | None = None

    def row(self, notification_id: str, status: Status, attempt: int) -> dict[str, Any]:
        row: dict[str, Any] = {
            "notification_id": notification_id,
            "event": self.event,
            "status": status.value,
            "source": self.source,
            "attempt": attempt,
            "whatsapp_message_id": self.wamid,
            "error_code": self.error_code,
            "error_message": self.error_message,
            "detail": self.detail,
        }
        if self.occurred_at is not None:
            row["occurred_at"] = self.occurred_at
        return row


class DeliveryLog:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, rows: list[dict[str, Any]]) -> None:
        """Rows of one shape (one :class:`Change` over many notifications): one executemany."""
        if rows:
            await self._conn.execute(insert(delivery_log), rows)

    async def history(self, notification_id: str) -> list[dict[str, Any]]:
        stmt = (
            select(delivery_log)
            .where(delivery_log.c.notification_id == notification_id)
            .order_by(delivery_log.c.id)
        )
        return [row_dict(r) for r in (await self._conn.execute(stmt)).all()]
