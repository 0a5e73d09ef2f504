"""Admin routes under `/_sandbox` (no auth; dev and test only) and the `/` reachability probe."""

from __future__ import annotations

import time
from typing import Any, Literal

import msgspec
from litestar import delete, get, post
from litestar.exceptions import ClientException, NotFoundException
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromQuery, JSONBody

from wanotify.sandbox.catalog import parse_template
from wanotify.sandbox.errors import MetaError
from wanotify.sandbox.ids import new_wamid
from wanotify.sandbox.models import Fault, MessageRecord, PhoneNumber, WebhookAttempt
from wanotify.sandbox.payloads import inbound_text_payload
from wanotify.sandbox.state import SandboxState
from wanotify.sandbox.validation import normalize_recipient
from wanotify.sandbox.webhooks import WebhookDispatcher


class FaultRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    to: str | None = None
    code: int | None = None
    mode: Literal["sync", "async"] = "sync"
    times: int | None = None
    delay_seconds: float = 0.0


class InboundRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    phone_number_id: str
    from_: str = msgspec.field(name="from")
    text: str
    name: str = "Sandbox User"
    # Unix seconds; defaults to now. An older value backdates the customer-service window.
    timestamp: int | None = None


class InboundAccepted(msgspec.Struct, frozen=True):
    id: str
    wa_id: str
    timestamp: str


def _recipient(to: str) -> str:
    try:
        return normalize_recipient(to)
    except MetaError as error:
        raise ClientException(detail=error.details) from None


def admin_routes(state: SandboxState, dispatcher: WebhookDispatcher) -> list[HTTPRouteHandler]:
    @get("/", sync_to_thread=False)
    def root() -> dict[str, str]:
        return {"status": "ok", "service": "wa-notify sandbox"}

    @get("/_sandbox/health", sync_to_thread=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @post("/_sandbox/phone-numbers", sync_to_thread=False)
    def add_phone_number(data: JSONBody[PhoneNumber]) -> PhoneNumber:
        state.add_phone_number(data)
        return data

    @post("/_sandbox/templates", sync_to_thread=False)
    def add_template(data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
        try:
            waba_id, template = parse_template(data)
        except ValueError as error:
            raise ClientException(detail=str(error)) from None
        return {"waba_id": waba_id, **state.add_template(waba_id, template).to_meta()}

    @get("/_sandbox/messages", sync_to_thread=False)
    def messages(
        to: FromQuery[str | None] = None, phone_number_id: FromQuery[str | None] = None
    ) -> list[MessageRecord]:
        wa_id = _recipient(to) if to else None
        return [
            m
            for m in state.messages
            if (wa_id is None or m.wa_id == wa_id)
            and (phone_number_id is None or m.phone_number_id == phone_number_id)
        ]

    @get("/_sandbox/webhooks", sync_to_thread=False)
    def webhooks(
        wamid: FromQuery[str | None] = None, kind: FromQuery[str | None] = None
    ) -> list[WebhookAttempt]:
        return [
            w
            for w in state.webhooks
            if (wamid is None or w.wamid == wamid) and (kind is None or w.kind == kind)
        ]

    @get("/_sandbox/faults", sync_to_thread=False)
    def faults() -> list[Fault]:
        return list(state.faults)

    @post("/_sandbox/faults", sync_to_thread=False)
    def add_fault(data: JSONBody[FaultRequest]) -> Fault:
        if data.times is not None and data.times < 1:
            raise ClientException(detail="times must be null (always) or at least 1")
        if data.code is None and data.delay_seconds <= 0:
            raise ClientException(detail="a fault needs an error code, a delay_seconds, or both")
        if data.delay_seconds < 0:
            raise ClientException(detail="delay_seconds must not be negative")
        fault = Fault(
            wa_id=_recipient(data.to) if data.to else None,
            code=data.code,
            mode=data.mode,
            times=data.times,
            delay_seconds=data.delay_seconds,
        )
        state.add_fault(fault)
        return fault

    @delete("/_sandbox/faults", status_code=200, sync_to_thread=False)
    def clear_faults() -> dict[str, str]:
        state.faults.clear()
        return {"status": "ok"}

    @post("/_sandbox/inbound", status_code=200, sync_to_thread=False)
    def inbound(data: JSONBody[InboundRequest]) -> InboundAccepted:
        phone = state.phone_numbers.get(data.phone_number_id)
        if phone is None:
            raise NotFoundException(detail=f"unknown phone_number_id {data.phone_number_id!r}")
        wa_id = _recipient(data.from_)
        timestamp = data.timestamp if data.timestamp is not None else int(time.time())
        state.open_window(phone.phone_number_id, wa_id, float(timestamp))
        wamid = new_wamid(wa_id)
        payload = inbound_text_payload(
            phone, wa_id=wa_id, name=data.name, wamid=wamid, text=data.text, timestamp=timestamp
        )
        dispatcher.schedule_payload("inbound", wamid, payload)
        return InboundAccepted(id=wamid, wa_id=wa_id, timestamp=str(timestamp))

    @post("/_sandbox/reset", status_code=200)
    async def reset() -> dict[str, str]:
        await dispatcher.cancel_all()
        state.reset()
        return {"status": "ok"}

    return [
        root,
        health,
        add_phone_number,
        add_template,
        messages,
        webhooks,
        faults,
        add_fault,
        clear_faults,
        inbound,
        reset,
    ]
