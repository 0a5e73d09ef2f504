"""Turning request bytes into a valid request, with errors that name the field."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import TypeVar

import msgspec

from wanotify.api.notifications.schemas import HeaderIn, MediaIn, NotificationIn, TemplateIn
from wanotify.common.clock import utcnow
from wanotify.common.domain.errors import MalformedJson, Unprocessable, ValidationFailed
from wanotify.common.domain.message import (
    ButtonParameter,
    HeaderParameter,
    MediaContent,
    MessageContent,
    TemplateContent,
    TemplateParameter,
    TextContent,
)

T = TypeVar("T")

MAX_METADATA_BYTES = 4096
MAX_SCHEDULE_AHEAD = timedelta(days=30)

_AT = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_FIELD_IN_MESSAGE = re.compile(r"field `(?P<name>[^`]+)`")
_BAD_WHITESPACE = re.compile(r"[\n\t]| {5,}")
_HTTPS_URL = re.compile(r"^https://[^\s/?#]+\.[^\s/?#]+[^\s]*$", re.IGNORECASE)

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


def _plain(value: str, field: str) -> None:
    """Meta refuses template text parameters with a newline, a tab or more than 4 spaces in a row."""
    if _BAD_WHITESPACE.search(value):
        raise ValidationFailed(
            "Template text parameters cannot contain new-line or tab characters or more than 4 "
            "consecutive spaces",
            field=field,
        )


def _https(link: str, field: str) -> None:
    if not _HTTPS_URL.match(link):
        raise ValidationFailed("Links must be https:// URLs", field=field)


def _body_parameters(template: TemplateIn) -> list[TemplateParameter]:
    params = []
    names = [p.name for p in template.parameters]
    if any(n is not None for n in names):
        if any(n is None for n in names):
            raise ValidationFailed(
                "Name every parameter (named templates) or none (positional templates)",
                field="template.parameters",
            )
        if len(set(names)) != len(names):
            raise ValidationFailed("Parameter names must be unique", field="template.parameters")
    for i, p in enumerate(template.parameters):
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
        elif p.type == "text":
            _plain(p.value, f"template.parameters[{i}].value")
        params.append(
            TemplateParameter(type=p.type, value=p.value, code=p.code, amount_1000=p.amount_1000, name=p.name)
        )
    return params


def _header(header: HeaderIn | None) -> HeaderParameter | None:
    if header is None:
        return None
    if header.type == "text":
        if header.value is None:
            raise ValidationFailed("A text header needs 'value'", field="template.header.value")
        if header.link is not None or header.filename is not None:
            raise ValidationFailed(
                "A text header takes 'value' only, not 'link' or 'filename'", field="template.header"
            )
        _plain(header.value, "template.header.value")
        return HeaderParameter(type="text", value=header.value, name=header.name)
    if header.link is None:
        raise ValidationFailed(f"A {header.type} header needs 'link'", field="template.header.link")
    if header.value is not None or header.name is not None:
        raise ValidationFailed(
            "A media header takes 'link' (and 'filename' for documents), not 'value' or 'name'",
            field="template.header",
        )
    if header.filename is not None and header.type != "document":
        raise ValidationFailed("Only document headers take 'filename'", field="template.header.filename")
    _https(header.link, "template.header.link")
    return HeaderParameter(type=header.type, link=header.link, filename=header.filename)


def _buttons(template: TemplateIn) -> list[ButtonParameter]:
    seen: set[int] = set()
    buttons = []
    for i, b in enumerate(template.buttons):
        if b.index in seen:
            raise ValidationFailed(
                f"Button index {b.index} is given twice", field=f"template.buttons[{i}].index"
            )
        seen.add(b.index)
        if b.sub_type == "url":
            _plain(b.value, f"template.buttons[{i}].value")
        buttons.append(ButtonParameter(sub_type=b.sub_type, index=b.index, value=b.value))
    return buttons


def _media(media: MediaIn) -> MediaContent:
    _https(media.link, "media.link")
    if media.filename is not None and media.type != "document":
        raise ValidationFailed("Only documents take 'filename'", field="media.filename")
    return MediaContent(type=media.type, link=media.link, caption=media.caption, filename=media.filename)


def content_of(request: NotificationIn) -> MessageContent:
    """Exactly one of ``template``, ``message`` (text) or ``media``, checked against Meta's rules."""
    given = [request.template, request.message, request.media]
    if sum(x is not None for x in given) != 1:
        raise ValidationFailed("Provide exactly one of 'template', 'message' or 'media'", field="template")
    if request.message is not None:
        return TextContent(text=request.message.text, preview_url=request.message.preview_url)
    if request.media is not None:
        return _media(request.media)
    assert request.template is not None
    return TemplateContent(
        name=request.template.name,
        language=request.template.language,
        parameters=_body_parameters(request.template),
        header=_header(request.template.header),
        buttons=_buttons(request.template),
    )


def check_request(request: NotificationIn) -> None:
    if len(msgspec.json.encode(request.metadata)) > MAX_METADATA_BYTES:
        raise ValidationFailed(
            f"metadata must encode to at most {MAX_METADATA_BYTES} bytes", field="metadata"
        )
    if request.scheduled_for is not None and request.scheduled_for - utcnow() > MAX_SCHEDULE_AHEAD:
        raise Unprocessable(
            "scheduled_for may be at most 30 days ahead", field="scheduled_for", code="SCHEDULE_TOO_FAR"
        )
