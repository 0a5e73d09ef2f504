"""Meta's ``/messages`` request bodies, built from a notification's content."""

from __future__ import annotations

from typing import Any

from wanotify.common.domain.message import MessageContent, TemplateContent, TemplateParameter, amount_1000


def _parameter(param: TemplateParameter) -> dict[str, Any]:
    if param.type == "currency":
        return {
            "type": "currency",
            "currency": {
                "fallback_value": param.value,
                "code": param.code,
                "amount_1000": amount_1000(param),
            },
        }
    if param.type == "date_time":
        return {"type": "date_time", "date_time": {"fallback_value": param.value}}
    return {"type": "text", "text": param.value}


def _template(content: TemplateContent) -> dict[str, Any]:
    template: dict[str, Any] = {"name": content.name, "language": {"code": content.language}}
    if content.parameters:
        template["components"] = [{"type": "body", "parameters": [_parameter(p) for p in content.parameters]}]
    return template


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
    else:
        payload["type"] = "text"
        payload["text"] = {"body": content.text, "preview_url": content.preview_url}
    return payload
