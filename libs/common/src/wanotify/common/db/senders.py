"""The sender aggregate: a tenant's WhatsApp phone numbers, their tiers and their pauses."""

from __future__ import annotations

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from wanotify.common.db.client_events import ClientEvents
from wanotify.common.db.rows import convert
from wanotify.common.db.schema import senders
from wanotify.common.domain.notification import Sender
from wanotify.common.ids import new_id

_s = senders


class SenderRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._events = ClientEvents(conn)

    async def add(
        self,
        tenant_id: str,
        *,
        phone_number_id: str,
        waba_id: str,
        display_phone_number: str,
        access_token_encrypted: bytes,
        throughput_mps: int = 80,
        messaging_limit: int | None = None,
        is_default: bool = True,
    ) -> str:
        sid = new_id("snd")
        if is_default:
            await self._conn.execute(update(_s).where(_s.c.tenant_id == tenant_id).values(is_default=False))
        await self._conn.execute(
            insert(_s).values(
                id=sid,
                tenant_id=tenant_id,
                phone_number_id=phone_number_id,
                waba_id=waba_id,
                display_phone_number=display_phone_number,
                access_token_encrypted=access_token_encrypted,
                throughput_mps=throughput_mps,
                messaging_limit=messaging_limit,
                is_default=is_default,
            )
        )
        return sid

    async def get(self, sender_id: str, tenant_id: str | None = None) -> Sender | None:
        """The sender; with ``tenant_id``, only if it is that tenant's (another tenant's is absent)."""
        stmt = select(_s).where(_s.c.id == sender_id)
        if tenant_id is not None:
            stmt = stmt.where(_s.c.tenant_id == tenant_id)
        row = (await self._conn.execute(stmt)).first()
        return convert(row, Sender) if row else None

    async def of_tenant(self, tenant_id: str) -> list[Sender]:
        stmt = select(_s).where(_s.c.tenant_id == tenant_id).order_by(_s.c.created_at, _s.c.id)
        return [convert(r, Sender) for r in (await self._conn.execute(stmt)).all()]

    async def pause(self, sender_id: str, *, code: str, reason: str) -> bool:
        """Returns True when this call paused it (False: it was already paused)."""
        row = (
            await self._conn.execute(
                update(_s)
                .where(_s.c.id == sender_id, _s.c.paused_at.is_(None))
                .values(paused_at=func.now(), paused_code=code, paused_reason=reason)
                .returning(_s.c.tenant_id, _s.c.phone_number_id)
            )
        ).first()
        if row is not None:
            await self._events.tenant_event(
                row.tenant_id,
                "sender.paused",
                {
                    "sender_id": sender_id,
                    "phone_number_id": row.phone_number_id,
                    "code": code,
                    "reason": reason,
                },
            )
        return row is not None

    async def resume(self, sender_id: str) -> bool:
        """Clear the pause; False when it was not paused. The caller wakes what it deferred
        (:meth:`NotificationRepository.wake_deferred`) in the same unit of work."""
        row = (
            await self._conn.execute(
                update(_s)
                .where(_s.c.id == sender_id, _s.c.paused_at.is_not(None))
                .values(paused_at=None, paused_code=None, paused_reason=None)
                .returning(_s.c.tenant_id, _s.c.phone_number_id)
            )
        ).first()
        if row is not None:
            await self._events.tenant_event(
                row.tenant_id,
                "sender.resumed",
                {"sender_id": sender_id, "phone_number_id": row.phone_number_id},
            )
        return row is not None

    async def count_paused(self) -> int:
        stmt = select(func.count()).select_from(_s).where(_s.c.paused_at.is_not(None))
        return int((await self._conn.execute(stmt)).scalar_one())

    async def set_tiers(self, sender_id: str, *, throughput_mps: int, messaging_limit: int | None) -> None:
        await self._conn.execute(
            update(_s)
            .where(_s.c.id == sender_id)
            .values(throughput_mps=throughput_mps, messaging_limit=messaging_limit)
        )

    async def default_for(self, tenant_id: str) -> Sender | None:
        stmt = (
            select(_s)
            .where(_s.c.tenant_id == tenant_id)
            .order_by(_s.c.is_default.desc(), _s.c.created_at)
            .limit(1)
        )
        row = (await self._conn.execute(stmt)).first()
        return convert(row, Sender) if row else None

    async def by_phone_number_id(self, phone_number_id: str) -> Sender | None:
        row = (await self._conn.execute(select(_s).where(_s.c.phone_number_id == phone_number_id))).first()
        return convert(row, Sender) if row else None
