"""Turning request bytes into a valid request, with errors that name the field."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import TypeVar

import msgspec

from wanotify.api.notifications.schemas import NotificationIn
from wanotify.common.clock import utcnow
from wanotify.common.domain.errors import MalformedJson, Unprocessable, ValidationFailed
from wanotify.common.domain.message import MessageContent, TemplateContent, TemplateParameter, TextContent

T = TypeVar("T")

MAX_METADATA_BYTES = 4096
MAX_SCHEDULE_AHEAD = timedelta(days=30)

_AT = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_FIELD_IN_MESSAGE = re.compile(r"field `(?P<name>[^`]+)`")

_FIELD_CODES = {
    "recipient.phone_number": (
        "INVALID_PHONE_NUMBER",
        "Phone number must be in E.164 format (+ and 2 to 15 digits)",
    ),
    "template.language": (
        "INVALID_TEMPLATE_LANGUAGE",
        "Template language must be a Meta locale such as en, en_US or pt_BR",
    ),
}


def _field_of(error: msgspec.ValidationError) -> tuple[str | None, str]:
    text = str(error)
    match = _AT.search(text)
    path = match.group("path").lstrip(".") if match else ""
    message = text[: match.start()] if match else text
    named = _FIELD_IN_MESSAGE.search(message)
    if named and ("missing required" in message or "unknown field" in message):
        path = f"{path}.{named.group('name')}" if path else named.group("name")
    return (path or None), message


def decode(body: bytes, type_: type[T], *, prefix: str = "") -> T:
    """Decode JSON into ``type_``; malformed JSON and schema errors become domain errors."""
    try:
        return msgspec.json.decode(body, type=type_)
    except msgspec.ValidationError as exc:
        field, message = _field_of(exc)
        code, friendly = _FIELD_CODES.get(field or "", ("VALIDATION_ERROR", message))
        if "missing required" in message:
            friendly = f"{field} is required"
        raise ValidationFailed(
            friendly, field=f"{prefix}{field}" if field else prefix.rstrip(".") or None, code=code
        ) from None
    except msgspec.DecodeError as exc:
        raise MalformedJson(f"Request body is not valid JSON: {exc}") from None


def _is_amount(value: str) -> bool:
    try:
        return Decimal(value).is_finite()
    except InvalidOperation:
        return False


def content_of(request: NotificationIn) -> MessageContent:
    """Exactly one of ``template`` or ``message``; currency parameters carry a code and a decimal amount."""
    if (request.template is None) == (request.message is None):
        raise ValidationFailed("Provide exactly one of 'template' or 'message'", field="template")
    if request.message is not None:
        return TextContent(text=request.message.text, preview_url=request.message.preview_url)
    assert request.template is not None
    params = []
    for i, p in enumerate(request.template.parameters):
        if p.type == "currency":
            if p.code is None:
                raise ValidationFailed(
                    "Currency parameters need 'code' (ISO 4217, e.g. USD)",
                    field=f"template.parameters[{i}].code",
                )
            if p.amount_1000 is None and not _is_amount(p.value):
                raise ValidationFailed(
                    "Currency value must be a decimal amount such as 99.99, or give amount_1000",
                    field=f"template.parameters[{i}].value",
                )
        params.append(TemplateParameter(type=p.type, value=p.value, code=p.code, amount_1000=p.amount_1000))
    return TemplateContent(name=request.template.name, language=request.template.language, parameters=params)


def check_request(request: NotificationIn) -> None:
    if len(msgspec.json.encode(request.metadata)) > MAX_METADATA_BYTES:
        raise ValidationFailed(
            f"metadata must encode to at most {MAX_METADATA_BYTES} bytes", field="metadata"
        )
    if request.scheduled_for is not None and request.scheduled_for - utcnow() > MAX_SCHEDULE_AHEAD:
        raise Unprocessable(
            "scheduled_for may be at most 30 days ahead", field="scheduled_for", code="SCHEDULE_TOO_FAR"
        )
