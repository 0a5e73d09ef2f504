"""The OpenAPI 3.1 ``webhooks`` section: each client event, as the tenant's endpoint receives it.

The bodies' schemas come from :mod:`wanotify.common.webhooks.payloads`, the types the tests decode
every delivered event with; the headers are the Standard Webhooks ones and the seed's signature.
"""

from __future__ import annotations

from typing import Any

import msgspec

from wanotify.common.webhooks.payloads import EVENT_BODIES

_HEADERS: tuple[tuple[str, str], ...] = (
    ("webhook-id", "The event id: the same on every retry of this event (deduplicate on it)"),
    ("webhook-timestamp", "Unix seconds when this attempt was signed (refuse old ones)"),
    (
        "webhook-signature",
        'Standard Webhooks: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`; during a secret '
        "rotation two, space-separated",
    ),
    ("X-Webhook-Signature", '`t=<unix>,v1=<hex HMAC-SHA256 of "t.body">` (one `v1` per secret)'),
)
_RESPONSES = {
    "2XX": {"description": "Received: the delivery succeeded"},
    "410": {"description": "Gone: the endpoint is disabled (its later events are held)"},
    "default": {
        "description": "Anything else, a timeout or no answer is retried on the schedule; "
        "`Retry-After` on a 429 or 503 is honoured within it"
    },
}


def webhooks_section() -> tuple[dict[str, Any], dict[str, Any]]:
    """``(webhooks, schemas)``: one ``post`` per event type, and the schemas they reference."""
    kinds = tuple(dict.fromkeys(EVENT_BODIES.values()))
    refs, schemas = msgspec.json.schema_components(kinds, ref_template="#/components/schemas/{name}")
    ref_of = dict(zip(kinds, refs, strict=True))
    webhooks: dict[str, Any] = {}
    for event_type, kind in EVENT_BODIES.items():
        webhooks[event_type] = {
            "post": {
                "operationId": "event"
                + "".join(p.capitalize() for p in event_type.replace("_", ".").split(".")),
                "summary": f"`{event_type}`",
                "description": (kind.__doc__ or "").strip(),
                "tags": ["client webhooks"],
                "parameters": [
                    {
                        "name": name,
                        "in": "header",
                        "required": True,
                        "description": text,
                        "schema": {"type": "string"},
                    }
                    for name, text in _HEADERS
                ],
                "requestBody": {"required": True, "content": {"application/json": {"schema": ref_of[kind]}}},
                "responses": _RESPONSES,
            }
        }
    return webhooks, schemas
