"""The request bodies the OpenAPI document describes, and the examples it shows for them."""

from __future__ import annotations

from typing import Any

from wanotify.api.api_keys.schemas import ApiKeyIn
from wanotify.api.dead_letters.schemas import ReplayIn
from wanotify.api.notifications.schemas import BulkRequest, NotificationIn
from wanotify.api.opt_outs.schemas import OptOutIn
from wanotify.api.senders.schemas import SenderTiersIn
from wanotify.api.webhooks.schemas import RecoverIn, WebhookIn, WebhookPatch

ORDER_CONFIRMATION: dict[str, Any] = {
    "event_type": "order.confirmed",
    "recipient": {"phone_number": "+14155550123"},
    "template": {
        "name": "order_confirmation",
        "language": "en_US",
        "parameters": [
            {"type": "text", "value": "Ana"},
            {"type": "text", "value": "ORD-1042"},
            {"type": "currency", "value": "99.99", "code": "USD"},
        ],
    },
    "metadata": {"order_id": "ORD-1042"},
    "priority": "normal",
}

REQUEST_EXAMPLES: dict[str, Any] = {
    "createNotification": ORDER_CONFIRMATION,
    "createNotificationBatch": {"notifications": [ORDER_CONFIRMATION], "batch_id": "orders-2026-12-04"},
    "addOptOut": {"phone_number": "+14155550123", "reason": "Replied STOP"},
    "updateSenderTiers": {"throughput_mps": 80, "messaging_limit": 10000},
    "replayDeadLetters": {"filter": {"error_code": "131047", "since": "2026-12-01T00:00:00Z"}},
    "createWebhook": {
        "url": "https://hooks.example.com/wa-notify",
        "events": ["notification.*", "message.received"],
        "description": "Order service",
    },
    "updateWebhook": {"events": ["delivered", "read", "failed"], "enabled": True},
    "recoverWebhookDeliveries": {"since": "2026-12-01T00:00:00Z", "until": "2026-12-02T00:00:00Z"},
    "createApiKey": {
        "name": "order-service",
        "scopes": ["notifications:send", "notifications:read"],
        "expires_at": "2027-12-01T00:00:00Z",
    },
}

REQUEST_MODELS: tuple[type[Any], ...] = (
    NotificationIn,
    BulkRequest,
    OptOutIn,
    SenderTiersIn,
    ReplayIn,
    WebhookIn,
    WebhookPatch,
    RecoverIn,
    ApiKeyIn,
)
