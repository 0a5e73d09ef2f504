"""What a notification says: a template with parameters, free text or a media message.

Stored as JSON on the row (tagged by ``kind``); rows written before a field existed decode with
its default.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import msgspec

MediaType = Literal["image", "document", "video"]
ButtonSubType = Literal["url", "quick_reply", "copy_code"]


class TemplateParameter(msgspec.Struct, frozen=True, omit_defaults=True):
    """A body parameter. ``name`` is set for templates in the named format (Meta's ``parameter_name``)."""

    type: Literal["text", "currency", "date_time"]
    value: str
    code: str | None = None
    amount_1000: int | None = None
    name: str | None = None


class HeaderParameter(msgspec.Struct, frozen=True, omit_defaults=True):
    """The header's one parameter: text (``value``) or media by ``link`` (documents with a filename)."""

    type: Literal["text", "image", "document", "video"]
    value: str | None = None
    link: str | None = None
    filename: str | None = None
    name: str | None = None


class ButtonParameter(msgspec.Struct, frozen=True, omit_defaults=True):
    """``value`` is the URL suffix (url), the payload (quick_reply) or the coupon code (copy_code)."""

    sub_type: ButtonSubType
    index: int
    value: str


class TemplateContent(msgspec.Struct, frozen=True, omit_defaults=True, tag="template", tag_field="kind"):
    name: str
    language: str
    parameters: list[TemplateParameter] = []
    header: HeaderParameter | None = None
    buttons: list[ButtonParameter] = []


class TextContent(msgspec.Struct, frozen=True, tag="text", tag_field="kind"):
    text: str
    preview_url: bool = False


class MediaContent(msgspec.Struct, frozen=True, omit_defaults=True, tag="media", tag_field="kind"):
    type: MediaType
    link: str
    caption: str | None = None
    filename: str | None = None


MessageContent = TemplateContent | TextContent | MediaContent

# Free-form messages may only be sent inside the customer-service window (reference §4.4).
FreeForm = (TextContent, MediaContent)


def amount_1000(param: TemplateParameter) -> int:
    """Meta wants the amount times 1000 as an integer (``99.99`` → ``99990``)."""
    if param.amount_1000 is not None:
        return param.amount_1000
    return int((Decimal(param.value) * 1000).to_integral_value())
