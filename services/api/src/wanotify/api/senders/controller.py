"""``/v1/senders``: a tenant's WhatsApp senders and their pause state (never the access token).

A sender-level error from Meta (bad token, account locked, …) pauses the sender; its
notifications wait without burning attempts until ``POST /v1/senders/{id}/resume``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath

from wanotify.api.state import AppState
from wanotify.common.clock import iso
from wanotify.common.db.failures import FailureRepository
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.errors import NotFound
from wanotify.common.domain.notification import Principal, Sender

SCOPE = "senders:manage"


class PauseView(msgspec.Struct):
    paused_at: str | None
    code: str | None
    reason: str | None


class SenderView(msgspec.Struct):
    id: str
    phone_number_id: str
    waba_id: str
    display_phone_number: str
    throughput_mps: int
    is_default: bool
    status: str  # "active" or "paused"
    pause: PauseView | None


class SenderList(msgspec.Struct):
    senders: list[SenderView]


class Resumed(msgspec.Struct):
    sender: SenderView
    notifications_resumed: int


def sender_view(s: Sender) -> SenderView:
    paused = s.paused_at is not None
    return SenderView(
        id=s.id,
        phone_number_id=s.phone_number_id,
        waba_id=s.waba_id,
        display_phone_number=s.display_phone_number,
        throughput_mps=s.throughput_mps,
        is_default=s.is_default,
        status="paused" if paused else "active",
        pause=PauseView(iso(s.paused_at), s.paused_code, s.paused_reason) if paused else None,
    )


class SenderService:
    def __init__(self, uow: Callable[[], UnitOfWork]) -> None:
        self._uow = uow

    async def list(self, principal: Principal) -> SenderList:
        async with self._uow() as uow:
            found = await FailureRepository(uow.connection).senders_of(principal.tenant_id)
        return SenderList([sender_view(s) for s in found])

    async def resume(self, principal: Principal, sender_id: str) -> Resumed:
        async with self._uow() as uow:
            failures = FailureRepository(uow.connection)
            if await failures.sender(sender_id, principal.tenant_id) is None:
                raise NotFound(f"Sender {sender_id} not found", field="id")
            woken = await failures.resume_sender(sender_id)
            sender = await failures.sender(sender_id)
            await uow.commit()
        assert sender is not None
        return Resumed(sender_view(sender), woken)


class SenderController(Controller):
    path = "/v1/senders"
    tags = ["senders"]

    @get("/")
    async def list_senders(self, request: Request[Any, Any, Any], state: AppState) -> SenderList:
        principal = await state.authenticate(request, SCOPE)
        return await state.senders.list(principal)

    @post("/{sender_id:str}/resume", status_code=200)
    async def resume(
        self, request: Request[Any, Any, Any], state: AppState, sender_id: FromPath[str]
    ) -> Resumed:
        principal = await state.authenticate(request, SCOPE)
        return await state.senders.resume(principal, sender_id)
