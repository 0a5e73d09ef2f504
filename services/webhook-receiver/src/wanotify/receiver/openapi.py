"""The receiver's OpenAPI document: Meta's two calls (the handshake and signed notifications) and
``/health``.

Litestar documents each handler's responses; :func:`finish_document` adds what a handler that
reads its raw body (to check the signature over the exact bytes) cannot declare: the
``X-Hub-Signature-256`` header, the handshake's query parameters and the envelope as the request
body, with a real status webhook as its example.

The document says what a delivery is answered: 400 when the envelope itself is malformed, 200
otherwise. Each change value, status and message is therefore ``anyOf: [<its schema>, {}]``: one
that does not match is skipped and counted, not refused, and the document must not call it invalid.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import msgspec
from litestar import MediaType, Request
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin

from wanotify.common.meta.webhooks import InboundMessage, Metadata, StatusItem, TemplateStatusUpdate

SCHEMA_PATH = "/schema"
RECEIVE = "receiveWebhook"
VERIFY = "verifySubscription"
SIGNATURE_HEADER = "X-Hub-Signature-256"
SIGNATURE_PATTERN = "^sha256=[0-9a-f]{64}$"
MAX_BODY_BYTES = 4 * 1024 * 1024  # Meta sends at most 3 MB

EXAMPLE_WAMID = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"
STATUS_WEBHOOK_EXAMPLE: dict[str, Any] = {
    "object": "whatsapp_business_account",
    "entry": [
        {
            "id": "102290129340398",
            "changes": [
                {
                    "field": "messages",
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {
                            "display_phone_number": "15550783881",
                            "phone_number_id": "106540352242922",
                        },
                        "statuses": [
                            {
                                "id": EXAMPLE_WAMID,
                                "status": "delivered",
                                "timestamp": "1750030073",
                                "recipient_id": "16505551234",
                                "conversation": {
                                    "id": "72b14d6b5b3b0b7e5a1b2e0f8c9d4a31",
                                    "origin": {"type": "utility"},
                                },
                                "pricing": {
                                    "billable": True,
                                    "pricing_model": "PMP",
                                    "type": "regular",
                                    "category": "utility",
                                },
                            }
                        ],
                    },
                }
            ],
        }
    ],
}


def _text(description: str) -> ResponseSpec:
    return ResponseSpec(
        data_container=str, media_type=MediaType.TEXT, description=description, generate_examples=False
    )


RECEIVE_RESPONSES = {
    400: _text(
        "Signed, but not Meta's envelope: not UTF-8, not JSON, nested too deeply, or not "
        "`{object, entry[].changes[].field/value}`. Logged once (reason and size) and counted"
    ),
    401: _text(f"`{SIGNATURE_HEADER}` is missing or is not the HMAC-SHA256 of the body with the app secret"),
    413: _text(f"The body is larger than {MAX_BODY_BYTES} bytes"),
    500: _text("An unexpected error or a dependency (PostgreSQL) failing; logged, and Meta retries"),
}
VERIFY_RESPONSES = {403: _text("`hub.mode` is not `subscribe` or `hub.verify_token` is not ours")}
HEALTH_RESPONSES = {
    503: ResponseSpec(
        data_container=dict[str, Any],
        description="Not ready: a dependency is down (the body says which)",
        generate_examples=False,
    )
}

_DESCRIPTIONS = {
    "StatusItem": "One of `value.statuses[]`. `sent`, `delivered`, `read` and `failed` move the "
    "notification whose wamid (or callback data) it names; other statuses are ignored.",
    "InboundMessage": "One of `value.messages[]`: any type (re)opens the sender's 24-hour window with "
    "`from`; a text or quick-reply that is one of the tenant's opt-out keywords records an opt-out.",
    "Metadata": "Which of our numbers the messages were sent to.",
    "TemplateStatusUpdate": "The `value` of a `message_template_status_update` change.",
    "WebhookError": "Meta's error on a `failed` status.",
    "InboundText": "A text message's body.",
    "InboundButton": "A template quick-reply tap: the button's text and its payload.",
}
_SKIPPED = "An item that does not match is skipped and counted; the rest of the delivery is applied."


def _any(ref: str) -> dict[str, Any]:
    return {"anyOf": [{"$ref": f"#/components/schemas/{ref}"}, {}], "description": _SKIPPED}


def _change(field: str, value: str) -> dict[str, Any]:
    return {"properties": {"field": {"const": field}, "value": _any(value)}}


def _schemas() -> dict[str, Any]:
    _, components = msgspec.json.schema_components(
        [StatusItem, InboundMessage, Metadata, TemplateStatusUpdate],
        ref_template="#/components/schemas/{name}",
    )
    for name, schema in components.items():
        schema.pop("title", None)
        if name in _DESCRIPTIONS:
            schema["description"] = _DESCRIPTIONS[name]
    return {
        "WebhookEnvelope": {
            "description": "What Meta POSTs: entries of changes. Only this structure is required; "
            "unknown fields are ignored.",
            "type": "object",
            "required": ["object"],
            "properties": {
                "object": {"type": "string", "examples": ["whatsapp_business_account"]},
                "entry": {"type": "array", "items": {"$ref": "#/components/schemas/WebhookEntry"}},
            },
        },
        "WebhookEntry": {
            "type": "object",
            "properties": {
                "id": {"type": "string", "description": "The WhatsApp Business Account id"},
                "changes": {"type": "array", "items": {"$ref": "#/components/schemas/WebhookChange"}},
            },
        },
        "WebhookChange": {
            "description": "`messages` and `message_template_status_update` are handled; other "
            "fields are acknowledged and ignored.",
            "type": "object",
            "required": ["field", "value"],
            "properties": {"field": {"type": "string"}, "value": {}},
            "anyOf": [
                _change("messages", "MessagesValue"),
                _change("message_template_status_update", "TemplateStatusUpdate"),
                {"properties": {"field": {"type": "string", "examples": ["account_update"]}}},
            ],
        },
        "MessagesValue": {
            "type": "object",
            "properties": {
                "messaging_product": {"type": "string", "examples": ["whatsapp"]},
                "metadata": _any("Metadata"),
                "statuses": {"type": "array", "items": _any("StatusItem")},
                "messages": {"type": "array", "items": _any("InboundMessage")},
            },
        },
        **components,
    }


def _receive_operation(op: dict[str, Any]) -> None:
    op["parameters"] = [
        {
            "name": SIGNATURE_HEADER,
            "in": "header",
            "required": True,
            "description": "`sha256=` and the lowercase hex HMAC-SHA256 of the exact body bytes, "
            "keyed with the Meta app secret",
            "schema": {"type": "string", "pattern": SIGNATURE_PATTERN},
        }
    ]
    op["requestBody"] = {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/WebhookEnvelope"},
                "examples": {"status": {"summary": "A delivered status", "value": STATUS_WEBHOOK_EXAMPLE}},
            }
        },
    }


def _verify_operation(op: dict[str, Any]) -> None:
    def query(name: str, description: str, **schema: Any) -> dict[str, Any]:
        return {
            "name": name,
            "in": "query",
            "required": True,
            "description": description,
            "schema": {"type": "string", **schema},
        }

    op["parameters"] = [
        query("hub.mode", "Always `subscribe`", enum=["subscribe"]),
        query(
            "hub.verify_token", "The verify token configured in Meta's App Dashboard (`META_VERIFY_TOKEN`)"
        ),
        query("hub.challenge", "Echoed back as the 200 body when the token matches", examples=["1158201444"]),
    ]


def finish_document(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Litestar's document plus the signature header, the handshake's parameters and the body."""
    out = copy.deepcopy(dict(doc))
    out.setdefault("components", {}).setdefault("schemas", {}).update(_schemas())
    for item in out.get("paths", {}).values():
        for op in item.values():
            if not isinstance(op, dict):
                continue
            if op.get("operationId") == RECEIVE:
                _receive_operation(op)
            elif op.get("operationId") == VERIFY:
                _verify_operation(op)
    return out


class FinishedJson(JsonRenderPlugin):
    """``/schema/openapi.json``: the finished document, built once per app."""

    def __init__(self) -> None:
        super().__init__()
        self._rendered: bytes | None = None

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        if self._rendered is None:
            self._rendered = msgspec.json.encode(finish_document(openapi_schema))
        return self._rendered


def openapi_config(version: str) -> OpenAPIConfig:
    return OpenAPIConfig(
        title="wa-notify webhook receiver",
        version=version,
        description=(
            "Meta's WhatsApp Business webhooks: the subscription handshake and the signed "
            "notifications (statuses, inbound messages, template status updates). A signed, "
            "well-formed envelope is answered 200 even when some of its items are malformed: "
            "those are skipped and counted, so that Meta does not retry the valid ones for days."
        ),
        path=SCHEMA_PATH,
        render_plugins=[FinishedJson()],
    )
