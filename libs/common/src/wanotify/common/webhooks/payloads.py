"""What each client event's body holds, as types: the OpenAPI document's ``webhooks`` section is
generated from these, and the tests decode every event a sink receives with them (strictly: an
unknown or a missing field fails), so the document cannot drift from what is sent."""

from __future__ import annotations

from typing import Any, Literal, get_args

import msgspec

NotificationEventType = Literal[
    "notification.queued",
    "notification.sent",
    "notification.delivered",
    "notification.read",
    "notification.failed",
    "notification.canceled",
    "notification.expired",
    "notification.dead_lettered",
]


class _Strict(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    pass


class EventError(_Strict):
    """Why a notification failed: Meta's error code (or ours) and its title."""

    code: str | None
    title: str | None
    retryable: bool


class NotificationData(_Strict):
    notification_id: str
    # The notification's status when the event was recorded.
    status: str
    recipient: str
    event_type: str
    metadata: dict[str, Any]
    # Rises with every event of this notification: an event with a lower number than one already
    # seen is stale.
    sequence: int
    attempt: int
    whatsapp_message_id: str | None
    batch_id: str | None
    # On `notification.failed` and `notification.dead_lettered`.
    error: EventError | None = None
    # Meta's pricing block, once a status webhook carried one.
    pricing: dict[str, Any] | None = None


class InboundMediaRef(_Strict):
    """Meta's media id (fetch it with the sender's token), its type and, when sent, caption and name."""

    id: str
    mime_type: str
    caption: str | None = None
    filename: str | None = None


class MessageReceivedData(_Strict, omit_defaults=False):
    message_id: str
    # The recipient who wrote, in E.164.
    from_: str = msgspec.field(name="from")
    sender_id: str = ""
    # Meta's message type: text, button, image, document, …
    type: str = ""
    timestamp: str | None = None
    text: str | None = None
    media: InboundMediaRef | None = None
    # The wamid it replies to, and our notification with that wamid, when Meta gives the context.
    in_reply_to: str | None = None
    notification_id: str | None = None


class OptedOutData(_Strict, omit_defaults=False):
    recipient: str
    # `inbound` (a keyword such as STOP), `api` or `admin`.
    source: str
    reason: str | None = None


class OptedInData(_Strict):
    recipient: str


class SenderPausedData(_Strict, omit_defaults=False):
    sender_id: str
    phone_number_id: str
    # Meta's error code that paused it (190: the token is invalid), and its text.
    code: str | None = None
    reason: str | None = None


class SenderResumedData(_Strict):
    sender_id: str
    phone_number_id: str


class WebhookTestData(_Strict):
    webhook_id: str
    message: str


class NotificationEvent(_Strict):
    """A notification changed status (`failed` is followed by `dead_lettered`)."""

    id: str
    event: NotificationEventType
    timestamp: str
    data: NotificationData


class MessageReceivedEvent(_Strict):
    """A recipient wrote to one of the tenant's numbers."""

    id: str
    event: Literal["message.received"]
    timestamp: str
    data: MessageReceivedData


class RecipientOptedOutEvent(_Strict):
    """A recipient opted out: nothing more is sent to them."""

    id: str
    event: Literal["recipient.opted_out"]
    timestamp: str
    data: OptedOutData


class RecipientOptedInEvent(_Strict):
    """An opt-out was removed."""

    id: str
    event: Literal["recipient.opted_in"]
    timestamp: str
    data: OptedInData


class SenderPausedEvent(_Strict):
    """A sender was paused by a sender-level error: its notifications wait."""

    id: str
    event: Literal["sender.paused"]
    timestamp: str
    data: SenderPausedData


class SenderResumedEvent(_Strict):
    """A paused sender was resumed: its waiting notifications go out."""

    id: str
    event: Literal["sender.resumed"]
    timestamp: str
    data: SenderResumedData


class WebhookTestEvent(_Strict):
    """Sent by `POST /v1/webhooks/{id}/test`."""

    id: str
    event: Literal["webhook.test"]
    timestamp: str
    data: WebhookTestData


EVENT_BODIES: dict[str, type[_Strict]] = {
    **{name: NotificationEvent for name in get_args(NotificationEventType)},
    "message.received": MessageReceivedEvent,
    "recipient.opted_out": RecipientOptedOutEvent,
    "recipient.opted_in": RecipientOptedInEvent,
    "sender.paused": SenderPausedEvent,
    "sender.resumed": SenderResumedEvent,
    "webhook.test": WebhookTestEvent,
}
"""Every event type a client can hear of, and the type of its body."""


def decode_event(body: bytes) -> _Strict:
    """``body`` as its event's type; ``msgspec.ValidationError`` if it is not what the type says."""
    event = msgspec.json.decode(body, type=dict[str, Any]).get("event")
    kind = EVENT_BODIES.get(event) if isinstance(event, str) else None
    if kind is None:
        raise msgspec.ValidationError(f"unknown event type {event!r}")
    return msgspec.json.decode(body, type=kind)
