"""A tenant's WhatsApp senders: their tiers and their pause state (never the access token).

A sender-level error from Meta (bad token, account locked, …) pauses the sender; its
notifications wait without burning attempts until ``POST /v1/senders/{id}/resume``.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from wanotify.api.senders.schemas import PauseView, Resumed, SenderList, SenderTiersIn, SenderView
from wanotify.common.clock import iso
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.errors import NotFound, ValidationFailed
from wanotify.common.domain.notification import (
    MESSAGING_LIMIT_TIERS,
    THROUGHPUT_TIERS,
    Principal,
    Sender,
)


def sender_view(s: Sender) -> SenderView:
    paused = s.paused_at is not None
    return SenderView(
        id=s.id,
        phone_number_id=s.phone_number_id,
        waba_id=s.waba_id,
        display_phone_number=s.display_phone_number,
        throughput_mps=s.throughput_mps,
        messaging_limit=s.messaging_limit,
        is_default=s.is_default,
        status="paused" if paused else "active",
        pause=PauseView(iso(s.paused_at), s.paused_code, s.paused_reason) if paused else None,
    )


class SenderService:
    def __init__(self, uow: Callable[[], UnitOfWork]) -> None:
        self._uow = uow

    async def list(self, principal: Principal) -> SenderList:
        async with self._uow() as uow:
            found = await uow.senders.of_tenant(principal.tenant_id)
        return SenderList([sender_view(s) for s in found])

    async def set_tiers(self, principal: Principal, sender_id: str, body: SenderTiersIn) -> SenderView:
        if body.throughput_mps is not msgspec.UNSET and body.throughput_mps not in THROUGHPUT_TIERS:
            raise ValidationFailed(
                f"throughput_mps must be one of {', '.join(map(str, THROUGHPUT_TIERS))}",
                field="throughput_mps",
            )
        limit = body.messaging_limit
        if limit is not msgspec.UNSET and limit is not None and limit not in MESSAGING_LIMIT_TIERS:
            raise ValidationFailed(
                f"messaging_limit must be one of {', '.join(map(str, MESSAGING_LIMIT_TIERS))} or null",
                field="messaging_limit",
            )
        async with self._uow() as uow:
            sender = await uow.senders.get(sender_id, principal.tenant_id)
            if sender is None:
                raise NotFound(f"Sender {sender_id} not found", field="id")
            await uow.senders.set_tiers(
                sender_id,
                throughput_mps=sender.throughput_mps
                if body.throughput_mps is msgspec.UNSET
                else body.throughput_mps,
                messaging_limit=sender.messaging_limit if limit is msgspec.UNSET else limit,
            )
            updated = await uow.senders.get(sender_id)
            await uow.commit()
        assert updated is not None
        return sender_view(updated)

    async def resume(self, principal: Principal, sender_id: str) -> Resumed:
        async with self._uow() as uow:
            if await uow.senders.get(sender_id, principal.tenant_id) is None:
                raise NotFound(f"Sender {sender_id} not found", field="id")
            # Only a resume wakes what the pause deferred: retries keep their backoff.
            woken = (
                await uow.notifications.wake_deferred(sender_id) if await uow.senders.resume(sender_id) else 0
            )
            sender = await uow.senders.get(sender_id)
            await uow.commit()
        assert sender is not None
        return Resumed(sender_view(sender), woken)
