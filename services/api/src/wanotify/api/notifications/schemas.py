"""Request and response bodies of the notifications API (the seed document's shapes)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

E164 = Annotated[str, Meta(pattern=r"^\+[1-9]\d{1,14}$", description="E.164 phone number, e.g. +14155550123")]
Locale = Annotated[
    str, Meta(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$", description="Meta template locale: en, en_US, pt_BR, fil")
]
TemplateName = Annotated[str, Meta(min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$")]
EventType = Annotated[str, Meta(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:\-]+$")]
ParamValue = Annotated[str, Meta(min_length=1, max_length=1024)]
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]

Priority = Literal["high", "normal", "low"]


class RecipientIn(msgspec.Struct, forbid_unknown_fields=True):
    phone_number: E164


ParamName = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=100,
        pattern=r"^[a-z_][a-z0-9_]*$",
        description="For templates in the named format: the placeholder's name (Meta's parameter_name)",
    ),
]
HttpsLink = Annotated[str, Meta(min_length=9, max_length=2048, description="An https:// URL Meta can fetch")]


class TemplateParameterIn(msgspec.Struct, forbid_unknown_fields=True):
    """A body parameter: `text`, `currency` (`code` and a decimal `value` or `amount_1000`), `date_time`."""

    type: Literal["text", "currency", "date_time"]
    value: ParamValue
    code: Currency | None = None
    amount_1000: int | None = None
    name: ParamName | None = None


class HeaderIn(msgspec.Struct, forbid_unknown_fields=True):
    """The header's parameter: `text` with a `value` (at most 60 characters), or media by `link`."""

    type: Literal["text", "image", "document", "video"]
    value: Annotated[str, Meta(min_length=1, max_length=60)] | None = None
    link: HttpsLink | None = None
    filename: Annotated[str, Meta(min_length=1, max_length=255)] | None = None
    name: ParamName | None = None


class ButtonIn(msgspec.Struct, forbid_unknown_fields=True):
    """A button's parameter: URL suffix (`url`), payload (`quick_reply`) or coupon code (`copy_code`)."""

    sub_type: Literal["url", "quick_reply", "copy_code"]
    index: Annotated[int, Meta(ge=0, le=9)]
    value: Annotated[str, Meta(min_length=1, max_length=1024)]


class TemplateIn(msgspec.Struct, forbid_unknown_fields=True):
    name: TemplateName
    language: Locale
    parameters: Annotated[list[TemplateParameterIn], Meta(max_length=100)] = []
    header: HeaderIn | None = None
    buttons: Annotated[list[ButtonIn], Meta(max_length=10)] = []


class TextIn(msgspec.Struct, forbid_unknown_fields=True):
    text: Annotated[str, Meta(min_length=1, max_length=4096)]
    preview_url: bool = False


class MediaIn(msgspec.Struct, forbid_unknown_fields=True):
    type: Literal["image", "document", "video"]
    link: HttpsLink
    caption: Annotated[str, Meta(min_length=1, max_length=1024)] | None = None
    filename: Annotated[str, Meta(min_length=1, max_length=255)] | None = None


class NotificationIn(msgspec.Struct, forbid_unknown_fields=True):
    event_type: EventType
    recipient: RecipientIn
    template: TemplateIn | None = None
    message: TextIn | None = None
    media: MediaIn | None = None
    metadata: dict[str, Any] = {}
    priority: Priority = "normal"
    scheduled_for: Annotated[datetime, Meta(tz=True)] | None = None
    # Give up (status `expired`) if it could not be sent by then; meant for one-time codes.
    expires_at: Annotated[datetime, Meta(tz=True)] | None = None


class BulkIn(msgspec.Struct, forbid_unknown_fields=True):
    notifications: list[msgspec.Raw]
    batch_id: Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:\-]+$")] | None = None


class NotificationCreated(msgspec.Struct):
    id: str
    status: str
    recipient: str
    created_at: str
    estimated_delivery: str | None


class ItemError(msgspec.Struct, omit_defaults=True):
    index: int
    code: str
    message: str
    field: str | None = None


class BulkItem(msgspec.Struct):
    index: int
    id: str
    status: str


class BulkCreated(msgspec.Struct):
    batch_id: str
    total: int
    queued: int
    failed: int
    errors: list[ItemError]
    notifications: list[BulkItem]


class ErrorOut(msgspec.Struct):
    code: str
    message: str
    retryable: bool | None


class TemplateRef(msgspec.Struct):
    name: str
    language: str  # the locale actually used, after the tenant's fallback chain


class NotificationView(msgspec.Struct):
    id: str
    event_type: str
    recipient: str
    status: str
    priority: str
    whatsapp_message_id: str | None
    created_at: str
    scheduled_for: str | None
    sent_at: str | None
    delivered_at: str | None
    read_at: str | None
    failed_at: str | None
    delivery_attempts: int
    metadata: dict[str, Any]
    error: ErrorOut | None
    batch_id: str | None
    expires_at: str | None = None
    canceled_at: str | None = None
    next_attempt_at: str | None = None  # while queued or rate_limited: when it is tried next
    message_type: str | None = None  # template, text, image, document or video
    template: TemplateRef | None = None
