"""Request and response bodies of the notifications API (the seed document's shapes)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

import msgspec
from msgspec import Meta

from wanotify.api.json_value import JSON_VALUE, METADATA_DEPTH
from wanotify.common.domain.history import HistoryEntry
from wanotify.common.domain.phone import E164_MAX_LENGTH, E164_PATTERN
from wanotify.common.edge.storable import TIME_PATTERN
from wanotify.common.edge.text import MULTILINE_PATTERN, SINGLE_LINE_PATTERN

Time = Annotated[
    datetime,
    Meta(
        tz=True,
        description="RFC 3339 time with a time zone, years 2000 to 9999",
        extra_json_schema={"pattern": TIME_PATTERN},
    ),
]

# Meta's rule for template parameters: no tab, CR or LF, and at most 4 spaces in a row.
PLAIN_PATTERN = r"^ {0,4}(?:[^\u0000-\u001f\u007f ]+ {1,4})*[^\u0000-\u001f\u007f ]*$"
Plain = Meta(extra_json_schema={"pattern": PLAIN_PATTERN})
SingleLine = Meta(extra_json_schema={"pattern": SINGLE_LINE_PATTERN})
Multiline = Meta(extra_json_schema={"pattern": MULTILINE_PATTERN})
HTTPS_PATTERN = (
    r"^https://[^\s/?#\u0000-\u001f\u007f]+\.[^\s/?#\u0000-\u001f\u007f]+[^\s\u0000-\u001f\u007f]*$"
)
E164 = Annotated[
    str,
    Meta(
        pattern=E164_PATTERN, max_length=E164_MAX_LENGTH, description="E.164 phone number, e.g. +14155550123"
    ),
]
ID_PATTERN = r"^[A-Za-z0-9_\-]{1,64}$"
NotificationId = Annotated[
    str, Meta(pattern=ID_PATTERN, max_length=64, description="A notification id (notif_…)")
]
Locale = Annotated[
    str, Meta(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$", description="Meta template locale: en, en_US, pt_BR, fil")
]
TemplateName = Annotated[str, Meta(min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$")]
EVENT_PATTERN = r"^[A-Za-z0-9._:\-]+$"
EventType = Annotated[str, Meta(min_length=1, max_length=100, pattern=EVENT_PATTERN)]
ParamValue = Annotated[str, Meta(min_length=1, max_length=1024), Plain]
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
HttpsLink = Annotated[
    str,
    Meta(min_length=9, max_length=2048, pattern=HTTPS_PATTERN, description="An https:// URL Meta can fetch"),
]
FileName = Annotated[str, Meta(min_length=1, max_length=255), SingleLine]


class TemplateParameterIn(msgspec.Struct, forbid_unknown_fields=True):
    """A body parameter: `text`, `currency` (`code` and a decimal `value` or `amount_1000`), `date_time`."""

    # Meta's own rule (no tab, no newline, at most 4 spaces) is checked with its own message
    multiline: ClassVar[frozenset[str]] = frozenset({"value"})

    type: Literal["text", "currency", "date_time"]
    value: ParamValue
    code: Currency | None = None
    amount_1000: Annotated[int, Meta(ge=0, le=10**15)] | None = None
    name: ParamName | None = None


class HeaderIn(msgspec.Struct, forbid_unknown_fields=True):
    """The header's parameter: `text` with a `value` (at most 60 characters), or media by `link`."""

    # Meta's own rule (no tab, no newline, at most 4 spaces) is checked with its own message
    multiline: ClassVar[frozenset[str]] = frozenset({"value"})

    type: Literal["text", "image", "document", "video"]
    value: Annotated[str, Meta(min_length=1, max_length=60), Plain] | None = None
    link: HttpsLink | None = None
    filename: FileName | None = None
    name: ParamName | None = None


class ButtonIn(msgspec.Struct, forbid_unknown_fields=True):
    """A button's parameter: URL suffix (`url`), payload (`quick_reply`) or coupon code (`copy_code`)."""

    # Meta's own rule (no tab, no newline, at most 4 spaces) is checked with its own message
    multiline: ClassVar[frozenset[str]] = frozenset({"value"})

    sub_type: Literal["url", "quick_reply", "copy_code"]
    index: Annotated[int, Meta(ge=0, le=9)]
    value: Annotated[str, Meta(min_length=1, max_length=1024), Plain]


class TemplateIn(msgspec.Struct, forbid_unknown_fields=True):
    name: TemplateName
    language: Locale
    parameters: Annotated[list[TemplateParameterIn], Meta(max_length=100)] = []
    header: HeaderIn | None = None
    buttons: Annotated[list[ButtonIn], Meta(max_length=10)] = []


class TextIn(msgspec.Struct, forbid_unknown_fields=True):
    multiline: ClassVar[frozenset[str]] = frozenset({"text"})

    text: Annotated[str, Meta(min_length=1, max_length=4096), Multiline]
    preview_url: bool = False


class MediaIn(msgspec.Struct, forbid_unknown_fields=True):
    multiline: ClassVar[frozenset[str]] = frozenset({"caption"})

    type: Literal["image", "document", "video"]
    link: HttpsLink
    caption: Annotated[str, Meta(min_length=1, max_length=1024), Multiline] | None = None
    filename: FileName | None = None


class NotificationIn(msgspec.Struct, forbid_unknown_fields=True):
    """Give exactly one of `template`, `message` or `media` (else 422 `INVALID_COMBINATION`)."""

    free_form_depth: ClassVar[int] = METADATA_DEPTH
    event_type: EventType
    recipient: RecipientIn
    template: TemplateIn | None = None
    message: TextIn | None = None
    media: MediaIn | None = None
    metadata: Annotated[
        dict[str, Any],
        Meta(
            description="Your own data, returned with the notification and its webhooks (at most 4096 bytes)",
            extra_json_schema={
                "propertyNames": {"pattern": SINGLE_LINE_PATTERN},
                "additionalProperties": {"$ref": f"#/components/schemas/{JSON_VALUE}"},
            },
        ),
    ] = {}
    priority: Priority = "normal"
    scheduled_for: Time | None = None
    # Give up (status `expired`) if it could not be sent by then; meant for one-time codes.
    expires_at: Time | None = None


BATCH_ID_PATTERN = r"^[A-Za-z0-9._:\-]+$"
BatchId = Annotated[str, Meta(min_length=1, max_length=64, pattern=BATCH_ID_PATTERN)]
MAX_BULK = 100


class BulkIn(msgspec.Struct, forbid_unknown_fields=True):
    """What a bulk request decodes to: each item is decoded (and refused) on its own."""

    notifications: list[msgspec.Raw]
    batch_id: BatchId | None = None


class BulkRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Up to 100 notifications; each is accepted or refused on its own (see `errors` in the reply)."""

    notifications: Annotated[list[NotificationIn], Meta(min_length=1, max_length=MAX_BULK)]
    batch_id: BatchId | None = None


# ISO 3166 alpha-2, derived from the number (null for rows accepted before it was recorded, and for
# non-geographic numbers such as +800).
Country = Annotated[str, Meta(pattern=r"^[A-Z]{2}$", description="ISO 3166 alpha-2 country of the recipient")]


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
    recipient_country: Country | None
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


class NotificationStatus(msgspec.Struct):
    """The seed's lean status view (`GET /v1/notifications/{id}/status`)."""

    id: str
    status: str
    recipient: str
    recipient_country: Country | None
    created_at: str
    sent_at: str | None
    delivered_at: str | None
    read_at: str | None
    error: ErrorOut | None
    delivery_attempts: int


class NotificationHistory(msgspec.Struct):
    """Every status change and attempt, oldest first."""

    notification_id: str
    events: list[HistoryEntry]


class NotificationPage(msgspec.Struct):
    notifications: list[NotificationView]
    next_cursor: str | None  # pass as `cursor` for the next page; null on the last one
