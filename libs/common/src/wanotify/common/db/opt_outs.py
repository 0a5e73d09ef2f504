"""Recipients who asked not to be messaged, per tenant (an inbound keyword, or the API)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import msgspec
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from wanotify.common.db.client_events import ClientEvents
from wanotify.common.db.rows import convert
from wanotify.common.db.schema import opt_outs as _o


class OptOut(msgspec.Struct, frozen=True):
    tenant_id: str
    recipient_phone: str
    source: str
    created_at: datetime
    reason: str | None = None


class OptOutRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._events = ClientEvents(conn)

    async def add(
        self, tenant_id: str, recipient_phone: str, *, source: str, reason: str | None = None
    ) -> tuple[OptOut, bool]:
        """Returns the opt-out and whether it is new (an existing one is kept as it was)."""
        inserted = (
            await self._conn.execute(
                insert(_o)
                .values(tenant_id=tenant_id, recipient_phone=recipient_phone, source=source, reason=reason)
                .on_conflict_do_nothing()
                .returning(*_o.c)
            )
        ).first()
        if inserted is not None:
            opt_out = convert(inserted, OptOut)
            await self._events.tenant_event(
                tenant_id,
                "recipient.opted_out",
                {"recipient": recipient_phone, "source": source, "reason": reason},
            )
            return opt_out, True
        existing = await self.get(tenant_id, recipient_phone)
        assert existing is not None
        return existing, False

    async def get(self, tenant_id: str, recipient_phone: str) -> OptOut | None:
        row = (
            await self._conn.execute(
                select(_o).where(_o.c.tenant_id == tenant_id, _o.c.recipient_phone == recipient_phone)
            )
        ).first()
        return convert(row, OptOut) if row else None

    async def remove(self, tenant_id: str, recipient_phone: str) -> bool:
        result = await self._conn.execute(
            delete(_o)
            .where(_o.c.tenant_id == tenant_id, _o.c.recipient_phone == recipient_phone)
            .returning(_o.c.recipient_phone)
        )
        removed = result.first() is not None
        if removed:
            await self._events.tenant_event(tenant_id, "recipient.opted_in", {"recipient": recipient_phone})
        return removed

    async def page(self, tenant_id: str, *, limit: int, after: str | None = None) -> list[OptOut]:
        stmt = select(_o).where(_o.c.tenant_id == tenant_id)
        if after:
            stmt = stmt.where(_o.c.recipient_phone > after)
        rows = (await self._conn.execute(stmt.order_by(_o.c.recipient_phone).limit(limit))).all()
        return [convert(r, OptOut) for r in rows]

    async def among(self, tenant_id: str, phones: Sequence[str]) -> set[str]:
        """Which of these recipients opted out of this tenant's messages."""
        if not phones:
            return set()
        rows = await self._conn.execute(
            select(_o.c.recipient_phone).where(
                _o.c.tenant_id == tenant_id, _o.c.recipient_phone.in_(list(set(phones)))
            )
        )
        return {r.recipient_phone for r in rows.all()}
