"""Admin routes under `/_sandbox` (no auth; dev and test only) and the `/` reachability probe.

Every input is checked before it is used: a body must be `application/json` (else 415) and decode,
through the common edge helpers, to its type with storable strings and 64-bit integers; query
parameters must be valid UTF-8 without control characters. A refusal is Litestar's error body
(`status_code`, `detail`) with `extra: [{"message", "key", "source"}]` naming the refused field.
"""

from __future__ import annotations

import re
import time
from typing import Any, ClassVar, Literal, TypeVar
from urllib.parse import unquote_to_bytes

import msgspec
from litestar import delete, get, post
from litestar.connection import ASGIConnection
from litestar.exceptions import ClientException, NotFoundException
from litestar.handlers import BaseRouteHandler, HTTPRouteHandler
from litestar.params import FromQuery, RawBody
from litestar.types import Guard

from wanotify.common.domain.errors import DomainError
from wanotify.common.edge.body import decode_json
from wanotify.common.edge.text import check_text
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

    multiline: ClassVar[frozenset[str]] = frozenset({"reason"})


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
    # The wamid this message replies to (Meta's `context`): a reply to one of our messages.
    context_id: str | None = None

    multiline: ClassVar[frozenset[str]] = frozenset({"text"})


class VerifyRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    verify_token: str


class InboundAccepted(msgspec.Struct, frozen=True):
    id: str
    wa_id: str
    timestamp: str


T = TypeVar("T")


def _refused(message: str, key: str, source: str, status_code: int = 400) -> ClientException:
    """Litestar's error body, with the refused field in `extra` as its validation errors carry it."""
    return ClientException(
        detail=message,
        status_code=status_code,
        extra=[{"message": message, "key": key, "source": source}],
    )


def _json_body(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    media_type = connection.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise _refused("Content-Type must be application/json", "Content-Type", "header", 415)


def _plain_query(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Query parameters in valid UTF-8 (Litestar would replace bad bytes) without control characters."""
    query: bytes = connection.scope.get("query_string", b"")
    for pair in query.split(b"&"):
        for part in pair.partition(b"="):
            try:
                unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                name = pair.partition(b"=")[0].decode("latin-1")
                raise _refused(f"{name} is not valid UTF-8", name, "query") from None
    for name, value in connection.query_params.items():
        try:
            check_text(name, name)
            check_text(value, name)
        except DomainError as error:
            raise _refused(error.message, error.field or name, "query") from None


JSON_BODY: list[Guard] = [_json_body]
PLAIN_QUERY: list[Guard] = [_plain_query]


def _decode(body: bytes, type_: type[T]) -> T:
    """`body` as `type_`, or a 400 naming the refused field (`body` when the JSON itself is bad)."""
    if not body:
        raise _refused("A JSON request body is required", "body", "body")
    try:
        return decode_json(body, type_)
    except DomainError as error:
        field, message = error.field or "body", error.message
        # The storable check names a Struct field by its attribute (`from_`), not as sent (`from`).
        names = getattr(type_, "__struct_fields__", ())
        wire = dict(zip(names, getattr(type_, "__struct_encode_fields__", names), strict=True))
        head = re.split(r"[.\[]", field, maxsplit=1)[0]
        if wire.get(head, head) != head:
            renamed = wire[head] + field[len(head) :]
            field, message = renamed, message.replace(field, renamed, 1)
        raise _refused(message, field, "body") from None


def _recipient(to: str, field: str = "to", source: str = "body") -> str:
    try:
        return normalize_recipient(to)
    except MetaError as error:
        raise _refused(error.details, field, source) from None


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

    @post("/_sandbox/phone-numbers", guards=JSON_BODY, sync_to_thread=False)
    def add_phone_number(body: RawBody) -> PhoneNumber:
        data = _decode(body, PhoneNumber)
        if data.throughput_mps is not None and data.throughput_mps <= 0:
            raise _refused("throughput_mps must be greater than 0", "throughput_mps", "body")
        if data.messaging_limit is not None and data.messaging_limit < 1:
            raise _refused(
                "messaging_limit must be at least 1 (or null: unlimited)", "messaging_limit", "body"
            )
        state.add_phone_number(data)
        return data

    @post("/_sandbox/templates", guards=JSON_BODY, sync_to_thread=False)
    def add_template(body: RawBody) -> dict[str, Any]:
        try:
            waba_id, template = parse_template(_decode(body, dict[str, Any]))
        except ValueError as error:
            named = re.search(r"'(\w+)'", str(error))
            raise _refused(str(error), named.group(1) if named else "body", "body") from None
        return {"waba_id": waba_id, **store_template(waba_id, template).to_meta()}

    @post("/_sandbox/templates/status", status_code=200, guards=JSON_BODY, sync_to_thread=False)
    def template_status(body: RawBody) -> dict[str, Any]:
        data = _decode(body, TemplateStatusRequest)
        status = data.status.upper()
        if status not in TEMPLATE_EVENTS:
            raise _refused(f"status must be one of {sorted(TEMPLATE_EVENTS)}", "status", "body")
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

    @post("/_sandbox/behaviours", guards=JSON_BODY, sync_to_thread=False)
    def add_behaviour(body: RawBody) -> Behaviour:
        data = _decode(body, BehaviourRequest)
        if data.delay_seconds is not None and data.delay_seconds < 0:
            raise _refused("delay_seconds must not be negative", "delay_seconds", "body")
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

    @get("/_sandbox/messages", guards=PLAIN_QUERY, sync_to_thread=False)
    def messages(
        to: FromQuery[str | None] = None, phone_number_id: FromQuery[str | None] = None
    ) -> list[MessageRecord]:
        wa_id = _recipient(to, source="query") if to else None
        return [
            m
            for m in state.messages
            if (wa_id is None or m.wa_id == wa_id)
            and (phone_number_id is None or m.phone_number_id == phone_number_id)
        ]

    @get("/_sandbox/webhooks", guards=PLAIN_QUERY, sync_to_thread=False)
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

    @post("/_sandbox/faults", guards=JSON_BODY, sync_to_thread=False)
    def add_fault(body: RawBody) -> Fault:
        data = _decode(body, FaultRequest)
        if data.times is not None and data.times < 1:
            raise _refused("times must be null (always) or at least 1", "times", "body")
        if data.code is None and data.delay_seconds <= 0:
            raise _refused("a fault needs an error code, a delay_seconds, or both", "code", "body")
        if data.delay_seconds < 0:
            raise _refused("delay_seconds must not be negative", "delay_seconds", "body")
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

    @post("/_sandbox/inbound", status_code=200, guards=JSON_BODY, sync_to_thread=False)
    def inbound(body: RawBody) -> InboundAccepted:
        data = _decode(body, InboundRequest)
        phone = state.phone_numbers.get(data.phone_number_id)
        if phone is None:
            raise NotFoundException(detail=f"unknown phone_number_id {data.phone_number_id!r}")
        wa_id = _recipient(data.from_, "from")
        timestamp = data.timestamp if data.timestamp is not None else int(time.time())
        state.open_window(phone.phone_number_id, wa_id, float(timestamp))
        wamid = new_wamid(wa_id)
        payload = inbound_text_payload(
            phone,
            wa_id=wa_id,
            name=data.name,
            wamid=wamid,
            text=data.text,
            timestamp=timestamp,
            context_id=data.context_id,
        )
        dispatcher.schedule_payload("inbound", wamid, payload)
        return InboundAccepted(id=wamid, wa_id=wa_id, timestamp=str(timestamp))

    @post("/_sandbox/verify-webhook", status_code=200, guards=JSON_BODY)
    async def verify(body: RawBody) -> dict[str, Any]:
        data = _decode(body, VerifyRequest)
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
