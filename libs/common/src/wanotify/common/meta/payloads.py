"""Meta's ``/messages`` request bodies, built from a notification's content (reference §2, §7)."""

from __future__ import annotations

from typing import Any

from wanotify.common.domain.message import (
    ButtonParameter,
    HeaderParameter,
    MediaContent,
    MessageContent,
    TemplateContent,
    TemplateParameter,
    TextContent,
    amount_1000,
)

_BUTTON_PARAM_TYPE = {"url": "text", "quick_reply": "payload", "copy_code": "coupon_code"}


def _parameter(param: TemplateParameter) -> dict[str, Any]:
    out: dict[str, Any]
    if param.type == "currency":
        out = {
            "type": "currency",
            "currency": {
                "fallback_value": param.value,
                "code": param.code,
                "amount_1000": amount_1000(param),
            },
        }
    elif param.type == "date_time":
        out = {"type": "date_time", "date_time": {"fallback_value": param.value}}
    else:
        out = {"type": "text", "text": param.value}
    if param.name is not None:
        out["parameter_name"] = param.name
    return out


def _header(param: HeaderParameter) -> dict[str, Any]:
    out: dict[str, Any]
    if param.type == "text":
        out = {"type": "text", "text": param.value}
        if param.name is not None:
            out["parameter_name"] = param.name
        return out
    media: dict[str, Any] = {"link": param.link}
    if param.type == "document" and param.filename:
        media["filename"] = param.filename
    return {"type": param.type, param.type: media}


def _button(param: ButtonParameter) -> dict[str, Any]:
    kind = _BUTTON_PARAM_TYPE[param.sub_type]
    return {
        "type": "button",
        "sub_type": param.sub_type,
        "index": str(param.index),
        "parameters": [{"type": kind, kind: param.value}],
    }


def _template(content: TemplateContent) -> dict[str, Any]:
    template: dict[str, Any] = {"name": content.name, "language": {"code": content.language}}
    components: list[dict[str, Any]] = []
    if content.header is not None:
        components.append({"type": "header", "parameters": [_header(content.header)]})
    if content.parameters:
        components.append({"type": "body", "parameters": [_parameter(p) for p in content.parameters]})
    components.extend(_button(b) for b in sorted(content.buttons, key=lambda b: b.index))
    if components:
        template["components"] = components
    return template


def _media(content: MediaContent) -> dict[str, Any]:
    media: dict[str, Any] = {"link": content.link}
    if content.caption:
        media["caption"] = content.caption
    if content.type == "document" and content.filename:
        media["filename"] = content.filename
    return media


def build_send_payload(recipient: str, content: MessageContent, callback_data: str) -> dict[str, Any]:
    """``callback_data`` (our notification id) comes back in every status webhook for this message."""
    payload: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": recipient,
        "biz_opaque_callback_data": callback_data,
    }
    if isinstance(content, TemplateContent):
        payload["type"] = "template"
        payload["template"] = _template(content)
    elif isinstance(content, TextContent):
        payload["type"] = "text"
        payload["text"] = {"body": content.text, "preview_url": content.preview_url}
    else:
        payload["type"] = content.type
        payload[content.type] = _media(content)
    return payload
