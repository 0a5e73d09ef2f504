"""Meta's webhook payloads (reference §5.3–5.5, §5.7). Unknown fields are ignored; known ones are
bounded by what is done with them (the column a value lands in, a Unix time in seconds).

The envelope keeps each change's ``value``, and a ``messages`` value keeps each status and message,
as raw JSON: the receiver decodes every item on its own, so one malformed item never costs the
others. msgspec checks a ``pattern`` with ``re.search`` (``$`` also matches before a final newline),
so the receiver checks every string's characters once more after decoding.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
WAMID_MAX_LENGTH = 128  # notifications.whatsapp_message_id, delivery_log.whatsapp_message_id
CALLBACK_MAX_LENGTH = 512  # Meta's limit for biz_opaque_callback_data
STATUS_MAX_LENGTH = 32
ID_MAX_LENGTH = 64  # senders.phone_number_id, senders.waba_id, templates.meta_id
TEMPLATE_NAME_MAX_LENGTH = 512  # templates.name
LANGUAGE_MAX_LENGTH = 16  # templates.language
EVENT_MAX_LENGTH = 32  # templates.status
UNIX_SECONDS_PATTERN = "^[0-9]{1,10}$"
WA_ID_PATTERN = r"^\+?[1-9][0-9]{1,14}$"

UnixSeconds = Annotated[
    str,
    msgspec.Meta(
        pattern=UNIX_SECONDS_PATTERN, description="Unix time in seconds, as a string", examples=["1750030073"]
    ),
]
WaId = Annotated[
    str,
    msgspec.Meta(
        pattern=WA_ID_PATTERN,
        description="The user's WhatsApp id: the digits of the phone number, without `+`",
        examples=["16505551234"],
    ),
]
Int64 = Annotated[int, msgspec.Meta(ge=INT64_MIN, le=INT64_MAX)]
Wamid = Annotated[
    str,
    msgspec.Meta(min_length=1, max_length=WAMID_MAX_LENGTH, examples=["wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5"]),
]
MetaId = Annotated[str, msgspec.Meta(max_length=ID_MAX_LENGTH)]
RecipientId = Annotated[
    str,
    msgspec.Meta(
        max_length=ID_MAX_LENGTH,
        description="A `wa_id` (digits, no `+`); a group's id when `recipient_type` is `group`",
        examples=["16505551234"],
    ),
]


class WebhookError(msgspec.Struct):
    code: Int64
    title: str = ""
    message: str = ""


class StatusItem(msgspec.Struct):
    """One of ``value.statuses[]``: ``sent``, ``delivered``, ``read``, ``failed`` (others are ignored)."""

    id: Wamid
    status: Annotated[str, msgspec.Meta(min_length=1, max_length=STATUS_MAX_LENGTH, examples=["delivered"])]
    timestamp: UnixSeconds
    recipient_id: RecipientId | None = None
    recipient_type: str | None = None
    biz_opaque_callback_data: Annotated[str, msgspec.Meta(max_length=CALLBACK_MAX_LENGTH)] | None = None
    errors: list[WebhookError] = []
    pricing: dict[str, Any] | None = None
    conversation: dict[str, Any] | None = None


class InboundText(msgspec.Struct):
    body: str = ""


class InboundButton(msgspec.Struct):
    """A template quick-reply tap: the button's text and its payload."""

    text: str = ""
    payload: str = ""


class InboundContext(msgspec.Struct):
    """What an inbound message replies to: the wamid of our message (a reply or a button tap)."""

    id: str = ""


class InboundMedia(msgspec.Struct):
    """An image, document, video, audio or sticker the recipient sent: Meta's media id to fetch."""

    id: str = ""
    mime_type: str = ""
    caption: str | None = None
    filename: str | None = None


class InboundMessage(msgspec.Struct):
    """One of ``value.messages[]``: any type (re)opens the window; a text or a tap may opt out."""

    from_: WaId = msgspec.field(name="from")
    timestamp: UnixSeconds
    id: str = ""
    type: str = ""
    text: InboundText | None = None
    button: InboundButton | None = None
    context: InboundContext | None = None
    image: InboundMedia | None = None
    document: InboundMedia | None = None
    video: InboundMedia | None = None
    audio: InboundMedia | None = None
    sticker: InboundMedia | None = None

    @property
    def media(self) -> InboundMedia | None:
        return self.image or self.document or self.video or self.audio or self.sticker


class Metadata(msgspec.Struct):
    phone_number_id: MetaId = ""
    display_phone_number: str = ""


class ChangeValue(msgspec.Struct):
    """The ``value`` of a ``messages`` change, its items (and metadata) still raw JSON."""

    metadata: msgspec.Raw = msgspec.Raw()
    statuses: list[msgspec.Raw] = []
    messages: list[msgspec.Raw] = []


class TemplateStatusUpdate(msgspec.Struct):
    """``field: message_template_status_update`` (reference §5.7); the language may be ``en-US``."""

    event: Annotated[str, msgspec.Meta(min_length=1, max_length=EVENT_MAX_LENGTH, examples=["APPROVED"])]
    message_template_name: Annotated[str, msgspec.Meta(max_length=TEMPLATE_NAME_MAX_LENGTH)]
    message_template_language: Annotated[str, msgspec.Meta(max_length=LANGUAGE_MAX_LENGTH)]
    message_template_id: Annotated[int, msgspec.Meta(ge=0, le=INT64_MAX)] | MetaId | None = None
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
