"""Meta's webhook payloads (reference §5.3–5.5), decoded leniently: unknown fields are ignored."""

from __future__ import annotations

import msgspec


class WebhookError(msgspec.Struct):
    code: int
    title: str = ""
    message: str = ""


class StatusItem(msgspec.Struct):
    id: str
    status: str
    timestamp: str
    recipient_id: str = ""
    biz_opaque_callback_data: str | None = None
    errors: list[WebhookError] = []
    pricing: dict[str, object] | None = None
    conversation: dict[str, object] | None = None


class InboundText(msgspec.Struct):
    body: str = ""


class InboundButton(msgspec.Struct):
    """A template quick-reply tap: the button's text and its payload."""

    text: str = ""
    payload: str = ""


class InboundMessage(msgspec.Struct):
    id: str
    timestamp: str
    type: str
    from_: str = msgspec.field(name="from", default="")
    text: InboundText | None = None
    button: InboundButton | None = None


class Metadata(msgspec.Struct):
    phone_number_id: str = ""
    display_phone_number: str = ""


class ChangeValue(msgspec.Struct):
    metadata: Metadata | None = None
    statuses: list[StatusItem] = []
    messages: list[InboundMessage] = []


class TemplateStatusUpdate(msgspec.Struct):
    """``field: message_template_status_update`` (reference §5.7); the language may be ``en-US``."""

    event: str
    message_template_name: str
    message_template_language: str
    message_template_id: int | str | None = None
    reason: str | None = None


class Change(msgspec.Struct):
    field: str
    value: msgspec.Raw


class Entry(msgspec.Struct):
    id: str = ""
    changes: list[Change] = []


class WebhookEnvelope(msgspec.Struct):
    object: str
    entry: list[Entry] = []
