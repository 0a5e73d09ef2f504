"""The 24-hour customer-service window per sender and recipient (reference §4.4)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from wanotify.common.db.schema import conversation_windows as _w

WINDOW = timedelta(hours=24)


class WindowRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def touch(self, sender_id: str, recipient_phone: str, at: datetime) -> None:
        """An inbound message at ``at``: the window now runs 24 h from the latest one seen."""
        stmt = insert(_w).values(sender_id=sender_id, recipient_phone=recipient_phone, last_inbound_at=at)
        stmt = stmt.on_conflict_do_update(
            index_elements=[_w.c.sender_id, _w.c.recipient_phone],
            set_={"last_inbound_at": func.greatest(_w.c.last_inbound_at, stmt.excluded.last_inbound_at)},
        )
        await self._conn.execute(stmt)

    async def open_for(self, sender_id: str, phones: Sequence[str], now: datetime) -> set[str]:
        """Which of these recipients wrote to this sender within the last 24 hours."""
        if not phones:
            return set()
        rows = await self._conn.execute(
            select(_w.c.recipient_phone).where(
                _w.c.sender_id == sender_id,
                _w.c.recipient_phone.in_(list(set(phones))),
                _w.c.last_inbound_at > now - WINDOW,
            )
        )
        return {r.recipient_phone for r in rows.all()}

    async def last_inbound(self, sender_id: str, recipient_phone: str) -> datetime | None:
        row = (
            await self._conn.execute(
                select(_w.c.last_inbound_at).where(
                    _w.c.sender_id == sender_id, _w.c.recipient_phone == recipient_phone
                )
            )
        ).first()
        return row.last_inbound_at if row else None
