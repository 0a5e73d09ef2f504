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
from wanotify.sandbox.handshake import verify_webhook
from wanotify.sandbox.ids import new_wamid
from wanotify.sandbox.limits import RateLimiter
from wanotify.sandbox.models import Behaviour, Fault, MessageRecord, PhoneNumber, Template, WebhookAttempt
from wanotify.sandbox.payloads import inbound_text_payload
from wanotify.sandbox.settings import StatusOrder
from wanotify.sandbox.state import SandboxState
from wanotify.sandbox.template_manage import set_status
from wanotify.sandbox.validation import normalize_recipient
from wanotify.sandbox.webhooks import WebhookDispatcher


class FaultRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    to: str | None = None
    code: int | None = None
    mode: Literal["sync", "async"] = "sync"
    times: int | None = None
    delay_seconds: float = 0.0


class BehaviourRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    to: str
    duplicates: bool | None = None
    order: StatusOrder | None = None
    skip_delivered: bool | None = None
    delay_seconds: float | None = None
    drop_statuses: bool | None = None


class TemplateStatusRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    waba_id: str
    name: str
    language: str
    status: str
    reason: str | None = None


# `event` values of `message_template_status_update` (reference §5.7).
TEMPLATE_EVENTS = frozenset(
    {
        "APPROVED",
        "REJECTED",
        "PENDING",
        "PAUSED",
        "DISABLED",
        "FLAGGED",
        "REINSTATED",
        "IN_APPEAL",
        "PENDING_DELETION",
        "DELETED",
        "LIMIT_EXCEEDED",
        "LOCKED",
        "ARCHIVED",
        "UNARCHIVED",
    }
)


class InboundRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    phone_number_id: str
    from_: str = msgspec.field(name="from")
    text: str
    name: str = "Sandbox User"
    # Unix seconds; defaults to now. An older value backdates the customer-service window.
    timestamp: int | None = None


class VerifyRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    verify_token: str


class InboundAccepted(msgspec.Struct, frozen=True):
    id: str
    wa_id: str
    timestamp: str


def _recipient(to: str) -> str:
    try:
        return normalize_recipient(to)
    except MetaError as error:
        raise ClientException(detail=error.details) from None


def admin_routes(
    state: SandboxState, dispatcher: WebhookDispatcher, limiter: RateLimiter | None = None
) -> list[HTTPRouteHandler]:
    def store_template(waba_id: str, template: Template, reason: str | None = None) -> Template:
        """Add or replace a template; a changed status emits `message_template_status_update`."""
        return set_status(state, dispatcher, waba_id, template, reason)

    @get("/", sync_to_thread=False)
    def root() -> dict[str, str]:
        return {"status": "ok", "service": "wa-notify sandbox"}

    @get("/_sandbox/health", sync_to_thread=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @post("/_sandbox/phone-numbers", sync_to_thread=False)
    def add_phone_number(data: JSONBody[PhoneNumber]) -> PhoneNumber:
        if data.throughput_mps is not None and data.throughput_mps <= 0:
            raise ClientException(detail="throughput_mps must be greater than 0")
        if data.messaging_limit is not None and data.messaging_limit < 1:
            raise ClientException(detail="messaging_limit must be at least 1 (or null: unlimited)")
        state.add_phone_number(data)
        return data

    @post("/_sandbox/templates", sync_to_thread=False)
    def add_template(data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
        try:
            waba_id, template = parse_template(data)
        except ValueError as error:
            raise ClientException(detail=str(error)) from None
        return {"waba_id": waba_id, **store_template(waba_id, template).to_meta()}

    @post("/_sandbox/templates/status", status_code=200, sync_to_thread=False)
    def template_status(data: JSONBody[TemplateStatusRequest]) -> dict[str, Any]:
        status = data.status.upper()
        if status not in TEMPLATE_EVENTS:
            raise ClientException(detail=f"status must be one of {sorted(TEMPLATE_EVENTS)}")
        old = state.find_template(data.waba_id, data.name, data.language)
        if old is None:
            raise NotFoundException(
                detail=f"no template {data.name!r} in {data.language!r} on WABA {data.waba_id!r}"
            )
        kept = store_template(data.waba_id, msgspec.structs.replace(old, status=status), data.reason)
        return {"waba_id": data.waba_id, **kept.to_meta()}

    @get("/_sandbox/behaviours", sync_to_thread=False)
    def behaviours() -> list[Behaviour]:
        return list(state.behaviours.values())

    @post("/_sandbox/behaviours", sync_to_thread=False)
    def add_behaviour(data: JSONBody[BehaviourRequest]) -> Behaviour:
        if data.delay_seconds is not None and data.delay_seconds < 0:
            raise ClientException(detail="delay_seconds must not be negative")
        wa_id = _recipient(data.to)
        behaviour = Behaviour(
            wa_id=wa_id,
            duplicates=data.duplicates,
            order=data.order,
            skip_delivered=data.skip_delivered,
            delay_seconds=data.delay_seconds,
            drop_statuses=data.drop_statuses,
        )
        state.behaviours[wa_id] = behaviour
        return behaviour

    @delete("/_sandbox/behaviours", status_code=200, sync_to_thread=False)
    def clear_behaviours() -> dict[str, str]:
        state.behaviours.clear()
        return {"status": "ok"}

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

    @post("/_sandbox/verify-webhook", status_code=200)
    async def verify(data: JSONBody[VerifyRequest]) -> dict[str, Any]:
        if not dispatcher.webhook_url:
            raise ClientException(detail="no webhook URL configured (SANDBOX_WEBHOOK_URL is empty)")
        return await verify_webhook(dispatcher.webhook_url, data.verify_token, dispatcher.timeout_seconds)

    @post("/_sandbox/reset", status_code=200)
    async def reset() -> dict[str, str]:
        await dispatcher.cancel_all()
        state.reset()
        if limiter is not None:
            limiter.reset()
        return {"status": "ok"}

    return [
        root,
        health,
        add_phone_number,
        add_template,
        template_status,
        behaviours,
        add_behaviour,
        clear_behaviours,
        messages,
        webhooks,
        faults,
        add_fault,
        clear_faults,
        inbound,
        verify,
        reset,
    ]
