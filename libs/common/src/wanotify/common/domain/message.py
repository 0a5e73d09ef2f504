"""What a notification says: a template with parameters, or free text. Stored as JSON on the row."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import msgspec


class TemplateParameter(msgspec.Struct, frozen=True, omit_defaults=True):
    type: Literal["text", "currency", "date_time"]
    value: str
    code: str | None = None
    amount_1000: int | None = None


class TemplateContent(msgspec.Struct, frozen=True, tag="template", tag_field="kind"):
    name: str
    language: str
    parameters: list[TemplateParameter] = []


class TextContent(msgspec.Struct, frozen=True, tag="text", tag_field="kind"):
    text: str
    preview_url: bool = False


MessageContent = TemplateContent | TextContent


def amount_1000(param: TemplateParameter) -> int:
    """Meta wants the amount times 1000 as an integer (``99.99`` → ``99990``)."""
    if param.amount_1000 is not None:
        return param.amount_1000
    return int((Decimal(param.value) * 1000).to_integral_value())
