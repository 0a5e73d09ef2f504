"""The catalogue of client webhook event types and an endpoint's subscriptions to them.

An endpoint subscribes with a list of exact types (``notification.sent``), bare notification statuses
(``sent``, stored expanded as ``notification.sent``), wildcards over one prefix (``notification.*``)
or ``*`` for everything. ``webhook.test`` is always delivered: it is how a tenant checks an endpoint.
"""

from __future__ import annotations

from collections.abc import Sequence

from wanotify.common.domain.errors import ValidationFailed
from wanotify.common.webhooks.payloads import EVENT_BODIES

WEBHOOK_TEST = "webhook.test"
EVERYTHING = "*"
MAX_SUBSCRIPTIONS = 50

# Every type a client can hear of, in the order of the catalogue of their bodies' types.
EVENT_TYPES: tuple[str, ...] = tuple(EVENT_BODIES)

# "notification", "message", "recipient", "sender", "webhook": what a ``<prefix>.*`` wildcard may name.
EVENT_PREFIXES: tuple[str, ...] = tuple(dict.fromkeys(t.split(".", 1)[0] for t in EVENT_TYPES))

ALIASES: dict[str, str] = {
    name: f"notification.{name}"
    for name in ("queued", "sent", "delivered", "read", "failed", "canceled", "expired", "dead_lettered")
}

# Statuses scheduled, processing and rate_limited are internal steps: no event.
NOTIFICATION_EVENT_FOR_STATUS: dict[str, str] = {
    "queued": "notification.queued",
    "sent": "notification.sent",
    "delivered": "notification.delivered",
    "read": "notification.read",
    "failed": "notification.failed",
    "canceled": "notification.canceled",
    "expired": "notification.expired",
}

_KNOWN = frozenset(EVENT_TYPES)
_WILDCARDS = frozenset(f"{prefix}.*" for prefix in EVENT_PREFIXES)
_ACCEPTED = (
    f"an event type ({', '.join(EVENT_TYPES)}), a bare notification status ({', '.join(ALIASES)}), "
    f"a wildcard <prefix>.* ({', '.join(EVENT_PREFIXES)}) or {EVERYTHING}"
)


def normalize_subscriptions(items: Sequence[str], field: str = "events") -> tuple[str, ...]:
    """The subscriptions as stored: aliases expanded, wildcards as written, duplicates dropped, in input
    order. ValidationFailed ``INVALID_EVENT_TYPE`` on an empty or too long list or an unknown item."""
    # A str is a Sequence[str] too: "sent" must not become the subscriptions "s", "e", "n", "t".
    if isinstance(items, str) or not items:
        raise ValidationFailed("at least one event type is required", field=field, code="INVALID_EVENT_TYPE")
    if len(items) > MAX_SUBSCRIPTIONS:
        raise ValidationFailed(
            f"at most {MAX_SUBSCRIPTIONS} event types", field=field, code="INVALID_EVENT_TYPE"
        )
    normalized: dict[str, None] = {}
    for i, item in enumerate(items):
        if isinstance(item, str) and item in ALIASES:
            item = ALIASES[item]
        if not isinstance(item, str) or not (item in _KNOWN or item in _WILDCARDS or item == EVERYTHING):
            raise ValidationFailed(
                f"unknown event type {item!r}: use {_ACCEPTED}",
                field=f"{field}[{i}]",
                code="INVALID_EVENT_TYPE",
            )
        normalized[item] = None
    return tuple(normalized)


def subscribed(subscriptions: Sequence[str], event_type: str) -> bool:
    """Whether an endpoint with these subscriptions receives ``event_type``: an exact, alias, wildcard
    prefix or ``*`` match. Always True for ``webhook.test``, whatever the subscriptions."""
    if event_type == WEBHOOK_TEST:
        return True
    prefix = event_type.split(".", 1)[0]
    for subscription in subscriptions:
        subscription = ALIASES.get(subscription, subscription)
        if subscription in (EVERYTHING, event_type, f"{prefix}.*"):
            return True
    return False
