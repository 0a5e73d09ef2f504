"""A decoded request checked against Meta's content rules and the API's limits, errors naming the field."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation

import msgspec

from wanotify.api.notifications.schemas import HeaderIn, MediaIn, NotificationIn, TemplateIn
from wanotify.common.clock import utcnow
from wanotify.common.domain.errors import Unprocessable, ValidationFailed
from wanotify.common.domain.message import (
    ButtonParameter,
    HeaderParameter,
    MediaContent,
    MessageContent,
    TemplateContent,
    TemplateParameter,
    TextContent,
)

MAX_METADATA_BYTES = 4096
MAX_SCHEDULE_AHEAD = timedelta(days=30)

_BAD_WHITESPACE = re.compile(r"[\r\n\t]| {5,}")
_HTTPS_URL = re.compile(r"^https://[^\s/?#]+\.[^\s/?#]+[^\s]*$", re.IGNORECASE)


def _combination(message: str, *, field: str) -> Unprocessable:
    """A rule across fields, which the OpenAPI schema cannot state: 422, not 400 (the body has the
    documented shape; 400 is kept for what the schema itself refuses)."""
    return Unprocessable(message, field=field, code="INVALID_COMBINATION")


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
            raise _combination(
                "Name every parameter (named templates) or none (positional templates)",
                field="template.parameters",
            )
        if len(set(names)) != len(names):
            raise _combination("Parameter names must be unique", field="template.parameters")
    for i, p in enumerate(template.parameters):
        _plain(p.value, f"template.parameters[{i}].value")  # currency and date_time values are text too
        if p.type == "currency":
            if p.code is None:
                raise _combination(
                    "Currency parameters need 'code' (ISO 4217, e.g. USD)",
                    field=f"template.parameters[{i}].code",
                )
            if p.amount_1000 is None and not _is_amount(p.value):
                raise _combination(
                    "Currency value must be a decimal amount such as 99.99, or give amount_1000",
                    field=f"template.parameters[{i}].value",
                )
        params.append(
            TemplateParameter(type=p.type, value=p.value, code=p.code, amount_1000=p.amount_1000, name=p.name)
        )
    return params


def _header(header: HeaderIn | None) -> HeaderParameter | None:
    if header is None:
        return None
    if header.type == "text":
        if header.value is None:
            raise _combination("A text header needs 'value'", field="template.header.value")
        if header.link is not None or header.filename is not None:
            raise _combination(
                "A text header takes 'value' only, not 'link' or 'filename'", field="template.header"
            )
        _plain(header.value, "template.header.value")
        return HeaderParameter(type="text", value=header.value, name=header.name)
    if header.link is None:
        raise _combination(f"A {header.type} header needs 'link'", field="template.header.link")
    if header.value is not None or header.name is not None:
        raise _combination(
            "A media header takes 'link' (and 'filename' for documents), not 'value' or 'name'",
            field="template.header",
        )
    if header.filename is not None and header.type != "document":
        raise _combination("Only document headers take 'filename'", field="template.header.filename")
    _https(header.link, "template.header.link")
    return HeaderParameter(type=header.type, link=header.link, filename=header.filename)


def _buttons(template: TemplateIn) -> list[ButtonParameter]:
    seen: set[int] = set()
    buttons = []
    for i, b in enumerate(template.buttons):
        if b.index in seen:
            raise _combination(f"Button index {b.index} is given twice", field=f"template.buttons[{i}].index")
        seen.add(b.index)
        _plain(b.value, f"template.buttons[{i}].value")
        buttons.append(ButtonParameter(sub_type=b.sub_type, index=b.index, value=b.value))
    return buttons


def _media(media: MediaIn) -> MediaContent:
    _https(media.link, "media.link")
    if media.filename is not None and media.type != "document":
        raise _combination("Only documents take 'filename'", field="media.filename")
    return MediaContent(type=media.type, link=media.link, caption=media.caption, filename=media.filename)


def content_of(request: NotificationIn) -> MessageContent:
    """Exactly one of ``template``, ``message`` (text) or ``media``, checked against Meta's rules."""
    given = [request.template, request.message, request.media]
    if sum(x is not None for x in given) != 1:
        raise _combination("Provide exactly one of 'template', 'message' or 'media'", field="template")
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
